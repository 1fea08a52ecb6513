package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
)

// testURL is the Redis the tests use: HOTPATH_TEST_REDIS or the local one.
func testURL() string {
	if u := os.Getenv("HOTPATH_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// openTestCache opens a cache under a fresh random prefix and removes the
// prefix's keys when the test ends.
func openTestCache(t *testing.T, prefix string) *Cache {
	t.Helper()
	cfg, err := ParseURL(testURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix = prefix
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Redis at %s is needed (start redis-server, or set HOTPATH_TEST_REDIS): %v", cfg.Options.Addr, err)
	}
	t.Cleanup(func() { removePrefix(t, c) })
	return c
}

// newPrefix returns a key prefix no other test uses.
func newPrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "hotpathtest:" + hex.EncodeToString(b) + ":"
}

// removePrefix deletes every key under the cache's prefix, through a
// connection of its own since the test may have closed the cache.
func removePrefix(t *testing.T, c *Cache) {
	t.Helper()
	cfg, _ := ParseURL(testURL())
	cfg.Prefix = c.cfg.Prefix
	admin, err := New(context.Background(), cfg)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer admin.Close()
	ctx := context.Background()
	iter := admin.client.Scan(ctx, 0, cfg.Prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		admin.client.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup scan: %v", err)
	}
}

func TestCacheContract(t *testing.T) {
	hotpathtest.TestCache(t, func(t *testing.T) hotpath.Cache { return openTestCache(t, newPrefix()) })
}

// TestSharedAcrossClients stands two processes' caches on one Redis and
// prefix: a value set by one is read by the other, a delete by one is a miss
// for both, and a lock taken by one is held for the other.
func TestSharedAcrossClients(t *testing.T) {
	prefix := newPrefix()
	a, b := openTestCache(t, prefix), openTestCache(t, prefix)
	defer a.Close()
	defer b.Close()
	hotpathtest.CacheSet(t, a, "img:t1:abc", []byte("meta"), time.Minute)
	if got, ok := hotpathtest.CacheGet(t, b, "img:t1:abc"); !ok || string(got) != "meta" {
		t.Errorf("b.Get after a.Set = %q, %v; want %q", got, ok, "meta")
	}
	if err := b.Delete(context.Background(), "img:t1:abc"); err != nil {
		t.Fatal(err)
	}
	if _, ok := hotpathtest.CacheGet(t, a, "img:t1:abc"); ok {
		t.Errorf("a.Get after b.Delete hit, want a miss")
	}
	unlock, ok, err := a.Lock(context.Background(), "tr:x", time.Minute)
	if err != nil || !ok {
		t.Fatalf("a.Lock = %v, %v", ok, err)
	}
	if _, ok, _ := b.Lock(context.Background(), "tr:x", time.Minute); ok {
		t.Errorf("b.Lock while a holds it succeeded")
	}
	unlock()
	if unlockB, ok, _ := b.Lock(context.Background(), "tr:x", time.Minute); !ok {
		t.Errorf("b.Lock after a's unlock failed")
	} else {
		unlockB()
	}
}

// TestPrefixesIsolate checks that two prefixes on one Redis do not see each
// other's values or locks.
func TestPrefixesIsolate(t *testing.T) {
	a, b := openTestCache(t, newPrefix()), openTestCache(t, newPrefix())
	defer a.Close()
	defer b.Close()
	hotpathtest.CacheSet(t, a, "k", []byte("a's"), time.Minute)
	if _, ok := hotpathtest.CacheGet(t, b, "k"); ok {
		t.Errorf("b sees a's value under another prefix")
	}
	unlock, ok, _ := a.Lock(context.Background(), "l", time.Minute)
	if !ok {
		t.Fatal("a.Lock failed")
	}
	defer unlock()
	if unlockB, ok, _ := b.Lock(context.Background(), "l", time.Minute); !ok {
		t.Errorf("b's lock of the same name under another prefix was refused")
	} else {
		unlockB()
	}
}

// TestDownRedis checks that an unreachable Redis is EUNAVAILABLE at Open.
func TestDownRedis(t *testing.T) {
	_, err := Open(context.Background(), "redis://127.0.0.1:1/0?dial_timeout=200ms")
	if got := hotpath.ErrorCode(err); got != hotpath.EUNAVAILABLE {
		t.Errorf("Open of a closed port: %v (code %q), want EUNAVAILABLE", err, got)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url        string
		wantAddr   string
		wantDB     int
		wantPrefix string
		wantTTL    time.Duration
		wantErr    bool
	}{
		{url: "redis://127.0.0.1:6379/0", wantAddr: "127.0.0.1:6379", wantPrefix: DefaultPrefix, wantTTL: DefaultTTL},
		{url: "redis://h:6380/3?prefix=tenant1:&ttl=10m&pool_size=4", wantAddr: "h:6380", wantDB: 3, wantPrefix: "tenant1:", wantTTL: 10 * time.Minute},
		{url: "redis://h/0?ttl=soon", wantErr: true},
		{url: "redis://h/0?ttl=0s", wantErr: true},
		{url: "redis://h/0?colour=red", wantErr: true},
		{url: "mem://", wantErr: true},
	}
	for _, tt := range tests {
		cfg, err := ParseURL(tt.url)
		if tt.wantErr {
			if hotpath.ErrorCode(err) != hotpath.EINVALID {
				t.Errorf("ParseURL(%q) error %v, want EINVALID", tt.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.url, err)
			continue
		}
		if cfg.Options.Addr != tt.wantAddr || cfg.Options.DB != tt.wantDB || cfg.Prefix != tt.wantPrefix || cfg.DefaultTTL != tt.wantTTL {
			t.Errorf("ParseURL(%q) = addr %q db %d prefix %q ttl %v; want %q %d %q %v", tt.url,
				cfg.Options.Addr, cfg.Options.DB, cfg.Prefix, cfg.DefaultTTL, tt.wantAddr, tt.wantDB, tt.wantPrefix, tt.wantTTL)
		}
	}
}

func BenchmarkGetHit(b *testing.B) {
	cfg, _ := ParseURL(testURL())
	cfg.Prefix = newPrefix()
	c, err := New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	value := make([]byte, 20<<10) // a small variant
	c.Set(ctx, "var:t:i:thumb", value, time.Minute)
	defer c.Delete(ctx, "var:t:i:thumb")
	b.SetBytes(int64(len(value)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, _ := c.Get(ctx, "var:t:i:thumb"); !ok {
				b.Fatal("miss")
			}
		}
	})
}
