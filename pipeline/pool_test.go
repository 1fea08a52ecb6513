package pipeline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/pipeline"
)

// TestPoolBoundsWorkAndQueue fills a pool of 2 workers and 1 queue slot:
// the fourth caller gets EBUSY at once, and the running count never passes
// the worker count.
func TestPoolBoundsWorkAndQueue(t *testing.T) {
	p := pipeline.NewPool(2, 1)
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.Do(context.Background(), func() error { <-release; return nil })
		}()
	}
	waitFor(t, func() bool { return p.Running() == 2 && p.Waiting() == 1 })
	if !p.Full() {
		t.Errorf("Full() = false with 2 running and 1 waiting, want true")
	}
	err := p.Do(context.Background(), func() error { t.Error("ran past a full queue"); return nil })
	if got := hotpath.ErrorCode(err); got != hotpath.EBUSY {
		t.Errorf("Do past the queue: code %q, want %q", got, hotpath.EBUSY)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("admitted Do: %v", err)
		}
	}
	if p.Running() != 0 || p.Waiting() != 0 || p.Full() {
		t.Errorf("after all done: running %d waiting %d full %v, want 0 0 false", p.Running(), p.Waiting(), p.Full())
	}
}

// TestPoolWaitEndsWithContext checks that a queued caller whose request ends
// stops waiting without running its work.
func TestPoolWaitEndsWithContext(t *testing.T) {
	p := pipeline.NewPool(1, 1)
	release := make(chan struct{})
	go p.Do(context.Background(), func() error { <-release; return nil })
	waitFor(t, func() bool { return p.Running() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.Do(ctx, func() error { t.Error("ran after its context ended"); return nil })
	if got := hotpath.ErrorCode(err); got != hotpath.EUNAVAILABLE {
		t.Errorf("code %q, want %q", got, hotpath.EUNAVAILABLE)
	}
	close(release)
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
