package http

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/pipeline"
)

// CacheConfig says what the API keeps in the cache (Options.Cache) and for
// how long. The cache is an optimisation: a miss or a cache failure falls
// back to the stores.
type CacheConfig struct {
	// KeyTTL is how long an API-key lookup is cached. A key revoked by
	// `hotpath keys revoke` stops working at once when the CLI shares the
	// cache with the servers (redis://), and within KeyTTL otherwise.
	KeyTTL time.Duration `json:"key_ttl"`
	// ImageTTL is how long image metadata and small variants are cached.
	// Deletes, status changes and new variants invalidate them at once; the
	// TTL only bounds what a failed invalidation can leave behind.
	ImageTTL time.Duration `json:"image_ttl"`
	// VariantMaxBytes is the largest preset variant whose bytes are cached;
	// 0 takes the default, -1 caches none.
	VariantMaxBytes int `json:"variant_max_bytes"`
}

// DefaultCacheConfig returns the cache settings of an unconfigured server:
// key lookups for 30 s, image metadata and variants up to 256 KiB for 10 min.
func DefaultCacheConfig() CacheConfig {
	return CacheConfig{KeyTTL: 30 * time.Second, ImageTTL: 10 * time.Minute, VariantMaxBytes: 256 << 10}
}

// withDefaults fills zero fields from DefaultCacheConfig.
func (c CacheConfig) withDefaults() CacheConfig {
	d := DefaultCacheConfig()
	if c.KeyTTL == 0 {
		c.KeyTTL = d.KeyTTL
	}
	if c.ImageTTL == 0 {
		c.ImageTTL = d.ImageTTL
	}
	if c.VariantMaxBytes == 0 {
		c.VariantMaxBytes = d.VariantMaxBytes
	}
	return c
}

// cacheConfigJSON is CacheConfig in a config file: durations as "30s".
type cacheConfigJSON struct {
	KeyTTL          string `json:"key_ttl,omitempty"`
	ImageTTL        string `json:"image_ttl,omitempty"`
	VariantMaxBytes int    `json:"variant_max_bytes,omitempty"`
}

// MarshalJSON writes the TTLs as Go duration strings.
func (c CacheConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(cacheConfigJSON{KeyTTL: c.KeyTTL.String(), ImageTTL: c.ImageTTL.String(), VariantMaxBytes: c.VariantMaxBytes})
}

// UnmarshalJSON reads the TTLs as Go duration strings such as "30s";
// fields left out keep their values.
func (c *CacheConfig) UnmarshalJSON(b []byte) error {
	var j cacheConfigJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	for _, f := range []struct {
		s string
		d *time.Duration
	}{{j.KeyTTL, &c.KeyTTL}, {j.ImageTTL, &c.ImageTTL}} {
		if f.s == "" {
			continue
		}
		d, err := time.ParseDuration(f.s)
		if err != nil {
			return err
		}
		*f.d = d
	}
	if j.VariantMaxBytes != 0 {
		c.VariantMaxBytes = j.VariantMaxBytes
	}
	return nil
}

// Validate reports the first problem of c, with its defaults filled in, as
// EINVALID.
func (c CacheConfig) Validate() error {
	c = c.withDefaults()
	if c.KeyTTL < 0 || c.ImageTTL < 0 || c.VariantMaxBytes < -1 {
		return hotpath.Errorf(hotpath.EINVALID, "cache TTLs and sizes must not be negative")
	}
	return nil
}

// APIKeyCacheKey is the cache key of the lookup of the key whose SHA-256 is
// hash; `hotpath keys revoke` deletes it.
func APIKeyCacheKey(hash []byte) string { return "key:" + hex.EncodeToString(hash) }

// Kinds of cached values, the label of the cache counters.
const (
	cacheKindKey     = "key"
	cacheKindImage   = "image"
	cacheKindVariant = "variant"
)

