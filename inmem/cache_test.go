package inmem

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
)

func TestCacheContract(t *testing.T) {
	hotpathtest.TestCache(t, func(t *testing.T) hotpath.Cache { return NewCache(64 << 20) })
}

// TestEvictionByBytes fills a cache past its bound and checks that the least
// recently used entries left, the recently read ones stayed, and the byte
// count never exceeded the bound.
func TestEvictionByBytes(t *testing.T) {
	const valueSize = 1000
	perEntry := entrySize("k00", make([]byte, valueSize))
	c := NewCache(10 * perEntry) // room for exactly 10 entries
	ctx := context.Background()
	set := func(i int) {
		t.Helper()
		if err := c.Set(ctx, fmt.Sprintf("k%02d", i), make([]byte, valueSize), 0); err != nil {
			t.Fatal(err)
		}
		if b := c.Stats().Bytes; b > 10*perEntry {
			t.Fatalf("after Set %d: %d bytes cached, bound %d", i, b, 10*perEntry)
		}
	}
	for i := range 10 {
		set(i)
	}
	hotpathtest.CacheGet(t, c, "k00") // k00 becomes the most recently used
	for i := 10; i < 13; i++ {
		set(i)
	}
	// k01, k02 and k03 were the least recently used.
	for i := range 13 {
		_, ok := hotpathtest.CacheGet(t, c, fmt.Sprintf("k%02d", i))
		if want := i == 0 || i > 3; ok != want {
			t.Errorf("k%02d cached = %v, want %v", i, ok, want)
		}
	}
	st := c.Stats()
	if st.Entries != 10 || st.Evictions != 3 || st.Bytes != 10*perEntry {
		t.Errorf("Stats = %+v, want 10 entries, 3 evictions, %d bytes", st, 10*perEntry)
	}
}

// TestOversizedValue checks that a value bigger than the whole cache is not
// stored, evicts nothing, and hides an older value of its key.
func TestOversizedValue(t *testing.T) {
	c := NewCache(4096)
	hotpathtest.CacheSet(t, c, "small", []byte("s"), 0)
	hotpathtest.CacheSet(t, c, "big", []byte("old"), 0)
	hotpathtest.CacheSet(t, c, "big", make([]byte, 8192), 0)
	if _, ok := hotpathtest.CacheGet(t, c, "big"); ok {
		t.Errorf("a value larger than the cache was returned, want a miss")
	}
	if _, ok := hotpathtest.CacheGet(t, c, "small"); !ok {
		t.Errorf("an oversized Set evicted another entry")
	}
}

// TestExpiryFreesBytes uses a fake clock to check TTLs, the default TTL, and
// that an expired entry's bytes are given back when it is found expired.
func TestExpiryFreesBytes(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := New(Config{MaxBytes: 1 << 20, DefaultTTL: time.Hour})
	c.now = func() time.Time { return now }
	hotpathtest.CacheSet(t, c, "a", []byte("aaaa"), time.Second)
	hotpathtest.CacheSet(t, c, "b", []byte("bbbb"), 0) // the default hour
	now = now.Add(2 * time.Second)
	if _, ok := hotpathtest.CacheGet(t, c, "a"); ok {
		t.Errorf("a hit after its 1 s TTL")
	}
	if _, ok := hotpathtest.CacheGet(t, c, "b"); !ok {
		t.Errorf("b missed within the default TTL")
	}
	if got, want := c.Stats().Bytes, entrySize("b", []byte("bbbb")); got != want {
		t.Errorf("bytes after a's expiry = %d, want %d", got, want)
	}
	now = now.Add(time.Hour)
	if _, ok := hotpathtest.CacheGet(t, c, "b"); ok {
		t.Errorf("b hit after the default TTL")
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		want    Config
		wantErr bool
	}{
		{"mem://", Config{MaxBytes: DefaultMaxBytes}, false},
		{"mem://?size=8MiB&ttl=5m", Config{MaxBytes: 8 << 20, DefaultTTL: 5 * time.Minute}, false},
		{"mem://?size=1000", Config{MaxBytes: 1000}, false},
		{"mem://?size=0", Config{}, true},
		{"mem://?size=lots", Config{}, true},
		{"mem://?ttl=-1s", Config{}, true},
		{"mem://?colour=red", Config{}, true},
		{"redis://x", Config{}, true},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.url)
		if tt.wantErr {
			if hotpath.ErrorCode(err) != hotpath.EINVALID {
				t.Errorf("ParseURL(%q) error %v, want EINVALID", tt.url, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := NewCache(64 << 20)
	ctx := context.Background()
	value := make([]byte, 20<<10) // a small variant
	c.Set(ctx, "var:t:i:thumb", value, 0)
	b.SetBytes(int64(len(value)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, _ := c.Get(ctx, "var:t:i:thumb"); !ok {
				b.Fatal("miss")
			}
		}
	})
}
