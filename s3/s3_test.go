package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/s3"
)

// openStore starts (or reuses, see hotpathtest.StartS3) an S3 server and
// opens a store on a fresh bucket.
func openStore(t *testing.T) *s3.BlobStore {
	t.Helper()
	s, err := s3.Open(context.Background(), hotpathtest.StartS3(t))
	if err != nil {
		t.Fatalf("s3.Open: %v", err)
	}
	return s
}

func TestBlobStoreContract(t *testing.T) {
	hotpathtest.TestBlobStore(t, func(t *testing.T) hotpath.BlobStore { return openStore(t) })
}

// TestPrefixIsolation checks that the key prefix of the store URL confines
// a store: two stores on one bucket see only their own keys.
func TestPrefixIsolation(t *testing.T) {
	ctx := context.Background()
	base := hotpathtest.StartS3(t)
	withPrefix := func(p string) string {
		u, _ := url.Parse(base)
		u.Path = "/" + p
		return u.String()
	}
	a, err := s3.Open(ctx, withPrefix("tenant-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.Open(ctx, withPrefix("tenant-b"))
	if err != nil {
		t.Fatal(err)
	}
	hotpathtest.PutBlob(t, a, "img/1", []byte("a"), "")
	hotpathtest.PutBlob(t, b, "img/2", []byte("b"), "")
	if _, err := b.Stat(ctx, "img/1"); !hotpath.IsNotFound(err) {
		t.Errorf("store b Stat(img/1 of store a) = %v, want ENOTFOUND", err)
	}
	if err := b.DeletePrefix(ctx, "img/"); err != nil {
		t.Fatal(err)
	}
	if got, _ := hotpathtest.ReadBlob(t, a, "img/1"); string(got) != "a" {
		t.Errorf("store a img/1 after store b's DeletePrefix = %q, want %q", got, "a")
	}
}

// TestWrongCredentials checks that a server rejecting the SigV4 signature
// makes Open fail with EUNAVAILABLE and a message that says why.
func TestWrongCredentials(t *testing.T) {
	rawURL := hotpathtest.StartS3(t)
	tests := []struct {
		name, id, secret, wantInMessage string
	}{
		// versitygw answers XAdminUserNotFound to an unknown key where AWS
		// says InvalidAccessKeyId.
		{"wrong secret", os.Getenv("AWS_ACCESS_KEY_ID"), "not-the-secret", "SignatureDoesNotMatch"},
		{"unknown key", "nobody", "whatever", "XAdminUserNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AWS_ACCESS_KEY_ID": tt.id, "AWS_SECRET_ACCESS_KEY": tt.secret}
			cfg, err := s3.ParseURL(rawURL, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxRetries = 1
			s, err := s3.New(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New with wrong credentials succeeded, want an error")
			}
			if got := hotpath.ErrorCode(err); got != hotpath.EUNAVAILABLE {
				t.Errorf("error code %q, want %q (%v)", got, hotpath.EUNAVAILABLE, err)
			}
			if msg := hotpath.ErrorMessage(err); !strings.Contains(msg, "credentials") || !strings.Contains(msg, tt.wantInMessage) {
				t.Errorf("client message %q, want it to name the credentials and %s", msg, tt.wantInMessage)
			}
		})
	}
}

// TestMultipartUnknownSize uploads a 40 MiB stream of unknown size with a
// 5 MiB part size, so that it goes up as a multipart upload of 8 parts, and
// reads ranges of it back.
func TestMultipartUnknownSize(t *testing.T) {
	ctx := context.Background()
	cfg, err := s3.ParseURL(hotpathtest.StartS3(t)+"&part_size=5MiB", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const size = 40 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if err := s.Put(ctx, "big", struct{ io.Reader }{bytes.NewReader(data)}, -1, "application/x-test"); err != nil {
		t.Fatalf("Put of %d bytes with size -1: %v", size, err)
	}
	b, err := s.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Info(); got.Size != size || got.ContentType != "application/x-test" {
		t.Errorf("Info() = size %d type %q, want %d %q", got.Size, got.ContentType, size, "application/x-test")
	}
	h := sha256.New()
	if _, err := io.Copy(h, b); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Sum(nil), sha256.Sum256(data); !bytes.Equal(got, want[:]) {
		t.Errorf("read back differs from the %d bytes written", size)
	}
	for _, off := range []int64{0, 5<<20 - 3, size - 10} { // across a part boundary
		if _, err := b.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 10)
		if _, err := io.ReadFull(b, got); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, data[off:off+10]) {
			t.Errorf("10 bytes at %d differ", off)
		}
	}
}

