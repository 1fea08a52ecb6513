package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/sqlstore"
)

// CreateTenant records t, filling an empty ID and a zero CreatedAt.
func (s *Store) CreateTenant(ctx context.Context, t *hotpath.Tenant) error {
	s.clock.PrepareTenant(t)
	_, err := s.writer.ExecContext(ctx, "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)",
		t.ID, t.Name, micros(t.CreatedAt))
	return dbError(err, "create tenant", "", "")
}

// GetTenant returns the tenant with id.
func (s *Store) GetTenant(ctx context.Context, id string) (*hotpath.Tenant, error) {
	var t hotpath.Tenant
	var created int64
	err := s.reader.QueryRowContext(ctx, "SELECT id, name, created_at FROM tenants WHERE id = ?", id).
		Scan(&t.ID, &t.Name, &created)
	if err != nil {
		return nil, dbError(err, "get tenant", "tenant not found", "")
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// CreateAPIKey records k, filling an empty ID and a zero CreatedAt. Its
// tenant must exist (ENOTFOUND) and its hash be new (ECONFLICT).
func (s *Store) CreateAPIKey(ctx context.Context, k *hotpath.APIKey) error {
	if err := s.clock.PrepareAPIKey(k); err != nil {
		return err
	}
	var revoked sql.NullInt64
	if k.RevokedAt != nil {
		revoked = sql.NullInt64{Int64: micros(*k.RevokedAt), Valid: true}
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scope, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, string(k.Scope), micros(k.CreatedAt), revoked)
	return dbError(err, "create API key", "", "tenant not found")
}

const apiKeyColumns = "id, tenant_id, name, prefix, hash, scope, created_at, revoked_at"

func scanAPIKey(row scanner) (*hotpath.APIKey, error) {
	var k hotpath.APIKey
	var scope string
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &scope, &created, &revoked); err != nil {
		return nil, err
	}
	k.Scope = hotpath.Scope(scope)
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		at := fromMicros(revoked.Int64)
		k.RevokedAt = &at
	}
	return &k, nil
}

// FindAPIKey returns the unrevoked key whose secret hashes to hash.
func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (*hotpath.APIKey, error) {
	k, err := scanAPIKey(s.reader.QueryRowContext(ctx,
		"SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL", hash))
	if err != nil {
		return nil, dbError(err, "find API key", "API key not found", "")
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys, revoked ones included, oldest first;
// tenantID "" lists every tenant's.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]*hotpath.APIKey, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+apiKeyColumns+
		" FROM api_keys WHERE ? = '' OR tenant_id = ? ORDER BY created_at, id", tenantID, tenantID)
	if err != nil {
		return nil, dbError(err, "list API keys", "", "")
	}
	defer rows.Close()
	keys := []*hotpath.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, dbError(err, "list API keys", "", "")
		}
		keys = append(keys, k)
	}
	return keys, dbError(rows.Err(), "list API keys", "", "")
}

// RevokeAPIKey marks the key revoked; revoking it again keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	res, err := s.writer.ExecContext(ctx,
		"UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", micros(s.clock.Stamp(time.Time{})), id)
	if err != nil {
		return dbError(err, "revoke API key", "", "")
	}
	return sqlstore.MustAffect(res, "API key not found")
}
