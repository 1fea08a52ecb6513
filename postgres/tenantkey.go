package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hotpath/hotpath"
)

var _ hotpath.TenantKeyStore = (*Store)(nil)

const tenantKeyColumns = "tenant_id, key_id, wrapped, created_at"

// CreateTenantKey stores k unless its tenant has a key, and returns the
// tenant's stored key.
func (s *Store) CreateTenantKey(ctx context.Context, k *hotpath.TenantKey) (*hotpath.TenantKey, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO tenant_keys (tenant_id, key_id, wrapped, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING`,
		k.TenantID, k.KeyID, k.Wrapped, s.clock.Stamp(k.CreatedAt))
	if err != nil {
		return nil, dbError(err, "create tenant key", "", "")
	}
	return s.GetTenantKey(ctx, k.TenantID)
}

// GetTenantKey returns the tenant's key, ENOTFOUND when it has none.
func (s *Store) GetTenantKey(ctx context.Context, tenantID string) (*hotpath.TenantKey, error) {
	k, err := scanTenantKey(s.pool.QueryRow(ctx, "SELECT "+tenantKeyColumns+" FROM tenant_keys WHERE tenant_id = $1", tenantID))
	if err != nil {
		return nil, dbError(err, "get tenant key", "tenant "+tenantID+" has no encryption key", "")
	}
	return k, nil
}

func scanTenantKey(row pgx.Row) (*hotpath.TenantKey, error) {
	var k hotpath.TenantKey
	if err := row.Scan(&k.TenantID, &k.KeyID, &k.Wrapped, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// ListTenantKeys returns every tenant's key, ordered by tenant ID.
func (s *Store) ListTenantKeys(ctx context.Context) ([]*hotpath.TenantKey, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+tenantKeyColumns+" FROM tenant_keys ORDER BY tenant_id")
	if err != nil {
		return nil, dbError(err, "list tenant keys", "", "")
	}
	defer rows.Close()
	keys := []*hotpath.TenantKey{}
	for rows.Next() {
		k, err := scanTenantKey(rows)
		if err != nil {
			return nil, dbError(err, "list tenant keys", "", "")
		}
		keys = append(keys, k)
	}
	return keys, dbError(rows.Err(), "list tenant keys", "", "")
}

// RewrapTenantKey replaces the wrapped form of the tenant's key k.KeyID.
func (s *Store) RewrapTenantKey(ctx context.Context, k *hotpath.TenantKey) error {
	tag, err := s.pool.Exec(ctx, "UPDATE tenant_keys SET wrapped = $1 WHERE tenant_id = $2 AND key_id = $3", k.Wrapped, k.TenantID, k.KeyID)
	if err != nil {
		return dbError(err, "rewrap tenant key", "", "")
	}
	return mustAffect(tag, "tenant "+k.TenantID+" has no such encryption key")
}

// DeleteTenantKey destroys the tenant's key.
func (s *Store) DeleteTenantKey(ctx context.Context, tenantID string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM tenant_keys WHERE tenant_id = $1", tenantID)
	return dbError(err, "delete tenant key", "", "")
}
