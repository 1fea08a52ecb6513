package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/nats"
)

// queueURL is the --queue value with the embedded server's store under
// dataDir unless the value names its own dir=.
func queueURL(raw, dataDir string) string {
	if !embeddedQueue(raw) {
		return raw
	}
	base, query, _ := strings.Cut(raw, "?")
	if params, err := url.ParseQuery(query); err == nil && params.Has("dir") {
		return raw
	}
	if base == "" {
		base = "embedded"
	}
	if query != "" {
		query += "&"
	}
	return base + "?" + query + "dir=" + url.QueryEscape(dataDir)
}

// openNATSQueue opens the queue a --queue value names (nats.ParseURL says
// how), its embedded store under dataDir, logging to logger.
func openNATSQueue(ctx context.Context, raw, dataDir string, logger *slog.Logger) (hotpath.Queue, error) {
	c, err := nats.ParseURL(queueURL(raw, dataDir))
	if err != nil {
		return nil, Usagef("--queue: %s", hotpath.ErrorMessage(err))
	}
	c.Logger = logger.With("component", "queue")
	q, err := nats.New(ctx, c)
	if err != nil {
		return nil, err
	}
	if u := q.ClientURL(); embeddedQueue(raw) && u != "" {
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
