package http

import (
	"container/list"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ConnLimiter bounds the open connections of a server, so that a flood of
// idle or slow sockets cannot exhaust the process's file descriptors and
// starve real clients. Past the cap, a new connection first takes the place
// of the connection that has been idle longest (one that sent no request
// yet, or is between keep-alive requests); when every connection is busy
// with a request, the new one is closed at once. Install it with Listener
// and ConnState.
type ConnLimiter struct {
	max int

	mu    sync.Mutex
	open  int
	idle  *list.List // of net.Conn, longest idle first
	where map[net.Conn]*list.Element
}

// NewConnLimiter returns a limiter of limit open connections (at least 1).
func NewConnLimiter(limit int) *ConnLimiter {
	return &ConnLimiter{max: max(limit, 1), idle: list.New(), where: map[net.Conn]*list.Element{}}
}

// Listener wraps l so that its connections are counted and capped.
func (c *ConnLimiter) Listener(l net.Listener) net.Listener {
	return &limitedListener{Listener: l, c: c}
}

// Open returns the number of connections open now.
func (c *ConnLimiter) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// ConnState is the http.Server hook that tells the limiter which
// connections are idle (reapable) and which have closed.
func (c *ConnLimiter) ConnState(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateNew, http.StateIdle:
		c.markIdle(conn)
	case http.StateActive:
		c.unmarkIdle(conn)
	case http.StateClosed, http.StateHijacked:
		c.unmarkIdle(conn)
	}
}

func (c *ConnLimiter) markIdle(conn net.Conn) {
	if e, ok := c.where[conn]; ok {
		c.idle.MoveToBack(e)
		return
	}
	c.where[conn] = c.idle.PushBack(conn)
}

func (c *ConnLimiter) unmarkIdle(conn net.Conn) {
	if e, ok := c.where[conn]; ok {
		c.idle.Remove(e)
		delete(c.where, conn)
	}
}

// admit counts a new connection in, closing the longest idle one when at the
// cap; it reports false when every open connection is busy.
func (c *ConnLimiter) admit() bool {
	c.mu.Lock()
	if c.open < c.max {
		c.open++
		c.mu.Unlock()
		return true
	}
	e := c.idle.Front()
	if e == nil {
		c.mu.Unlock()
		return false
	}
	victim := e.Value.(net.Conn)
	c.idle.Remove(e)
	delete(c.where, victim)
	c.open++ // the victim's slot is given back when it closes
	c.mu.Unlock()
	victim.Close()
	return true
}

func (c *ConnLimiter) release() {
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
}

type limitedListener struct {
	net.Listener
	c *ConnLimiter
}

// Accept returns the next connection the limiter admits; refused ones are
// closed without a word (the cap is a resource limit, not an answer).
func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.c.admit() {
			conn.Close()
			continue
		}
		return &limitedConn{Conn: conn, c: l.c}, nil
	}
}

type limitedConn struct {
	net.Conn
	c    *ConnLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.c.release)
	return err
}

// MinBodyRate cuts request bodies that arrive slower than rate bytes per
// second, measured over windows of window: a client trickling an upload at
// a byte a second would otherwise hold a connection, a temp file and a
// descriptor for as long as it likes. A cut body fails its read, so the
// handler answers (or the connection closes) and removes what it spooled.
func MinBodyRate(h http.Handler, rate int64, window time.Duration) http.Handler {
	if rate <= 0 || window <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// net/http sets the deadlines of the connection's next request
			// itself; leaving this one in place also bounds the discard of
			// a body the handler did not read.
			b := &rateBody{ReadCloser: r.Body, rc: rc, need: int64(float64(rate) * window.Seconds()), window: window}
			if b.need < 1 {
				b.need = 1
			}
			b.start()
			r.Body = b
		}
		h.ServeHTTP(w, r)
	})
}

// rateBody extends its connection's read deadline by a window each time a
// window's worth of bytes has arrived.
type rateBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	need   int64 // bytes per window
	window time.Duration
	got    int64 // in this window
}

func (b *rateBody) start() {
	b.got = 0
	_ = b.rc.SetReadDeadline(time.Now().Add(b.window))
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.got += int64(n); b.got >= b.need {
		b.start()
	}
	return n, err
}
