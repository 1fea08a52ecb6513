package nats

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hotpath/hotpath"
)

// Queue is a hotpath.Queue on a JetStream work-queue stream.
type Queue struct {
	cfg      Config
	ns       *server.Server // nil for an external server
	nc       *natsclient.Conn
	js       jetstream.JetStream
	consumer jetstream.Consumer
}

var _ hotpath.Queue = (*Queue)(nil)

// pollWait bounds one pull request, so that an idle consumer re-polls and
// notices a lost connection.
const pollWait = 5 * time.Second

// Open opens the queue a URL names (see ParseURL).
func Open(ctx context.Context, rawURL string) (*Queue, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(ctx, c)
}

// New connects to the broker c names (starting it when embedded) and
// creates or updates the stream and the durable consumer.
func New(ctx context.Context, c Config) (*Queue, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	q := &Queue{cfg: c}
	opts := []natsclient.Option{
		natsclient.Name("hotpath"),
		natsclient.MaxReconnects(-1),
		natsclient.ReconnectWait(250 * time.Millisecond),
		natsclient.ErrorHandler(func(_ *natsclient.Conn, _ *natsclient.Subscription, err error) {
			c.Logger.Warn("nats: async error", "err", err)
		}),
	}
	url := c.URL
	if c.Embedded() {
		ns, err := startServer(c)
		if err != nil {
			return nil, err
		}
		q.ns = ns
		url = ""
		opts = append(opts, natsclient.InProcessServer(ns))
	}
	nc, err := natsclient.Connect(url, opts...)
	if err != nil {
		q.Close()
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "queue: cannot connect to NATS")
	}
	q.nc = nc
	if q.js, err = jetstream.New(nc); err != nil {
		q.Close()
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "queue: JetStream")
	}
	if err := q.setup(ctx); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

// setup creates or updates the work-queue stream and the shared durable pull
// consumer; many processes may run it at once.
func (q *Queue) setup(ctx context.Context) error {
	c := q.cfg
	stream, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        c.Stream,
		Subjects:    []string{q.jobSubject("*"), q.probeSubject()},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxBytes:    c.MaxStore,
		Discard:     jetstream.DiscardNew,
		Duplicates:  2 * time.Minute,
		Description: "hotpath background jobs",
	})
	if err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "queue: cannot create stream %s", c.Stream)
	}
	q.consumer, err = stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       c.Consumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    -1, // an outage must not use up a job's deliveries: the handler counts its failures
		FilterSubject: q.jobSubject("*"),
		MaxAckPending: 10000,
		Description:   "hotpath workers",
	})
	if err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "queue: cannot create consumer %s", c.Consumer)
	}
	return nil
}

// jobSubject is the subject job id is published on: one subject per job,
// so that whether a job's message is still in the stream can be asked
// (Holds) without reading the stream.
func (q *Queue) jobSubject(id string) string { return q.cfg.Subject + ".job." + id }

// probeSubject is where Ping writes a message (removed at once) to check
// that the stream still stores; no consumer reads it.
func (q *Queue) probeSubject() string { return q.cfg.Subject + ".probe" }

// ClientURL is the URL other processes connect to: the external URL, or the
// embedded server's loopback listener ("" when it accepts in-process clients only).
func (q *Queue) ClientURL() string {
	if q.ns == nil {
		return q.cfg.URL
	}
	if q.cfg.Listen == "none" {
		return ""
	}
	return q.ns.ClientURL()
}

// Enqueue publishes j and returns once the stream has stored it.
func (q *Queue) Enqueue(ctx context.Context, j *hotpath.Job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return hotpath.WrapError(hotpath.EINTERNAL, err, "queue: encode job")
	}
	// The message ID names this publish of the job: a publish retried
	// within two minutes is stored once, while a job run again (a retry
	// changes UpdatedAt) is a new message.
	msgID := j.ID + "." + strconv.FormatInt(j.UpdatedAt.UnixMicro(), 10)
	if _, err := q.js.Publish(ctx, q.jobSubject(j.ID), data, jetstream.WithMsgID(msgID)); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && strings.Contains(strings.ToLower(apiErr.Description), "maximum") {
			return hotpath.WrapError(hotpath.EBUSY, err, "job queue is full, retry later")
		}
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
	}
	return nil
}

// Consume runs h on deliveries, at most concurrency at once, until ctx is
// done; then it waits for running handlers, whose context is ctx, and
// returns nil. Each of the concurrency loops pulls one message only when it
// is free, so no message waits unworked in a local buffer while its ack
// deadline runs.
func (q *Queue) Consume(ctx context.Context, concurrency int, h hotpath.JobHandler) error {
	if concurrency < 1 {
		return hotpath.Errorf(hotpath.EINVALID, "queue: concurrency must be at least 1")
	}
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() { q.pullLoop(ctx, h) })
	}
	wg.Wait()
	return nil
}

