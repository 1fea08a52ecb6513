package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	"github.com/hotpath/hotpath/inmem"
	"github.com/hotpath/hotpath/pipeline"
)

const (
	testKeyOld = "old-signing-key-0123456789"
	testKeyNew = "new-signing-key-9876543210"
)

// transformEnv is a real server stack for transform tests: disk blobs,
// SQLite metadata, the libvips engine and the in-memory cache.
type transformEnv struct {
	svc    *pipeline.Service
	cache  hotpath.Cache
	tenant string
}

// newTransformEnv opens the stores in a temp dir.
func newTransformEnv(t *testing.T) *transformEnv {
	t.Helper()
	ctx := context.Background()
	dir, blobs, meta := openTestStores(t)
	cache := inmem.NewCache(64 << 20)
	svc, err := pipeline.New(pipeline.Config{Workers: 2, QueueSize: 64, TempDir: dir}, blobs, meta, imagetest.ImageEngine(t), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	tenant := &hotpath.Tenant{Name: "transform tests"}
	if err := meta.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	return &transformEnv{svc: svc, cache: cache, tenant: tenant.ID}
}

// upload ingests data as a new image and returns it.
func (e *transformEnv) upload(t *testing.T, data []byte) *hotpath.Image {
	t.Helper()
	img, err := e.svc.Ingest(context.Background(), e.tenant, "test", imagetest.WriteImage(t, "upload", data))
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return img
}

// server starts an API server over the env's stores with cfg's transform
// settings; servers of one env share stores and cache like processes of
// one deployment.
func (e *transformEnv) server(t *testing.T, cfg TransformConfig) (*Server, *httptest.Server) {
	t.Helper()
	c := DefaultConfig()
	c.Transforms = cfg
	srv, err := New(c, e.svc, Options{Cache: e.cache})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts
}

// signedConfig is a transform config verifying with both test keys.
func signedConfig() TransformConfig {
	return TransformConfig{SigningKeys: []string{testKeyNew, testKeyOld}}
}

// signedPath signs options for an image with key.
func signedPath(t *testing.T, key, options, imageIDAndExt string) string {
	t.Helper()
	s, err := hotpath.NewTransformSigner([]string{key}, false)
	if err != nil {
		t.Fatal(err)
	}
	id, ext, _ := strings.Cut(imageIDAndExt, ".")
	return s.Path(options, id, hotpath.Format(strings.Replace(ext, "jpg", "jpeg", 1)))
}

// get requests path with headers and returns the response and its body.
func get(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// wantStatus fails the test unless resp has status want; it shows the body.
func wantStatus(t *testing.T, what string, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d; body %.300s", what, resp.StatusCode, want, body)
	}
}

func TestTransformSignatures(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 320, 240))
	_, signed := env.server(t, signedConfig())
	_, dev := env.server(t, TransformConfig{AllowUnsigned: true})
	_, closed := env.server(t, TransformConfig{})
	good := signedPath(t, testKeyNew, "w:100", img.ID)
	tampered := strings.Replace(good, "w:100", "w:101", 1)
	tests := []struct {
		name string
		base string
		path string
		want int
	}{
		{"good", signed.URL, good, 200},
		{"rotated: signed with the old key", signed.URL, signedPath(t, testKeyOld, "w:100", img.ID), 200},
		{"unknown key", signed.URL, signedPath(t, "some-other-key-0123456", "w:100", img.ID), 403},
		{"tampered options", signed.URL, tampered, 403},
		{"tampered extension", signed.URL, good + ".png", 403},
		{"garbage signature", signed.URL, "/t/AAAA/w:100/" + img.ID, 403},
		{"unsigned on a signed server", signed.URL, "/t/unsafe/w:100/" + img.ID, 403},
		{"unsigned in development mode", dev.URL, "/t/unsafe/w:100/" + img.ID, 200},
		{"no keys, no unsigned mode", closed.URL, good, 403},
		{"bad signature before unknown image", signed.URL, "/t/unsafe/w:100/0123456789abcdef0123456789abcdef", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, "GET", tt.base+tt.path, nil)
			wantStatus(t, tt.path, resp, body, tt.want)
			if tt.want == 403 {
				var e ErrorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != hotpath.EFORBIDDEN {
					t.Errorf("body = %s, want a forbidden JSON error", body)
				}
			}
		})
	}
}

