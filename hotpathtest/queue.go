package hotpathtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// Delivery settings that queues handed to TestQueue must use, so that the
// suite knows how long to wait for redeliveries.
const (
	// QueueMaxDeliver is the failures a job may have (Delivery.MaxFailures).
	QueueMaxDeliver = 3
	// QueueAckWait is how long an unacknowledged delivery waits before it is
	// redelivered.
	QueueAckWait = time.Second
	// QueueRetryDelay is the first delay before a failed job comes back; it
	// must stay short (≤ 100 ms) for the suite to run quickly.
	QueueRetryDelay = 50 * time.Millisecond
	// QueueMaxRetryDelay caps the delay however often a job fails.
	QueueMaxRetryDelay = 4 * QueueRetryDelay
)

// TestQueue runs the hotpath.Queue contract against the queues open returns.
//
// open(t) must return a queue on a stream and consumer of t's own, configured
// with QueueMaxDeliver, QueueAckWait, QueueRetryDelay and QueueMaxRetryDelay, and closed when t
// ends. Calling open again with the same t must return another client of the
// same stream and consumer, as a second process would be, and closing that
// client must not stop the first.
func TestQueue(t *testing.T, open func(t *testing.T) hotpath.Queue) {
	t.Run("EnqueueConsume", func(t *testing.T) { testQueueEnqueueConsume(t, open) })
	t.Run("AckRemoves", func(t *testing.T) { testQueueAckRemoves(t, open) })
	t.Run("ErrorRedelivers", func(t *testing.T) { testQueueErrorRedelivers(t, open) })
	t.Run("RetriesWithoutLimit", func(t *testing.T) { testQueueRetriesWithoutLimit(t, open) })
	t.Run("LongJobNotRedelivered", func(t *testing.T) { testQueueLongJob(t, open) })
	t.Run("ConcurrencyBound", func(t *testing.T) { testQueueConcurrency(t, open) })
	t.Run("CancelStops", func(t *testing.T) { testQueueCancel(t, open) })
	t.Run("NoLossAcrossRestart", func(t *testing.T) { testQueueRestart(t, open) })
	t.Run("ConsumerDiesMidJob", func(t *testing.T) { testQueueConsumerDies(t, open) })
	t.Run("TwoConsumersShare", func(t *testing.T) { testQueueShare(t, open) })
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// quiet is how long to watch for a delivery that must not come.
const quiet = 2*QueueAckWait + 4*QueueRetryDelay

// deliveryLog records deliveries by job ID, safely from many handlers.
type deliveryLog struct {
	mu     sync.Mutex
	byJob  map[string][]hotpath.Delivery
	total  int
	notify chan struct{}
}

func newDeliveryLog() *deliveryLog {
	return &deliveryLog{byJob: map[string][]hotpath.Delivery{}, notify: make(chan struct{}, 1)}
}

// add records d and wakes waiters.
func (l *deliveryLog) add(d hotpath.Delivery) {
	l.mu.Lock()
	l.byJob[d.Job.ID] = append(l.byJob[d.Job.ID], d)
	l.total++
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// deliveries returns a copy of the deliveries of job id.
func (l *deliveryLog) deliveries(id string) []hotpath.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hotpath.Delivery(nil), l.byJob[id]...)
}

// count returns how many deliveries were recorded.
func (l *deliveryLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// waitFor waits until cond holds, failing t after timeout.
func (l *deliveryLog) waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-l.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// startConsumer runs q.Consume in the background until the returned stop is
// called; stop waits for Consume to return and fails t on an error.
func startConsumer(t *testing.T, q hotpath.Queue, concurrency int, h hotpath.JobHandler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, concurrency, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Consume returned %v after cancel, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Consume did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// enqueueJobs enqueues n new variant jobs and returns them.
func enqueueJobs(t *testing.T, q hotpath.Queue, n int) []*hotpath.Job {
	t.Helper()
	jobs := make([]*hotpath.Job, n)
	for i := range jobs {
		jobs[i] = &hotpath.Job{
			ID: hotpath.NewID(), TenantID: "tenant-q", Kind: hotpath.JobVariants,
			ImageID: hotpath.NewID(), BatchID: "batch-q", Filename: fmt.Sprintf("file-%03d.jpg", i),
			State: hotpath.JobQueued, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		}
		if err := q.Enqueue(context.Background(), jobs[i]); err != nil {
			t.Fatalf("Enqueue job %d: %v", i, err)
		}
	}
	return jobs
}

// attempts lists the Attempt of each delivery.
func attempts(ds []hotpath.Delivery) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.Attempt
	}
	return out
}

