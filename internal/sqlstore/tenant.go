package sqlstore

import (
	"context"
	"time"

	"github.com/hotpath/hotpath"
)

// CreateTenant records t, filling an empty ID and a zero CreatedAt.
func (s *Queries) CreateTenant(ctx context.Context, t *hotpath.Tenant) error {
	s.Clock.PrepareTenant(t)
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)"),
		t.ID, t.Name, s.Dialect.TimeArg(t.CreatedAt))
	return s.Dialect.Err(err, "create tenant", "", "")
}

// GetTenant returns the tenant with id.
func (s *Queries) GetTenant(ctx context.Context, id string) (*hotpath.Tenant, error) {
	var t hotpath.Tenant
	err := s.Reader.QueryRowContext(ctx, s.Dialect.Rebind("SELECT id, name, created_at FROM tenants WHERE id = ?"), id).
		Scan(&t.ID, &t.Name, Time{&t.CreatedAt})
	if err != nil {
		return nil, s.Dialect.Err(err, "get tenant", "tenant not found", "")
	}
	return &t, nil
}

// CreateAPIKey records k, filling an empty ID and a zero CreatedAt. Its
// tenant must exist (ENOTFOUND) and its hash be new (ECONFLICT).
func (s *Queries) CreateAPIKey(ctx context.Context, k *hotpath.APIKey) error {
	if err := s.Clock.PrepareAPIKey(k); err != nil {
		return err
	}
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind(`INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scope, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, string(k.Scope), s.Dialect.TimeArg(k.CreatedAt), s.Dialect.NullTimeArg(k.RevokedAt))
	return s.Dialect.Err(err, "create API key", "", "tenant not found")
}

const apiKeyColumns = "id, tenant_id, name, prefix, hash, scope, created_at, revoked_at"

func scanAPIKey(row interface{ Scan(dest ...any) error }) (*hotpath.APIKey, error) {
	var k hotpath.APIKey
	var scope string
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &scope, Time{&k.CreatedAt}, NullTime{&k.RevokedAt}); err != nil {
		return nil, err
	}
	k.Scope = hotpath.Scope(scope)
	return &k, nil
}

// FindAPIKey returns the unrevoked key whose secret hashes to hash.
func (s *Queries) FindAPIKey(ctx context.Context, hash []byte) (*hotpath.APIKey, error) {
	k, err := scanAPIKey(s.Reader.QueryRowContext(ctx,
		s.Dialect.Rebind("SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL"), hash))
	if err != nil {
		return nil, s.Dialect.Err(err, "find API key", "API key not found", "")
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys, revoked ones included, oldest first;
// tenantID "" lists every tenant's.
func (s *Queries) ListAPIKeys(ctx context.Context, tenantID string) ([]*hotpath.APIKey, error) {
	rows, err := s.Reader.QueryContext(ctx, s.Dialect.Rebind("SELECT "+apiKeyColumns+
		" FROM api_keys WHERE ? = '' OR tenant_id = ? ORDER BY created_at, id"), tenantID, tenantID)
	if err != nil {
		return nil, s.Dialect.Err(err, "list API keys", "", "")
	}
	defer rows.Close()
	keys := []*hotpath.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.Dialect.Err(err, "list API keys", "", "")
		}
		keys = append(keys, k)
	}
	return keys, s.Dialect.Err(rows.Err(), "list API keys", "", "")
}

// RevokeAPIKey marks the key revoked; revoking it again keeps the first time.
func (s *Queries) RevokeAPIKey(ctx context.Context, id string) error {
	res, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?"),
		s.Dialect.TimeArg(s.Clock.Stamp(time.Time{})), id)
	if err != nil {
		return s.Dialect.Err(err, "revoke API key", "", "")
	}
	return MustAffect(res, "API key not found")
}
