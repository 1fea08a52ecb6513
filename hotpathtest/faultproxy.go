package hotpathtest

import (
	"net"
	"sync"
	"time"
)

// FaultProxy is a TCP proxy in front of a real backend (PostgreSQL, Redis,
// NATS, S3) that a test can take down and bring back, so that an outage of a
// shared server can be played without touching the server: Refuse closes its
// port and resets every connection (a crashed or stopped server), Blackhole
// keeps the port but forwards nothing (a network partition or a frozen
// server), Restore forwards again on the same address.
type FaultProxy struct {
	// Addr is the host:port clients connect to.
	Addr   string
	target string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	blocked chan struct{} // closed while traffic flows; replaced by an open one while blackholed
	closed  bool
	wg      sync.WaitGroup
}

// NewFaultProxy starts a proxy on a free loopback port that forwards to target.
func NewFaultProxy(target string) (*FaultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	flowing := make(chan struct{})
	close(flowing)
	p := &FaultProxy{Addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}, blocked: flowing}
	p.serve(ln)
	return p, nil
}

// serve accepts on ln until it is closed.
func (p *FaultProxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

// pipe forwards one client connection to the target until either side ends
// or the proxy refuses.
func (p *FaultProxy) pipe(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	p.wait()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(server) {
		server.Close()
		client.Close()
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	forward := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.wait()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go forward(server, client)
	go forward(client, server)
	<-done
	<-done
}

// wait blocks while the proxy is blackholed.
func (p *FaultProxy) wait() {
	p.mu.Lock()
	gate := p.blocked
	p.mu.Unlock()
	<-gate
}

func (p *FaultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// Refuse closes the port and resets every open connection: new connections
// are refused until Restore.
func (p *FaultProxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.resetLocked()
}

// resetLocked closes every connection with a TCP reset.
func (p *FaultProxy) resetLocked() {
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// Blackhole keeps accepting connections but forwards no byte, old
// connections and new alike, until Restore.
func (p *FaultProxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.blocked:
		p.blocked = make(chan struct{})
	default: // already blackholed
	}
}

// Restore forwards traffic again, listening anew on the same address after
// Refuse. Connections stalled by Blackhole resume.
func (p *FaultProxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.blocked:
	default:
		close(p.blocked)
	}
	if p.ln != nil || p.closed {
		return nil
	}
	var err error
	for range 50 { // the port was just released; the kernel may need a moment
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Close stops the proxy and every connection through it.
func (p *FaultProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	select {
	case <-p.blocked:
	default:
		close(p.blocked)
	}
	p.resetLocked()
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}
