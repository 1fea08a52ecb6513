package http

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// limitedServer starts h behind a ConnLimiter of limit connections.
func limitedServer(t *testing.T, limit int, h http.Handler) (*httptest.Server, *ConnLimiter) {
	t.Helper()
	c := NewConnLimiter(limit)
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = c.Listener(ts.Listener)
	ts.Config.ConnState = c.ConnState
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, c
}

// dial opens a raw connection to ts that sends nothing.
func dial(t *testing.T, ts *httptest.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestConnLimiterReapsIdleFirst: a flood of connections that send nothing
// fills the cap, and a real client is still served, in place of the longest
// idle one; the count of open connections never passes the cap. Without the
// limiter every idle socket holds a descriptor until the header timeout.
func TestConnLimiterReapsIdleFirst(t *testing.T) {
	ts, c := limitedServer(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	var flood []net.Conn
	for range 8 {
		flood = append(flood, dial(t, ts))
	}
	waitFor(t, "the flood to be accepted", func() bool { return c.Open() == 4 })
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	for i := range 3 {
		resp, err := client.Get(ts.URL)
		if err != nil {
			t.Fatalf("request %d during the idle flood: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("request %d: %q", i, body)
		}
		if n := c.Open(); n > 4 {
			t.Fatalf("%d connections open, cap 4", n)
		}
	}
	// The oldest of the flood were closed to make room.
	flood[0].SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := flood[0].Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("the longest idle connection is still open (read: %v)", err)
	}
}

// TestConnLimiterRefusesWhenAllBusy: when every connection is in a request,
// a new one is closed at once instead of waiting for a descriptor.
func TestConnLimiterRefusesWhenAllBusy(t *testing.T) {
	release := make(chan struct{})
	ts, c := limitedServer(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer close(release)
	for range 2 {
		conn := dial(t, ts)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	waitFor(t, "two busy connections", func() bool { return c.Open() == 2 })
	time.Sleep(50 * time.Millisecond) // both requests read: active
	conn := dial(t, ts)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("a connection past the cap was not closed (read: %v)", err)
	}
}

// TestMinBodyRateCutsTrickle: a body that stalls is cut after a window, and
// the handler's read fails; a body at a normal rate is read whole.
func TestMinBodyRateCutsTrickle(t *testing.T) {
	got := make(chan error, 2)
	h := MinBodyRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
	}), 1000, 300*time.Millisecond)
	ts := httptest.NewServer(h)
	defer ts.Close()

	conn := dial(t, ts)
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("a stalled body was read without error")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a stalled body was not cut within 3 s (window 300 ms)")
	}

	resp, err := http.Post(ts.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-got; err != nil {
		t.Errorf("a body at full speed failed: %v", err)
	}
}

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