// apiCache reads and fills the cache for the API. Every method falls back
// to the caller's store on a miss or a failure; failures are logged at warn.
type apiCache struct {
	cfg                  CacheConfig
	cache                hotpath.Cache // nil: none
	logger               *slog.Logger
	hits, misses, errors *prometheus.CounterVec
}

// newAPICache returns the API's cache over cache (nil: none), its counters
// registered in reg.
func newAPICache(cfg CacheConfig, cache hotpath.Cache, logger *slog.Logger, reg prometheus.Registerer) *apiCache {
	c := &apiCache{
		cfg: cfg, cache: cache, logger: logger,
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_cache_hits_total",
			Help: "Cache lookups answered by the cache, by kind: key (API keys), image (metadata), variant (bytes).",
		}, []string{"kind"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_cache_misses_total",
			Help: "Cache lookups that went to the stores, by kind.",
		}, []string{"kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_cache_errors_total",
			Help: "Cache operations that failed (the request fell back to the stores), by kind.",
		}, []string{"kind"}),
	}
	for _, kind := range []string{cacheKindKey, cacheKindImage, cacheKindVariant} {
		c.hits.WithLabelValues(kind)
		c.misses.WithLabelValues(kind)
		c.errors.WithLabelValues(kind)
	}
	reg.MustRegister(c.hits, c.misses, c.errors)
	return c
}

// get returns the cached value of key, counting a hit or a miss.
func (c *apiCache) get(ctx context.Context, kind, key string) ([]byte, bool) {
	v, ok, err := c.cache.Get(ctx, key)
	if err != nil {
		c.errors.WithLabelValues(kind).Inc()
		c.logger.WarnContext(ctx, "cache get failed, using the store", "key", key, "err", err)
		ok = false
	}
	if ok {
		c.hits.WithLabelValues(kind).Inc()
	} else {
		c.misses.WithLabelValues(kind).Inc()
	}
	return v, ok
}

// set stores value under key for ttl; a failure is only logged.
func (c *apiCache) set(ctx context.Context, kind, key string, value []byte, ttl time.Duration) {
	if err := c.cache.Set(ctx, key, value, ttl); err != nil {
		c.errors.WithLabelValues(kind).Inc()
		c.logger.WarnContext(ctx, "cache set failed", "key", key, "err", err)
	}
}

// findAPIKey returns the unrevoked key with this hash, from the cache or the store.
func (s *Server) findAPIKey(ctx context.Context, hash []byte) (*hotpath.APIKey, error) {
	c := s.cache
	if c.cache == nil {
		return s.Meta.FindAPIKey(ctx, hash)
	}
	ck := APIKeyCacheKey(hash)
	if v, ok := c.get(ctx, cacheKindKey, ck); ok {
		var k hotpath.APIKey
		if err := json.Unmarshal(v, &k); err == nil && k.ID != "" && k.RevokedAt == nil {
			k.Hash = hash
			return &k, nil
		}
		c.logger.WarnContext(ctx, "cache: unreadable API key entry, using the store", "key", ck)
	}
	k, err := s.Meta.FindAPIKey(ctx, hash)
	if err != nil {
		return nil, err
	}
	if v, err := json.Marshal(k); err == nil {
		c.set(ctx, cacheKindKey, ck, v, c.cfg.KeyTTL)
	}
	return k, nil
}

// cachedImage is an image as the cache keeps it: with its variants' blob
// keys, which the API JSON leaves out.
type cachedImage struct {
	*hotpath.Image
	Variants []cachedVariant `json:"variants"`
}

type cachedVariant struct {
	hotpath.Variant
	BlobKey string `json:"blob_key"`
}

func encodeImage(img *hotpath.Image) ([]byte, error) {
	ci := cachedImage{Image: img, Variants: make([]cachedVariant, len(img.Variants))}
	for i, v := range img.Variants {
		ci.Variants[i] = cachedVariant{Variant: v, BlobKey: v.BlobKey}
	}
	return json.Marshal(ci)
}

