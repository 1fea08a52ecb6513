// Package inmem is hotpath's in-process cache: a byte-bounded LRU with
// per-entry TTLs and in-process locks, the default when no shared cache is
// configured.
package inmem

import (
	"container/list"
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/hotpath/hotpath"
)

var _ hotpath.Cache = (*Cache)(nil)

// Defaults of Config.
const (
	DefaultMaxBytes = 64 << 20
	// entryOverhead is what an entry costs beyond its key and value: the
	// list element, the map slot and the entry struct, roughly.
	entryOverhead = 128
	// lockSweepAt is how many locks may be held before Lock drops the
	// expired ones.
	lockSweepAt = 1024
)

// Config sizes a Cache.
type Config struct {
	// MaxBytes bounds keys plus values plus a fixed per-entry overhead;
	// the least recently used entries go first when a Set would exceed it.
	MaxBytes int64
	// DefaultTTL applies to Set with ttl 0; 0 here means no expiry, so that
	// entries leave only by eviction or Delete.
	DefaultTTL time.Duration
}

// withDefaults returns c with a MaxBytes of 0 or less set to DefaultMaxBytes.
func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return c
}

// Validate reports a Config that cannot work, as EINVALID.
func (c Config) Validate() error {
	if c.MaxBytes <= 0 {
		return hotpath.Errorf(hotpath.EINVALID, "mem cache: size must be positive")
	}
	if c.DefaultTTL < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "mem cache: ttl must not be negative")
	}
	return nil
}

// ParseURL reads a cache URL, mem:// or mem://?size=64MiB&ttl=10m (size in
// bytes, or with a unit as go-humanize reads it: 64MiB, 64MB = 64e6).
func ParseURL(rawURL string) (Config, error) {
	cfg := Config{MaxBytes: DefaultMaxBytes}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "mem" || u.Host != "" || (u.Path != "" && u.Path != "/") {
		return cfg, hotpath.Errorf(hotpath.EINVALID, "mem cache: URL must look like mem://?size=64MiB&ttl=10m")
	}
	for name := range u.Query() {
		v := u.Query().Get(name)
		var perr error
		switch name {
		case "size":
			var n uint64
			n, perr = humanize.ParseBytes(v)
			cfg.MaxBytes = int64(n)
		case "ttl":
			cfg.DefaultTTL, perr = time.ParseDuration(v)
		default:
			return cfg, hotpath.Errorf(hotpath.EINVALID, "mem cache: unknown URL parameter %q", name)
		}
		if perr != nil {
			return cfg, hotpath.Errorf(hotpath.EINVALID, "mem cache: bad value %q for %q", v, name)
		}
	}
	return cfg, cfg.Validate()
}

// Cache is a byte-bounded LRU of values with TTLs, plus named locks, for one
// process. It is safe for concurrent use. Values are copied in and out, so a
// caller may keep or change its slices.
type Cache struct {
	cfg Config
	now func() time.Time // the clock, replaceable in tests

	mu      sync.Mutex
	lru     *list.List // of *entry, most recently used at the front
	entries map[string]*list.Element
	bytes   int64
	locks   map[string]heldLock

	lockSeq   atomic.Uint64
	hits      atomic.Int64
	misses    atomic.Int64
	evictions atomic.Int64
}

// entry is one cached value.
type entry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

// heldLock is a taken lock: who holds it and until when.
type heldLock struct {
	token   uint64
	expires time.Time
}

// NewCache returns a Cache holding at most maxBytes, with no default expiry.
func NewCache(maxBytes int64) *Cache {
	return New(Config{MaxBytes: maxBytes})
}

// New returns a Cache configured by cfg; a MaxBytes of 0 or less means
// DefaultMaxBytes.
func New(cfg Config) *Cache {
	return &Cache{
		cfg:     cfg.withDefaults(),
		now:     time.Now,
		lru:     list.New(),
		entries: map[string]*list.Element{},
		locks:   map[string]heldLock{},
	}
}

// Open returns a Cache for a mem:// URL (see ParseURL).
func Open(_ context.Context, rawURL string) (*Cache, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(cfg), nil
}

// Get returns a copy of the value under key, or a miss when there is none
// or it has expired.
func (c *Cache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		e := el.Value.(*entry)
		if !e.expires.IsZero() && !c.now().Before(e.expires) {
			c.remove(el)
			ok = false
		} else {
			c.lru.MoveToFront(el)
			value := append([]byte{}, e.value...)
			c.mu.Unlock()
			c.hits.Add(1)
			return value, true, nil
		}
	}
	c.mu.Unlock()
	c.misses.Add(1)
	return nil, false, nil
}

// Set stores a copy of value under key for ttl (0: the default TTL),
// evicting least recently used entries to stay within MaxBytes. A value
// larger than the whole cache is not stored, and any older value of key is
// dropped so a Get never returns it.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "cache: negative ttl")
	}
	if ttl == 0 {
		ttl = c.cfg.DefaultTTL
	}
	e := &entry{key: key, value: append([]byte{}, value...)}
	if ttl > 0 {
		e.expires = c.now().Add(ttl)
	}
	size := entrySize(key, value)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	if size > c.cfg.MaxBytes {
		return nil
	}
	for c.bytes+size > c.cfg.MaxBytes {
		c.remove(c.lru.Back())
		c.evictions.Add(1)
	}
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += size
	return nil
}

// Delete removes keys; missing keys are no error.
func (c *Cache) Delete(_ context.Context, keys ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if el, ok := c.entries[k]; ok {
			c.remove(el)
		}
	}
	return nil
}

// Lock takes the lock named key for ttl unless another holder has it and it
// has not expired. unlock releases it only if it is still this holder's, so
// a holder that outlived its ttl cannot release a successor's lock. Locks
// live beside the values: a lock and a value of the same name are unrelated.
func (c *Cache) Lock(_ context.Context, key string, ttl time.Duration) (func(), bool, error) {
	if ttl <= 0 {
		return nil, false, hotpath.Errorf(hotpath.EINVALID, "cache: lock ttl must be positive")
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if held, ok := c.locks[key]; ok && now.Before(held.expires) {
		return nil, false, nil
	}
	if len(c.locks) >= lockSweepAt {
		// Locks whose holders never released them would otherwise pile
		// up, one per distinct name.
		for k, held := range c.locks {
			if !now.Before(held.expires) {
				delete(c.locks, k)
			}
		}
	}
	token := c.lockSeq.Add(1)
	c.locks[key] = heldLock{token: token, expires: now.Add(ttl)}
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.locks[key].token == token {
				delete(c.locks, key)
			}
		})
	}, true, nil
}

// Close releases nothing: the cache is plain memory.
func (c *Cache) Close() error { return nil }

// Stats counts what the cache has done since it was made.
type Stats struct {
	Entries   int
	Bytes     int64 // keys, values and per-entry overhead
	Hits      int64
	Misses    int64
	Evictions int64 // entries dropped to make room, not expiries or deletes
}

// Stats returns the cache's counters, for metrics and tests.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, b := len(c.entries), c.bytes
	c.mu.Unlock()
	return Stats{Entries: n, Bytes: b, Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}

// remove drops the entry at el; c.mu must be held.
func (c *Cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.key)
	c.bytes -= entrySize(e.key, e.value)
}

// entrySize is what an entry counts against MaxBytes.
func entrySize(key string, value []byte) int64 {
	return int64(len(key)+len(value)) + entryOverhead
}
