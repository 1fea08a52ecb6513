package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hotpath/hotpath"
)

var _ hotpath.TenantKeyStore = (*Queries)(nil)

const tenantKeyColumns = "tenant_id, key_id, wrapped, created_at"

// CreateTenantKey stores k unless its tenant has a key, and returns the
// tenant's stored key.
func (s *Queries) CreateTenantKey(ctx context.Context, k *hotpath.TenantKey) (*hotpath.TenantKey, error) {
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind(`INSERT INTO tenant_keys (tenant_id, key_id, wrapped, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING`),
		k.TenantID, k.KeyID, k.Wrapped, s.Dialect.TimeArg(s.Clock.Stamp(k.CreatedAt)))
	if err != nil {
		return nil, s.Dialect.Err(err, "create tenant key", "", "")
	}
	return s.getTenantKey(ctx, s.Writer, k.TenantID)
}

// GetTenantKey returns the tenant's key, ENOTFOUND when it has none.
func (s *Queries) GetTenantKey(ctx context.Context, tenantID string) (*hotpath.TenantKey, error) {
	return s.getTenantKey(ctx, s.Reader, tenantID)
}

// getTenantKey reads the key through db: the writer right after an insert,
// so that the row just written is seen.
func (s *Queries) getTenantKey(ctx context.Context, db *sql.DB, tenantID string) (*hotpath.TenantKey, error) {
	k, err := scanTenantKey(db.QueryRowContext(ctx, s.Dialect.Rebind("SELECT "+tenantKeyColumns+" FROM tenant_keys WHERE tenant_id = ?"), tenantID))
	if err != nil {
		return nil, s.Dialect.Err(err, "get tenant key", "tenant "+tenantID+" has no encryption key", "")
	}
	return k, nil
}

func scanTenantKey(row interface{ Scan(dest ...any) error }) (*hotpath.TenantKey, error) {
	var k hotpath.TenantKey
	if err := row.Scan(&k.TenantID, &k.KeyID, &k.Wrapped, Time{&k.CreatedAt}); err != nil {
		return nil, err
	}
	return &k, nil
}

// ListTenantKeys returns every tenant's key, ordered by tenant ID.
func (s *Queries) ListTenantKeys(ctx context.Context) ([]*hotpath.TenantKey, error) {
	rows, err := s.Reader.QueryContext(ctx, "SELECT "+tenantKeyColumns+" FROM tenant_keys ORDER BY tenant_id")
	if err != nil {
		return nil, s.Dialect.Err(err, "list tenant keys", "", "")
	}
	defer rows.Close()
	keys := []*hotpath.TenantKey{}
	for rows.Next() {
		k, err := scanTenantKey(rows)
		if err != nil {
			return nil, s.Dialect.Err(err, "list tenant keys", "", "")
		}
		keys = append(keys, k)
	}
	return keys, s.Dialect.Err(rows.Err(), "list tenant keys", "", "")
}

// RewrapTenantKey replaces the wrapped form of the tenant's key k.KeyID.
func (s *Queries) RewrapTenantKey(ctx context.Context, k *hotpath.TenantKey) error {
	res, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("UPDATE tenant_keys SET wrapped = ? WHERE tenant_id = ? AND key_id = ?"), k.Wrapped, k.TenantID, k.KeyID)
	if err != nil {
		return s.Dialect.Err(err, "rewrap tenant key", "", "")
	}
	return MustAffect(res, "tenant "+k.TenantID+" has no such encryption key")
}

// DeleteTenantKey destroys the tenant's key.
func (s *Queries) DeleteTenantKey(ctx context.Context, tenantID string) error {
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("DELETE FROM tenant_keys WHERE tenant_id = ?"), tenantID)
	return s.Dialect.Err(err, "delete tenant key", "", "")
}
