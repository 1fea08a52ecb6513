package hotpathtest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// TenantKeyCloser is a TenantKeyStore that the suite can close: the metadata
// stores that implement it.
type TenantKeyCloser interface {
	hotpath.TenantKeyStore
	Close() error
}

// TestTenantKeyStore runs the TenantKeyStore contract against the stores
// open returns; open is called once per subtest and must return an empty
// store. Beyond the interface comments: keys read back byte for byte, and
// of concurrent creators of one tenant's key all get the same stored key.
func TestTenantKeyStore(t *testing.T, open func(t *testing.T) TenantKeyCloser) {
	t.Helper()
	runContract(t, open, []contractCase[TenantKeyCloser]{
		{"CreateGetList", testTenantKeyCreate},
		{"CreateKeepsTheFirst", testTenantKeyFirstWins},
		{"ConcurrentCreatorsAgree", testTenantKeyConcurrent},
		{"Rewrap", testTenantKeyRewrap},
		{"Delete", testTenantKeyDelete},
	})
}

func tenantKey(tenant string, id byte) *hotpath.TenantKey {
	return &hotpath.TenantKey{TenantID: tenant, KeyID: bytes.Repeat([]byte{id}, 16), Wrapped: []byte(fmt.Sprintf("wrapped %s %d \x00\xff", tenant, id))}
}

func sameTenantKey(t *testing.T, what string, got, want *hotpath.TenantKey) {
	t.Helper()
	if got == nil || got.TenantID != want.TenantID || !bytes.Equal(got.KeyID, want.KeyID) || !bytes.Equal(got.Wrapped, want.Wrapped) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func testTenantKeyCreate(t *testing.T, s TenantKeyCloser) {
	ctx := context.Background()
	if _, err := s.GetTenantKey(ctx, "acme"); !hotpath.IsNotFound(err) {
		t.Errorf("GetTenantKey before any: %v, want ENOTFOUND", err)
	}
	if keys, err := s.ListTenantKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("ListTenantKeys of an empty store = %v, %v; want none", keys, err)
	}
	before := time.Now().Add(-time.Minute)
	for _, tn := range []string{"zeta", "acme"} {
		got, err := s.CreateTenantKey(ctx, tenantKey(tn, 1))
		if err != nil {
			t.Fatalf("CreateTenantKey(%s): %v", tn, err)
		}
		sameTenantKey(t, "CreateTenantKey", got, tenantKey(tn, 1))
		if got.CreatedAt.Before(before) {
			t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
		}
	}
	got, err := s.GetTenantKey(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	sameTenantKey(t, "GetTenantKey", got, tenantKey("acme", 1))
	keys, err := s.ListTenantKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListTenantKeys = %d keys, %v; want 2", len(keys), err)
	}
	sameTenantKey(t, "ListTenantKeys[0]", keys[0], tenantKey("acme", 1))
	sameTenantKey(t, "ListTenantKeys[1]", keys[1], tenantKey("zeta", 1))
}

func testTenantKeyFirstWins(t *testing.T, s TenantKeyCloser) {
	ctx := context.Background()
	if _, err := s.CreateTenantKey(ctx, tenantKey("acme", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := s.CreateTenantKey(ctx, tenantKey("acme", 2))
	if err != nil {
		t.Fatalf("second CreateTenantKey: %v, want the first key back", err)
	}
	sameTenantKey(t, "second CreateTenantKey", got, tenantKey("acme", 1))
}

func testTenantKeyConcurrent(t *testing.T, s TenantKeyCloser) {
	ctx := context.Background()
	const n = 8
	got := make([]*hotpath.TenantKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.CreateTenantKey(ctx, tenantKey("race", byte(i+1)))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent CreateTenantKey: %v", errs[i])
		}
		if !bytes.Equal(got[i].KeyID, got[0].KeyID) {
			t.Errorf("creators got keys %x and %x, want all the same", got[0].KeyID, got[i].KeyID)
		}
	}
	stored, err := s.GetTenantKey(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	sameTenantKey(t, "stored key", stored, got[0])
}

func testTenantKeyRewrap(t *testing.T, s TenantKeyCloser) {
	ctx := context.Background()
	if _, err := s.CreateTenantKey(ctx, tenantKey("acme", 1)); err != nil {
		t.Fatal(err)
	}
	k := tenantKey("acme", 1)
	k.Wrapped = []byte("rewrapped under a new master key")
	if err := s.RewrapTenantKey(ctx, k); err != nil {
		t.Fatalf("RewrapTenantKey: %v", err)
	}
	got, _ := s.GetTenantKey(ctx, "acme")
	sameTenantKey(t, "after RewrapTenantKey", got, k)
	other := tenantKey("acme", 2)
	if err := s.RewrapTenantKey(ctx, other); !hotpath.IsNotFound(err) {
		t.Errorf("RewrapTenantKey of another key id: %v, want ENOTFOUND", err)
	}
	if err := s.RewrapTenantKey(ctx, tenantKey("nobody", 1)); !hotpath.IsNotFound(err) {
		t.Errorf("RewrapTenantKey of a tenant without a key: %v, want ENOTFOUND", err)
	}
	got, _ = s.GetTenantKey(ctx, "acme")
	sameTenantKey(t, "after refused rewraps", got, k)
}

func testTenantKeyDelete(t *testing.T, s TenantKeyCloser) {
	ctx := context.Background()
	for _, tn := range []string{"acme", "keep"} {
		if _, err := s.CreateTenantKey(ctx, tenantKey(tn, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteTenantKey(ctx, "acme"); err != nil {
		t.Fatalf("DeleteTenantKey: %v", err)
	}
	if _, err := s.GetTenantKey(ctx, "acme"); !hotpath.IsNotFound(err) {
		t.Errorf("GetTenantKey after delete: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteTenantKey(ctx, "acme"); err != nil {
		t.Errorf("DeleteTenantKey of a deleted key: %v, want nil", err)
	}
	if _, err := s.GetTenantKey(ctx, "keep"); err != nil {
		t.Errorf("other tenant's key after delete: %v", err)
	}
	// A shredded tenant gets a new key, never the old one back.
	got, err := s.CreateTenantKey(ctx, tenantKey("acme", 2))
	if err != nil {
		t.Fatal(err)
	}
	sameTenantKey(t, "key created after shredding", got, tenantKey("acme", 2))
}
