package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	hphttp "github.com/hotpath/hotpath/http"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig is a server on a free port with everything under a temp dir.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Pipeline.Workers = 2
	cfg.Pipeline.TempDir = t.TempDir()
	cfg.ShutdownTimeout = Duration(20 * time.Second)
	return cfg
}

// startMain runs the real Main with cfg and closes it when the test ends.
func startMain(t *testing.T, cfg Config) (*Main, *syncBuffer) {
	t.Helper()
	stderr := &syncBuffer{}
	m := NewMain(cfg, &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m, stderr
}

// newTestServer starts a server with default settings and returns it with its admin key.
func newTestServer(t *testing.T) (*Main, string) {
	t.Helper()
	m, _ := startMain(t, testConfig(t))
	if m.AdminKey == "" {
		t.Fatal("first start made no admin key")
	}
	return m, m.AdminKey
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body []byte
}

// request sends one request with the key (none when "") and reads the answer.
func request(t *testing.T, method, url, key string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return response{resp, b}
}

// decode unmarshals the JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// wantStatus fails the test unless the response has status want.
func (r response) wantStatus(t *testing.T, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}

// wantError checks the error JSON shape, status and code.
func (r response) wantError(t *testing.T, status int, code string) {
	t.Helper()
	r.wantStatus(t, status)
	var got map[string]map[string]string
	r.decode(t, &got)
	if len(got) != 1 || len(got["error"]) != 2 || got["error"]["code"] != code || got["error"]["message"] == "" {
		t.Fatalf("error body = %s, want {\"error\":{\"code\":%q,\"message\":…}}", r.body, code)
	}
}

// uploadRaw posts data as a raw body and returns the answer.
func uploadRaw(t *testing.T, m *Main, key string, data []byte) response {
	t.Helper()
	return request(t, "POST", m.URL()+"/v1/images?filename=test.jpg", key, bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"})
}

// uploadImage stores a JPEG of w × h and returns it.
func uploadImage(t *testing.T, m *Main, key string, w, h int) hphttp.ImageJSON {
	t.Helper()
	r := uploadRaw(t, m, key, imagetest.Image(t, hotpath.FormatJPEG, w, h))
	r.wantStatus(t, http.StatusCreated)
	var img hphttp.ImageJSON
	r.decode(t, &img)
	return img
}

// multipartBody builds a multipart/form-data body of named files.
func multipartBody(t *testing.T, files map[string][]byte, order []string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("note", "form fields are ignored"); err != nil {
		t.Fatal(err)
	}
	for _, name := range order {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		h.Set("Content-Type", "image/jpeg") // deliberately wrong for some: the bytes decide
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// newKey runs `hotpath keys create` against m's database and returns the secret.
func newKey(t *testing.T, m *Main, tenant string, scope hotpath.Scope) string {
	t.Helper()
	out := runCommand(t, "keys", "create", "--tenant", tenant, "--scope", string(scope), "--name", "test", "--db", m.Config.DB)
	return strings.TrimSpace(out)
}

// runCommand runs a hotpath command in-process and returns its stdout; it fails the test on a non-zero exit.
func runCommand(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := run(context.Background(), env, args); code != 0 {
		t.Fatalf("hotpath %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// imageSize decodes an image's dimensions with the standard library or the engine.
func imageSize(t *testing.T, data []byte) (int, int, hotpath.Format) {
	t.Helper()
	info := imagetest.ProbeImage(t, data)
	return info.Width, info.Height, info.Format
}

func TestUploadOneAndFetch(t *testing.T) {
	m, key := newTestServer(t)
	img := uploadImage(t, m, key, 640, 480)
	if img.ID == "" || img.Width != 640 || img.Height != 480 || img.Format != hotpath.FormatJPEG || img.Bytes == 0 || img.Status != hotpath.ImageReady {
		t.Fatalf("upload answer = %+v", img.Image)
	}
	want := map[string]struct {
		w, h int
		f    hotpath.Format
	}{
		"thumb":  {200, 150, hotpath.FormatJPEG},
		"medium": {640, 480, hotpath.FormatJPEG}, // fit never enlarges
		"large":  {640, 480, hotpath.FormatWebP},
	}
	if len(img.Variants) != len(want) {
		t.Fatalf("variants = %+v, want %d", img.Variants, len(want))
	}
	for _, v := range img.Variants {
		w, ok := want[v.Name]
		if !ok || v.Width != w.w || v.Height != w.h || v.Format != w.f {
			t.Errorf("variant %+v, want %+v", v, w)
		}
		r := request(t, "GET", m.URL()+v.URL, key, nil, nil)
		r.wantStatus(t, http.StatusOK)
		if got := r.Header.Get("Content-Type"); got != w.f.ContentType() {
			t.Errorf("%s Content-Type = %q, want %q", v.Name, got, w.f.ContentType())
		}
		if gw, gh, gf := imageSize(t, r.body); gw != w.w || gh != w.h || gf != w.f {
			t.Errorf("%s bytes are %s %d×%d, want %s %d×%d", v.Name, gf, gw, gh, w.f, w.w, w.h)
		}
	}

	var got hphttp.ImageJSON
	r := request(t, "GET", m.URL()+img.URL, key, nil, nil)
	r.wantStatus(t, http.StatusOK)
	r.decode(t, &got)
	if got.ID != img.ID || got.SHA256 != img.SHA256 || len(got.Variants) != 3 {
		t.Errorf("GET image = %+v, want %+v", got.Image, img.Image)
	}

	// A single-file multipart upload works the same and answers per file.
	body, ct := multipartBody(t, map[string][]byte{"b.png": imagetest.Image(t, hotpath.FormatPNG, 300, 100)}, []string{"b.png"})
	r = request(t, "POST", m.URL()+"/v1/images", key, body, map[string]string{"Content-Type": ct})
	r.wantStatus(t, http.StatusCreated)
	var batch hphttp.UploadBatchJSON
	r.decode(t, &batch)
	if batch.Succeeded != 1 || batch.Failed != 0 || batch.Results[0].Image.Format != hotpath.FormatPNG || batch.Results[0].Filename != "b.png" {
		t.Errorf("multipart answer = %s", r.body)
	}

	var list hphttp.ImageListJSON
	r = request(t, "GET", m.URL()+"/v1/images?limit=1", key, nil, nil)
	r.wantStatus(t, http.StatusOK)
	r.decode(t, &list)
	if len(list.Images) != 1 || list.Images[0].ID != batch.Results[0].Image.ID || list.NextCursor == "" {
		t.Fatalf("first page = %s, want the newest image and a cursor", r.body)
	}
	r = request(t, "GET", m.URL()+"/v1/images?limit=1&cursor="+list.NextCursor, key, nil, nil)
	r.decode(t, &list)
	if len(list.Images) != 1 || list.Images[0].ID != img.ID {
		t.Errorf("second page = %s, want the first image", r.body)
	}
}

func TestUploadBatchWithOneBadFile(t *testing.T) {
	m, key := newTestServer(t)
	files := map[string][]byte{
		"a.jpg":     imagetest.Image(t, hotpath.FormatJPEG, 400, 300),
		"notes.jpg": []byte("this is not an image, whatever its name says"),
		"c.png":     imagetest.Image(t, hotpath.FormatPNG, 120, 80),
	}
	body, ct := multipartBody(t, files, []string{"a.jpg", "notes.jpg", "c.png"})
	r := request(t, "POST", m.URL()+"/v1/images", key, body, map[string]string{"Content-Type": ct})
	r.wantStatus(t, http.StatusMultiStatus)
	var batch hphttp.UploadBatchJSON
	r.decode(t, &batch)
	if batch.Succeeded != 2 || batch.Failed != 1 || len(batch.Results) != 3 {
		t.Fatalf("batch = %s, want 2 succeeded and 1 failed", r.body)
	}
	for i, want := range []int{201, 415, 201} {
		if got := batch.Results[i].Status; got != want {
			t.Errorf("result %d (%s) status %d, want %d: %s", i, batch.Results[i].Filename, got, want, r.body)
		}
	}
	if e := batch.Results[1].Error; e == nil || e.Code != hotpath.EUNSUPPORTED || batch.Results[1].Image != nil {
		t.Errorf("bad file result = %+v, want an unsupported error and no image", batch.Results[1])
	}
	var list hphttp.ImageListJSON
	request(t, "GET", m.URL()+"/v1/images", key, nil, nil).decode(t, &list)
	if len(list.Images) != 2 {
		t.Errorf("stored %d images, want 2", len(list.Images))
	}
}

func TestAuth(t *testing.T) {
	m, admin := newTestServer(t)
	img := uploadImage(t, m, admin, 64, 48)
	reader := newKey(t, m, DefaultTenantID, hotpath.ScopeRead)
	writer := newKey(t, m, DefaultTenantID, hotpath.ScopeWrite)
	revoked := newKey(t, m, DefaultTenantID, hotpath.ScopeWrite)
	var revokedID string
	for _, line := range strings.Split(runCommand(t, "keys", "list", "--db", m.Config.DB), "\n") {
		if fields := strings.Fields(line); len(fields) > 3 && strings.HasPrefix(revoked, fields[3]) {
			revokedID = fields[0]
		}
	}
	if revokedID == "" {
		t.Fatal("keys list does not show the key by its prefix")
	}
	runCommand(t, "keys", "revoke", revokedID, "--db", m.Config.DB)

	jpeg := imagetest.Image(t, hotpath.FormatJPEG, 64, 48)
	tests := []struct {
		name, method, path, key string
		body                    []byte
		wantStatus              int
		wantCode                string
	}{
		{"no key", "GET", "/v1/images", "", nil, 401, hotpath.EUNAUTHORIZED},
		{"unknown key", "GET", "/v1/images", "hp_notakey", nil, 401, hotpath.EUNAUTHORIZED},
		{"revoked key", "GET", "/v1/images", revoked, nil, 401, hotpath.EUNAUTHORIZED},
		{"no key upload", "POST", "/v1/images", "", jpeg, 401, hotpath.EUNAUTHORIZED},
		{"read key uploads", "POST", "/v1/images", reader, jpeg, 403, hotpath.EFORBIDDEN},
		{"read key deletes", "DELETE", img.URL, reader, nil, 403, hotpath.EFORBIDDEN},
		{"read key lists", "GET", "/v1/images", reader, nil, 200, ""},
		{"read key fetches", "GET", img.OriginalURL, reader, nil, 200, ""},
		{"write key uploads", "POST", "/v1/images", writer, jpeg, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
			}
			r := request(t, tt.method, m.URL()+tt.path, tt.key, body, nil)
			if tt.wantCode != "" {
				r.wantError(t, tt.wantStatus, tt.wantCode)
				return
			}
			r.wantStatus(t, tt.wantStatus)
		})
	}
	r := request(t, "GET", m.URL()+"/v1/images", "", nil, nil)
	if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("401 WWW-Authenticate = %q, want Bearer …", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	m, keyA := newTestServer(t)
	keyB := newKey(t, m, "tenant-b", hotpath.ScopeAdmin)
	img := uploadImage(t, m, keyA, 64, 48)

	for _, path := range []string{img.URL, img.OriginalURL, img.Variants[0].URL} {
		request(t, "GET", m.URL()+path, keyB, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	}
	request(t, "DELETE", m.URL()+img.URL, keyB, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	var list hphttp.ImageListJSON
	request(t, "GET", m.URL()+"/v1/images", keyB, nil, nil).decode(t, &list)
	if len(list.Images) != 0 {
		t.Errorf("tenant B lists %d images, want 0", len(list.Images))
	}
	request(t, "GET", m.URL()+img.OriginalURL, keyA, nil, nil).wantStatus(t, 200)
	own := uploadImage(t, m, keyB, 32, 32)
	if own.TenantID != "tenant-b" {
		t.Errorf("tenant B's upload belongs to %q", own.TenantID)
	}
	request(t, "GET", m.URL()+own.URL, keyA, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
}

func TestConditionalRangeAndHead(t *testing.T) {
	m, key := newTestServer(t)
	original := imagetest.Image(t, hotpath.FormatJPEG, 320, 240)
	r := uploadRaw(t, m, key, original)
	r.wantStatus(t, 201)
	var img hphttp.ImageJSON
	r.decode(t, &img)

	for _, path := range []string{img.OriginalURL, img.Variants[0].URL} {
		full := request(t, "GET", m.URL()+path, key, nil, nil)
		full.wantStatus(t, 200)
		etag := full.Header.Get("ETag")
		if etag == "" || full.Header.Get("Last-Modified") == "" || !strings.Contains(full.Header.Get("Cache-Control"), "max-age") || full.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s headers = %v, want ETag, Last-Modified, Cache-Control, Accept-Ranges", path, full.Header)
		}
		r := request(t, "GET", m.URL()+path, key, nil, map[string]string{"If-None-Match": etag})
		if r.StatusCode != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("%s If-None-Match: status %d with %d bytes, want 304 and none", path, r.StatusCode, len(r.body))
		}
		r = request(t, "GET", m.URL()+path, key, nil, map[string]string{"Range": "bytes=10-109"})
		if r.StatusCode != http.StatusPartialContent || !bytes.Equal(r.body, full.body[10:110]) {
			t.Errorf("%s Range: status %d, %d bytes, want 206 and bytes 10-109", path, r.StatusCode, len(r.body))
		}
		r = request(t, "HEAD", m.URL()+path, key, nil, nil)
		if r.StatusCode != 200 || len(r.body) != 0 || r.ContentLength != int64(len(full.body)) {
			t.Errorf("%s HEAD: status %d, body %d bytes, Content-Length %d; want 200, 0, %d", path, r.StatusCode, len(r.body), r.ContentLength, len(full.body))
		}
	}
	got := request(t, "GET", m.URL()+img.OriginalURL, key, nil, nil)
	if !bytes.Equal(got.body, original) {
		t.Errorf("original: got %d bytes, want the %d uploaded", len(got.body), len(original))
	}
}

func TestDelete(t *testing.T) {
	m, key := newTestServer(t)
	img := uploadImage(t, m, key, 100, 100)
	dir := filepath.Join(m.Config.DataDir, "blobs", img.TenantID, img.ID)
	if _, err := os.Stat(filepath.Join(dir, "original")); err != nil {
		t.Fatalf("the original is not where the disk store should keep it: %v", err)
	}
	request(t, "DELETE", m.URL()+img.URL, key, nil, nil).wantStatus(t, http.StatusNoContent)
	request(t, "GET", m.URL()+img.URL, key, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	request(t, "GET", m.URL()+img.OriginalURL, key, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	request(t, "DELETE", m.URL()+img.URL, key, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	if _, err := m.Meta.GetImage(context.Background(), img.TenantID, img.ID); !hotpath.IsNotFound(err) {
		t.Errorf("metadata after delete: err %v, want not found", err)
	}
	for _, key := range []string{hotpath.OriginalKey(img.TenantID, img.ID), hotpath.VariantKey(img.TenantID, img.ID, "thumb")} {
		if _, err := m.Blobs.Stat(context.Background(), key); !hotpath.IsNotFound(err) {
			t.Errorf("blob %s after delete: err %v, want not found", key, err)
		}
	}
}

// holdWorkers occupies every worker of m's pool until the returned func is called.
func holdWorkers(t *testing.T, m *Main) (release func()) {
	t.Helper()
	pool := m.Pipeline.Pool
	gate := make(chan struct{})
	for range pool.Workers() {
		go pool.Do(context.Background(), func() error { <-gate; return nil })
	}
	waitUntil(t, func() bool { return pool.Running() == pool.Workers() })
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBusyQueueAnswers429(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pipeline.Workers, cfg.Pipeline.QueueSize = 1, 0
	m, _ := startMain(t, cfg)
	release := holdWorkers(t, m)
	data := imagetest.Image(t, hotpath.FormatJPEG, 64, 48)

	r := uploadRaw(t, m, m.AdminKey, data)
	r.wantError(t, http.StatusTooManyRequests, hotpath.EBUSY)
	if got := r.Header.Get("Retry-After"); got == "" {
		t.Error("429 without Retry-After")
	}
	body, ct := multipartBody(t, map[string][]byte{"a.jpg": data, "b.jpg": data}, []string{"a.jpg", "b.jpg"})
	r = request(t, "POST", m.URL()+"/v1/images", m.AdminKey, body, map[string]string{"Content-Type": ct})
	r.wantStatus(t, http.StatusTooManyRequests)
	var batch hphttp.UploadBatchJSON
	r.decode(t, &batch)
	if batch.Error == nil || batch.Error.Code != hotpath.EBUSY || batch.Failed != 2 || r.Header.Get("Retry-After") == "" {
		t.Errorf("multipart on a full queue: %s, want every file and the whole answer busy, with Retry-After", r.body)
	}

	release()
	waitUntil(t, func() bool { return m.Pipeline.Pool.Running() == 0 })
	uploadRaw(t, m, m.AdminKey, data).wantStatus(t, http.StatusCreated)
	metrics := string(request(t, "GET", m.URL()+"/metrics", "", nil, nil).body)
	if !strings.Contains(metrics, `hotpath_images_processed_total{result="busy"} 3`) {
		t.Errorf("metrics do not count the 3 busy refusals:\n%s", grepLines(metrics, "hotpath_images"))
	}
}

func TestShutdownFinishesInFlightUpload(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pipeline.Workers, cfg.Pipeline.QueueSize = 1, 1
	stderr := &syncBuffer{}
	env := &Env{Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }}
	m := NewMain(cfg, env)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := m.AdminKey
	release := holdWorkers(t, m)

	answer := make(chan response, 1)
	go func() { answer <- uploadRaw(t, m, key, imagetest.Image(t, hotpath.FormatJPEG, 200, 100)) }()
	waitUntil(t, func() bool { return m.Pipeline.Pool.Waiting() == 1 }) // the upload is in, queued

	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	waitUntil(t, func() bool { // the listener is closed: shutdown has begun
		_, err := http.Get(m.URL() + "/healthz")
		return err != nil
	})
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the in-flight upload finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	r := <-answer
	r.wantStatus(t, http.StatusCreated)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	var img hphttp.ImageJSON
	r.decode(t, &img)

	// The acknowledged upload is durable: a new server on the same data has it.
	m2, _ := startMain(t, cfg)
	if m2.AdminKey != "" {
		t.Error("the second start made another admin key")
	}
	request(t, "GET", m2.URL()+img.OriginalURL, key, nil, nil).wantStatus(t, http.StatusOK)
}

func TestErrorResponses(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pipeline.Limits.MaxBytes = 200_000
	m, _ := startMain(t, cfg)
	key := m.AdminKey
	jpeg := imagetest.Image(t, hotpath.FormatJPEG, 300, 200)
	tests := []struct {
		name       string
		method     string
		path       string
		body       []byte
		wantStatus int
		wantCode   string
	}{
		{"unknown route", "GET", "/v1/nothing", nil, 404, hotpath.ENOTFOUND},
		{"unknown image", "GET", "/v1/images/0123456789abcdef0123456789abcdef", nil, 404, hotpath.ENOTFOUND},
		{"unknown preset", "GET", "", nil, 404, hotpath.ENOTFOUND},
		{"wrong method", "PUT", "/v1/images", nil, 400, hotpath.EINVALID},
		{"bad limit", "GET", "/v1/images?limit=0", nil, 400, hotpath.EINVALID},
		{"bad cursor", "GET", "/v1/images?cursor=zzz", nil, 400, hotpath.EINVALID},
		{"empty upload", "POST", "/v1/images", []byte{}, 400, hotpath.EINVALID},
		{"too many bytes", "POST", "/v1/images", make([]byte, 300_000), 413, hotpath.ETOOLARGE},
		{"too many bytes, chunked", "POST", "/v1/images?chunked", make([]byte, 300_000), 413, hotpath.ETOOLARGE},
		{"too many pixels", "POST", "/v1/images", imagetest.PNGHeader(100000, 100000), 413, hotpath.ETOOLARGE},
		{"not an image", "POST", "/v1/images", []byte("GIF? no, plain text"), 415, hotpath.EUNSUPPORTED},
		{"truncated jpeg", "POST", "/v1/images", jpeg[:len(jpeg)/2], 422, hotpath.EUNPROCESSABLE},
	}
	img := uploadImage(t, m, key, 30, 20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path == "" {
				tt.path = img.URL + "/variants/nope"
			}
			var body io.Reader = bytes.NewReader(tt.body)
			if strings.HasSuffix(tt.path, "?chunked") {
				body = io.MultiReader(body) // no length known: sent chunked, cut off while streaming
			}
			r := request(t, tt.method, m.URL()+tt.path, key, body, nil)
			r.wantError(t, tt.wantStatus, tt.wantCode)
			if strings.Contains(string(r.body), "/") && tt.wantCode != hotpath.ENOTFOUND {
				t.Errorf("error message looks like it leaks a path: %s", r.body)
			}
		})
	}
	var list hphttp.ImageListJSON
	request(t, "GET", m.URL()+"/v1/images", key, nil, nil).decode(t, &list)
	if len(list.Images) != 1 {
		t.Errorf("after the failed uploads %d images are stored, want 1", len(list.Images))
	}
}

func TestOperationalEndpoints(t *testing.T) {
	m, key := newTestServer(t)
	uploadImage(t, m, key, 64, 64)
	request(t, "GET", m.URL()+"/healthz", "", nil, nil).wantStatus(t, 200)
	request(t, "GET", m.URL()+"/readyz", "", nil, nil).wantStatus(t, 200)
	r := request(t, "GET", m.URL()+"/v1/openapi.json", "", nil, nil)
	r.wantStatus(t, 200)
	var doc map[string]any
	r.decode(t, &doc)
	if doc["openapi"] == nil || doc["paths"] == nil {
		t.Errorf("openapi.json lacks openapi or paths")
	}
	metrics := string(request(t, "GET", m.URL()+"/metrics", "", nil, nil).body)
	for _, want := range []string{
		`hotpath_http_request_duration_seconds_count{method="POST",route="/v1/images",status="201"} 1`,
		`hotpath_images_processed_total{result="stored"} 1`,
		"hotpath_image_bytes_processed_total ",
		"hotpath_queue_depth 0",
		"hotpath_workers_busy 0",
		"hotpath_vips_memory_bytes ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(metrics, "hotpath_"))
		}
	}
	m.Meta.Close() // a dead metadata store makes the server not ready
	r = request(t, "GET", m.URL()+"/readyz", "", nil, nil)
	r.wantStatus(t, 503)
	var ready hphttp.ReadyJSON
	r.decode(t, &ready)
	if ready.Status != "unavailable" || ready.Error == nil || ready.Error.Code != hotpath.EUNAVAILABLE || ready.Checks["metadata"].Status != "down" {
		t.Errorf("/readyz with the metadata store closed: %s", r.body)
	}
}

func TestFirstStartPrintsAdminKeyOnce(t *testing.T) {
	cfg := testConfig(t)
	m, stderr := startMain(t, cfg)
	if m.AdminKey == "" || strings.Count(stderr.String(), m.AdminKey) != 1 {
		t.Fatalf("stderr shows the admin key %d times, want once:\n%s", strings.Count(stderr.String(), m.AdminKey), stderr)
	}
	var line map[string]any
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "{") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Errorf("log line is not JSON: %s", l)
			}
		}
	}
	request(t, "GET", m.URL()+"/v1/images", m.AdminKey, nil, nil).wantStatus(t, 200)
	access := false
	for _, l := range strings.Split(stderr.String(), "\n") {
		access = access || strings.Contains(l, `"msg":"request"`) && strings.Contains(l, `"route":"/v1/images"`) && strings.Contains(l, `"tenant":"default"`)
	}
	if !access {
		t.Errorf("no JSON access log line for GET /v1/images:\n%s", stderr)
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// zeros is an endless reader of zero bytes that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestUploadStreamsToDisk sends a 40 MB body and checks that the process
// (client and server both run here) allocated far less than that: the body
// went to a temp file, never whole into memory.
func TestUploadStreamsToDisk(t *testing.T) {
	m, key := newTestServer(t)
	const size = 40 << 20
	for _, ct := range []string{"application/octet-stream", "multipart"} {
		t.Run(ct, func(t *testing.T) {
			body, contentType := io.Reader(io.LimitReader(zeros{}, size)), ct
			if ct == "multipart" {
				pr, pw := io.Pipe()
				mw := multipart.NewWriter(pw)
				go func() {
					w, _ := mw.CreateFormFile("file", "zeros.bin")
					io.Copy(w, io.LimitReader(zeros{}, size))
					mw.Close()
					pw.Close()
				}()
				body, contentType = pr, mw.FormDataContentType()
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := request(t, "POST", m.URL()+"/v1/images", key, body, map[string]string{"Content-Type": contentType})
			runtime.ReadMemStats(&after)
			if r.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d, want 415 for 40 MB of zeros: %s", r.StatusCode, r.body)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
				t.Errorf("allocated %d MB while uploading 40 MB, want under 10 MB", alloc>>20)
			}
		})
	}
}

// TestMultipartFileLimit checks that a multipart upload past --max-files
// stores the files within the limit, answers too_large for the first file
// past it and stops reading there, however many parts follow.
func TestMultipartFileLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.MaxFilesPerRequest = 2
	m, _ := startMain(t, cfg)
	files := map[string][]byte{}
	var order []string
	for i := range 50 {
		name := fmt.Sprintf("f%02d.png", i)
		files[name] = imagetest.Image(t, hotpath.FormatPNG, 16, 16)
		order = append(order, name)
	}
	body, ct := multipartBody(t, files, order)
	r := request(t, "POST", m.URL()+"/v1/images", m.AdminKey, body, map[string]string{"Content-Type": ct})
	r.wantStatus(t, http.StatusMultiStatus)
	var got hphttp.UploadBatchJSON
	r.decode(t, &got)
	if got.Succeeded != 2 || got.Failed != 1 || len(got.Results) != 3 {
		t.Fatalf("results = %s, want 2 stored and one too_large result", r.body)
	}
	if e := got.Results[2].Error; e == nil || e.Code != hotpath.ETOOLARGE || got.Results[2].Filename != "f02.png" {
		t.Errorf("third result = %+v, want too_large for f02.png", got.Results[2])
	}
}

// TestTenantNamesValidated: a tenant named with a '/' (or anything outside
// a-z, 0-9, _ and -) is refused with one clear line and nothing is created:
// its id is the first segment of its blob keys, and "acme/IMAGE" would nest
// its blobs inside tenant acme's image folder, where acme's DELETE wipes them.
func TestTenantNamesValidated(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "hotpath.db")
	for _, name := range []string{"acme/0123456789abcdef0123456789abcdef", "../x", "Acme", "", "-x", strings.Repeat("a", 64)} {
		var stdout, stderr bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		code := run(context.Background(), env, []string{"keys", "create", "--tenant", name, "--scope", "write", "--db", db})
		if code == 0 || stdout.Len() != 0 {
			t.Errorf("tenant %q: exit %d, stdout %q; want refused", name, code, stdout.String())
		}
		if name != "" && !strings.Contains(stderr.String(), "tenant") {
			t.Errorf("tenant %q: stderr %q does not name the problem", name, stderr.String())
		}
	}
	if out := runCommand(t, "keys", "list", "--db", db); strings.Contains(out, "acme") || strings.Contains(out, "..") {
		t.Errorf("a refused tenant got a key:\n%s", out)
	}
	runCommand(t, "keys", "create", "--tenant", "acme-2_b", "--scope", "read", "--db", db)
}