// TestTransformsNotEnabled: a server without signing keys (or unsigned
// mode) refuses every transform URL saying that transforms are off, not
// that a correct signature is invalid.
func TestTransformsNotEnabled(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 320, 240))
	_, closed := env.server(t, TransformConfig{})
	for _, path := range []string{signedPath(t, testKeyNew, "w:100", img.ID), "/t/unsafe/w:100/" + img.ID, "/t/AAAA/nonsense/x"} {
		resp, body := get(t, "GET", closed.URL+path, nil)
		wantStatus(t, path, resp, body, 403)
		var e ErrorBody
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != hotpath.EFORBIDDEN || e.Error.Message != "transforms are not enabled on this server (it has no signing keys)" {
			t.Errorf("%s: body %s, want forbidden: transforms are not enabled", path, body)
		}
	}
}

func TestTransformModesAndGravities(t *testing.T) {
	env := newTransformEnv(t)
	src := imagetest.Image(t, hotpath.FormatJPEG, 640, 480)
	img := env.upload(t, src)
	_, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	tests := []struct {
		options      string
		wantW, wantH int
	}{
		{"w:200", 200, 150},
		{"h:120", 160, 120},
		{"w:200,h:200", 200, 150},
		{"w:1000", 640, 480}, // fit never enlarges
		{"w:200,h:200,fit:fill", 200, 200},
		{"w:200,h:100,fit:fill,g:north", 200, 100},
		{"w:100,h:200,fit:fill,g:south", 100, 200},
		{"w:100,h:200,fit:fill,g:east", 100, 200},
		{"w:100,h:200,fit:fill,g:west", 100, 200},
		{"w:150,h:150,fit:fill,g:smart", 150, 150},
		{"w:150,h:150,fit:fill,g:entropy", 150, 150},
		{"w:800,h:800,fit:fill", 800, 800},
		{"w:300,h:300,fit:pad,bg:000000", 300, 300},
		{"w:100,h:300,fit:force", 100, 300},
		{"w:100,dpr:2", 200, 150},
		{"preset:thumb", 200, 150},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+"/t/unsafe/"+tt.options+"/"+img.ID, nil)
			wantStatus(t, tt.options, resp, body, 200)
			info := imagetest.ProbeImage(t, body)
			if info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("%s: got %d×%d, want %d×%d", tt.options, info.Width, info.Height, tt.wantW, tt.wantH)
			}
			o, err := hotpath.DefaultTransformPolicy().Resolve(mustSpec(t, tt.options))
			if err != nil {
				t.Fatal(err)
			}
			if w, h := hotpath.OutputSize(o, 640, 480); w != info.Width || h != info.Height {
				t.Errorf("%s: OutputSize says %d×%d, the engine made %d×%d", tt.options, w, h, info.Width, info.Height)
			}
		})
	}
	// Gravity decides what survives the crop: the west and east thirds of the
	// test pattern differ.
	_, west := get(t, "GET", ts.URL+"/t/unsafe/w:100,h:200,fit:fill,g:west/"+img.ID, nil)
	_, east := get(t, "GET", ts.URL+"/t/unsafe/w:100,h:200,fit:fill,g:east/"+img.ID, nil)
	if d := imagetest.HashDistance(imagetest.ImageHash(t, west), imagetest.ImageHash(t, east)); d < 8 {
		t.Errorf("west and east crops look alike (hash distance %d), want gravity to matter", d)
	}
	_, fit := get(t, "GET", ts.URL+"/t/unsafe/w:320/"+img.ID, nil)
	imagetest.AssertSimilar(t, fit, src, 10)
}

