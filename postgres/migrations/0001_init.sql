-- Tenants, API keys, images with their variants, jobs and batches: the same
-- schema as the SQLite store, in PostgreSQL types.

CREATE TABLE tenants (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
	id         text PRIMARY KEY,
	tenant_id  text NOT NULL REFERENCES tenants (id),
	name       text NOT NULL,
	prefix     text NOT NULL,
	hash       bytea NOT NULL UNIQUE,
	scope      text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE images (
	-- COLLATE "C": ids compare bytewise, as in SQLite, whatever the database locale.
	id         text COLLATE "C" PRIMARY KEY,
	tenant_id  text NOT NULL REFERENCES tenants (id),
	filename   text NOT NULL,
	format     text NOT NULL,
	width      integer NOT NULL,
	height     integer NOT NULL,
	bytes      bigint NOT NULL,
	sha256     text NOT NULL,
	status     text NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
	error      text NOT NULL,
	created_at timestamptz NOT NULL
);
-- Listing a tenant's images newest first by id, the pagination cursor.
CREATE INDEX images_tenant_id ON images (tenant_id, id DESC);

CREATE TABLE variants (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order; an upsert keeps it
	image_id   text NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	name       text NOT NULL,
	format     text NOT NULL,
	width      integer NOT NULL,
	height     integer NOT NULL,
	bytes      bigint NOT NULL,
	blob_key   text NOT NULL,
	created_at timestamptz NOT NULL,
	UNIQUE (image_id, name)
);

CREATE TABLE batches (
	id         text PRIMARY KEY,
	tenant_id  text NOT NULL REFERENCES tenants (id),
	total      integer NOT NULL,
	created_at timestamptz NOT NULL,
	UNIQUE (id, tenant_id) -- target of jobs' foreign key: a job's batch is its tenant's
);

CREATE TABLE jobs (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- order jobs were added to their batch
	id         text NOT NULL UNIQUE,
	tenant_id  text NOT NULL REFERENCES tenants (id),
	kind       text NOT NULL,
	image_id   text NOT NULL, -- no foreign key: a job's record outlives its image
	batch_id   text,
	filename   text NOT NULL,
	state      text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
	attempts   integer NOT NULL,
	error      text NOT NULL,
	result     json, -- json, not jsonb: the result reads back byte for byte
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	FOREIGN KEY (batch_id, tenant_id) REFERENCES batches (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX jobs_batch ON jobs (batch_id, seq);
