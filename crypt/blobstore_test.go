package crypt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/s3"
	"github.com/hotpath/hotpath/sqlite"
)

// encryptedStore is a disk store behind encryption, with what tests reach
// under it.
type encryptedStore struct {
	*crypt.BlobStore
	root    string
	meta    *sqlite.Store
	keyFile string
}

func openMeta(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	meta, err := sqlite.Open(context.Background(), filepath.Join(dir, "hotpath.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	return meta
}

func writeKeyFile(t *testing.T, path string, keys ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// openEncrypted returns a fresh disk store with encryption on, its master
// key in a key file.
func openEncrypted(t *testing.T) *encryptedStore {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "master.key")
	writeKeyFile(t, keyFile, crypt.NewKey())
	inner, err := disk.Open(context.Background(), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	meta := openMeta(t, dir)
	return &encryptedStore{BlobStore: withKeys(t, inner, meta, keyFile, 0), root: inner.Root(), meta: meta, keyFile: keyFile}
}

// withKeys puts inner behind encryption with the master keys of keyFile.
func withKeys(t *testing.T, inner hotpath.BlobStore, meta hotpath.TenantKeyStore, keyFile string, ttl time.Duration) *crypt.BlobStore {
	t.Helper()
	master, err := crypt.OpenMasterKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return crypt.NewBlobStore(inner, crypt.NewTenantKeys(meta, master, ttl), nil)
}

func TestBlobStoreDisk(t *testing.T) {
	hotpathtest.TestBlobStore(t, func(t *testing.T) hotpath.BlobStore { return openEncrypted(t) })
}

func TestBlobStoreS3(t *testing.T) {
	hotpathtest.TestBlobStore(t, func(t *testing.T) hotpath.BlobStore {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "master.key")
		writeKeyFile(t, keyFile, crypt.NewKey())
		inner, err := s3.Open(context.Background(), hotpathtest.StartS3(t))
		if err != nil {
			t.Fatalf("s3.Open: %v", err)
		}
		return withKeys(t, inner, openMeta(t, dir), keyFile, 0)
	})
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// readAll opens key and reads it whole; it returns what was read before any error.
func readAll(s hotpath.BlobStore, key string) ([]byte, error) {
	b, err := s.Open(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(b)
}

// readRange reads n bytes at off as http.ServeContent does: Seek, then a limited read.
func readRange(s hotpath.BlobStore, key string, off, n int64) ([]byte, error) {
	b, err := s.Open(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if _, err := b.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(b, n))
}

const pkg = crypt.PackageSize

// sealedOffset is where plaintext package i starts in the stored file.
func sealedOffset(i int) int64 { return crypt.HeaderSize + int64(i)*(pkg+32) }

func TestRangeAtPackageEdges(t *testing.T) {
	s := openEncrypted(t)
	plain := randomBytes(3*pkg+100, 1)
	hotpathtest.PutBlob(t, s, "t/i/original", plain, "image/jpeg")
	for _, r := range [][2]int64{{0, 1}, {pkg - 1, 1}, {pkg - 1, 2}, {pkg, 1}, {pkg, pkg}, {pkg + 1, pkg}, {2*pkg - 5, 10},
		{3*pkg - 1, 101}, {3 * pkg, 100}, {3*pkg + 99, 1}, {3*pkg + 99, 50}, {0, 3*pkg + 100}, {3*pkg + 100, 10}} {
		got, err := readRange(s, "t/i/original", r[0], r[1])
		end := min(r[0]+r[1], int64(len(plain)))
		if err != nil || !bytes.Equal(got, plain[r[0]:end]) {
			t.Errorf("range %d+%d: %d bytes, %v; want plaintext bytes %d-%d", r[0], r[1], len(got), err, r[0], end)
		}
	}
	// Only the packages a range touches (and the first, opened by Open) are
	// decrypted: with package 1 damaged on disk, a range in package 2 reads.
	corrupt(t, filepath.Join(s.root, "t/i/original"), sealedOffset(1)+100)
	if got, err := readRange(s, "t/i/original", 2*pkg+10, 1000); err != nil || !bytes.Equal(got, plain[2*pkg+10:2*pkg+1010]) {
		t.Errorf("range in package 2 with package 1 damaged: %v", err)
	}
	if _, err := readRange(s, "t/i/original", pkg+10, 10); hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
		t.Errorf("range in the damaged package 1: %v, want %s", err, hotpath.EINTEGRITY)
	}
	// Damage in the first package fails Open itself, before any byte.
	corrupt(t, filepath.Join(s.root, "t/i/original"), sealedOffset(0)+100)
	if _, err := s.Open(context.Background(), "t/i/original"); hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
		t.Errorf("Open with package 0 damaged: %v, want %s", err, hotpath.EINTEGRITY)
	}
}

// corrupt flips one bit of the file at off, in place (its attributes kept).
func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x04
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestTamperingDetected(t *testing.T) {
	s := openEncrypted(t)
	plain := randomBytes(2*pkg+777, 2)
	path := filepath.Join(s.root, "t/i/v/thumb")
	size := crypt.HeaderSize + 2*(pkg+32) + 777 + 32
	offsets := []int64{8, 9, 10, 12, 27, 28, 39, 40, 60, 87, // header: version, cipher, flags, key id, nonce, sealed key, its tag
		sealedOffset(0), sealedOffset(0) + 4, sealedOffset(0) + 16, sealedOffset(0) + 16 + pkg - 1, sealedOffset(1) - 1, // package 0 header, body, tag
		sealedOffset(1) + 2, sealedOffset(2) + 5, sealedOffset(2) + 16 + 500, int64(size) - 16, int64(size) - 1} // final package
	for _, off := range offsets {
		hotpathtest.PutBlob(t, s, "t/i/v/thumb", plain, "image/webp")
		corrupt(t, path, off)
		got, err := readAll(s, "t/i/v/thumb")
		code := hotpath.ErrorCode(err)
		want := hotpath.EINTEGRITY
		if off >= 12 && off < 28 {
			want = hotpath.EUNAVAILABLE // the key id: sealed under a key this store does not have
		}
		if code != want {
			t.Errorf("byte %d flipped: %v (code %q), want %q", off, err, code, want)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Errorf("byte %d flipped: read %d bytes that are not the plaintext's", off, len(got))
		}
		if err != nil && !strings.Contains(err.Error(), "t/i/v/thumb") {
			t.Errorf("byte %d flipped: error %q does not name the blob", off, err)
		}
	}
}

func TestTruncationDetected(t *testing.T) {
	s := openEncrypted(t)
	plain := randomBytes(2*pkg+10, 3)
	path := filepath.Join(s.root, "t/i/original")
	for _, cut := range []int64{3, 20, crypt.HeaderSize, sealedOffset(1), sealedOffset(2), sealedOffset(1) + 100, sealedOffset(2) + 20} {
		hotpathtest.PutBlob(t, s, "t/i/original", plain, "image/png")
		if err := os.Truncate(path, cut); err != nil {
			t.Fatal(err)
		}
		got, err := readAll(s, "t/i/original")
		if hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
			t.Errorf("cut to %d bytes: %v, want %s", cut, err, hotpath.EINTEGRITY)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Errorf("cut to %d bytes: read bytes that are not the plaintext's", cut)
		}
	}
	// An empty blob's header says so: packages after it, or a non-empty
	// blob cut to its header, fail.
	hotpathtest.PutBlob(t, s, "t/empty", nil, "")
	hotpathtest.PutBlob(t, s, "t/i/original", plain, "image/png")
	if err := os.Truncate(path, crypt.HeaderSize); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(s, "t/i/original"); hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
		t.Errorf("non-empty blob cut to its header: %v, want %s", err, hotpath.EINTEGRITY)
	}
	if got, err := readAll(s, "t/empty"); err != nil || len(got) != 0 {
		t.Errorf("empty blob: %q, %v", got, err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	s := openEncrypted(t)
	hotpathtest.PutBlob(t, s, "t/i/original", []byte("secret image"), "image/jpeg")
	other := filepath.Join(t.TempDir(), "other.key")
	writeKeyFile(t, other, crypt.NewKey())
	wrong := withKeys(t, s.Inner(), s.meta, other, 0)
	_, err := readAll(wrong, "t/i/original")
	if hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE || !strings.Contains(err.Error(), "master key") {
		t.Errorf("read with another master key: %v, want %s naming the master key", err, hotpath.EUNAVAILABLE)
	}
	if err := wrong.Put(context.Background(), "t/i/v/x", strings.NewReader("x"), 1, ""); hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
		t.Errorf("write with another master key: %v, want %s", err, hotpath.EUNAVAILABLE)
	}
}

func TestMixedPlaintextAndEncrypted(t *testing.T) {
	s := openEncrypted(t)
	old := randomBytes(pkg+5, 4)
	// Stored before encryption was turned on, straight into the disk store.
	hotpathtest.PutBlob(t, s.Inner(), "t/old/original", old, "image/png")
	hotpathtest.PutBlob(t, s.Inner(), "t/old/tiny", []byte("ab"), "text/plain")
	hotpathtest.PutBlob(t, s, "t/new/original", []byte("new"), "image/png")
	if got, info := hotpathtest.ReadBlob(t, s, "t/old/original"); !bytes.Equal(got, old) || info.Size != int64(len(old)) {
		t.Errorf("plaintext blob read through encryption: %d bytes, size %d", len(got), info.Size)
	}
	if got, err := readRange(s, "t/old/original", pkg, 5); err != nil || !bytes.Equal(got, old[pkg:]) {
		t.Errorf("range of a plaintext blob: %v", err)
	}
	if got, _ := hotpathtest.ReadBlob(t, s, "t/old/tiny"); string(got) != "ab" {
		t.Errorf("tiny plaintext blob = %q", got)
	}
	if got, _ := hotpathtest.ReadBlob(t, s, "t/new/original"); string(got) != "new" {
		t.Errorf("encrypted blob = %q", got)
	}
	raw, _ := os.ReadFile(filepath.Join(s.root, "t/new/original"))
	if !crypt.IsEncrypted(raw) || bytes.Contains(raw, []byte("new")) {
		t.Errorf("new blob on disk is not encrypted: %q", raw)
	}
}

func TestShredTenant(t *testing.T) {
	s := openEncrypted(t)
	master, _ := crypt.OpenMasterKeys(s.keyFile)
	keys := crypt.NewTenantKeys(s.meta, master, time.Hour)
	s2 := crypt.NewBlobStore(s.Inner(), keys, nil)
	hotpathtest.PutBlob(t, s2, "doomed/i/original", []byte("doomed data"), "")
	hotpathtest.PutBlob(t, s2, "kept/i/original", []byte("kept data"), "")
	hotpathtest.ReadBlob(t, s2, "doomed/i/original") // cached for an hour
	if err := keys.Shred(context.Background(), "doomed"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []hotpath.BlobStore{s2, s.BlobStore} {
		if _, err := readAll(st, "doomed/i/original"); hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
			t.Errorf("read after shredding: %v, want %s", err, hotpath.EUNAVAILABLE)
		}
	}
	if got, _ := hotpathtest.ReadBlob(t, s2, "kept/i/original"); string(got) != "kept data" {
		t.Errorf("other tenant after shredding = %q", got)
	}
	// A new blob of the shredded tenant gets a new key; the old stay unreadable.
	hotpathtest.PutBlob(t, s2, "doomed/j/original", []byte("fresh"), "")
	if got, _ := hotpathtest.ReadBlob(t, s2, "doomed/j/original"); string(got) != "fresh" {
		t.Errorf("new blob after shredding = %q", got)
	}
	if _, err := readAll(s2, "doomed/i/original"); hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
		t.Errorf("old blob under the tenant's new key: %v, want %s", err, hotpath.EUNAVAILABLE)
	}
}

