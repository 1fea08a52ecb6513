-- Tenants' key-encryption keys for encryption at rest, each wrapped by the
-- master key (never stored in the clear). One per tenant: the primary key
-- makes the first key of a tenant race-free between processes.

CREATE TABLE tenant_keys (
	tenant_id  text PRIMARY KEY,
	key_id     bytea NOT NULL,
	wrapped    bytea NOT NULL,
	created_at timestamptz NOT NULL
);
