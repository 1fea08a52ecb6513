// Package hotpathtest holds the shared test helpers of hotpath and the
// contract suites that every implementation of a root interface must pass,
// the way net/http/httptest serves net/http.
package hotpathtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// TestBlobStore runs the BlobStore contract against the stores open returns.
// open is called once per subtest and must return an empty store; the suite
// closes it. Other keys in a shared bucket are not touched: every key the
// suite writes is below the store's root. The contract is
// hotpath.BlobStore's doc comments.
func TestBlobStore(t *testing.T, open func(t *testing.T) hotpath.BlobStore) {
	t.Helper()
	runContract(t, open, []contractCase[hotpath.BlobStore]{
		{"PutOpenRoundTrip", testBlobPutOpen},
		{"ContentTypeDefault", testBlobContentTypeDefault},
		{"EmptyBlob", testBlobEmpty},
		{"Overwrite", testBlobOverwrite},
		{"Missing", testBlobMissing},
		{"Delete", testBlobDelete},
		{"DeletePrefix", testBlobDeletePrefix},
		{"NestedKeys", testBlobNestedKeys},
		{"InvalidKeys", testBlobInvalidKeys},
		{"Seek", testBlobSeek},
		{"ShortBody", testBlobShortBody},
		{"LargeStreamingUnknownSize", testBlobLarge},
		{"ConcurrentPutsNeverTorn", testBlobConcurrentPuts},
		{"ContextCancelled", testBlobContextCancelled},
		{"OpenBlobOutlivesReplace", testBlobOpenOutlivesReplace},
	})
}

// contractCase is one named check of a contract suite on a fresh S.
type contractCase[S io.Closer] struct {
	name string
	test func(t *testing.T, s S)
}

// runContract runs each case as a subtest on its own store from open, and
// closes the store after it.
func runContract[S io.Closer](t *testing.T, open func(t *testing.T) S, cases []contractCase[S]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.test(t, s)
		})
	}
}

// PutBlob stores data under key with contentType and fails the test on error.
func PutBlob(t *testing.T, s hotpath.BlobStore, key string, data []byte, contentType string) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// ReadBlob returns the bytes and info stored under key and fails the test on error.
func ReadBlob(t *testing.T, s hotpath.BlobStore, key string) ([]byte, hotpath.BlobInfo) {
	t.Helper()
	b, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data, b.Info()
}

// wantCode fails the test unless err carries the domain code want.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := hotpath.ErrorCode(err); got != want {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

func testBlobPutOpen(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	data := []byte("\xff\xd8\xffhello, blob")
	before := time.Now().Add(-time.Minute)
	PutBlob(t, s, "t1/img1/original", data, "image/jpeg")

	got, info := ReadBlob(t, s, "t1/img1/original")
	if !bytes.Equal(got, data) {
		t.Errorf("Open read %q, want %q", got, data)
	}
	want := hotpath.BlobInfo{Key: "t1/img1/original", Size: int64(len(data)), ContentType: "image/jpeg"}
	checkInfo(t, "Open().Info()", info, want, before)

	st, err := s.Stat(ctx, "t1/img1/original")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, want, before)
}

// checkInfo compares a BlobInfo with want, and its ModTime with a window.
func checkInfo(t *testing.T, what string, got, want hotpath.BlobInfo, notBefore time.Time) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.ContentType != want.ContentType {
		t.Errorf("%s = {Key:%q Size:%d ContentType:%q}, want {Key:%q Size:%d ContentType:%q}",
			what, got.Key, got.Size, got.ContentType, want.Key, want.Size, want.ContentType)
	}
	if got.ModTime.Before(notBefore) || got.ModTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("%s.ModTime = %v, want about now", what, got.ModTime)
	}
}

func testBlobContentTypeDefault(t *testing.T, s hotpath.BlobStore) {
	PutBlob(t, s, "k", []byte("x"), "")
	_, info := ReadBlob(t, s, "k")
	if got, want := info.ContentType, "application/octet-stream"; got != want {
		t.Errorf("content type = %q, want %q", got, want)
	}
}

func testBlobEmpty(t *testing.T, s hotpath.BlobStore) {
	PutBlob(t, s, "empty", nil, "text/plain")
	got, info := ReadBlob(t, s, "empty")
	if len(got) != 0 || info.Size != 0 {
		t.Errorf("empty blob read %d bytes, size %d; want 0, 0", len(got), info.Size)
	}
}

