// Package nats implements hotpath.Queue on NATS JetStream: an in-process
// nats-server with JetStream for the embedded shape, or an external nats://
// cluster for the scale-out shape. Jobs live in a work-queue stream and are
// pulled by one durable consumer that every worker process shares, so each job
// goes to one worker at a time and is removed once acknowledged.
package nats

import (
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// Config says which broker to use and how jobs are delivered.
type Config struct {
	// URL is a nats:// URL of an external server or cluster; "" or
	// "embedded" starts an in-process server.
	URL string
	// DataDir holds the embedded server's file store (under DataDir/nats).
	DataDir string
	// Listen is the host:port the embedded server accepts clients on, so
	// that worker processes on this machine can join; "" picks a free
	// loopback port and "none" accepts in-process clients only.
	Listen string
	// MaxMemory and MaxStore bound the embedded server's JetStream memory
	// and file storage, in bytes. The stream itself is bounded by MaxStore
	// for external servers too.
	MaxMemory, MaxStore int64
	// Stream and Subject name the work-queue stream and the subject jobs
	// are published on.
	Stream, Subject string
	// Consumer is the durable pull consumer every worker shares.
	Consumer string
	// MaxDeliver is how many runs of a job may fail for a reason other than
	// an unavailable backend before the handler fails it for good
	// (hotpath.Delivery.MaxFailures). The consumer itself redelivers without
	// limit, so that an outage, however long, never uses it up.
	MaxDeliver int
	// AckWait is how long a delivery may go without an ack or an
	// in-progress heartbeat before it is redelivered: the time it takes to
	// notice that a worker died.
	AckWait time.Duration
	// RetryDelay is the first delay before a failed job is redelivered; it
	// doubles on each delivery up to MaxRetryDelay, where it stays for as
	// long as the job keeps failing (a backend that is down).
	RetryDelay, MaxRetryDelay time.Duration
	// Logger receives the embedded server's warnings and the consumer's
	// errors; nil uses slog.Default().
	Logger *slog.Logger
}

// Defaults for fields left zero.
const (
	DefaultStream        = "HOTPATH_JOBS"
	DefaultSubject       = "hotpath.jobs"
	DefaultConsumer      = "hotpath-workers"
	DefaultMaxDeliver    = 5
	DefaultAckWait       = 30 * time.Second
	DefaultRetryDelay    = time.Second
	DefaultMaxRetryDelay = 30 * time.Second
	DefaultMaxMemory     = 64 << 20
	DefaultMaxStore      = 1 << 30
)

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	orDefault(&c.URL, "embedded")
	orDefault(&c.Stream, DefaultStream)
	orDefault(&c.Subject, DefaultSubject)
	orDefault(&c.Consumer, DefaultConsumer)
	orDefault(&c.MaxDeliver, DefaultMaxDeliver)
	orDefault(&c.AckWait, DefaultAckWait)
	orDefault(&c.RetryDelay, DefaultRetryDelay)
	orDefault(&c.MaxRetryDelay, DefaultMaxRetryDelay)
	orDefault(&c.MaxMemory, DefaultMaxMemory)
	orDefault(&c.MaxStore, DefaultMaxStore)
	orDefault(&c.Logger, slog.Default())
	return c
}

// orDefault sets *field to def when it holds its zero value.
func orDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Embedded reports whether c asks for an in-process server.
func (c Config) Embedded() bool { return c.URL == "" || c.URL == "embedded" }