func mustSpec(t *testing.T, options string) hotpath.TransformSpec {
	t.Helper()
	s, err := hotpath.ParseTransformSpec(options)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTransformFormats(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatPNG, 300, 200))
	_, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	tests := []struct {
		path     string
		accept   string
		want     hotpath.Format
		wantVary bool
	}{
		{"/t/unsafe/w:100/" + img.ID, "", hotpath.FormatPNG, false},
		{"/t/unsafe/w:100,f:webp/" + img.ID, "", hotpath.FormatWebP, false},
		{"/t/unsafe/w:100/" + img.ID + ".jpg", "", hotpath.FormatJPEG, false},
		{"/t/unsafe/w:100/" + img.ID + ".avif", "", hotpath.FormatAVIF, false},
		{"/t/unsafe/w:100,f:auto/" + img.ID, "image/avif,image/webp,*/*", hotpath.FormatAVIF, true},
		{"/t/unsafe/w:100,f:auto/" + img.ID, "image/webp,*/*;q=0.8", hotpath.FormatWebP, true},
		{"/t/unsafe/w:100,f:auto/" + img.ID, "image/avif;q=0,image/webp", hotpath.FormatWebP, true},
		{"/t/unsafe/w:100,f:auto/" + img.ID, "*/*", hotpath.FormatJPEG, true},
		{"/t/unsafe/w:100,f:auto/" + img.ID, "", hotpath.FormatJPEG, true},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+tt.path, map[string]string{"Accept": tt.accept})
			wantStatus(t, tt.path, resp, body, 200)
			if got := imagetest.ProbeImage(t, body).Format; got != tt.want {
				t.Errorf("format = %s, want %s", got, tt.want)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.want.ContentType() {
				t.Errorf("Content-Type = %q, want %q", got, tt.want.ContentType())
			}
			if got := resp.Header.Get("Vary") == "Accept"; got != tt.wantVary {
				t.Errorf("Vary = %q, want Accept: %v", resp.Header.Get("Vary"), tt.wantVary)
			}
		})
	}
}

func TestNegotiateFormat(t *testing.T) {
	tests := []struct {
		accept string
		want   hotpath.Format
	}{
		{"", hotpath.FormatJPEG},
		{"*/*", hotpath.FormatJPEG},
		{"image/*", hotpath.FormatJPEG},
		{"image/webp", hotpath.FormatWebP},
		{"IMAGE/WEBP ; q=0.5", hotpath.FormatWebP},
		{"image/avif,image/webp,image/apng,image/*,*/*;q=0.8", hotpath.FormatAVIF},
		{"image/avif;q=0, image/webp;q=0", hotpath.FormatJPEG},
		{"image/avif;q=0.0", hotpath.FormatJPEG},
	}
	for _, tt := range tests {
		if got := NegotiateFormat(tt.accept); got != tt.want {
			t.Errorf("NegotiateFormat(%q) = %s, want %s", tt.accept, got, tt.want)
		}
	}
}

func TestTransformAnimation(t *testing.T) {
	env := newTransformEnv(t)
	gif := env.upload(t, imagetest.AnimatedGIF(t, 120, 80, 6))
	webp := env.upload(t, imagetest.AnimatedWebP(t, 120, 80, 5))
	_, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	tests := []struct {
		options    string
		id         string
		wantFrames int
		wantFormat hotpath.Format
	}{
		{"w:60,f:webp", gif.ID, 6, hotpath.FormatWebP},
		{"w:60,f:webp,anim:0", gif.ID, 1, hotpath.FormatWebP},
		{"w:60,f:jpeg", gif.ID, 1, hotpath.FormatJPEG},
		{"w:60", webp.ID, 5, hotpath.FormatWebP},
		{"w:60,f:png", webp.ID, 1, hotpath.FormatPNG},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+"/t/unsafe/"+tt.options+"/"+tt.id, nil)
			wantStatus(t, tt.options, resp, body, 200)
			info := imagetest.ProbeImage(t, body)
			if info.Frames != tt.wantFrames || info.Format != tt.wantFormat || info.Width != 60 {
				t.Errorf("%s: got %s %d wide with %d frames, want %s 60 wide with %d", tt.options, info.Format, info.Width, info.Frames, tt.wantFormat, tt.wantFrames)
			}
		})
	}
}

