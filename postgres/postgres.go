// Package postgres keeps hotpath's metadata in PostgreSQL through a pgx v5
// pool: the MetadataStore of the scale-out shape, shared by many serve and
// worker processes. Schema and behaviour match the SQLite store; both pass
// the same contract suite (hotpathtest.TestMetadataStore).
//
// Migrations are embedded and applied at Open in one transaction holding a
// transaction-scoped advisory lock (pg_advisory_xact_lock) keyed on the
// schema, so any number of processes may start at once: the first applies
// what is missing, the others wait for it and then find nothing to do.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ hotpath.MetadataStore = (*Store)(nil)

// dialect is how the shared queries (internal/sqlstore) run on PostgreSQL,
// through pgx's database/sql driver over the store's pool.
var dialect = sqlstore.Dialect{
	Numbered: true,
	ReadTx:   &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	Err:      dbError,
}

// Store is a hotpath.MetadataStore on a PostgreSQL database.
type Store struct {
	// Queries are the queries shared with SQLite (tenants, API keys, tenant
	// keys), run through db.
	*sqlstore.Queries

	pool  *pgxpool.Pool
	db    *sql.DB // database/sql over pool, for the shared queries
	clock sqlstore.Clock
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; search_path and other settings may be given as parameters),
// applies the migrations it lacks and returns the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included: keep it out of the message.
		return nil, hotpath.Errorf(hotpath.EINVALID, "postgres: the database URL is not valid")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "postgres: cannot connect")
	}
	s := &Store{pool: pool, db: stdlib.OpenDBFromPool(pool)}
	s.Queries = &sqlstore.Queries{Reader: s.db, Writer: s.db, Dialect: dialect, Clock: s.clock}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	err := s.db.Close()
	s.pool.Close()
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "metadata store unavailable")
	}
	return nil
}

// migrate applies the migrations not yet in schema_migrations, all in one
// transaction under an advisory lock on the current schema's name.
func (s *Store) migrate(ctx context.Context) error {
	list, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('hotpath.migrate.' || current_schema()))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		done := map[int]bool{}
		for _, v := range applied {
			done[int(v)] = true
		}
		for _, m := range list {
			if done[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// dbError maps a pgx error to a domain error: no row to ENOTFOUND (with
// notFound as the message), a unique violation to ECONFLICT, a foreign-key
// violation to ENOTFOUND (missingRef as the message), a check or not-null
// violation to EINVALID, and a server that cannot be reached or cannot serve
// now to EUNAVAILABLE (unavailable). Other errors are wrapped with op.
func dbError(err error, op, notFound, missingRef string) error {
	if err == nil {
		return nil
	}
	var herr *hotpath.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) {
		return hotpath.WrapError(hotpath.ENOTFOUND, err, "%s", notFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return hotpath.WrapError(hotpath.ECONFLICT, err, "%s: already exists", op)
		case "23503": // foreign_key_violation
			return hotpath.WrapError(hotpath.ENOTFOUND, err, "%s", missingRef)
		case "23514", "23502", "22001": // check, not null, string too long
			return hotpath.WrapError(hotpath.EINVALID, err, "%s: invalid value", op)
		}
	}
	if unavailable(err) {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "metadata store unavailable")
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err says the database cannot serve now rather
// than that the request is wrong: it cannot be reached (a refused, reset or
// timed-out connection, pgx's ConnectError), or it answers with a SQLSTATE
// of a server that is starting, stopping, overloaded, read-only or in
// recovery. Such errors end when the server is back, so callers retry them.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch class := pgErr.Code[:min(2, len(pgErr.Code))]; {
		case class == "08", // connection exception
			class == "53",         // insufficient resources: disk full, out of memory, too many connections
			class == "57",         // operator intervention: admin or crash shutdown, cannot connect now, query canceled
			class == "58",         // system error: I/O error
			class == "40",         // transaction rollback: serialization failure, deadlock
			pgErr.Code == "55000", // object not in prerequisite state (e.g. while the server recovers)
			pgErr.Code == "55006", // object in use
			pgErr.Code == "25006": // read-only transaction: a standby after a failover
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	}
	return false
}
