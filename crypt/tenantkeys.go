package crypt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/hotpath/hotpath"
)

// DefaultKeyTTL is how long a process keeps a tenant's unwrapped key before
// it asks the store again: how long a shredded tenant stays readable by a
// server that read from it just before.
const DefaultKeyTTL = time.Second

// TenantKeys hands out tenants' key-encryption keys: stored wrapped in a
// TenantKeyStore, unwrapped by a KeyProvider, kept in memory for TTL.
type TenantKeys struct {
	store    hotpath.TenantKeyStore
	provider hotpath.KeyProvider
	ttl      time.Duration

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     []byte
	expires time.Time
}

// NewTenantKeys returns the tenant keys of store, wrapped by provider; ttl 0
// means DefaultKeyTTL.
func NewTenantKeys(store hotpath.TenantKeyStore, provider hotpath.KeyProvider, ttl time.Duration) *TenantKeys {
	if ttl <= 0 {
		ttl = DefaultKeyTTL
	}
	return &TenantKeys{store: store, provider: provider, ttl: ttl, cache: map[string]cachedKey{}}
}

// tenantAAD binds a wrapped key to its tenant.
func tenantAAD(tenantID string) []byte { return []byte("hotpath tenant key: " + tenantID) }

// Key returns the tenant's key; with create, a tenant without one gets a
// new random key (the first writer of a tenant). Without create, a missing
// key is EUNAVAILABLE: the tenant was shredded or the store is not the one
// that wrote its blobs.
func (k *TenantKeys) Key(ctx context.Context, tenantID string, create bool) ([]byte, error) {
	k.mu.Lock()
	c, ok := k.cache[tenantID]
	k.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.key, nil
	}
	stored, err := k.store.GetTenantKey(ctx, tenantID)
	if hotpath.IsNotFound(err) && create {
		stored, err = k.create(ctx, tenantID)
	}
	if hotpath.IsNotFound(err) {
		k.forget(tenantID)
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "tenant %s has no encryption key (shredded, or another metadata store)", tenantID)
	}
	if err != nil {
		return nil, err
	}
	key, err := k.provider.UnwrapKey(ctx, stored.Wrapped, tenantAAD(tenantID))
	if err != nil {
		return nil, annotate(err, "tenant %s's encryption key", tenantID)
	}
	if !bytes.Equal(KeyID(key), stored.KeyID) {
		return nil, hotpath.Errorf(hotpath.EINTEGRITY, "tenant %s's encryption key does not match its id %s", tenantID, hex.EncodeToString(stored.KeyID))
	}
	k.mu.Lock()
	k.cache[tenantID] = cachedKey{key: key, expires: time.Now().Add(k.ttl)}
	k.mu.Unlock()
	return key, nil
}

// create stores a new random key for the tenant unless another process was
// first, and returns the stored one.
func (k *TenantKeys) create(ctx context.Context, tenantID string) (*hotpath.TenantKey, error) {
	key := make([]byte, KeySize)
	rand.Read(key)
	wrapped, err := k.provider.WrapKey(ctx, key, tenantAAD(tenantID))
	if err != nil {
		return nil, err
	}
	return k.store.CreateTenantKey(ctx, &hotpath.TenantKey{TenantID: tenantID, KeyID: KeyID(key), Wrapped: wrapped})
}

// forget drops the tenant's key from memory.
func (k *TenantKeys) forget(tenantID string) {
	k.mu.Lock()
	delete(k.cache, tenantID)
	k.mu.Unlock()
}

// Rewrap wraps every tenant key under the provider's current master key,
// for a master key rotation; the keys themselves, and so every blob, stay
// as they are. It returns how many keys it rewrapped.
func (k *TenantKeys) Rewrap(ctx context.Context) (int, error) {
	keys, err := k.store.ListTenantKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, stored := range keys {
		key, err := k.provider.UnwrapKey(ctx, stored.Wrapped, tenantAAD(stored.TenantID))
		if err != nil {
			return n, annotate(err, "tenant %s's encryption key", stored.TenantID)
		}
		if stored.Wrapped, err = k.provider.WrapKey(ctx, key, tenantAAD(stored.TenantID)); err != nil {
			return n, err
		}
		if err := k.store.RewrapTenantKey(ctx, stored); err != nil && !hotpath.IsNotFound(err) {
			return n, err // not found: shredded meanwhile, nothing to rewrap
		}
		n++
	}
	return n, nil
}

// Shred destroys the tenant's key: its encrypted blobs can no longer be
// read, here at once and in other processes within their TTL.
func (k *TenantKeys) Shred(ctx context.Context, tenantID string) error {
	k.forget(tenantID)
	return k.store.DeleteTenantKey(ctx, tenantID)
}