func TestTransformDelivery(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 640, 480))
	_, ts := env.server(t, signedConfig())
	url := ts.URL + signedPath(t, testKeyNew, "w:300,f:png", img.ID)

	resp, full := get(t, "GET", url, nil)
	wantStatus(t, "GET", resp, full, 200)
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"t-`) {
		t.Errorf("ETag = %q, want a strong \"t-…\" tag", etag)
	}
	if got, want := resp.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	if resp.Header.Get("Vary") != "" {
		t.Errorf("Vary = %q without f:auto, want none", resp.Header.Get("Vary"))
	}

	resp, body := get(t, "GET", url, map[string]string{"If-None-Match": etag})
	wantStatus(t, "If-None-Match", resp, body, 304)
	if len(body) != 0 {
		t.Errorf("304 has a %d-byte body", len(body))
	}
	resp, body = get(t, "GET", url, map[string]string{"If-None-Match": `"other", W/` + etag})
	wantStatus(t, "weak If-None-Match in a list", resp, body, 304)

	resp, body = get(t, "GET", url, map[string]string{"Range": "bytes=10-99"})
	wantStatus(t, "Range", resp, body, 206)
	if !bytes.Equal(body, full[10:100]) {
		t.Errorf("range body differs from bytes 10-99 of the full body")
	}
	if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 10-99/%d", len(full)); got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}

	resp, body = get(t, "HEAD", url, nil)
	wantStatus(t, "HEAD", resp, body, 200)
	if len(body) != 0 || resp.ContentLength != int64(len(full)) {
		t.Errorf("HEAD: body %d bytes, Content-Length %d; want 0 and %d", len(body), resp.ContentLength, len(full))
	}
	if resp.Header.Get("ETag") != etag {
		t.Errorf("HEAD ETag = %q, want %q", resp.Header.Get("ETag"), etag)
	}
}

func TestTransformErrors(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 640, 480))
	limited := TransformConfig{AllowUnsigned: true, MaxWidth: 1000, MaxHeight: 1000, MaxPixels: 500_000}
	_, ts := env.server(t, limited)
	_, allow := env.server(t, TransformConfig{AllowUnsigned: true, PresetsOnly: true})
	tests := []struct {
		name     string
		url      string
		status   int
		code     string
		inDetail string
	}{
		{"unknown option", ts.URL + "/t/unsafe/zoom:2/" + img.ID, 400, hotpath.EINVALID, `option "zoom"`},
		{"bad value", ts.URL + "/t/unsafe/w:wide/" + img.ID, 400, hotpath.EINVALID, `option "w"`},
		{"bad gravity", ts.URL + "/t/unsafe/w:10,h:10,fit:fill,g:up/" + img.ID, 400, hotpath.EINVALID, `option "g"`},
		{"too wide", ts.URL + "/t/unsafe/w:1001/" + img.ID, 400, hotpath.EINVALID, `option "w"`},
		{"too many pixels", ts.URL + "/t/unsafe/w:1000,h:1000,fit:fill/" + img.ID, 400, hotpath.EINVALID, "pixels"},
		{"derived side too large", ts.URL + "/t/unsafe/h:900,fit:fill/" + img.ID, 400, hotpath.EINVALID, `option "w"`},
		{"unknown image", ts.URL + "/t/unsafe/w:10/0123456789abcdef0123456789abcdef", 404, hotpath.ENOTFOUND, ""},
		{"bad extension", ts.URL + "/t/unsafe/w:10/" + img.ID + ".bmp", 400, hotpath.EINVALID, "extension"},
		{"allow-list refuses sizes", allow.URL + "/t/unsafe/w:10/" + img.ID, 403, hotpath.EFORBIDDEN, `option "w"`},
		{"allow-list serves presets", allow.URL + "/t/unsafe/preset:thumb,f:auto/" + img.ID, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, "GET", tt.url, nil)
			wantStatus(t, tt.url, resp, body, tt.status)
			if tt.code == "" {
				return
			}
			var e ErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.inDetail) {
				t.Errorf("error = %+v, want code %q with %q in the message", e.Error, tt.code, tt.inDetail)
			}
			if resp.Header.Get("Cache-Control") == transformCacheControl {
				t.Errorf("an error is sent as immutable")
			}
		})
	}
}

