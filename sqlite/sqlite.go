// Package sqlite keeps hotpath's metadata (tenants, API keys, images and
// their variants, jobs, batches) in one SQLite file through modernc.org/sqlite,
// the pure-Go build of SQLite: the MetadataStore of the embedded shape.
//
// The database runs in WAL mode with foreign keys on and synchronous=FULL, so
// a committed write survives a power cut. Writes go through a pool of exactly
// one connection whose transactions begin IMMEDIATE: writers of this process
// queue in Go instead of racing for SQLite's write lock, and a writer never
// upgrades a read lock mid-transaction (the cause of SQLITE_BUSY that
// busy_timeout cannot cure). Reads use a separate pool of query-only
// connections that WAL lets run beside the writer. busy_timeout still covers
// another process writing the same file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ hotpath.MetadataStore = (*Store)(nil)

// dialect is how the shared queries (internal/sqlstore) run on SQLite.
var dialect = sqlstore.Dialect{UnixMicros: true, Err: dbError}

// Store is a hotpath.MetadataStore on one SQLite database file.
type Store struct {
	// Queries are the queries shared with PostgreSQL (tenants, API keys,
	// tenant keys).
	*sqlstore.Queries

	path   string
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB // query-only connections
	clock  sqlstore.Clock
}

// Open opens (creating it and its directory if needed) the database a URL
// names, sqlite://FILE (relative paths stay relative: sqlite://./data/hotpath.db)
// or a bare file path, applies the migrations it lacks and returns the store.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	path := rawURL
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok {
		if !strings.EqualFold(scheme, "sqlite") {
			return nil, hotpath.Errorf(hotpath.EINVALID, "sqlite: %q is not a sqlite:// URL", rawURL)
		}
		path = rest
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, hotpath.Errorf(hotpath.EINVALID, "sqlite: %q is not a database file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: create the database's directory: %w", err)
	}
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous(FULL)")
	params.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{path: path, writer: writer}
	// Set WAL and create the schema before any reader connects.
	if err := s.migrate(ctx); err != nil {
		writer.Close()
		return nil, err
	}

	params.Set("_txlock", "deferred")
	params.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s.reader = reader
	s.Queries = &sqlstore.Queries{Reader: reader, Writer: writer, Dialect: dialect, Clock: s.clock}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers a read and that the writer connection is alive.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "metadata store unavailable")
	}
	if err := s.writer.PingContext(ctx); err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "metadata store unavailable")
	}
	return nil
}

// migrate applies the migrations not yet recorded in schema_migrations, each
// in its own write transaction with its record, so a crash leaves the schema
// at a whole version. BEGIN IMMEDIATE makes processes opening the same file
// at once apply each migration once.
func (s *Store) migrate(ctx context.Context) error {
	list, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	for _, m := range list {
		err := s.write(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, micros(s.clock.Stamp(time.Time{})))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// write runs fn in a transaction on the writer connection.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqlstore.InTx(ctx, s.writer, nil, fn)
}

// micros is how times are stored: UTC Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// dbError maps a driver error to a domain error: a missing row to ENOTFOUND
// (with notFound as the message), a unique or primary-key violation to
// ECONFLICT, a foreign-key violation to ENOTFOUND (missingRef as the message),
// a busy database to EUNAVAILABLE. Other errors are wrapped with op.
func dbError(err error, op, notFound, missingRef string) error {
	if err == nil {
		return nil
	}
	var herr *hotpath.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return hotpath.WrapError(hotpath.ENOTFOUND, err, "%s", notFound)
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch serr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return hotpath.WrapError(hotpath.ECONFLICT, err, "%s: already exists", op)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return hotpath.WrapError(hotpath.ENOTFOUND, err, "%s", missingRef)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return hotpath.WrapError(hotpath.EINVALID, err, "%s: invalid value", op)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_BUSY_TIMEOUT:
			return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "metadata store busy")
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
