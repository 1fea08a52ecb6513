package hotpathtest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// TestCache runs the Cache contract against the caches open returns. open is
// called once per subtest and must return an empty cache of at least 16 MiB
// whose keys no other test sees (a fresh key prefix for a shared server); the
// suite closes it. The contract is hotpath.Cache's doc comments.
//
// Byte-bound eviction is implementation-specific and tested beside each
// implementation.
func TestCache(t *testing.T, open func(t *testing.T) hotpath.Cache) {
	t.Helper()
	run := func(name string, f func(t *testing.T, c hotpath.Cache)) {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			f(t, c)
		})
	}
	run("Miss", testCacheMiss)
	run("SetGet", testCacheSetGet)
	run("ValuesAreCopies", testCacheCopies)
	run("EmptyValue", testCacheEmptyValue)
	run("TTLExpiry", testCacheTTL)
	run("DeleteMany", testCacheDelete)
	run("LargeValue", testCacheLarge)
	run("LockExclusive", testCacheLockExclusive)
	run("LockExpires", testCacheLockExpiry)
	run("StaleUnlock", testCacheStaleUnlock)
	run("LocksApartFromValues", testCacheLockNamespace)
	run("Concurrent", testCacheConcurrent)
	run("ConcurrentLock", testCacheConcurrentLock)
}

// CacheGet returns the value cached under key, failing the test on error.
func CacheGet(t *testing.T, c hotpath.Cache, key string) ([]byte, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, ok
}