var streamName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate checks c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Embedded() && c.DataDir == "":
		return hotpath.Errorf(hotpath.EINVALID, "queue: the embedded NATS server needs a data directory")
	case !c.Embedded() && !strings.HasPrefix(c.URL, "nats://") && !strings.HasPrefix(c.URL, "tls://"):
		return hotpath.Errorf(hotpath.EINVALID, "queue: %q is neither \"embedded\" nor a nats:// URL", c.URL)
	case !streamName.MatchString(c.Stream):
		return hotpath.Errorf(hotpath.EINVALID, "queue: stream name %q may hold only letters, digits, - and _", c.Stream)
	case !streamName.MatchString(c.Consumer):
		return hotpath.Errorf(hotpath.EINVALID, "queue: consumer name %q may hold only letters, digits, - and _", c.Consumer)
	case strings.ContainsAny(c.Subject, " *>") || c.Subject == "":
		return hotpath.Errorf(hotpath.EINVALID, "queue: subject %q must be a literal subject", c.Subject)
	case c.MaxDeliver < 1:
		return hotpath.Errorf(hotpath.EINVALID, "queue: max deliveries must be at least 1")
	case c.AckWait < 100*time.Millisecond:
		return hotpath.Errorf(hotpath.EINVALID, "queue: ack wait must be at least 100ms")
	case c.RetryDelay < 0 || c.MaxRetryDelay < c.RetryDelay:
		return hotpath.Errorf(hotpath.EINVALID, "queue: retry delays must be positive and the maximum at least the first")
	case c.MaxMemory < 0 || c.MaxStore < 0:
		return hotpath.Errorf(hotpath.EINVALID, "queue: memory and storage limits must be positive")
	}
	return nil
}

// ParseURL reads a queue URL into a Config:
//
//	embedded?dir=./data[&listen=127.0.0.1:4223&max_memory=67108864&max_store=1073741824]
//	nats://host:4222[,nats://host2:4222][?stream=S&subject=s&consumer=c&max_deliver=5&ack_wait=30s]
//
// The query parameters (stream, subject, consumer, max_deliver, ack_wait,
// retry_delay, max_retry_delay, and for embedded also dir, listen,
// max_memory, max_store) tune the queue; the rest of a nats:// URL is passed
// to the client verbatim. max_deliver is the failures a job may have;
// failures because a backend is down do not count, and a job failing for
// that reason is retried every max_retry_delay (default 30s) until the
// backend is back. The embedded server listens to in-process clients only unless
// listen= asks for a port: its process consumes its own jobs, and an open
// port would take jobs from anyone on the machine. Logger is left nil
// (slog.Default), for the caller to set.
func ParseURL(rawURL string) (Config, error) {
	base, query, _ := strings.Cut(rawURL, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return Config{}, hotpath.Errorf(hotpath.EINVALID, "queue %q: bad query: %v", rawURL, err)
	}
	c := Config{URL: base}
	if c.Embedded() {
		c.URL, c.Listen = "embedded", "none"
	}
	for name, values := range params {
		v := values[len(values)-1]
		var perr error
		switch name {
		case "dir":
			c.DataDir = v
		case "stream":
			c.Stream = v
		case "subject":
			c.Subject = v
		case "consumer":
			c.Consumer = v
		case "listen":
			c.Listen = v
		case "max_deliver":
			c.MaxDeliver, perr = strconv.Atoi(v)
		case "ack_wait":
			c.AckWait, perr = time.ParseDuration(v)
		case "retry_delay":
			c.RetryDelay, perr = time.ParseDuration(v)
		case "max_retry_delay":
			c.MaxRetryDelay, perr = time.ParseDuration(v)
		case "max_memory":
			c.MaxMemory, perr = strconv.ParseInt(v, 10, 64)
		case "max_store":
			c.MaxStore, perr = strconv.ParseInt(v, 10, 64)
		default:
			return c, hotpath.Errorf(hotpath.EINVALID, "queue %q: unknown parameter %q", rawURL, name)
		}
		if perr != nil {
			return c, hotpath.Errorf(hotpath.EINVALID, "queue %q: %s=%q: %v", rawURL, name, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return c, hotpath.Errorf(hotpath.EINVALID, "queue %q: %s", rawURL, hotpath.ErrorMessage(err))
	}
	return c, nil
}