// pullLoop pulls and handles one message at a time until ctx is done.
func (q *Queue) pullLoop(ctx context.Context, h hotpath.JobHandler) {
	failures := 0
	for ctx.Err() == nil {
		pullCtx, cancel := context.WithTimeout(ctx, pollWait)
		msg, err := q.consumer.Next(jetstream.FetchContext(pullCtx))
		cancel()
		switch {
		case err == nil:
			failures = 0
			q.handle(ctx, msg, h)
		case ctx.Err() != nil:
			return
		case errors.Is(err, natsclient.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
			// An idle poll: pull again.
		default:
			failures++
			q.cfg.Logger.Warn("queue: pull failed", "err", err, "failures", failures)
			select {
			case <-ctx.Done():
			case <-time.After(min(time.Duration(failures)*250*time.Millisecond, 5*time.Second)):
			}
		}
	}
}

// handle runs h on one message while sending in-progress heartbeats, then
// acks it (h returned nil) or naks it with a backoff (h failed: the queue
// delivers it again, however many times it takes).
func (q *Queue) handle(ctx context.Context, msg jetstream.Msg, h hotpath.JobHandler) {
	log := q.cfg.Logger
	meta, err := msg.Metadata()
	if err != nil {
		log.Error("queue: message without metadata", "err", err)
		_ = msg.Term()
		return
	}
	var job hotpath.Job
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		log.Error("queue: undecodable job dropped", "err", err, "stream_seq", meta.Sequence.Stream)
		_ = msg.TermWithReason("undecodable job")
		return
	}
	d := hotpath.Delivery{Job: &job, Attempt: int(meta.NumDelivered), MaxFailures: q.cfg.MaxDeliver}

	stop := make(chan struct{})
	var beats sync.WaitGroup
	beats.Go(func() {
		t := time.NewTicker(q.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					log.Warn("queue: in-progress heartbeat failed", "job", job.ID, "err", err)
				}
			}
		}
	})
	herr := runHandler(ctx, h, d)
	close(stop)
	beats.Wait()

	switch {
	case herr == nil:
		ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := msg.DoubleAck(ackCtx); err != nil {
			// The job's results are stored; the message comes back after
			// AckWait and the idempotent handler finds the work done.
			log.Warn("queue: ack failed, the job will be redelivered", "job", job.ID, "err", err)
		}
	default:
		delay := q.retryDelay(d.Attempt)
		if ctx.Err() != nil {
			delay = 0 // shutting down: let another worker take it now
		}
		log.Info("queue: job failed, will retry", "job", job.ID, "attempt", d.Attempt, "retry_in", delay, "err", herr)
		if err := msg.NakWithDelay(delay); err != nil {
			log.Warn("queue: nak failed, the job will be redelivered after the ack wait", "job", job.ID, "err", err)
		}
	}
}

// runHandler calls h, turning a panic into an error so that one bad job
// cannot take the worker down.
func runHandler(ctx context.Context, h hotpath.JobHandler, d hotpath.Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = hotpath.Errorf(hotpath.EINTERNAL, "job handler panicked: %v", r)
		}
	}()
	return h(ctx, d)
}

// retryDelay is the backoff before redelivering after the attempt-th failure.
func (q *Queue) retryDelay(attempt int) time.Duration {
	d := q.cfg.RetryDelay
	for i := 1; i < attempt && d < q.cfg.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, q.cfg.MaxRetryDelay)
}

// Ping checks that the broker answers and that the stream still stores a
// message: it writes one on the probe subject and removes it. A stream
// whose file store broke (a full disk, no file descriptors left) answers
// its info but refuses writes, and only a write shows it.
func (q *Queue) Ping(ctx context.Context) error {
	if q.nc == nil || !q.nc.IsConnected() {
		return hotpath.Errorf(hotpath.EUNAVAILABLE, "job queue not connected")
	}
	ack, err := q.js.Publish(ctx, q.probeSubject(), nil)
	if err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue does not store messages")
	}
	stream, err := q.js.Stream(ctx, q.cfg.Stream)
	if err == nil {
		err = stream.DeleteMsg(ctx, ack.Sequence)
	}
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
	}
	return nil
}

// Holds reports whether the stream still holds a message of job id, waiting
// or being worked on: a job the metadata store says is queued or running but
// the stream does not hold was lost by the queue (or never published) and
// must be published again (pipeline.Reconciler).
func (q *Queue) Holds(ctx context.Context, id string) (bool, error) {
	stream, err := q.js.Stream(ctx, q.cfg.Stream)
	if err != nil {
		return false, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
	}
	_, err = stream.GetLastMsgForSubject(ctx, q.jobSubject(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return false, nil
	}
	return false, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
}

// Pending returns how many jobs wait in the stream (queued or in flight),
// for metrics and tests.
func (q *Queue) Pending(ctx context.Context) (uint64, error) {
	s, err := q.js.Stream(ctx, q.cfg.Stream)
	if err != nil {
		return 0, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "job queue unavailable")
	}
	return info.State.Msgs, nil
}

// DeleteStream removes the stream and its consumer, for tests that use a
// stream of their own on a shared server.
func (q *Queue) DeleteStream(ctx context.Context) error {
	if err := q.js.DeleteStream(ctx, q.cfg.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "queue: delete stream %s", q.cfg.Stream)
	}
	return nil
}

// Close disconnects and, when embedded, shuts the server down.
func (q *Queue) Close() error {
	if q.nc != nil {
		q.nc.Close()
	}
	if q.ns != nil {
		q.ns.Shutdown()
		q.ns.WaitForShutdown()
	}
	return nil
}