func testQueueEnqueueConsume(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	jobs := enqueueJobs(t, q, 5)
	log := newDeliveryLog()
	startConsumer(t, q, 2, func(_ context.Context, d hotpath.Delivery) error { log.add(d); return nil })
	log.waitFor(t, 10*time.Second, "5 deliveries", func() bool { return log.count() >= 5 })
	for _, want := range jobs {
		ds := log.deliveries(want.ID)
		if len(ds) != 1 {
			t.Fatalf("job %s delivered %d times, want 1", want.ID, len(ds))
		}
		got := ds[0]
		if got.Attempt != 1 || got.MaxFailures != QueueMaxDeliver {
			t.Errorf("first delivery: Attempt=%d MaxFailures=%d, want 1 %d", got.Attempt, got.MaxFailures, QueueMaxDeliver)
		}
		j := got.Job
		if j.TenantID != want.TenantID || j.Kind != want.Kind || j.ImageID != want.ImageID ||
			j.BatchID != want.BatchID || j.Filename != want.Filename || !j.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("delivered job = %+v, want %+v", j, want)
		}
	}
}

func testQueueAckRemoves(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	jobs := enqueueJobs(t, q, 2)
	log := newDeliveryLog()
	stop := startConsumer(t, q, 1, func(_ context.Context, d hotpath.Delivery) error { log.add(d); return nil })
	log.waitFor(t, 10*time.Second, "2 deliveries", func() bool { return log.count() >= 2 })
	time.Sleep(quiet)
	stop()
	// A fresh client of the same consumer must find nothing either.
	again := newDeliveryLog()
	startConsumer(t, open(t), 1, func(_ context.Context, d hotpath.Delivery) error { again.add(d); return nil })
	time.Sleep(quiet)
	for _, j := range jobs {
		if got := len(log.deliveries(j.ID)) + len(again.deliveries(j.ID)); got != 1 {
			t.Errorf("acked job delivered %d times, want 1", got)
		}
	}
}

func testQueueErrorRedelivers(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	jobs := enqueueJobs(t, q, 1)
	log := newDeliveryLog()
	startConsumer(t, q, 1, func(_ context.Context, d hotpath.Delivery) error {
		log.add(d)
		if d.Attempt == 1 {
			return hotpath.Errorf(hotpath.EUNAVAILABLE, "store down")
		}
		return nil
	})
	log.waitFor(t, 10*time.Second, "a redelivery", func() bool { return log.count() >= 2 })
	time.Sleep(quiet)
	if got, want := fmt.Sprint(attempts(log.deliveries(jobs[0].ID))), "[1 2]"; got != want {
		t.Errorf("attempts = %s, want %s", got, want)
	}
}

// testQueueRetriesWithoutLimit fails a job far more often than
// QueueMaxDeliver, as a long outage would: the queue keeps delivering it,
// with delays capped at QueueMaxRetryDelay, until the handler succeeds.
func testQueueRetriesWithoutLimit(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	jobs := enqueueJobs(t, q, 1)
	log := newDeliveryLog()
	const failures = 3 * QueueMaxDeliver
	startConsumer(t, q, 1, func(_ context.Context, d hotpath.Delivery) error {
		log.add(d)
		if d.Attempt <= failures {
			return hotpath.Errorf(hotpath.EUNAVAILABLE, "store down")
		}
		return nil
	})
	start := time.Now()
	log.waitFor(t, 15*time.Second, "the delivery after the outage", func() bool {
		return len(log.deliveries(jobs[0].ID)) > failures
	})
	elapsed := time.Since(start)
	time.Sleep(quiet)
	want := make([]int, failures+1)
	for i := range want {
		want[i] = i + 1
	}
	if got := attempts(log.deliveries(jobs[0].ID)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("attempts = %v, want %v (redelivered past the failure budget, then acked once)", got, want)
	}
	if limit := time.Duration(failures)*QueueMaxRetryDelay + 2*QueueAckWait; elapsed > limit {
		t.Errorf("%d failures took %v to get past; capped delays allow %v", failures, elapsed, limit)
	}
}

func testQueueLongJob(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	jobs := enqueueJobs(t, q, 1)
	log := newDeliveryLog()
	startConsumer(t, q, 2, func(_ context.Context, d hotpath.Delivery) error {
		log.add(d)
		time.Sleep(3 * QueueAckWait) // a job longer than the ack wait, still alive
		return nil
	})
	log.waitFor(t, 10*time.Second, "the delivery", func() bool { return log.count() >= 1 })
	time.Sleep(3*QueueAckWait + quiet)
	if got := attempts(log.deliveries(jobs[0].ID)); len(got) != 1 {
		t.Errorf("a running job was redelivered: attempts %v, want [1]", got)
	}
}

func testQueueConcurrency(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	const n, limit = 12, 3
	enqueueJobs(t, q, n)
	var running, peak atomic.Int32
	log := newDeliveryLog()
	startConsumer(t, q, limit, func(_ context.Context, d hotpath.Delivery) error {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(60 * time.Millisecond)
		running.Add(-1)
		log.add(d)
		return nil
	})
	log.waitFor(t, 15*time.Second, fmt.Sprintf("%d deliveries", n), func() bool { return log.count() >= n })
	if got := peak.Load(); got > limit || got < 2 {
		t.Errorf("peak concurrent handlers = %d, want between 2 and %d", got, limit)
	}
}

