package main

import (
	"syscall"
	"time"
)

// ConnConfig bounds what connections may hold: how many are open, how long
// headers and idle keep-alives may take, how slowly a body may arrive.
type ConnConfig struct {
	// MaxConns caps open connections; 0 sizes it from the descriptor limit.
	MaxConns int `json:"max_conns"`
	// HeaderTimeout bounds the reading of a request's headers.
	HeaderTimeout Duration `json:"header_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout Duration `json:"idle_timeout"`
	// MinBodyRate is the slowest body in bytes per second over BodyRateWindow.
	MinBodyRate int64 `json:"min_body_rate"`
	// BodyRateWindow is the window MinBodyRate is measured over.
	BodyRateWindow Duration `json:"body_rate_window"`
}

// DefaultConnConfig returns the connection limits of an unconfigured
// server: headers within 10 s, keep-alives idle up to 30 s, bodies at least
// 1 KiB/s over 20 s windows, connections sized from the descriptor limit.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{
		HeaderTimeout:  Duration(10 * time.Second),
		IdleTimeout:    Duration(30 * time.Second),
		MinBodyRate:    1 << 10,
		BodyRateWindow: Duration(20 * time.Second),
	}
}

// maxConnsCap is the most connections a server sized from its descriptor
// limit accepts: beyond it memory, not descriptors, runs out first.
const maxConnsCap = 10_000

// raiseFileLimit raises the soft limit of open files to the hard one (Go
// does so at start since 1.19; this says so for older runtimes and tells the
// limit) and returns the soft limit in force.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// connLimit is MaxConns, or three quarters of the descriptor limit fds
// (the rest is for blobs, spool files, the database and the queue), at
// most maxConnsCap.
func (c ConnConfig) connLimit(fds uint64) int {
	if c.MaxConns > 0 {
		return c.MaxConns
	}
	return int(min(fds*3/4, maxConnsCap))
}