// CacheSet caches value under key for ttl, failing the test on error.
func CacheSet(t *testing.T, c hotpath.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

// wantCached fails the test unless key holds want (nil: a miss).
func wantCached(t *testing.T, c hotpath.Cache, key string, want []byte) {
	t.Helper()
	got, ok := CacheGet(t, c, key)
	switch {
	case want == nil && ok:
		t.Errorf("Get(%q) = %q, hit; want a miss", key, got)
	case want != nil && !ok:
		t.Errorf("Get(%q) missed, want %q", key, want)
	case want != nil && !bytes.Equal(got, want):
		t.Errorf("Get(%q) = %q, want %q", key, got, want)
	}
}

// mustLock takes the lock named key, failing the test unless it is taken.
func mustLock(t *testing.T, c hotpath.Cache, key string, ttl time.Duration) func() {
	t.Helper()
	unlock, ok, err := c.Lock(context.Background(), key, ttl)
	if err != nil || !ok || unlock == nil {
		t.Fatalf("Lock(%q) = ok %v, unlock set %v, err %v; want it taken", key, ok, unlock != nil, err)
	}
	return unlock
}

// wantLockHeld fails the test unless the lock named key is held by someone.
func wantLockHeld(t *testing.T, c hotpath.Cache, key, when string) {
	t.Helper()
	unlock, ok, err := c.Lock(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatalf("Lock(%q) %s: %v", key, when, err)
	}
	if ok {
		unlock()
		t.Errorf("Lock(%q) %s succeeded, want it held by the other holder", key, when)
	}
}

func testCacheMiss(t *testing.T, c hotpath.Cache) {
	v, ok, err := c.Get(context.Background(), "img:t1:missing")
	if v != nil || ok || err != nil {
		t.Errorf("Get of a missing key = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
}

func testCacheSetGet(t *testing.T, c hotpath.Cache) {
	tests := []struct{ key, value string }{
		{"key:9f86d081884c7d65", `{"id":"k1","tenant_id":"t1","scope":"write"}`},
		{"img:t1:0190abcdef", "metadata"},
		{"var:t1:0190abcdef:thumb", "\xff\xd8\xff\x00binary\x00"},
		{"unicode:画像/café", "ok"},
		{"spaces and:colons", "v"},
	}
	for _, tt := range tests {
		CacheSet(t, c, tt.key, []byte(tt.value), time.Minute)
	}
	for _, tt := range tests {
		wantCached(t, c, tt.key, []byte(tt.value))
	}
	CacheSet(t, c, tests[0].key, []byte("replaced"), 0)
	wantCached(t, c, tests[0].key, []byte("replaced"))
	wantCached(t, c, tests[1].key, []byte(tests[1].value))
}

func testCacheCopies(t *testing.T, c hotpath.Cache) {
	value := []byte("original")
	CacheSet(t, c, "k", value, time.Minute)
	copy(value, "CHANGED!")
	got, _ := CacheGet(t, c, "k")
	if string(got) != "original" {
		t.Fatalf("after changing the slice given to Set: Get = %q, want %q", got, "original")
	}
	copy(got, "CHANGED!")
	wantCached(t, c, "k", []byte("original"))
}

func testCacheEmptyValue(t *testing.T, c hotpath.Cache) {
	CacheSet(t, c, "empty", []byte{}, time.Minute)
	got, ok := CacheGet(t, c, "empty")
	if !ok || len(got) != 0 {
		t.Errorf("Get of an empty value = %q, %v; want empty, hit", got, ok)
	}
}

func testCacheTTL(t *testing.T, c hotpath.Cache) {
	CacheSet(t, c, "short", []byte("s"), 150*time.Millisecond)
	CacheSet(t, c, "long", []byte("l"), time.Minute)
	CacheSet(t, c, "default", []byte("d"), 0)
	wantCached(t, c, "short", []byte("s"))
	time.Sleep(300 * time.Millisecond)
	wantCached(t, c, "short", nil)
	wantCached(t, c, "long", []byte("l"))
	wantCached(t, c, "default", []byte("d"))
	// A Set renews the TTL.
	CacheSet(t, c, "short", []byte("s2"), time.Minute)
	wantCached(t, c, "short", []byte("s2"))
}

func testCacheDelete(t *testing.T, c hotpath.Cache) {
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		CacheSet(t, c, k, []byte(k), time.Minute)
	}
	if err := c.Delete(ctx, "a", "b", "never-set"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantCached(t, c, "a", nil)
	wantCached(t, c, "b", nil)
	wantCached(t, c, "c", []byte("c"))
	if err := c.Delete(ctx); err != nil {
		t.Errorf("Delete with no keys: %v, want nil", err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Errorf("Delete of a deleted key: %v, want nil", err)
	}
	CacheSet(t, c, "a", []byte("again"), time.Minute)
	wantCached(t, c, "a", []byte("again"))
}

func testCacheLarge(t *testing.T, c hotpath.Cache) {
	value := make([]byte, 4<<20)
	for i := range value {
		value[i] = byte(i * 7)
	}
	CacheSet(t, c, "var:t1:big:large", value, time.Minute)
	got, ok := CacheGet(t, c, "var:t1:big:large")
	if !ok || !bytes.Equal(got, value) {
		t.Errorf("4 MiB value: hit %v, %d bytes equal %v; want the same 4 MiB back", ok, len(got), bytes.Equal(got, value))
	}
}

func testCacheLockExclusive(t *testing.T, c hotpath.Cache) {
	unlock := mustLock(t, c, "tr:t1:abc", time.Minute)
	wantLockHeld(t, c, "tr:t1:abc", "while held")
	other := mustLock(t, c, "tr:t1:other", time.Minute) // another name is free
	other()
	unlock()
	unlock() // idempotent
	again := mustLock(t, c, "tr:t1:abc", time.Minute)
	unlock() // a repeat of the first holder's unlock must not free the second's
	wantLockHeld(t, c, "tr:t1:abc", "after a repeated unlock of an earlier holder")
	again()
}

func testCacheLockExpiry(t *testing.T, c hotpath.Cache) {
	mustLock(t, c, "expiring", 150*time.Millisecond)
	wantLockHeld(t, c, "expiring", "before its ttl")
	time.Sleep(300 * time.Millisecond)
	unlock := mustLock(t, c, "expiring", time.Minute)
	unlock()
}

func testCacheStaleUnlock(t *testing.T, c hotpath.Cache) {
	stale := mustLock(t, c, "job", 150*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	current := mustLock(t, c, "job", time.Minute)
	stale() // the first holder finishes late
	wantLockHeld(t, c, "job", "after the expired holder's unlock")
	current()
	mustLock(t, c, "job", time.Minute)()
}

func testCacheLockNamespace(t *testing.T, c hotpath.Cache) {
	CacheSet(t, c, "shared-name", []byte("value"), time.Minute)
	unlock := mustLock(t, c, "shared-name", time.Minute)
	wantCached(t, c, "shared-name", []byte("value"))
	if err := c.Delete(context.Background(), "shared-name"); err != nil {
		t.Fatal(err)
	}
	wantLockHeld(t, c, "shared-name", "after Delete of the value of the same name")
	unlock()
}

func testCacheConcurrent(t *testing.T, c hotpath.Cache) {
	ctx := context.Background()
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				key := fmt.Sprintf("w%d:%d", w, i%5)
				want := fmt.Appendf(nil, "value %d of worker %d", i, w)
				if err := c.Set(ctx, key, want, time.Minute); err != nil {
					errs <- err
					return
				}
				got, ok, err := c.Get(ctx, key)
				if err != nil || !ok || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Get(%q) = %q, %v, %v; want %q", key, got, ok, err, want)
					return
				}
				if i%7 == 0 {
					if err := c.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCacheConcurrentLock(t *testing.T, c hotpath.Cache) {
	ctx := context.Background()
	const workers, rounds = 8, 25
	var holders, maxHolders, taken atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				unlock, ok, err := c.Lock(ctx, "contended", time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					time.Sleep(time.Millisecond)
					continue
				}
				taken.Add(1)
				n := holders.Add(1)
				for m := maxHolders.Load(); n > m && !maxHolders.CompareAndSwap(m, n); m = maxHolders.Load() {
				}
				time.Sleep(time.Millisecond)
				holders.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Lock: %v", err)
	}
	if got := maxHolders.Load(); got != 1 {
		t.Errorf("at most %d holders of one lock at once, want 1", got)
	}
	if taken.Load() < 2 {
		t.Errorf("lock taken %d times by %d contending workers, want it released and retaken", taken.Load(), workers)
	}
}
