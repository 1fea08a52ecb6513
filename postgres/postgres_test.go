package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/postgres"
)

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	return s
}

func TestMetadataStore(t *testing.T) {
	hotpathtest.TestMetadataStore(t, func(t *testing.T) hotpath.MetadataStore {
		return open(t, hotpathtest.PostgresDSN(t))
	})
}

// TestConcurrentOpens starts several stores on one empty schema at once, as
// processes of a fresh deployment do: the advisory lock must let exactly one
// apply the migrations and all of them open.
func TestConcurrentOpens(t *testing.T) {
	dsn := hotpathtest.PostgresDSN(t)
	const n = 6
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d of %d: %v", i+1, n, err)
			continue
		}
		hotpathtest.CreateTenant(t, stores[i], "t")
		stores[i].Close()
	}

	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var versions []int32
	rows, err := conn.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	}
	if err != nil || fmt.Sprint(versions) != "[1 2 3]" {
		t.Errorf("schema_migrations = %v, %v; want exactly [1 2 3]", versions, err)
	}
}

// TestSchemaIsolation checks that PostgresDSN's schemas keep two stores on
// one server apart: what one writes the other does not see.
func TestSchemaIsolation(t *testing.T) {
	a := open(t, hotpathtest.PostgresDSN(t))
	defer a.Close()
	b := open(t, hotpathtest.PostgresDSN(t))
	defer b.Close()
	tn := hotpathtest.CreateTenant(t, a, "only-in-a")
	if _, err := b.GetTenant(context.Background(), tn.ID); !hotpath.IsNotFound(err) {
		t.Errorf("tenant of schema a read through schema b: %v, want ENOTFOUND", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if got := hotpath.ErrorCode(err); got != hotpath.EUNAVAILABLE {
		t.Errorf("Open of a closed port: code %q (%v), want %q", got, err, hotpath.EUNAVAILABLE)
	}
	_, err = postgres.Open(context.Background(), "postgres://user:secret@[::1/x")
	if got := hotpath.ErrorCode(err); got != hotpath.EINVALID {
		t.Errorf("Open of a malformed URL: code %q, want %q", got, hotpath.EINVALID)
	}
}

// BenchmarkCreateImage records images with three variants from concurrent
// goroutines, as a busy upload pipeline does.
func BenchmarkCreateImage(b *testing.B) {
	s, err := postgres.Open(context.Background(), hotpathtest.PostgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	hotpathtest.BenchmarkCreateImage(b, s)
}

// TestOutageIsUnavailable runs a store through a proxy that the test takes
// down: while PostgreSQL refuses connections or stops answering, every call
// is EUNAVAILABLE (never an internal error), and once it is back the same
// store works again without being reopened.
func TestOutageIsUnavailable(t *testing.T) {
	dsn := hotpathtest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := hotpathtest.NewFaultProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr
	s := open(t, u.String())
	defer s.Close()
	tenant := hotpathtest.CreateTenant(t, s, "t").ID

	check := func(t *testing.T, timeout time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := s.GetTenant(ctx, tenant)
		if code := hotpath.ErrorCode(err); code != hotpath.EUNAVAILABLE {
			t.Errorf("GetTenant during the outage: %v (code %q), want %q", err, code, hotpath.EUNAVAILABLE)
		}
		err = s.CreateJob(ctx, &hotpath.Job{TenantID: tenant, Kind: hotpath.JobVariants})
		if code := hotpath.ErrorCode(err); code != hotpath.EUNAVAILABLE {
			t.Errorf("CreateJob during the outage: %v (code %q), want %q", err, code, hotpath.EUNAVAILABLE)
		}
	}
	proxy.Refuse()
	check(t, 5*time.Second)
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTenant(context.Background(), tenant); err != nil {
		t.Fatalf("GetTenant after the outage: %v", err)
	}
	proxy.Blackhole()
	check(t, 300*time.Millisecond)
	proxy.Restore()
	if _, err := s.GetTenant(context.Background(), tenant); err != nil {
		t.Fatalf("GetTenant after the blackhole: %v", err)
	}
}

func TestTenantKeyStore(t *testing.T) {
	hotpathtest.TestTenantKeyStore(t, func(t *testing.T) hotpathtest.TenantKeyCloser {
		return open(t, hotpathtest.PostgresDSN(t))
	})
}
