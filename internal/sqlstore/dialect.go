package sqlstore

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// Dialect is what differs between the SQL stores under one query: how
// parameters are written, how times are stored, and how driver errors map to
// domain errors. Queries are written once, with ? placeholders, and run on
// database/sql (SQLite's driver, or pgx's stdlib driver for PostgreSQL).
type Dialect struct {
	// Numbered makes Rebind write PostgreSQL's $1, $2, … for the ?s.
	Numbered bool
	// UnixMicros stores times as integer Unix microseconds (SQLite) rather
	// than as timestamps (PostgreSQL).
	UnixMicros bool
	// ReadTx are the options of a read transaction: one snapshot.
	ReadTx *sql.TxOptions
	// Err maps a driver error to a domain error: a missing row to ENOTFOUND
	// (notFound the message), a taken key to ECONFLICT, a missing reference
	// to ENOTFOUND (missingRef the message); op names the call.
	Err func(err error, op, notFound, missingRef string) error
}

// Rebind rewrites the ? placeholders of q for the dialect. The queries of
// this package hold no ? inside literals.
func (d Dialect) Rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteString("$" + strconv.Itoa(n))
		q = q[i+1:]
	}
}

// TimeArg is t as a query parameter.
func (d Dialect) TimeArg(t time.Time) any {
	if d.UnixMicros {
		return t.UnixMicro()
	}
	return t
}

// Time scans a stored time into *T, whichever way the dialect stores it, as
// UTC.
type Time struct{ T *time.Time }

var _ sql.Scanner = Time{}

// Scan implements sql.Scanner.
func (t Time) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*t.T = time.UnixMicro(v).UTC()
	case time.Time:
		*t.T = v.UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

// NullTimeArg is t as a query parameter, NULL when t is nil.
func (d Dialect) NullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.TimeArg(*t)
}

// NullTime scans a stored time that may be NULL into *T: nil for NULL, else
// the time in UTC.
type NullTime struct{ T **time.Time }

var _ sql.Scanner = NullTime{}

// Scan implements sql.Scanner.
func (t NullTime) Scan(src any) error {
	if src == nil {
		*t.T = nil
		return nil
	}
	var at time.Time
	if err := (Time{&at}).Scan(src); err != nil {
		return err
	}
	*t.T = &at
	return nil
}

// MustAffect is ENOTFOUND (notFound the message) when res changed no row.
func MustAffect(res sql.Result, notFound string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return hotpath.Errorf(hotpath.ENOTFOUND, "%s", notFound)
	}
	return nil
}
