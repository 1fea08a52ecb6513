package postgres

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
)

// TestDBErrorUnavailable feeds dbError errors that a real server or a real
// dial produced while the database could not serve: each must be
// EUNAVAILABLE (503, retried), never an internal error (500, a failed job).
func TestDBErrorUnavailable(t *testing.T) {
	ctx := context.Background()
	dsn := hotpathtest.PostgresDSN(t)

	// A closed port: pgx's ConnectError around ECONNREFUSED.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, refused := pgx.Connect(ctx, "postgres://postgres@"+closed+"/test?sslmode=disable&connect_timeout=2")
	if refused == nil {
		t.Fatal("connecting to a closed port succeeded")
	}

	serverError := func(t *testing.T, setup, query string) error {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if setup != "" {
			if _, err := conn.Exec(ctx, setup); err != nil {
				t.Fatalf("%s: %v", setup, err)
			}
		}
		_, err = conn.Exec(ctx, query)
		if err == nil {
			t.Fatalf("%s succeeded", query)
		}
		return err
	}
	cases := []struct {
		name string
		err  func(t *testing.T) error
	}{
		{"connect refused", func(*testing.T) error { return refused }},
		{"55000 object not in prerequisite state", func(t *testing.T) error {
			return serverError(t, "CREATE SEQUENCE IF NOT EXISTS hp_prereq", "SELECT currval('hp_prereq')")
		}},
		{"57014 statement timeout", func(t *testing.T) error {
			return serverError(t, "SET statement_timeout = 10", "SELECT pg_sleep(1)")
		}},
		{"57P01 admin shutdown", func(t *testing.T) error {
			return serverError(t, "", "SELECT pg_terminate_backend(pg_backend_pid())")
		}},
		{"25006 read-only transaction", func(t *testing.T) error {
			return serverError(t, "SET default_transaction_read_only = on", "CREATE TABLE hp_readonly (x int)")
		}},
		{"deadline while blackholed", func(t *testing.T) error {
			p, err := hotpathtest.NewFaultProxy("127.0.0.1:5432")
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			p.Blackhole()
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, err = pgx.Connect(cctx, "postgres://postgres@"+p.Addr+"/test?sslmode=disable")
			if err == nil {
				t.Fatal("connect through a blackholed proxy succeeded")
			}
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cause := c.err(t)
			got := dbError(cause, "op", "not found", "missing")
			if code := hotpath.ErrorCode(got); code != hotpath.EUNAVAILABLE {
				t.Errorf("dbError(%v) has code %q, want %q", cause, code, hotpath.EUNAVAILABLE)
			}
		})
	}

	// Errors of the request itself stay what they are.
	syntax := serverError(t, "", "SELEC 1")
	if code := hotpath.ErrorCode(dbError(syntax, "op", "", "")); code != hotpath.EINTERNAL {
		t.Errorf("a syntax error maps to %q, want %q", code, hotpath.EINTERNAL)
	}
}
