package sqlstore

import (
	"context"
	"database/sql"
)

// Queries are the queries both SQL stores share, written once with ?
// placeholders over database/sql and run in each store's Dialect. A store
// embeds them; what is left in the store is what only its database does.
type Queries struct {
	// Reader serves reads; Writer serves writes and the read of a row just
	// written. They are one pool where the database has one (PostgreSQL).
	Reader, Writer *sql.DB
	Dialect        Dialect
	Clock          Clock
}

// read runs fn in a read transaction on Reader, so that what it reads is one
// snapshot.
func (s *Queries) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return InTx(ctx, s.Reader, s.Dialect.ReadTx, fn)
}

// InTx runs fn in a transaction of db with opts, committed when fn returns
// nil and rolled back otherwise.
func InTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