func TestTransformProcessedOnce(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 640, 480))
	srv, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	// Equivalent option strings share one result.
	paths := []string{
		"/t/unsafe/w:200,h:100,fit:fill,g:smart,f:webp/" + img.ID,
		"/t/unsafe/f:webp,fit:fill,g:smart,h:100,w:200/" + img.ID,
		"/t/unsafe/width:100,height:50,dpr:2,mode:fill,gravity:smart/" + img.ID + ".webp",
		"/t/unsafe/w:200,h:100,fit:fill,g:smart,f:auto/" + img.ID, // Accept webp below
	}
	var first []byte
	for i := range 3 {
		for _, p := range paths {
			resp, body := get(t, "GET", ts.URL+p, map[string]string{"Accept": "image/webp"})
			wantStatus(t, p, resp, body, 200)
			if first == nil {
				first = body
			} else if !bytes.Equal(body, first) {
				t.Errorf("round %d %s: body differs from the first result", i, p)
			}
		}
	}
	if got := srv.transforms.processed.Load(); got != 1 {
		t.Errorf("processed %d times, want 1", got)
	}
	// The result is stored and recorded as a variant of the image, found by
	// name (GetImage leaves stored transforms out).
	name := "t:w:200,h:100,fit:fill,g:smart,f:webp"
	v, err := env.svc.Meta.GetVariant(context.Background(), img.ID, name)
	if err != nil {
		t.Fatalf("GetVariant(%s): %v", name, err)
	}
	if want := hotpath.VariantKey(env.tenant, img.ID, "t-"+hotpath.TransformHash(strings.TrimPrefix(name, "t:"))); v.BlobKey != want || v.Width != 200 || v.Height != 100 {
		t.Errorf("variant = %+v, want key %s and 200×100", v, want)
	}
	// A new process with an empty cache serves it from the store.
	env.cache = inmem.NewCache(64 << 20)
	srv2, ts2 := env.server(t, TransformConfig{AllowUnsigned: true})
	resp, body := get(t, "GET", ts2.URL+paths[0], nil)
	wantStatus(t, "second process", resp, body, 200)
	if !bytes.Equal(body, first) {
		t.Errorf("second process served different bytes")
	}
	if got := srv2.transforms.processed.Load(); got != 0 {
		t.Errorf("second process processed %d times, want 0", got)
	}
	// Deleting the image deletes its stored results.
	if err := env.svc.Delete(context.Background(), env.tenant, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.Blobs.Stat(context.Background(), v.BlobKey); !hotpath.IsNotFound(err) {
		t.Errorf("after delete, Stat(%s) = %v, want not found", v.BlobKey, err)
	}
	resp, body = get(t, "GET", ts.URL+paths[0], nil)
	wantStatus(t, "after delete", resp, body, 404)
}

func TestTransformConcurrentRequestsProcessOnce(t *testing.T) {
	env := newTransformEnv(t)
	img := env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 1600, 1200))
	// Two servers over one cache and stores: two processes of one deployment.
	srvA, tsA := env.server(t, TransformConfig{AllowUnsigned: true})
	srvB, tsB := env.server(t, TransformConfig{AllowUnsigned: true})
	const clients = 16
	path := "/t/unsafe/w:500,h:500,fit:fill,g:smart,f:webp/" + img.ID
	bodies := make([][]byte, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := tsA.URL
			if i%2 == 1 {
				base = tsB.URL
			}
			resp, err := http.Get(base + path)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			bodies[i], _ = io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Errorf("client %d: status %d: %s", i, resp.StatusCode, bodies[i])
			}
		}()
	}
	wg.Wait()
	if got := srvA.transforms.processed.Load() + srvB.transforms.processed.Load(); got != 1 {
		t.Errorf("%d concurrent identical requests on two servers processed %d times, want 1", clients, got)
	}
	for i := 1; i < clients; i++ {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Errorf("client %d got different bytes", i)
		}
	}
}

