-- Tenants, API keys, images with their variants, jobs and batches.
-- Times are Unix microseconds (UTC), so they sort and compare as integers.

CREATE TABLE tenants (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	name       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE,
	scope      TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE images (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	filename   TEXT NOT NULL,
	format     TEXT NOT NULL,
	width      INTEGER NOT NULL,
	height     INTEGER NOT NULL,
	bytes      INTEGER NOT NULL,
	sha256     TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
	error      TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
-- Listing a tenant's images newest first by id, the pagination cursor.
CREATE INDEX images_tenant_id ON images (tenant_id, id DESC);

CREATE TABLE variants (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- insertion order; an upsert keeps it
	image_id   TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	format     TEXT NOT NULL,
	width      INTEGER NOT NULL,
	height     INTEGER NOT NULL,
	bytes      INTEGER NOT NULL,
	blob_key   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (image_id, name)
);

CREATE TABLE batches (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	total      INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (id, tenant_id) -- target of jobs' foreign key: a job's batch is its tenant's
);

CREATE TABLE jobs (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- order jobs were added to their batch
	id         TEXT NOT NULL UNIQUE,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	kind       TEXT NOT NULL,
	image_id   TEXT NOT NULL, -- no foreign key: a job's record outlives its image
	batch_id   TEXT,
	filename   TEXT NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
	attempts   INTEGER NOT NULL,
	error      TEXT NOT NULL,
	result     BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	FOREIGN KEY (batch_id, tenant_id) REFERENCES batches (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX jobs_batch ON jobs (batch_id, seq);
