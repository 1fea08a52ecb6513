package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlite.Open(%s): %v", path, err)
	}
	return s
}

func TestMetadataStore(t *testing.T) {
	hotpathtest.TestMetadataStore(t, func(t *testing.T) hotpath.MetadataStore {
		return open(t, filepath.Join(t.TempDir(), "hotpath.db"))
	})
}

// TestReopenKeepsData checks that data and the migration record survive a
// close, and that opening again applies no migration twice.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hotpath.db")
	s := open(t, path)
	tn := hotpathtest.CreateTenant(t, s, "acme")
	img := hotpathtest.CreateImage(t, s, tn.ID, "thumb")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	got, err := s.GetImage(ctx, tn.ID, img.ID)
	if err != nil || len(got.Variants) != 1 {
		t.Fatalf("image after reopen: %+v, %v; want it with its variant", got, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions, mode string
	if err := db.QueryRow("SELECT group_concat(version) FROM schema_migrations").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != "1,2,3" {
		t.Errorf("schema_migrations versions = %q, want %q", versions, "1,2,3")
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestConcurrentOpens checks that processes starting together on one new
// file (here: stores in one process, each with its own pools) all open it.
func TestConcurrentOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotpath.db")
	var wg sync.WaitGroup
	stores := make([]*sqlite.Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlite.Open(context.Background(), path)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		hotpathtest.CreateTenant(t, stores[i], "t")
		stores[i].Close()
	}
}

func TestOpenRejectsNonPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory", "a.db?_pragma=foreign_keys(0)"} {
		if _, err := sqlite.Open(context.Background(), p); hotpath.ErrorCode(err) != hotpath.EINVALID {
			t.Errorf("Open(%q) = %v, want EINVALID", p, err)
		}
	}
}

// TestOpenURL opens a sqlite:// URL in a directory that does not exist yet,
// and refuses another scheme.
func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new", "hotpath.db")
	s, err := sqlite.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database file is not at the URL's path: %v", err)
	}
	if _, err := sqlite.Open(ctx, "postgres://"+path); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("Open(postgres://…) = %v, want EINVALID", err)
	}
}

// BenchmarkCreateImage records images with three variants from concurrent
// goroutines, as a busy upload pipeline does.
func BenchmarkCreateImage(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "hotpath.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	hotpathtest.BenchmarkCreateImage(b, s)
}

func TestTenantKeyStore(t *testing.T) {
	hotpathtest.TestTenantKeyStore(t, func(t *testing.T) hotpathtest.TenantKeyCloser {
		return open(t, filepath.Join(t.TempDir(), "hotpath.db"))
	})
}