// TestRotationMidTraffic rotates the master key as 'hotpath keys
// rotate-master' does while readers and writers run on a store that reads
// the key file, with no key cache, so that every operation unwraps.
func TestRotationMidTraffic(t *testing.T) {
	s := openEncrypted(t)
	live := withKeys(t, s.Inner(), s.meta, s.keyFile, time.Nanosecond)
	tenants := []string{"a", "b", "c", "d"}
	for _, tn := range tenants {
		hotpathtest.PutBlob(t, live, tn+"/i/original", []byte("data of "+tn), "")
	}
	oldKeys, err := crypt.ReadKeyFile(s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tn := tenants[(w+i)%len(tenants)]
				got, err := readAll(live, tn+"/i/original")
				if err == nil && string(got) != "data of "+tn {
					err = errors.New("wrong bytes " + string(got))
				}
				if err == nil && w == 0 {
					err = live.Put(context.Background(), tn+"/i/v/thumb", strings.NewReader("thumb"), 5, "")
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	newKey, _ := crypt.ParseKey([]byte(crypt.NewKey()))
	time.Sleep(20 * time.Millisecond)
	// 1. The new key first, the old kept: both open, the new wraps.
	if err := crypt.WriteKeyFile(s.keyFile, append([][]byte{newKey}, oldKeys...)...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	// 2. Every tenant key rewrapped under the new key.
	both, _ := crypt.OpenMasterKeys(s.keyFile)
	if n, err := crypt.NewTenantKeys(s.meta, both, 0).Rewrap(context.Background()); err != nil || n != len(tenants) {
		t.Fatalf("Rewrap = %d, %v; want %d", n, err, len(tenants))
	}
	time.Sleep(20 * time.Millisecond)
	// 3. The old key gone.
	if err := crypt.WriteKeyFile(s.keyFile, newKey); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // past reloadEvery, so readers meet the new file
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d operations failed during the rotation, first: %v", n, firstErr.Load())
	}
	// A process started after the rotation, with the new key only, reads all;
	// one with the old key only reads nothing.
	oldFile := filepath.Join(t.TempDir(), "old.key")
	if err := crypt.WriteKeyFile(oldFile, oldKeys...); err != nil {
		t.Fatal(err)
	}
	fresh, stale := withKeys(t, s.Inner(), s.meta, s.keyFile, 0), withKeys(t, s.Inner(), s.meta, oldFile, 0)
	for _, tn := range tenants {
		if got, err := readAll(fresh, tn+"/i/original"); err != nil || string(got) != "data of "+tn {
			t.Errorf("after rotation, new key: %q, %v", got, err)
		}
		if _, err := readAll(stale, tn+"/i/original"); hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
			t.Errorf("after rotation, old key only: %v, want %s", err, hotpath.EUNAVAILABLE)
		}
	}
}

// TestNoPlaintextOnDisk writes a recognisable blob and finds none of it
// under the store's root.
func TestNoPlaintextOnDisk(t *testing.T) {
	s := openEncrypted(t)
	plain := bytes.Repeat([]byte("\xff\xd8\xff\xe0 JFIF known run of bytes "), 10000)
	hotpathtest.PutBlob(t, s, "t/i/original", plain, "image/jpeg")
	hotpathtest.PutBlob(t, s, "t/i/v/small", plain[:100], "image/jpeg")
	filepath.WalkDir(s.root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		for _, needle := range []string{"\xff\xd8\xff", "JFIF", "known run"} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Errorf("%s holds plaintext %q", p, needle)
			}
		}
		return nil
	})
}