func testBlobOverwrite(t *testing.T, s hotpath.BlobStore) {
	PutBlob(t, s, "a/b", []byte("first version, longer"), "text/plain")
	PutBlob(t, s, "a/b", []byte("second"), "image/png")
	got, info := ReadBlob(t, s, "a/b")
	if string(got) != "second" || info.Size != 6 || info.ContentType != "image/png" {
		t.Errorf("after overwrite: %q size %d type %q, want %q size 6 type image/png", got, info.Size, info.ContentType, "second")
	}
}

func testBlobMissing(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	PutBlob(t, s, "dir/present", []byte("x"), "")
	for _, key := range []string{"nothing", "dir/absent", "dir"} {
		_, err := s.Open(ctx, key)
		if !hotpath.IsNotFound(err) {
			t.Errorf("Open(%q) error %v, want ENOTFOUND", key, err)
		}
		_, err = s.Stat(ctx, key)
		if !hotpath.IsNotFound(err) {
			t.Errorf("Stat(%q) error %v, want ENOTFOUND", key, err)
		}
	}
}

func testBlobDelete(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	PutBlob(t, s, "x/y/z", []byte("bye"), "")
	PutBlob(t, s, "x/y/keep", []byte("stay"), "")
	if err := s.Delete(ctx, "x/y/z"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "x/y/z"); !hotpath.IsNotFound(err) {
		t.Errorf("Stat after Delete: %v, want ENOTFOUND", err)
	}
	if got, _ := ReadBlob(t, s, "x/y/keep"); string(got) != "stay" {
		t.Errorf("sibling after Delete = %q, want %q", got, "stay")
	}
	if err := s.Delete(ctx, "x/y/z"); err != nil {
		t.Errorf("Delete of a deleted blob: %v, want nil", err)
	}
	if err := s.Delete(ctx, "never/was/here"); err != nil {
		t.Errorf("Delete of a missing blob: %v, want nil", err)
	}
	// The key can be written again after a delete emptied its directory.
	if err := s.Delete(ctx, "x/y/keep"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	PutBlob(t, s, "x/y/z", []byte("again"), "")
	if got, _ := ReadBlob(t, s, "x/y/z"); string(got) != "again" {
		t.Errorf("re-put after delete = %q, want %q", got, "again")
	}
}

func testBlobDeletePrefix(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	keys := []string{"t1/i1/original", "t1/i1/v/thumb", "t1/i1/v/large", "t1/i10/original", "t1/i2/original", "t2/i1/original"}
	for _, k := range keys {
		PutBlob(t, s, k, []byte(k), "")
	}
	tests := []struct {
		prefix string
		gone   []string
	}{
		{"t1/i1/v/", []string{"t1/i1/v/thumb", "t1/i1/v/large"}},
		{"t1/i1/", []string{"t1/i1/original"}},
		{"t1/i", []string{"t1/i10/original", "t1/i2/original"}}, // string prefix, not a directory
		{"nope/", nil},
	}
	gone := map[string]bool{}
	for _, tt := range tests {
		if err := s.DeletePrefix(ctx, tt.prefix); err != nil {
			t.Fatalf("DeletePrefix(%q): %v", tt.prefix, err)
		}
		for _, k := range tt.gone {
			gone[k] = true
		}
		for _, k := range keys {
			_, err := s.Stat(ctx, k)
			switch {
			case gone[k] && !hotpath.IsNotFound(err):
				t.Errorf("after DeletePrefix(%q): Stat(%q) = %v, want ENOTFOUND", tt.prefix, k, err)
			case !gone[k] && err != nil:
				t.Errorf("after DeletePrefix(%q): Stat(%q) = %v, want it kept", tt.prefix, k, err)
			}
		}
	}
	wantCode(t, `DeletePrefix("")`, s.DeletePrefix(ctx, ""), hotpath.EINVALID)
	wantCode(t, `DeletePrefix("../")`, s.DeletePrefix(ctx, "../"), hotpath.EINVALID)
	if _, err := s.Stat(ctx, "t2/i1/original"); err != nil {
		t.Errorf("after refused prefixes: Stat(t2/i1/original) = %v, want it kept", err)
	}
}

func testBlobNestedKeys(t *testing.T, s hotpath.BlobStore) {
	keys := []string{
		"a", "a1/b", "a1/b2/c/d/e/f/g/h", "tenant/0190abcdef/v/t:w=400,h=300,fit=fill",
		"with space/and-dash_under.score", "unicode/café/画像",
	}
	for _, k := range keys {
		PutBlob(t, s, k, []byte("data of "+k), "text/plain")
	}
	for _, k := range keys {
		got, info := ReadBlob(t, s, k)
		if string(got) != "data of "+k || info.Key != k {
			t.Errorf("Open(%q) = %q, key %q; want %q, key %q", k, got, info.Key, "data of "+k, k)
		}
	}
}

func testBlobInvalidKeys(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	PutBlob(t, s, "b", []byte("target"), "")
	bad := []string{"", "../x", "/abs", "a/../../b", "a/..", "..", ".", "a//b", "a/./b", "a/b/", "nul\x00byte"}
	for _, key := range bad {
		err := s.Put(ctx, key, strings.NewReader("evil"), 4, "")
		wantCode(t, fmt.Sprintf("Put(%q)", key), err, hotpath.EINVALID)
		_, err = s.Open(ctx, key)
		wantCode(t, fmt.Sprintf("Open(%q)", key), err, hotpath.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, fmt.Sprintf("Stat(%q)", key), err, hotpath.EINVALID)
		wantCode(t, fmt.Sprintf("Delete(%q)", key), s.Delete(ctx, key), hotpath.EINVALID)
	}
	if got, _ := ReadBlob(t, s, "b"); string(got) != "target" {
		t.Errorf("blob b after invalid writes = %q, want %q", got, "target")
	}
}

func testBlobSeek(t *testing.T, s hotpath.BlobStore) {
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	PutBlob(t, s, "seek", data, "text/plain")
	b, err := s.Open(context.Background(), "seek")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	steps := []struct {
		offset int64
		whence int
		pos    int64
		read   int
		want   string
	}{
		{10, io.SeekStart, 10, 5, "abcde"},
		{2, io.SeekCurrent, 17, 3, "hij"},
		{-4, io.SeekEnd, 32, 10, "wxyz"},
		{0, io.SeekStart, 0, 4, "0123"},
		{int64(len(data)), io.SeekStart, int64(len(data)), 4, ""},
	}
	for _, st := range steps {
		pos, err := b.Seek(st.offset, st.whence)
		if err != nil || pos != st.pos {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", st.offset, st.whence, pos, err, st.pos)
		}
		buf := make([]byte, st.read)
		n, err := io.ReadFull(b, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("read after Seek(%d, %d): %v", st.offset, st.whence, err)
		}
		if got := string(buf[:n]); got != st.want {
			t.Errorf("read %d after Seek(%d, %d) = %q, want %q", st.read, st.offset, st.whence, got, st.want)
		}
	}
	// A range as http.ServeContent reads it.
	if _, err := b.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.LimitReader(b, 6))
	if err != nil || string(got) != "56789a" {
		t.Errorf("range 5-10 = %q, %v; want %q", got, err, "56789a")
	}
}

