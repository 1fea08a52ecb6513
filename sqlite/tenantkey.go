package sqlite

import (
	"context"
	"database/sql"

	"github.com/hotpath/hotpath"
)

var _ hotpath.TenantKeyStore = (*Store)(nil)

// CreateTenantKey stores k unless its tenant has a key, and returns the
// tenant's stored key.
func (s *Store) CreateTenantKey(ctx context.Context, k *hotpath.TenantKey) (*hotpath.TenantKey, error) {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO tenant_keys (tenant_id, key_id, wrapped, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING`,
		k.TenantID, k.KeyID, k.Wrapped, micros(s.clock.Stamp(k.CreatedAt)))
	if err != nil {
		return nil, dbError(err, "create tenant key", "", "")
	}
	return s.getTenantKey(ctx, s.writer, k.TenantID)
}

// GetTenantKey returns the tenant's key, ENOTFOUND when it has none.
func (s *Store) GetTenantKey(ctx context.Context, tenantID string) (*hotpath.TenantKey, error) {
	return s.getTenantKey(ctx, s.reader, tenantID)
}

// getTenantKey reads the key through db: the writer right after an insert,
// so that the row just written is seen.
func (s *Store) getTenantKey(ctx context.Context, db *sql.DB, tenantID string) (*hotpath.TenantKey, error) {
	k, err := scanTenantKey(db.QueryRowContext(ctx, "SELECT "+tenantKeyColumns+" FROM tenant_keys WHERE tenant_id = ?", tenantID))
	if err != nil {
		return nil, dbError(err, "get tenant key", "tenant "+tenantID+" has no encryption key", "")
	}
	return k, nil
}

const tenantKeyColumns = "tenant_id, key_id, wrapped, created_at"

func scanTenantKey(row scanner) (*hotpath.TenantKey, error) {
	var k hotpath.TenantKey
	var created int64
	if err := row.Scan(&k.TenantID, &k.KeyID, &k.Wrapped, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(created)
	return &k, nil
}

// ListTenantKeys returns every tenant's key, ordered by tenant ID.
func (s *Store) ListTenantKeys(ctx context.Context) ([]*hotpath.TenantKey, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+tenantKeyColumns+" FROM tenant_keys ORDER BY tenant_id")
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
	res, err := s.writer.ExecContext(ctx, "UPDATE tenant_keys SET wrapped = ? WHERE tenant_id = ? AND key_id = ?", k.Wrapped, k.TenantID, k.KeyID)
	if err != nil {
		return dbError(err, "rewrap tenant key", "", "")
	}
	return mustAffect(res, "tenant "+k.TenantID+" has no such encryption key")
}

// DeleteTenantKey destroys the tenant's key.
func (s *Store) DeleteTenantKey(ctx context.Context, tenantID string) error {
	_, err := s.writer.ExecContext(ctx, "DELETE FROM tenant_keys WHERE tenant_id = ?", tenantID)
	return dbError(err, "delete tenant key", "", "")
}
