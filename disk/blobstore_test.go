package disk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest"
)

func TestBlobStore(t *testing.T) {
	hotpathtest.TestBlobStore(t, func(t *testing.T) hotpath.BlobStore {
		s, err := disk.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatalf("disk.Open: %v", err)
		}
		return s
	})
}

// TestOpenURL opens a file:// URL and refuses another scheme.
func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := disk.Open(ctx, "file://"+root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "b")); err != nil {
		t.Errorf("the blob is not under the URL's directory: %v", err)
	}
	if _, err := disk.Open(ctx, "s3://bucket"); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("Open(s3://bucket) = %v, want EINVALID", err)
	}
}

// TestNoEscape checks that no key reaches a file outside the root, even the
// ones that a path cleaner would quietly turn into a path inside it.
func TestNoEscape(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	s, err := disk.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(parent, "outside")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"../outside", "a/../../outside", "/" + outside, "./x", "a/./b"} {
		if err := s.Put(ctx, key, strings.NewReader("pwned"), 5, ""); hotpath.ErrorCode(err) != hotpath.EINVALID {
			t.Errorf("Put(%q) = %v, want EINVALID", key, err)
		}
		if _, err := s.Open(ctx, key); hotpath.ErrorCode(err) != hotpath.EINVALID {
			t.Errorf("Open(%q) = %v, want EINVALID", key, err)
		}
	}
	if got, _ := os.ReadFile(outside); string(got) != "secret" {
		t.Errorf("file outside root = %q, want it untouched", got)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		t.Errorf("root holds %q after only invalid writes, want it empty", e.Name())
	}
}

// TestAtomicLeavesNoTempFiles checks that failed and successful Puts leave
// only the blob itself, and that Delete removes the directories it empties.
func TestAtomicLeavesNoTempFiles(t *testing.T) {
	root := t.TempDir()
	s, err := disk.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "t/i/original", strings.NewReader("abc"), 3, "image/png"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "t/i/original", strings.NewReader("ab"), 3, "image/png"); err == nil {
		t.Fatal("short Put succeeded")
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if got, want := strings.Join(files, ","), "t/i/original"; got != want {
		t.Errorf("files under root = %q, want %q", got, want)
	}
	if got, err := os.ReadFile(filepath.Join(root, "t/i/original")); err != nil || string(got) != "abc" {
		t.Errorf("blob file = %q, %v; want the plain bytes %q", got, err, "abc")
	}
	if err := s.Delete(ctx, "t/i/original"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "t")); !os.IsNotExist(err) {
		t.Errorf("directory t after deleting its only blob: %v, want removed", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("root after deletes: %v, want kept", err)
	}
}

// FuzzKeys checks, for any key, that the store either refuses it with
// EINVALID or stores it as a file under root that reads back under the same key.
func FuzzKeys(f *testing.F) {
	for _, seed := range []string{"a", "a/b", "../x", "/abs", "a/../../b", "", "a//b", ".", "..", "a/./b",
		".tmp-x", "a/.tmp-1", "a\\..\\b", "\x00", "t/i/v/t:w=1", strings.Repeat("x", 300)} {
		f.Add(seed)
	}
	root := f.TempDir()
	s, err := disk.Open(context.Background(), filepath.Join(root, "store"))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, key string) {
		err := s.Put(ctx, key, strings.NewReader("v"), 1, "text/plain")
		if err != nil {
			if code := hotpath.ErrorCode(err); code != hotpath.EINVALID && code != hotpath.ECONFLICT {
				t.Fatalf("Put(%q) = %v, want success, EINVALID or ECONFLICT", key, err)
			}
			return
		}
		defer s.Delete(ctx, key)
		p := filepath.Join(s.Root(), filepath.FromSlash(key))
		if rel, err := filepath.Rel(s.Root(), p); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("Put(%q) accepted a key whose path %s is not under the root", key, p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("Put(%q) succeeded but %s is missing: %v", key, p, err)
		}
		b, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("Open(%q) after Put: %v", key, err)
		}
		info := b.Info()
		b.Close()
		if info.Key != key || info.Size != 1 {
			t.Fatalf("Open(%q).Info() = %+v", key, info)
		}
	})
}
