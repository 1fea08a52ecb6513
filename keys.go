package hotpath

import (
	"context"
	"time"
)

// KeyProvider seals and opens the keys of tenants with a master key. It is
// the seam where a KMS can replace the master key file: a provider never
// hands out the master key itself.
type KeyProvider interface {
	// WrapKey seals key under the provider's current master key, bound to
	// context (e.g. the tenant's ID), so that a wrapped key moved to another
	// tenant does not open.
	WrapKey(ctx context.Context, key, context []byte) ([]byte, error)
	// UnwrapKey opens a key sealed by WrapKey with the same context. It
	// fails with EUNAVAILABLE when the master key that sealed it is not
	// available to the provider, and EINTEGRITY when wrapped was modified.
	UnwrapKey(ctx context.Context, wrapped, context []byte) ([]byte, error)
}

// TenantKey is a tenant's key-encryption key as stored: wrapped by a master
// key. The key itself only exists in memory.
type TenantKey struct {
	TenantID string
	// KeyID names the key without revealing it (a fingerprint); it is
	// recorded in every object header the key sealed a data key in.
	KeyID []byte
	// Wrapped is the key sealed by the KeyProvider.
	Wrapped   []byte
	CreatedAt time.Time
}

// TenantKeyStore keeps the wrapped key-encryption keys of tenants, one per
// tenant. The metadata stores implement it: a unique row per tenant makes the
// first key of a tenant race-free across processes, and rotation can list them.
type TenantKeyStore interface {
	// CreateTenantKey stores k unless its tenant has a key already, and
	// returns the tenant's stored key either way: concurrent creators all
	// end up using the one key that won.
	CreateTenantKey(ctx context.Context, k *TenantKey) (*TenantKey, error)
	// GetTenantKey returns the tenant's key, ENOTFOUND when it has none.
	GetTenantKey(ctx context.Context, tenantID string) (*TenantKey, error)
	// ListTenantKeys returns every tenant's key, ordered by tenant ID.
	ListTenantKeys(ctx context.Context) ([]*TenantKey, error)
	// RewrapTenantKey replaces the wrapped form of the tenant's key whose ID
	// is k.KeyID (a master key rotation); ENOTFOUND when the tenant has no
	// key with that ID, so that a rotation never resurrects a shredded key.
	RewrapTenantKey(ctx context.Context, k *TenantKey) error
	// DeleteTenantKey destroys the tenant's key (crypto-shredding): its
	// encrypted blobs can no longer be read. Deleting a missing key is not
	// an error.
	DeleteTenantKey(ctx context.Context, tenantID string) error
}