func testBlobShortBody(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	PutBlob(t, s, "short", []byte("previous"), "text/plain")
	err := s.Put(ctx, "short", strings.NewReader("only 12 byte"), 100, "text/plain")
	if err == nil {
		t.Fatalf("Put with a body shorter than its size succeeded, want an error")
	}
	if got, _ := ReadBlob(t, s, "short"); string(got) != "previous" {
		t.Errorf("after failed Put: %q, want the previous %q", got, "previous")
	}
	if err := s.Put(ctx, "short-new", strings.NewReader("abc"), 10, ""); err == nil {
		t.Fatalf("Put of a new key with a short body succeeded, want an error")
	}
	if _, err := s.Stat(ctx, "short-new"); !hotpath.IsNotFound(err) {
		t.Errorf("Stat after failed Put of a new key: %v, want ENOTFOUND", err)
	}
}

// patternReader yields n pseudo-random bytes from seed without holding them,
// so that large blobs can be written and checked in constant memory.
type patternReader struct {
	rng *rand.ChaCha8
	n   int64
}

func newPatternReader(seed byte, n int64) *patternReader {
	return &patternReader{rng: rand.NewChaCha8([32]byte{seed}), n: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	n, _ := p.rng.Read(b)
	p.n -= int64(n)
	return n, nil
}

// onlyReader hides every method but Read, so that a store cannot take a
// shortcut through io.WriterTo, io.Seeker or a known length.
type onlyReader struct{ io.Reader }

func testBlobLarge(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	const size = 20 << 20
	want := sha256.New()
	if _, err := io.Copy(want, newPatternReader(7, size)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "big/blob", onlyReader{newPatternReader(7, size)}, -1, "application/octet-stream"); err != nil {
		t.Fatalf("Put of %d bytes with size -1: %v", size, err)
	}
	b, err := s.Open(ctx, "big/blob")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	got := sha256.New()
	n, err := io.Copy(got, b)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if n != size || b.Info().Size != size {
		t.Errorf("read %d bytes, Info().Size %d; want %d", n, b.Info().Size, size)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("large blob read back differs from what was written")
	}
}

func testBlobConcurrentPuts(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	const writers, rounds = 6, 4
	// Writer w writes blobs made only of byte 'a'+w, each of its own length,
	// so a torn blob shows as mixed bytes or a length no writer used.
	content := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 64<<10+w*4099) }
	PutBlob(t, s, "race", content(0), "text/plain")

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var torn sync.Once
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := s.Open(ctx, "race")
				if err != nil {
					torn.Do(func() { t.Errorf("Open during concurrent puts: %v", err) })
					return
				}
				data, err := io.ReadAll(b)
				b.Close()
				if err != nil {
					torn.Do(func() { t.Errorf("read during concurrent puts: %v", err) })
					return
				}
				if !wholeBlob(data, content) {
					torn.Do(func() { t.Errorf("read a torn blob of %d bytes during concurrent puts", len(data)) })
					return
				}
			}
		}()
	}
	var writersWG sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			for range rounds {
				data := content(w)
				if err := s.Put(ctx, "race", onlyReader{bytes.NewReader(data)}, int64(len(data)), "text/plain"); err != nil {
					errs <- err
				}
			}
		}()
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	got, info := ReadBlob(t, s, "race")
	if !wholeBlob(got, content) || info.Size != int64(len(got)) {
		t.Errorf("after concurrent puts: %d bytes (Info().Size %d), not one writer's whole blob", len(got), info.Size)
	}
}