// TestMissingBucket checks that without create=true a missing bucket fails
// Open clearly instead of failing every later call.
func TestMissingBucket(t *testing.T) {
	rawURL := strings.Replace(hotpathtest.StartS3(t), "&create=true", "", 1)
	_, err := s3.Open(context.Background(), rawURL)
	if got := hotpath.ErrorCode(err); got != hotpath.EUNAVAILABLE || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing bucket: %v (code %q), want EUNAVAILABLE saying it does not exist", err, got)
	}
}

// TestRangeAfterReplace checks that a ranged read of a blob replaced since
// Open fails with ECONFLICT rather than mixing bytes of two versions.
func TestRangeAfterReplace(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	hotpathtest.PutBlob(t, s, "k", []byte("old version"), "text/plain")
	b, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hotpathtest.PutBlob(t, s, "k", []byte("NEW VERSION"), "text/plain")
	if _, err := b.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	if code := hotpath.ErrorCode(err); code != hotpath.ECONFLICT {
		t.Errorf("ranged read after replace = %q, %v (code %q); want ECONFLICT", got, err, code)
	}
}

// BenchmarkPutGet stores and reads back blobs the size of a variant and of a
// 12 MP original on versitygw over loopback, and the same on the local disk
// store for the ratio.
func BenchmarkPutGet(b *testing.B) {
	ctx := context.Background()
	s3store, err := s3.Open(ctx, hotpathtest.StartS3(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s3store.Close()
	diskStore, err := disk.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer diskStore.Close()
	for _, store := range []struct {
		name string
		s    hotpath.BlobStore
	}{{"s3", s3store}, {"disk", diskStore}} {
		for _, size := range []int{64 << 10, 4 << 20} {
			data := make([]byte, size)
			rand.NewChaCha8([32]byte{2}).Read(data)
			b.Run(fmt.Sprintf("%s/%dKiB", store.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				for i := 0; b.Loop(); i++ {
					key := fmt.Sprintf("bench/%d", i%16)
					if err := store.s.Put(ctx, key, bytes.NewReader(data), int64(size), "image/jpeg"); err != nil {
						b.Fatal(err)
					}
					blob, err := store.s.Open(ctx, key)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, blob); err != nil {
						b.Fatal(err)
					}
					blob.Close()
				}
			})
		}
	}
}

// flakyProxy forwards to an S3 server but answers 503 to the next fail
// requests, counting every request it sees.
type flakyProxy struct {
	next     http.Handler
	fail     atomic.Int64
	requests atomic.Int64
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if p.fail.Add(-1) >= 0 {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>try later</Message></Error>`)
		return
	}
	p.next.ServeHTTP(w, r)
}

// TestRetries puts a proxy that answers 503 between the store and versitygw:
// a few failures are retried away with backoff, and a server that keeps
// failing gives EUNAVAILABLE after exactly the configured attempts.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	rawURL := hotpathtest.StartS3(t)
	cfg, err := s3.ParseURL(rawURL, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &flakyProxy{next: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: cfg.Endpoint})}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	cfg.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	cfg.MaxRetries = 3
	s, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	proxy.fail.Store(2)
	hotpathtest.PutBlob(t, s, "k", []byte("through two 503s"), "text/plain")
	proxy.fail.Store(2)
	if got, _ := hotpathtest.ReadBlob(t, s, "k"); string(got) != "through two 503s" {
		t.Errorf("read through two 503s = %q", got)
	}

	proxy.fail.Store(1000)
	proxy.requests.Store(0)
	_, err = s.Stat(ctx, "k")
	if code := hotpath.ErrorCode(err); code != hotpath.EUNAVAILABLE {
		t.Errorf("Stat against a failing server: %v (code %q), want EUNAVAILABLE", err, code)
	}
	if got := proxy.requests.Load(); got != int64(cfg.MaxRetries) {
		t.Errorf("a failing Stat made %d requests, want %d (MaxRetries)", got, cfg.MaxRetries)
	}
}
