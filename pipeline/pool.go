package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/hotpath/hotpath"
)

// Pool runs CPU-heavy work (decodes, resizes, encodes) on at most Workers
// goroutines at once, with at most QueueSize more callers waiting. A caller
// past the queue gets EBUSY at once, so that the HTTP layer can answer 429
// instead of letting memory grow with the number of requests.
type Pool struct {
	slots    chan struct{} // one token per running job
	capacity int64         // workers + queue
	admitted atomic.Int64  // running + waiting
	running  atomic.Int64
}

// NewPool returns a pool of workers goroutines with a queue of queueSize.
// workers below 1 means 1; queueSize below 0 means 0.
func NewPool(workers, queueSize int) *Pool {
	workers = max(workers, 1)
	queueSize = max(queueSize, 0)
	return &Pool{slots: make(chan struct{}, workers), capacity: int64(workers + queueSize)}
}

// Do runs fn on a worker once one is free. It returns EBUSY without running
// fn when the queue is full, and ctx's error (as EUNAVAILABLE) when ctx ends
// while waiting.
func (p *Pool) Do(ctx context.Context, fn func() error) error {
	if p.admitted.Add(1) > p.capacity {
		p.admitted.Add(-1)
		return hotpath.Errorf(hotpath.EBUSY, "the server is busy, retry later")
	}
	defer p.admitted.Add(-1)
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return hotpath.WrapError(hotpath.EUNAVAILABLE, ctx.Err(), "request ended while waiting for a worker")
	}
	p.running.Add(1)
	defer func() {
		p.running.Add(-1)
		<-p.slots
	}()
	return fn()
}

// Workers returns the number of jobs that may run at once.
func (p *Pool) Workers() int { return cap(p.slots) }

// Running returns the number of jobs running now.
func (p *Pool) Running() int { return int(p.running.Load()) }

// Waiting returns the number of callers queued for a worker: the queue depth.
func (p *Pool) Waiting() int {
	return max(int(p.admitted.Load()-p.running.Load()), 0)
}

// Full reports whether a new caller would get EBUSY now. Callers use it to
// refuse work before reading a large body they could not process anyway.
func (p *Pool) Full() bool { return p.admitted.Load() >= p.capacity }
