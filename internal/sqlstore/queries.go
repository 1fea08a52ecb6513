package sqlstore

import "database/sql"

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
