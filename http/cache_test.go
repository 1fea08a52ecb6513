package http

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	"github.com/hotpath/hotpath/inmem"
	"github.com/hotpath/hotpath/pipeline"
	"github.com/hotpath/hotpath/sqlite"
)

// countingMeta is the real SQLite store, counting the lookups the cache is
// meant to save.
type countingMeta struct {
	hotpath.MetadataStore
	getImage, findKey atomic.Int64
}

func (m *countingMeta) GetImage(ctx context.Context, tenantID, id string) (*hotpath.Image, error) {
	m.getImage.Add(1)
	return m.MetadataStore.GetImage(ctx, tenantID, id)
}

func (m *countingMeta) FindAPIKey(ctx context.Context, hash []byte) (*hotpath.APIKey, error) {
	m.findKey.Add(1)
	return m.MetadataStore.FindAPIKey(ctx, hash)
}

// countingBlobs is the real disk store, counting opened blobs.
type countingBlobs struct {
	hotpath.BlobStore
	opens atomic.Int64
}

func (b *countingBlobs) Open(ctx context.Context, key string) (hotpath.Blob, error) {
	b.opens.Add(1)
	return b.BlobStore.Open(ctx, key)
}

// failingCache is a cache whose every operation fails, as a Redis that went
// away does.
type failingCache struct{}

var errCacheDown = errors.New("cache is down")

func (failingCache) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, errCacheDown
}
func (failingCache) Set(context.Context, string, []byte, time.Duration) error {
	return errCacheDown
}
func (failingCache) Delete(context.Context, ...string) error { return errCacheDown }
func (failingCache) Lock(context.Context, string, time.Duration) (func(), bool, error) {
	return nil, false, errCacheDown
}
func (failingCache) Close() error { return nil }

// cacheEnv is an API over counted real stores and a cache.
type cacheEnv struct {
	meta   *countingMeta
	blobs  *countingBlobs
	svc    *pipeline.Service
	url    string
	tenant string
	key    *hotpath.APIKey
	secret string
}

