package http

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/pipeline"
)

// TransformRoutePattern is the ServeMux pattern of on-the-fly transforms:
// /t/{signature}/{options}/{image_id}[.ext], documented in docs/transforms.md.
const TransformRoutePattern = "/t/{signature}/{options}/{image}"

// transformCacheControl is sent with every transform result: a result never
// changes under its URL, because the URL names the image and every option.
const transformCacheControl = "public, max-age=31536000, immutable"

// TransformConfig configures the transform routes.
type TransformConfig struct {
	// SigningKeys verify URL signatures; several at once for rotation (sign
	// with the first, keep the old ones until their URLs are gone).
	SigningKeys []string `json:"signing_keys"`
	// AllowUnsigned accepts "unsafe" in place of a signature: development only.
	AllowUnsigned bool `json:"allow_unsigned"`
	// PresetsOnly is the allow-list mode: only preset:NAME (and f:auto).
	PresetsOnly bool `json:"presets_only"`
	// MaxWidth, MaxHeight and MaxPixels bound an output; 0 takes the default.
	MaxWidth  int   `json:"max_width"`
	MaxHeight int   `json:"max_height"`
	MaxPixels int64 `json:"max_pixels"`
	// CacheMaxBytes is the largest result kept in the cache besides the blob store.
	CacheMaxBytes int `json:"cache_max_bytes"`
	// CacheTTL is how long a result stays in the cache.
	CacheTTL time.Duration `json:"cache_ttl"`
	// LockTTL bounds how long one process may hold the cross-process lock
	// on one result while it processes it.
	LockTTL time.Duration `json:"lock_ttl"`
}

// DefaultTransformConfig returns the transform settings of an unconfigured
// server: no keys (so every URL is refused until keys or unsigned mode are
// configured), outputs up to 8192 pixels a side and 40 MP, results up to
// 512 KiB cached for an hour.
func DefaultTransformConfig() TransformConfig {
	p := hotpath.DefaultTransformPolicy()
	return TransformConfig{
		MaxWidth: p.MaxWidth, MaxHeight: p.MaxHeight, MaxPixels: p.MaxPixels,
		CacheMaxBytes: 512 << 10, CacheTTL: time.Hour, LockTTL: 30 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultTransformConfig.
func (c TransformConfig) withDefaults() TransformConfig {
	d := DefaultTransformConfig()
	if c.MaxWidth == 0 {
		c.MaxWidth = d.MaxWidth
	}
	if c.MaxHeight == 0 {
		c.MaxHeight = d.MaxHeight
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = d.MaxPixels
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = d.CacheTTL
	}
	if c.LockTTL == 0 {
		c.LockTTL = d.LockTTL
	}
	return c
}

// Validate reports the first problem of c, with its defaults filled in, as
// EINVALID.
func (c TransformConfig) Validate() error {
	c = c.withDefaults()
	if c.MaxWidth < 0 || c.MaxHeight < 0 || c.MaxPixels < 0 || c.CacheMaxBytes < 0 || c.CacheTTL < 0 || c.LockTTL < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "transform limits must not be negative")
	}
	_, err := hotpath.NewTransformSigner(c.SigningKeys, c.AllowUnsigned)
	return err
}

// transformer serves /t/ URLs: it parses and checks them, finds a stored
// result or makes it once, and delivers it.
type transformer struct {
	cfg     TransformConfig
	signer  *hotpath.TransformSigner
	policy  hotpath.TransformPolicy
	service *pipeline.Service
	cache   hotpath.Cache // nil: no cache
	logger  *slog.Logger
	flights flights
	// processed counts results computed by the engine, for tests and /metrics.
	processed atomic.Int64
	served    *prometheus.CounterVec
}

// newTransformer returns the transform routes over svc, which makes and
// stores the results.
// cfg has its defaults filled in and is valid.
func newTransformer(cfg TransformConfig, svc *pipeline.Service, cache hotpath.Cache, reg prometheus.Registerer, logger *slog.Logger) (*transformer, error) {
	signer, err := hotpath.NewTransformSigner(cfg.SigningKeys, cfg.AllowUnsigned)
	if err != nil {
		return nil, err
	}
	policy := hotpath.TransformPolicy{
		Presets: svc.Config.Presets, PresetsOnly: cfg.PresetsOnly,
		MaxWidth: cfg.MaxWidth, MaxHeight: cfg.MaxHeight, MaxPixels: cfg.MaxPixels,
		MaxWorkPixels: svc.Config.Limits.MaxWorkPixels,
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	t := &transformer{
		cfg: cfg, signer: signer, policy: policy, service: svc, cache: cache, logger: logger,
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_transforms_served_total",
			Help: "Transform responses by source: cache, store (blob), processed (computed now) or shared (waited on another request's processing).",
		}, []string{"source"}),
	}
	reg.MustRegister(t.served, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "hotpath_transforms_processed_total",
		Help: "Transform results computed by the image engine.",
	}, func() float64 { return float64(t.processed.Load()) }))
	return t, nil
}

