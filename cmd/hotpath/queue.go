package main

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath/nats"
)

// queueConfig reads a --queue value into the NATS queue's configuration:
//
//	embedded[?listen=127.0.0.1:4223&max_memory=67108864&max_store=1073741824]
//	nats://host:4222[,nats://host2:4222][?stream=S&subject=s&consumer=c&max_deliver=5&ack_wait=30s]
//
// The query parameters (stream, subject, consumer, max_deliver, ack_wait,
// retry_delay, max_retry_delay, and for embedded also listen, max_memory,
// max_store) tune the queue; the rest of a nats:// URL is passed to the
// client verbatim. max_deliver is the failures a job may have; failures
// because a backend is down do not count, and a job failing for that reason
// is retried every max_retry_delay (default 30s) until the backend is back.
func queueConfig(raw, dataDir string, logger *slog.Logger) (nats.Config, error) {
	base, query, _ := strings.Cut(raw, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return nats.Config{}, Usagef("--queue %q: bad query: %v", raw, err)
	}
	c := nats.Config{URL: base, DataDir: dataDir, Logger: logger.With("component", "queue")}
	if base == "" || base == "embedded" {
		// In-process clients only unless listen= asks for a port: serve
		// consumes its own jobs, and an open port would take jobs from anyone
		// on the machine.
		c.URL, c.Listen = "embedded", "none"
	}
	for name, values := range params {
		v := values[len(values)-1]
		var perr error
		switch name {
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
			return c, Usagef("--queue %q: unknown parameter %q", raw, name)
		}
		if perr != nil {
			return c, Usagef("--queue %q: %s=%q: %v", raw, name, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return c, Usagef("--queue %q: %s", raw, err.Error())
	}
	return c, nil
}

// openNATSQueue opens the queue a --queue value names.
func openNATSQueue(ctx context.Context, raw, dataDir string, logger *slog.Logger) (*nats.Queue, error) {
	c, err := queueConfig(raw, dataDir, logger)
	if err != nil {
		return nil, err
	}
	q, err := nats.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	if u := q.ClientURL(); c.Embedded() && u != "" {
		logger.Info("embedded job queue accepts workers", "client_url", u)
	}
	return q, nil
}

// embeddedQueue reports whether a --queue value names the in-process server,
// whose jobs serve runs itself.
func embeddedQueue(raw string) bool {
	base, _, _ := strings.Cut(raw, "?")
	return base == "" || base == "embedded"
}
