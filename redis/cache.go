// Package redis is hotpath's shared cache on Redis (go-redis): many serve and
// worker processes see the same values, a Delete in one is a miss in all,
// and Lock gives them one short-lived mutual exclusion per name.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hotpath/hotpath"
)

var _ hotpath.Cache = (*Cache)(nil)

// Defaults of Config.
const (
	DefaultPrefix = "hotpath:"
	// DefaultTTL bounds how long a value lives when Set is given no TTL, so
	// that a shared Redis never fills with values nobody reads.
	DefaultTTL = time.Hour
	// unlockTimeout bounds the release of a lock, which runs on its own
	// context because the holder's may already be cancelled.
	unlockTimeout = 5 * time.Second
)

// Config says which Redis to use and how to name keys in it.
type Config struct {
	// Options are go-redis's connection options, from the redis:// URL.
	Options *goredis.Options
	// Prefix starts every key this cache writes, so that tenants of one
	// Redis (several deployments, parallel tests) never collide. Values
	// live under Prefix+"v:", locks under Prefix+"l:".
	Prefix string
	// DefaultTTL applies to Set with ttl 0.
	DefaultTTL time.Duration
}

// Validate reports a Config that cannot work, as EINVALID.
func (c Config) Validate() error {
	if c.Options == nil {
		return hotpath.Errorf(hotpath.EINVALID, "redis cache: no connection options")
	}
	if c.DefaultTTL <= 0 {
		return hotpath.Errorf(hotpath.EINVALID, "redis cache: ttl must be positive")
	}
	return nil
}

// ParseURL reads a cache URL such as redis://127.0.0.1:6379/0 or
// rediss://user:pass@host:6380/2?prefix=tenant1:&ttl=10m. prefix and ttl are
// hotpath's; every other parameter is go-redis's (dial_timeout, pool_size, …).
func ParseURL(rawURL string) (Config, error) {
	cfg := Config{Prefix: DefaultPrefix, DefaultTTL: DefaultTTL}
	u, err := url.Parse(rawURL)
	if err != nil {
		return cfg, hotpath.Errorf(hotpath.EINVALID, "redis cache: URL must look like redis://host:6379/0")
	}
	q := u.Query()
	if q.Has("prefix") {
		cfg.Prefix = q.Get("prefix")
		q.Del("prefix")
	}
	if q.Has("ttl") {
		if cfg.DefaultTTL, err = time.ParseDuration(q.Get("ttl")); err != nil {
			return cfg, hotpath.Errorf(hotpath.EINVALID, "redis cache: bad ttl %q", q.Get("ttl"))
		}
		q.Del("ttl")
	}
	u.RawQuery = q.Encode()
	if cfg.Options, err = goredis.ParseURL(u.String()); err != nil {
		// go-redis's message names the bad part; the URL may hold a
		// password, so it is not repeated.
		return cfg, hotpath.WrapError(hotpath.EINVALID, err, "redis cache: bad URL")
	}
	return cfg, cfg.Validate()
}

// Cache is a hotpath.Cache on one Redis database. It is safe for concurrent
// use; go-redis pools the connections.
type Cache struct {
	client *goredis.Client
	cfg    Config
}

// Open parses rawURL (see ParseURL), connects and pings, so that a wrong
// address fails at start.
func Open(ctx context.Context, rawURL string) (*Cache, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// New connects with cfg and pings.
func New(ctx context.Context, cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{client: goredis.NewClient(cfg.Options), cfg: cfg}
	if err := c.client.Ping(ctx).Err(); err != nil {
		c.client.Close()
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, fmt.Errorf("redis ping %s: %w", cfg.Options.Addr, err), "cache unavailable")
	}
	return c, nil
}

// Get returns the value under key, or a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.client.Get(ctx, c.valueKey(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err, "get")
	}
	return v, true, nil
}

// Set stores value under key for ttl (0: the default TTL), with
// millisecond precision.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "cache: negative ttl")
	}
	if ttl == 0 {
		ttl = c.cfg.DefaultTTL
	}
	if err := c.client.Set(ctx, c.valueKey(key), value, atLeastMillisecond(ttl)).Err(); err != nil {
		return unavailable(err, "set")
	}
	return nil
}

// Delete removes keys for every process sharing this Redis. Keys go in one
// pipeline of single-key deletes, which also works on a Redis Cluster
// proxy where one multi-key DEL across slots would not.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := c.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(ctx, c.valueKey(k))
		}
		return nil
	})
	if err != nil {
		return unavailable(err, "delete")
	}
	return nil
}

// releaseLock deletes a lock only while it still holds the releasing
// holder's token, atomically, so that a holder whose lock expired and was
// taken by another process cannot release the new holder's lock.
var releaseLock = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Lock takes the lock named key for ttl with SET NX PX and a random token.
// unlock releases it if it is still this holder's; it is safe to call more
// than once and after ctx is cancelled.
func (c *Cache) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	if ttl <= 0 {
		return nil, false, hotpath.Errorf(hotpath.EINVALID, "cache: lock ttl must be positive")
	}
	token := make([]byte, 16)
	rand.Read(token)
	tok, name := hex.EncodeToString(token), c.cfg.Prefix+"l:"+key
	ok, err := c.client.SetNX(ctx, name, tok, atLeastMillisecond(ttl)).Result()
	if err != nil {
		return nil, false, unavailable(err, "lock")
	}
	if !ok {
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
			defer cancel()
			// A failed release leaves the lock to expire at its ttl,
			// which is why locks are short: nothing else to do here.
			releaseLock.Run(ctx, c.client, []string{name}, tok)
		})
	}, true, nil
}

// Close closes the connection pool.
func (c *Cache) Close() error { return c.client.Close() }

// valueKey is the Redis key of a cached value.
func (c *Cache) valueKey(key string) string { return c.cfg.Prefix + "v:" + key }

// atLeastMillisecond rounds a positive ttl below Redis's resolution up to it.
func atLeastMillisecond(ttl time.Duration) time.Duration {
	return max(ttl, time.Millisecond)
}

// unavailable wraps a Redis failure: the cache is an optimisation, so
// callers may treat EUNAVAILABLE as a miss.
func unavailable(err error, op string) error {
	return hotpath.WrapError(hotpath.EUNAVAILABLE, fmt.Errorf("redis %s: %w", op, err), "cache unavailable")
}
