-- Tenants' key-encryption keys for encryption at rest, each wrapped by the
-- master key (never stored in the clear). One per tenant: the primary key
-- makes the first key of a tenant race-free between processes.

CREATE TABLE tenant_keys (
	tenant_id  TEXT PRIMARY KEY,
	key_id     BLOB NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