// newCacheEnv starts an API over SQLite and disk in a temp dir with cache
// (nil: none) and cfg's cache settings, and makes a write key.
func newCacheEnv(t *testing.T, cache hotpath.Cache, cfg CacheConfig) *cacheEnv {
	t.Helper()
	dir, b, m := openTestStores(t)
	e := &cacheEnv{meta: &countingMeta{MetadataStore: m}, blobs: &countingBlobs{BlobStore: b}}
	var err error
	e.svc, err = pipeline.New(pipeline.Config{Workers: 2, QueueSize: 16, TempDir: dir}, e.blobs, e.meta, imagetest.ImageEngine(t), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.tenant, e.secret, e.key = e.newKey(t, "cache tests")
	c := DefaultConfig()
	c.Cache = cfg
	srv, err := New(c, e.svc, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// openTestStores opens a disk blob store and a SQLite store in a temp dir,
// closed when the test ends.
func openTestStores(t *testing.T) (dir string, blobs hotpath.BlobStore, meta hotpath.MetadataStore) {
	t.Helper()
	dir = t.TempDir()
	b, err := disk.Open(context.Background(), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m, err := sqlite.Open(context.Background(), filepath.Join(dir, "hotpath.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return dir, b, m
}

// newKey makes a tenant and a write key of it.
func (e *cacheEnv) newKey(t *testing.T, tenantName string) (string, string, *hotpath.APIKey) {
	t.Helper()
	ctx := context.Background()
	tn := &hotpath.Tenant{Name: tenantName}
	if err := e.meta.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	secret, key, err := NewAPIKey(tn.ID, "test", hotpath.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.meta.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	return tn.ID, secret, key
}

// do sends a request with the env's key, or secret when given.
func (e *cacheEnv) do(t *testing.T, method, path string, header map[string]string, secret ...string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + e.secret}
	if len(secret) > 0 {
		h["Authorization"] = "Bearer " + secret[0]
	}
	for k, v := range header {
		h[k] = v
	}
	return get(t, method, e.url+path, h)
}

func (e *cacheEnv) upload(t *testing.T) *hotpath.Image {
	t.Helper()
	data := imagetest.Image(t, hotpath.FormatJPEG, 640, 480)
	img, err := e.svc.Ingest(context.Background(), e.tenant, "a.jpg", imagetest.WriteImage(t, "a.jpg", data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// storeCalls is what the stores were asked so far.
type storeCalls struct{ getImage, findKey, opens int64 }

func (e *cacheEnv) calls() storeCalls {
	return storeCalls{e.meta.getImage.Load(), e.meta.findKey.Load(), e.blobs.opens.Load()}
}

func TestCacheSecondReadSkipsStores(t *testing.T) {
	e := newCacheEnv(t, inmem.NewCache(16<<20), CacheConfig{})
	img := e.upload(t)
	tests := []struct {
		name, path string
		wantType   string
	}{
		{"metadata", "/v1/images/" + img.ID, "application/json"},
		{"small variant", "/v1/images/" + img.ID + "/variants/thumb", "image/jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, first := e.do(t, "GET", tt.path, nil)
			wantStatus(t, "first GET", resp, first, 200)
			before := e.calls()
			resp, second := e.do(t, "GET", tt.path, nil)
			wantStatus(t, "second GET", resp, second, 200)
			if got := e.calls(); got != before {
				t.Errorf("second GET asked the stores: calls %+v, want %+v (none new)", got, before)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("second GET answered different bytes")
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", got, tt.wantType)
			}
		})
	}
	// The cached variant keeps its validators and ranges.
	resp, full := e.do(t, "GET", "/v1/images/"+img.ID+"/variants/thumb", nil)
	wantStatus(t, "variant", resp, full, 200)
	etag := resp.Header.Get("ETag")
	resp, body := e.do(t, "GET", "/v1/images/"+img.ID+"/variants/thumb", map[string]string{"If-None-Match": etag})
	wantStatus(t, "If-None-Match", resp, body, 304)
	resp, body = e.do(t, "GET", "/v1/images/"+img.ID+"/variants/thumb", map[string]string{"Range": "bytes=0-9"})
	wantStatus(t, "Range", resp, body, 206)
	if !bytes.Equal(body, full[:10]) {
		t.Errorf("Range answered %x, want %x", body, full[:10])
	}
	// Another tenant does not see the cached image.
	_, otherSecret, _ := e.newKey(t, "other")
	resp, body = e.do(t, "GET", "/v1/images/"+img.ID, nil, otherSecret)
	wantStatus(t, "another tenant's cached image", resp, body, 404)
	resp, body = e.do(t, "GET", "/v1/images/"+img.ID+"/variants/thumb", nil, otherSecret)
	wantStatus(t, "another tenant's cached variant", resp, body, 404)
	// The counters say so.
	resp, body = get(t, "GET", e.url+"/metrics", nil)
	wantStatus(t, "metrics", resp, body, 200)
	for _, want := range []string{`hotpath_cache_hits_total{kind="image"}`, `hotpath_cache_hits_total{kind="variant"}`, `hotpath_cache_hits_total{kind="key"}`} {
		if !strings.Contains(string(body), want) || strings.Contains(string(body), want+" 0\n") {
			t.Errorf("/metrics lacks a non-zero %s", want)
		}
	}
}

func TestCacheDeleteThenGetIsNotFound(t *testing.T) {
	e := newCacheEnv(t, inmem.NewCache(16<<20), CacheConfig{})
	img := e.upload(t)
	paths := []string{"/v1/images/" + img.ID, "/v1/images/" + img.ID + "/variants/thumb", "/v1/images/" + img.ID + "/original"}
	for _, p := range paths {
		for range 2 { // the second read comes from the cache
			resp, body := e.do(t, "GET", p, nil)
			wantStatus(t, "GET "+p, resp, body, 200)
		}
	}
	resp, body := e.do(t, "DELETE", "/v1/images/"+img.ID, nil)
	wantStatus(t, "DELETE", resp, body, 204)
	for _, p := range paths {
		resp, body := e.do(t, "GET", p, nil)
		wantStatus(t, "GET after DELETE "+p, resp, body, 404)
	}
}

func TestCacheRegeneratedVariantsInvalidate(t *testing.T) {
	e := newCacheEnv(t, inmem.NewCache(16<<20), CacheConfig{})
	img := e.upload(t)
	path := "/v1/images/" + img.ID
	e.do(t, "GET", path, nil)
	before := e.calls()
	e.do(t, "GET", path, nil)
	if got := e.calls(); got.getImage != before.getImage {
		t.Fatalf("cached GET asked the store")
	}
	// What a job does: remake the variants and mark the image ready.
	if _, err := e.svc.GenerateVariants(context.Background(), e.tenant, img.ID); err != nil {
		t.Fatal(err)
	}
	before = e.calls()
	resp, body := e.do(t, "GET", path, nil)
	wantStatus(t, "GET after GenerateVariants", resp, body, 200)
	// GenerateVariants read the image itself; the GET must read it again.
	if got := e.calls(); got.getImage != before.getImage+1 {
		t.Errorf("GET after GenerateVariants: %d store lookups, want 1 (the entry is invalidated)", got.getImage-before.getImage)
	}
}

func TestCacheRevokedKeyStopsWithinTTL(t *testing.T) {
	const ttl = 300 * time.Millisecond
	e := newCacheEnv(t, inmem.NewCache(16<<20), CacheConfig{KeyTTL: ttl})
	for range 2 {
		resp, body := e.do(t, "GET", "/v1/images", nil)
		wantStatus(t, "before revoke", resp, body, 200)
	}
	if got := e.meta.findKey.Load(); got != 1 {
		t.Errorf("two requests looked the key up %d times in the store, want 1", got)
	}
	// Revoked in the store only, as `hotpath keys revoke` in another
	// process without a shared cache does.
	if err := e.meta.RevokeAPIKey(context.Background(), e.key.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		resp, body := e.do(t, "GET", "/v1/images", nil)
		if resp.StatusCode == 401 {
			break
		}
		wantStatus(t, "revoked key", resp, body, 200)
		if time.Since(revoked) > ttl+time.Second {
			t.Fatalf("revoked key still works %v after the revoke; the key TTL is %v", time.Since(revoked), ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCacheFailureFallsBackToStores(t *testing.T) {
	e := newCacheEnv(t, failingCache{}, CacheConfig{})
	img := e.upload(t)
	for _, p := range []string{"/v1/images/" + img.ID, "/v1/images/" + img.ID + "/variants/thumb"} {
		for range 2 {
			resp, body := e.do(t, "GET", p, nil)
			wantStatus(t, "GET with a failing cache "+p, resp, body, 200)
		}
	}
	resp, body := e.do(t, "DELETE", "/v1/images/"+img.ID, nil)
	wantStatus(t, "DELETE with a failing cache", resp, body, 204)
	resp, body = e.do(t, "GET", "/v1/images/"+img.ID, nil)
	wantStatus(t, "GET after DELETE with a failing cache", resp, body, 404)
}