// resolveTransform checks spec against the policy and finds the image
// (of tenantID; "" for any), checking the output size against it: what a
// transform URL must pass before it is served or signed.
func (s *Server) resolveTransform(ctx context.Context, tenantID, imageID string, spec hotpath.TransformSpec) (hotpath.TransformOptions, *hotpath.Image, error) {
	opts, err := s.transforms.policy.Resolve(spec)
	if err != nil {
		return opts, nil, err
	}
	img, err := s.image(ctx, tenantID, imageID)
	if err != nil {
		return opts, nil, err
	}
	return opts, img, s.transforms.policy.CheckSize(opts, img.Width, img.Height)
}

// transformResult is one result ready to deliver.
type transformResult struct {
	format hotpath.Format
	data   []byte           // in memory, or
	blob   hotpath.Blob     // open in the blob store, or
	stored *hotpath.Variant // stored, to open (what a shared processing returns)
	source string           // for the served counter
}

// handleTransform serves GET and HEAD /t/{signature}/{options}/{image}.
func (s *Server) handleTransform(w http.ResponseWriter, r *http.Request) {
	t := s.transforms
	ctx := r.Context()
	if len(t.cfg.SigningKeys) == 0 && !t.cfg.AllowUnsigned {
		// No URL can be valid here, signed or not: say so rather than call a
		// correctly signed URL's signature invalid.
		s.Error(w, r, hotpath.Errorf(hotpath.EFORBIDDEN, "transforms are not enabled on this server (it has no signing keys)"))
		return
	}
	u, err := hotpath.ParseTransformURL(hotpath.TransformRoutePrefix + r.PathValue("signature") + "/" + r.PathValue("options") + "/" + r.PathValue("image"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The signature first: nothing about a URL is told to whoever forged it.
	if err := t.signer.Verify(u.Signature, u.SignedPart()); err != nil {
		s.Error(w, r, err)
		return
	}
	spec, err := u.Spec()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	opts, img, err := s.resolveTransform(ctx, "", u.ImageID, spec)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	if opts.Format == hotpath.FormatAuto {
		opts.Format = NegotiateFormat(r.Header.Get("Accept"))
		h.Set("Vary", "Accept")
	}
	etag := `"t-` + hotpath.TransformHash(hotpath.CanonicalTransform(opts)) + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", transformCacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	res, err := t.result(ctx, img, opts)
	if err != nil {
		h.Del("ETag")
		h.Del("Cache-Control")
		s.Error(w, r, err)
		return
	}
	t.served.WithLabelValues(res.source).Inc()
	h.Set("Content-Type", res.format.ContentType())
	if res.blob != nil {
		defer res.blob.Close()
		http.ServeContent(w, r, "", time.Time{}, res.blob)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(res.data))
}

// result finds the stored result of opts for img, or has the pipeline make
// it. Concurrent identical requests in this process share one processing
// (flights), which stops when every one of them has gone; across processes
// the cache's lock has one process make it while the others wait for it to
// appear.
func (t *transformer) result(ctx context.Context, img *hotpath.Image, opts hotpath.TransformOptions) (transformResult, error) {
	key := pipeline.TransformKey(img, opts)
	cacheKey := "t:" + key
	if res, ok := t.fromCache(ctx, cacheKey); ok {
		return res, nil
	}
	if v, err := t.service.StoredTransform(ctx, img, opts); err == nil {
		return t.fromStore(ctx, v, cacheKey)
	} else if !hotpath.IsNotFound(err) {
		return transformResult{}, err
	}
	// Shared with the other requests for it, and stopped when all have gone.
	res, shared, err := t.flights.do(ctx, key, func(ctx context.Context) (transformResult, error) {
		return t.makeOnce(ctx, img, opts, key, cacheKey)
	})
	if err != nil {
		if ctx.Err() != nil {
			return transformResult{}, hotpath.WrapError(hotpath.EUNAVAILABLE, ctx.Err(), "request ended while the transform ran")
		}
		return transformResult{}, err
	}
	if res.stored != nil {
		return t.fromStore(ctx, res.stored, cacheKey)
	}
	if shared && res.source == "processed" {
		res.source = "shared"
	}
	return res, nil
}

// fromCache returns a result kept in the cache.
func (t *transformer) fromCache(ctx context.Context, cacheKey string) (transformResult, bool) {
	if t.cache == nil {
		return transformResult{}, false
	}
	v, ok, err := t.cache.Get(ctx, cacheKey)
	if err != nil || !ok {
		return transformResult{}, false
	}
	format, data, found := bytes.Cut(v, []byte{0})
	if !found {
		return transformResult{}, false
	}
	return transformResult{format: hotpath.Format(format), data: data, source: "cache"}, true
}

// toCache keeps a small result in the cache, prefixed with its format.
func (t *transformer) toCache(ctx context.Context, cacheKey string, f hotpath.Format, data []byte) {
	if t.cache == nil || len(data) > t.cfg.CacheMaxBytes {
		return
	}
	v := make([]byte, 0, len(f)+1+len(data))
	v = append(append(append(v, f...), 0), data...)
	if err := t.cache.Set(ctx, cacheKey, v, t.cfg.CacheTTL); err != nil {
		t.logger.WarnContext(ctx, "cache transform result", "key", cacheKey, "err", err)
	}
}

// fromStore opens a stored result; small ones are read and cached.
func (t *transformer) fromStore(ctx context.Context, v *hotpath.Variant, cacheKey string) (transformResult, error) {
	b, err := t.service.OpenVariant(ctx, v)
	if err != nil {
		return transformResult{}, err
	}
	if t.cache == nil || v.Bytes > int64(t.cfg.CacheMaxBytes) {
		return transformResult{format: v.Format, blob: b, source: "store"}, nil
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		return transformResult{}, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "read stored transform")
	}
	t.toCache(ctx, cacheKey, v.Format, data)
	return transformResult{format: v.Format, data: data, source: "store"}, nil
}

// lockPoll is how often a process waiting on another's processing looks for
// the result.
const lockPoll = 25 * time.Millisecond

// makeOnce makes the result unless another process is making it, in which
// case it waits for that one's result (or for its lock to expire).
func (t *transformer) makeOnce(ctx context.Context, img *hotpath.Image, opts hotpath.TransformOptions, key, cacheKey string) (transformResult, error) {
	if t.cache == nil {
		return t.make(ctx, img, opts, cacheKey)
	}
	deadline := time.Now().Add(t.cfg.LockTTL + time.Second)
	for {
		unlock, ok, err := t.cache.Lock(ctx, "lock:"+key, t.cfg.LockTTL)
		if err != nil {
			// The cache is an optimisation: without its lock, make it here.
			t.logger.WarnContext(ctx, "transform lock", "key", key, "err", err)
			return t.make(ctx, img, opts, cacheKey)
		}
		if ok {
			defer unlock()
			// Another process may have finished between our lookups.
			if v, err := t.service.StoredTransform(ctx, img, opts); err == nil {
				return transformResult{stored: v}, nil
			}
			return t.make(ctx, img, opts, cacheKey)
		}
		if res, ok := t.fromCache(ctx, cacheKey); ok {
			return res, nil
		}
		if v, err := t.service.StoredTransform(ctx, img, opts); err == nil {
			return transformResult{stored: v}, nil
		}
		if time.Now().After(deadline) {
			return t.make(ctx, img, opts, cacheKey)
		}
		time.Sleep(lockPoll)
	}
}

// make has the pipeline make and store the result, and caches it.
func (t *transformer) make(ctx context.Context, img *hotpath.Image, opts hotpath.TransformOptions, cacheKey string) (transformResult, error) {
	v, data, err := t.service.Transform(ctx, img, opts)
	if err != nil {
		return transformResult{}, err
	}
	t.processed.Add(1)
	t.toCache(ctx, cacheKey, v.Format, data)
	return transformResult{format: v.Format, data: data, source: "processed"}, nil
}

// NegotiateFormat picks the output of f:auto from an Accept header: AVIF when
// the client accepts it, else WebP, else JPEG, which every client reads.
// A type with q=0 is refused; wildcards do not count, since browsers that
// decode AVIF or WebP name them.
func NegotiateFormat(accept string) hotpath.Format {
	var avif, webp bool
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if qualityZero(params) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(mediaType)) {
		case "image/avif":
			avif = true
		case "image/webp":
			webp = true
		}
	}
	switch {
	case avif:
		return hotpath.FormatAVIF
	case webp:
		return hotpath.FormatWebP
	}
	return hotpath.FormatJPEG
}

// qualityZero reports whether media-type parameters say q=0.
func qualityZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}

// etagMatches reports whether an If-None-Match header matches etag, weakly
// as RFC 9110 asks for GET.
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}