func testQueueCancel(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	enqueueJobs(t, q, 1)
	started := make(chan struct{})
	var handlerDone, afterStop atomic.Bool
	var stopped atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, 2, func(hctx context.Context, d hotpath.Delivery) error {
			if stopped.Load() {
				afterStop.Store(true)
			}
			if d.Attempt == 1 {
				close(started)
				<-hctx.Done() // a long job, interrupted by the shutdown
				time.Sleep(100 * time.Millisecond)
				handlerDone.Store(true)
				return hctx.Err()
			}
			return nil
		})
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("job not delivered")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Consume = %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Consume did not return within 5s of cancel")
	}
	stopped.Store(true)
	if !handlerDone.Load() {
		t.Error("Consume returned before its running handler finished")
	}
	enqueueJobs(t, q, 2)
	time.Sleep(500 * time.Millisecond)
	if afterStop.Load() {
		t.Error("a handler ran after Consume returned")
	}
}

func testQueueRestart(t *testing.T, open func(*testing.T) hotpath.Queue) {
	q := open(t)
	const n = 10
	jobs := enqueueJobs(t, q, n)
	var acked sync.Map // job ID → *atomic.Int32 of successful handler runs
	ok := func(id string) {
		c, _ := acked.LoadOrStore(id, new(atomic.Int32))
		c.(*atomic.Int32).Add(1)
	}
	first := newDeliveryLog()
	blocked := make(chan struct{}, n)
	stop := startConsumer(t, q, 1, func(ctx context.Context, d hotpath.Delivery) error {
		first.add(d)
		if first.count() > 3 {
			blocked <- struct{}{}
			<-ctx.Done() // interrupted by the restart
			return ctx.Err()
		}
		ok(d.Job.ID)
		return nil
	})
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("first consumer never reached its fourth job")
	}
	stop()

	second := newDeliveryLog()
	startConsumer(t, open(t), 2, func(_ context.Context, d hotpath.Delivery) error {
		second.add(d)
		ok(d.Job.ID)
		return nil
	})
	second.waitFor(t, 15*time.Second, "the remaining jobs", func() bool {
		done := 0
		for _, j := range jobs {
			if _, found := acked.Load(j.ID); found {
				done++
			}
		}
		return done == n
	})
	time.Sleep(quiet)
	for _, j := range jobs {
		c, _ := acked.Load(j.ID)
		if got := c.(*atomic.Int32).Load(); got != 1 {
			t.Errorf("job %s completed %d times, want 1", j.Filename, got)
		}
	}
}

func testQueueConsumerDies(t *testing.T, open func(*testing.T) hotpath.Queue) {
	survivor := open(t)
	dying := open(t)
	jobs := enqueueJobs(t, survivor, 1)
	release := make(chan struct{})
	defer close(release)
	picked := make(chan hotpath.Delivery, 1)
	startConsumer(t, dying, 1, func(_ context.Context, d hotpath.Delivery) error {
		picked <- d
		<-release // hangs: the process is gone and will never ack
		return nil
	})
	select {
	case <-picked:
	case <-time.After(10 * time.Second):
		t.Fatal("job not delivered to the first consumer")
	}
	if err := dying.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	log := newDeliveryLog()
	start := time.Now()
	startConsumer(t, survivor, 1, func(_ context.Context, d hotpath.Delivery) error { log.add(d); return nil })
	log.waitFor(t, QueueAckWait+10*time.Second, "the redelivery", func() bool { return log.count() >= 1 })
	ds := log.deliveries(jobs[0].ID)
	if len(ds) != 1 || ds[0].Attempt != 2 {
		t.Errorf("redeliveries = %v attempts, want [2]", attempts(ds))
	}
	if waited := time.Since(start); waited > QueueAckWait+5*time.Second {
		t.Errorf("redelivery took %v, want about the ack wait %v", waited, QueueAckWait)
	}
}

func testQueueShare(t *testing.T, open func(*testing.T) hotpath.Queue) {
	a, b := open(t), open(t)
	const n = 40
	jobs := enqueueJobs(t, a, n)
	log := newDeliveryLog()
	var byA, byB atomic.Int32
	handler := func(counter *atomic.Int32) hotpath.JobHandler {
		return func(_ context.Context, d hotpath.Delivery) error {
			time.Sleep(15 * time.Millisecond)
			counter.Add(1)
			log.add(d)
			return nil
		}
	}
	startConsumer(t, a, 2, handler(&byA))
	startConsumer(t, b, 2, handler(&byB))
	log.waitFor(t, 20*time.Second, fmt.Sprintf("%d deliveries", n), func() bool { return log.count() >= n })
	time.Sleep(quiet)
	var dup []string
	for _, j := range jobs {
		if c := len(log.deliveries(j.ID)); c != 1 {
			dup = append(dup, fmt.Sprintf("%s×%d", j.Filename, c))
		}
	}
	sort.Strings(dup)
	if len(dup) > 0 {
		t.Errorf("jobs not delivered exactly once: %v", dup)
	}
	if byA.Load() == 0 || byB.Load() == 0 {
		t.Errorf("work split %d/%d, want both consumers to take some", byA.Load(), byB.Load())
	}
}
