package hotpathtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresDSN is the test server on this machine: database test, user
// postgres, trust authentication. HOTPATH_TEST_POSTGRES overrides it.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDSN creates a schema of its own for the calling test on the test
// server and returns a DSN whose connections use it (search_path), so tests
// run in parallel and leave nothing behind: the schema is dropped at cleanup.
// The server is HOTPATH_TEST_POSTGRES when set, else DefaultPostgresDSN. The
// test fails, not skips, when the server is down: CI starts it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("HOTPATH_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL test server %s is not reachable (start it, or set HOTPATH_TEST_POSTGRES): %v", redactDSN(base), err)
	}
	defer conn.Close(ctx)

	var b [6]byte
	rand.Read(b[:])
	schema := "hp_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("HOTPATH_TEST_POSTGRES is not a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// redactDSN hides a password in a DSN for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