func decodeImage(b []byte) (*hotpath.Image, error) {
	var ci cachedImage
	if err := json.Unmarshal(b, &ci); err != nil {
		return nil, err
	}
	if ci.Image == nil || ci.ID == "" || ci.TenantID == "" {
		return nil, hotpath.Errorf(hotpath.EINTERNAL, "cached image without id or tenant")
	}
	img := ci.Image
	img.Variants = make([]hotpath.Variant, len(ci.Variants))
	for i, v := range ci.Variants {
		v.Variant.ImageID, v.Variant.BlobKey = img.ID, v.BlobKey
		img.Variants[i] = v.Variant
	}
	return img, nil
}

// image returns the tenant's image (tenantID "": whatever its tenant, for
// transform URLs) from the cache or the store. A cached image of another
// tenant is not found, exactly as the store would answer.
func (s *Server) image(ctx context.Context, tenantID, id string) (*hotpath.Image, error) {
	c := s.cache
	if c.cache == nil {
		return s.Meta.GetImage(ctx, tenantID, id)
	}
	ck := pipeline.ImageCacheKey(id)
	if v, ok := c.get(ctx, cacheKindImage, ck); ok {
		img, err := decodeImage(v)
		if err == nil && img.ID == id {
			if tenantID != "" && img.TenantID != tenantID {
				return nil, hotpath.Errorf(hotpath.ENOTFOUND, "image not found")
			}
			return img, nil
		}
		c.logger.WarnContext(ctx, "cache: unreadable image entry, using the store", "key", ck, "err", err)
	}
	img, err := s.Meta.GetImage(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	// An image still processing is changed by a worker, which may not share
	// this cache: it is read from the store until it is ready or failed.
	if img.Status == hotpath.ImageProcessing {
		return img, nil
	}
	if v, err := encodeImage(img); err == nil {
		c.set(ctx, cacheKindImage, ck, v, c.cfg.ImageTTL)
	}
	return img, nil
}

// variantBytes returns the bytes of a small preset variant from the cache,
// or reads them from the blob store and caches them. ok is false when the
// variant is too large to cache (or there is no cache): the caller streams
// it from the blob store. A cached value carries the ETag of the variant it
// holds, so a stale one (the variant was regenerated) is never served.
func (s *Server) variantBytes(ctx context.Context, img *hotpath.Image, v hotpath.Variant, etag string) (data []byte, ok bool, err error) {
	c := s.cache
	if c.cache == nil || c.cfg.VariantMaxBytes < 0 || v.Bytes > int64(c.cfg.VariantMaxBytes) {
		return nil, false, nil
	}
	ck := pipeline.VariantCacheKey(img.ID, v.Name)
	if cached, hit := c.get(ctx, cacheKindVariant, ck); hit {
		if tag, body, found := bytes.Cut(cached, []byte{0}); found && string(tag) == etag {
			return body, true, nil
		}
	}
	b, err := s.Blobs.Open(ctx, v.BlobKey)
	if err != nil {
		if hotpath.IsNotFound(err) {
			err = hotpath.WrapError(hotpath.EINTERNAL, err, "blob %s missing", v.BlobKey)
		}
		return nil, false, err
	}
	defer b.Close()
	limit := int64(c.cfg.VariantMaxBytes)
	data, err = io.ReadAll(io.LimitReader(b, limit+1))
	if err != nil {
		return nil, false, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "read variant")
	}
	if int64(len(data)) > limit {
		// Larger than recorded: the caller streams it, uncached.
		return nil, false, nil
	}
	value := make([]byte, 0, len(etag)+1+len(data))
	value = append(append(append(value, etag...), 0), data...)
	c.set(ctx, cacheKindVariant, ck, value, c.cfg.ImageTTL)
	return data, true, nil
}

// serveBytes answers with data as serveBlob would with a blob: validators,
// 304, ranges and HEAD.
func serveBytes(w http.ResponseWriter, r *http.Request, data []byte, contentType, etag string, modTime time.Time, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", modTime, bytes.NewReader(data))
}