// wholeBlob reports whether data is exactly one writer's content.
func wholeBlob(data []byte, content func(int) []byte) bool {
	if len(data) == 0 {
		return false
	}
	w := int(data[0] - 'a')
	return w >= 0 && w < 26 && bytes.Equal(data, content(w))
}

// cancellingReader yields data in chunks and cancels its context after the
// first one, as a client that disconnects mid-upload.
type cancellingReader struct {
	data   []byte
	cancel context.CancelFunc
	reads  int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.reads++
	if c.reads == 2 {
		c.cancel()
		// Give a store that watches ctx.Done() asynchronously time to notice.
		time.Sleep(50 * time.Millisecond)
	}
	n := copy(p[:min(len(p), 4096)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func testBlobContextCancelled(t *testing.T, s hotpath.BlobStore) {
	PutBlob(t, s, "cancel/me", []byte("kept"), "text/plain")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Put(cancelled, "cancel/me", strings.NewReader("new"), 3, "text/plain")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Open(cancelled, "cancel/me"); err == nil {
		t.Errorf("Open with a cancelled context succeeded, want an error")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := bytes.Repeat([]byte("z"), 1<<20)
	err = s.Put(ctx, "cancel/me", onlyReader{&cancellingReader{data: body, cancel: cancel}}, -1, "text/plain")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled mid-body: %v, want context.Canceled", err)
	}
	if got, info := ReadBlob(t, s, "cancel/me"); string(got) != "kept" || info.ContentType != "text/plain" {
		t.Errorf("after cancelled Puts: %q (%s), want the previous %q", got, info.ContentType, "kept")
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	err = s.Put(ctx2, "cancel/new", onlyReader{&cancellingReader{data: body, cancel: cancel2}}, int64(len(body)), "")
	if err == nil {
		t.Errorf("Put of a new key cancelled mid-body succeeded, want an error")
	}
	if _, err := s.Stat(context.Background(), "cancel/new"); !hotpath.IsNotFound(err) {
		t.Errorf("Stat after a cancelled Put of a new key: %v, want ENOTFOUND", err)
	}
}

func testBlobOpenOutlivesReplace(t *testing.T, s hotpath.BlobStore) {
	ctx := context.Background()
	PutBlob(t, s, "live", []byte("old bytes"), "text/plain")
	b, err := s.Open(ctx, "live")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	PutBlob(t, s, "live", []byte("new bytes, longer"), "text/plain")
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read after replace: %v", err)
	}
	if string(got) != "old bytes" && string(got) != "new bytes, longer" {
		t.Errorf("blob opened before a replace read %q, want either whole version", got)
	}
}