// TestTransformBoundsWork: a transform whose scaled image before the crop
// is beyond --max-work-pixels is a 400 naming the limit, answered from the
// header before any decode (the engine never runs). Before the bound, the
// 2100×100 strip filled to 1×8192 took 76 s and 4.3 GB; the 8000×10 one
// tried to allocate 153 GB and answered 500.
func TestTransformBoundsWork(t *testing.T) {
	env := newTransformEnv(t)
	srv, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	strip := env.upload(t, imagetest.Image(t, hotpath.FormatPNG, 2100, 100))
	thin := env.upload(t, imagetest.Image(t, hotpath.FormatPNG, 8000, 10))
	for _, url := range []string{
		ts.URL + "/t/unsafe/w:1,h:8192,fit:fill/" + strip.ID,
		ts.URL + "/t/unsafe/w:6000,h:6000,fit:fill/" + thin.ID,
		ts.URL + "/t/unsafe/w:4000,h:2000,fit:fill,g:smart/" + thin.ID,
	} {
		resp, body := get(t, "GET", url, nil)
		wantStatus(t, url, resp, body, 400)
		var e ErrorBody
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if e.Error.Code != hotpath.EINVALID || !strings.Contains(e.Error.Message, "40000000 work pixels") {
			t.Errorf("%s: error %+v, want invalid naming the work limit", url, e.Error)
		}
	}
	if n := srv.transforms.processed.Load(); n != 0 {
		t.Errorf("the engine processed %d refused transforms", n)
	}
	// Below the bound the same strip enlarges fine.
	resp, body := get(t, "GET", ts.URL+"/t/unsafe/w:100,h:400,fit:fill/"+strip.ID, nil)
	wantStatus(t, "fill within the bound", resp, body, 200)
	if info := imagetest.ProbeImage(t, body); info.Width != 100 || info.Height != 400 {
		t.Errorf("fill within the bound made %dx%d, want 100x400", info.Width, info.Height)
	}
}

// TestAbandonedTransformFreesItsWorker: clients that leave stop their
// transforms. Two heavy transforms (a 640×480 image filled to 6600×4950 and
// encoded as PNG, seconds of CPU each) take both workers; their clients
// drop; the workers are free at once, nothing is stored, and an upload that
// follows is served at once. Before, the processing was detached from its
// callers and held both workers to the end, stalling every upload.
func TestAbandonedTransformFreesItsWorker(t *testing.T) {
	env := newTransformEnv(t)
	_, ts := env.server(t, TransformConfig{AllowUnsigned: true})
	img := env.upload(t, imagetest.Image(t, hotpath.FormatPNG, 640, 480))
	heavy := []string{"w:6600,h:4950,fit:fill,f:png", "w:6600,h:4950,fit:fill,g:north,f:png"}
	var wg sync.WaitGroup
	for _, options := range heavy {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/t/unsafe/"+options+"/"+img.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("%s: answered %d before the client left; the test needs a slower transform", options, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for env.svc.Pool.Running() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := env.svc.Pool.Running(); n > 0 {
		t.Fatalf("%d workers still busy 2 s after their clients left", n)
	}
	start := time.Now()
	env.upload(t, imagetest.Image(t, hotpath.FormatJPEG, 640, 480))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("an upload after the abandoned transforms took %v", took)
	}
	for _, options := range heavy {
		spec := mustSpec(t, options)
		opts, err := hotpath.DefaultTransformPolicy().Resolve(spec)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := env.svc.StoredTransform(context.Background(), img, opts); !hotpath.IsNotFound(err) {
			t.Errorf("%s: stored %+v (%v) for a client that left", options, v, err)
		}
		if _, err := env.svc.Blobs.Stat(context.Background(), pipeline.TransformKey(img, opts)); !hotpath.IsNotFound(err) {
			t.Errorf("%s: a blob was left for a client that left (%v)", options, err)
		}
	}
}
