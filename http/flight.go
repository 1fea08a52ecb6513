package http

import (
	"context"
	"sync"
)

// flights runs one piece of work per key for every caller that asks for it
// at once, as singleflight does, but the work's context ends when the last
// caller waiting for it has gone: a transform that every client abandoned
// stops (the engine kills libvips' evaluation) and frees its worker at once,
// while one that a single client left keeps running for the others.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one running piece of work and the callers waiting for it.
type flight struct {
	done    chan struct{}
	val     transformResult
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns the result of fn for key, running fn unless a flight for key is
// under way, in which case it waits for that one's result (shared is then
// true). When ctx ends first, do returns ctx's error at once, and fn's
// context ends if no other caller still waits. fn's context keeps ctx's
// values.
func (f *flights) do(ctx context.Context, key string, fn func(ctx context.Context) (transformResult, error)) (val transformResult, shared bool, err error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl, shared := f.m[key]
	if !shared {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		f.m[key] = fl
		go func() {
			defer cancel()
			fl.val, fl.err = fn(wctx)
			f.forget(key, fl)
			close(fl.done)
		}()
	}
	fl.waiters++
	f.mu.Unlock()
	select {
	case <-fl.done:
		return fl.val, shared, fl.err
	case <-ctx.Done():
		f.mu.Lock()
		if fl.waiters--; fl.waiters == 0 {
			fl.cancel()
			if f.m[key] == fl {
				delete(f.m, key) // a new caller starts afresh
			}
		}
		f.mu.Unlock()
		return transformResult{}, shared, ctx.Err()
	}
}

// forget removes fl from the running flights unless another took its key.
func (f *flights) forget(key string, fl *flight) {
	f.mu.Lock()
	if f.m[key] == fl {
		delete(f.m, key)
	}
	f.mu.Unlock()
}
