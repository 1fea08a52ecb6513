package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotpath/hotpath"
)

// CreateTenant records t, filling an empty ID and a zero CreatedAt.
func (s *Store) CreateTenant(ctx context.Context, t *hotpath.Tenant) error {
	s.clock.PrepareTenant(t)
	_, err := s.pool.Exec(ctx, "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)", t.ID, t.Name, t.CreatedAt)
	return dbError(err, "create tenant", "", "")
}

// GetTenant returns the tenant with id.
func (s *Store) GetTenant(ctx context.Context, id string) (*hotpath.Tenant, error) {
	var t hotpath.Tenant
	err := s.pool.QueryRow(ctx, "SELECT id, name, created_at FROM tenants WHERE id = $1", id).Scan(&t.ID, &t.Name, &t.CreatedAt)
	if err != nil {
		return nil, dbError(err, "get tenant", "tenant not found", "")
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// CreateAPIKey records k, filling an empty ID and a zero CreatedAt. Its
// tenant must exist (ENOTFOUND) and its hash be new (ECONFLICT).
func (s *Store) CreateAPIKey(ctx context.Context, k *hotpath.APIKey) error {
	if err := s.clock.PrepareAPIKey(k); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scope, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, string(k.Scope), k.CreatedAt, k.RevokedAt)
	return dbError(err, "create API key", "", "tenant not found")
}

const apiKeyColumns = "id, tenant_id, name, prefix, hash, scope, created_at, revoked_at"

func scanAPIKey(row pgx.Row) (*hotpath.APIKey, error) {
	var k hotpath.APIKey
	var scope string
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &scope, &k.CreatedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.Scope = hotpath.Scope(scope)
	k.CreatedAt = k.CreatedAt.UTC()
	if k.RevokedAt != nil {
		at := k.RevokedAt.UTC()
		k.RevokedAt = &at
	}
	return &k, nil
}

// FindAPIKey returns the unrevoked key whose secret hashes to hash.
func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (*hotpath.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = $1 AND revoked_at IS NULL", hash))
	if err != nil {
		return nil, dbError(err, "find API key", "API key not found", "")
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys, revoked ones included, oldest first;
// tenantID "" lists every tenant's.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*hotpath.APIKey, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+apiKeyColumns+
		" FROM api_keys WHERE $1 = '' OR tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, dbError(err, "list API keys", "", "")
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*hotpath.APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return nil, dbError(err, "list API keys", "", "")
	}
	if keys == nil {
		keys = []*hotpath.APIKey{}
	}
	return keys, nil
}

// RevokeAPIKey marks the key revoked; revoking it again keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", s.clock.Stamp(time.Time{}), id)
	if err != nil {
		return dbError(err, "revoke API key", "", "")
	}
	return mustAffect(tag, "API key not found")
}
