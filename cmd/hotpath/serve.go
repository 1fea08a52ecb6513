package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/pipeline"
)

func init() {
	register(command{Name: "serve", Summary: "run the image service (HTTP API)", Run: runServe})
}

const serveHelp = `Runs the image API. With nothing configured everything is embedded: blobs
on disk and metadata in SQLite under ./data. On the first start, with no API
key stored, it creates the tenant "default" and an admin API key and prints
the key once on stderr.

Every flag can also be set as HOTPATH_<FLAG> (HOTPATH_MAX_BYTES for
--max-bytes), or read from the file HOTPATH_<FLAG>_FILE names, or given in
the JSON file of --config.`

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", "[flags]", serveHelp)
	cfg, positional, err := loadConfig(env, fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return Usagef("unexpected argument %q", positional[0])
	}
	m := NewMain(cfg, env)
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down", "timeout", time.Duration(cfg.ShutdownTimeout).String())
	return m.Close()
}

// Main is a running `hotpath serve`: the backends, the pipeline and the HTTP
// server, wired from a Config. Tests run it for real on port 0 with a temp dir.
type Main struct {
	Config Config
	Env    *Env
	Logger *slog.Logger

	Blobs    hotpath.BlobStore
	Meta     hotpath.MetadataStore
	Cache    hotpath.Cache // nil: no cache
	Queue    hotpath.Queue // nil: uploads processed in their request
	Engine   hotpath.ImageEngine
	Pipeline *pipeline.Service
	API      *hphttp.Server
	// Jobs submits and runs background jobs; nil without a queue.
	Jobs *pipeline.Jobs

	// worker is set for `hotpath worker`, whose readiness needs the queue.
	worker bool

	// AdminKey is the admin API key created on the first start, "" otherwise.
	AdminKey string

	listener net.Listener
	conns    *hphttp.ConnLimiter
	server   *http.Server
	closers  []io.Closer // in opening order; closed in reverse
	served   chan error
	consumer *consumer // serve's own job consumer (embedded queue) or the worker's

	reconciler *consumer // the periodic pipeline.Reconcile
}

// NewMain returns a Main for cfg; env gives it its stderr (logs and the first
// admin key).
func NewMain(cfg Config, env *Env) *Main {
	level, _ := parseLogLevel(cfg.LogLevel)
	return &Main{
		Config: cfg,
		Env:    env,
		Logger: slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	}
}

// Run opens the backends, makes the first admin key if there is no key,
// and starts serving. It returns once the listener is bound; Close stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	m.Config = m.Config.withDefaults()
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if err := m.open(ctx); err != nil {
		return err
	}
	if err := m.bootstrap(ctx); err != nil {
		return err
	}
	if err := m.listen(m.Config.Addr, m.API); err != nil {
		return err
	}
	m.startReconciler()
	if embeddedQueue(m.Config.Queue) {
		m.startConsumer(0) // no separate worker in the embedded shape
	} else if scheme, _ := splitBackendURL(m.Config.Cache); scheme == "" || scheme == "mem" {
		m.Logger.Warn("a shared queue with a per-process cache: deletes through other serve processes are seen here only within the cache TTLs; use --cache redis://… for the scale-out shape",
			"image_ttl", m.Config.HTTP.Cache.ImageTTL.String(), "key_ttl", m.Config.HTTP.Cache.KeyTTL.String())
	}
	m.Logger.Info("listening", "url", m.URL(), "store", redactURL(m.Config.Store), "db", redactURL(m.Config.DB),
		"workers", m.Pipeline.Pool.Workers(), "version", hotpath.Version)
	return nil
}

// listen starts serving h on addr; Close stops it.
func (m *Main) listen(addr string, h http.Handler) (err error) {
	m.listener, err = net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cc := m.Config.Conns
	fds, err := raiseFileLimit()
	if err != nil {
		m.Logger.Warn("cannot read or raise the open file limit", "err", err)
		fds = 1024
	}
	m.conns = hphttp.NewConnLimiter(cc.connLimit(fds))
	m.Logger.Info("connection limits", "max_conns", cc.connLimit(fds), "open_files_limit", fds,
		"header_timeout", time.Duration(cc.HeaderTimeout).String(), "idle_timeout", time.Duration(cc.IdleTimeout).String(),
		"min_body_rate", cc.MinBodyRate, "body_rate_window", time.Duration(cc.BodyRateWindow).String())
	m.server = &http.Server{
		Handler:           hphttp.MinBodyRate(h, cc.MinBodyRate, time.Duration(cc.BodyRateWindow)),
		ReadHeaderTimeout: time.Duration(cc.HeaderTimeout),
		IdleTimeout:       time.Duration(cc.IdleTimeout),
		ConnState:         m.conns.ConnState,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.conns.Listener(m.listener)) }()
	return nil
}

// open opens every backend and builds the pipeline and the API over them.
func (m *Main) open(ctx context.Context) error {
	blobs, err := openBlobStore(ctx, m.Config.Store)
	if err != nil {
		return err
	}
	m.Blobs = blobs
	m.closers = append(m.closers, blobs)

	meta, err := openMetadataStore(ctx, m.Config.DB)
	if err != nil {
		return err
	}
	m.Meta = meta
	m.closers = append(m.closers, meta)
	if m.Blobs, err = encryptBlobs(m.Blobs, m.Meta, m.Config.EncryptionKeyFile, m.Logger); err != nil {
		return err
	}

	if m.Cache, err = openCache(ctx, m.Config.Cache); err != nil {
		return err
	}
	if m.Cache != nil {
		m.closers = append(m.closers, m.Cache)
	}
	if m.Queue, err = openQueue(ctx, m.Config.Queue, m.Config.DataDir, m.Logger); err != nil {
		return err
	}
	if m.Queue != nil {
		m.closers = append(m.closers, m.Queue)
	}

	engine, vipsMemory, err := openImageEngine(m.Config.Pipeline.Limits)
	if err != nil {
		return err
	}
	m.Engine = engine
	m.closers = append(m.closers, engine)

	// The pipeline's deletes and updates invalidate what the API caches.
	if m.Pipeline, err = pipeline.New(m.Config.Pipeline, m.Blobs, m.Meta, m.Engine, m.Cache, m.Logger); err != nil {
		return err
	}
	opts := hphttp.Options{Logger: m.Logger, VipsMemory: vipsMemory, Cache: m.Cache, QueueDepth: m.jobQueueDepth()}
	if m.Cache != nil {
		// The cache is an optimisation: reads fall back to the stores.
		opts.ReadyChecks = append(opts.ReadyChecks, hphttp.ReadyCheck{Name: "cache", Check: cachePing(m.Cache), Optional: true})
	}
	if m.Queue != nil {
		m.Jobs = pipeline.NewJobs(m.Pipeline, m.Queue)
		opts.Jobs = m.Jobs
		// serve does sync uploads and reads without the queue; a worker
		// does nothing without it.
		opts.ReadyChecks = append(opts.ReadyChecks, hphttp.ReadyCheck{Name: "queue", Check: m.Queue.Ping, Optional: !m.worker})
	}
	m.API, err = hphttp.New(m.Config.HTTP, m.Pipeline, opts)
	return err
}

// cachePing checks that the cache answers a lookup, for readiness.
func cachePing(c hotpath.Cache) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, _, err := c.Get(ctx, "readyz-probe")
		return err
	}
}

// pendingCounter is a queue that tells how many jobs wait in it (nats.Queue).
type pendingCounter interface {
	Pending(ctx context.Context) (uint64, error)
}

// jobQueueDepth returns the reader of the job queue's depth for /metrics,
// nil when the queue cannot tell. A scrape that cannot reach the broker
// reports -1 rather than failing the scrape.
func (m *Main) jobQueueDepth() func() float64 {
	q, ok := m.Queue.(pendingCounter)
	if !ok {
		return nil
	}
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := q.Pending(ctx)
		if err != nil {
			m.Logger.Warn("metrics: job queue depth", "err", err)
			return -1
		}
		return float64(n)
	}
}

// DefaultTenantID is the tenant made on the first start.
const DefaultTenantID = "default"

// bootstrap makes the tenant "default" and an admin API key when no key
// exists, and prints the key once so that a fresh install can be used.
func (m *Main) bootstrap(ctx context.Context) error {
	keys, err := m.Meta.ListAPIKeys(ctx, "")
	if err != nil || len(keys) > 0 {
		return err
	}
	if _, err := ensureTenant(ctx, m.Meta, DefaultTenantID); err != nil {
		return err
	}
	secret, key, err := hphttp.NewAPIKey(DefaultTenantID, "first admin key", hotpath.ScopeAdmin)
	if err != nil {
		return err
	}
	if err := m.Meta.CreateAPIKey(ctx, key); err != nil {
		return err
	}
	m.AdminKey = secret
	m.Logger.Info("created the default tenant and its first admin API key", "tenant", DefaultTenantID, "key_id", key.ID, "key_prefix", key.Prefix)
	fmt.Fprintf(m.Env.Stderr, "\nFirst start: admin API key for tenant %q (shown once, keep it):\n\n    %s\n\n", DefaultTenantID, secret)
	return nil
}

// URL returns the base URL the server listens on, e.g. http://127.0.0.1:43211.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// Close stops accepting connections, waits up to the shutdown timeout for
// in-flight requests (uploads finish), then closes the backends.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(m.Config.ShutdownTimeout))
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
			m.server.Close()
		}
		cancel()
		if err := <-m.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		m.server = nil
	}
	m.stopConsumer()
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

// tenantIDPattern is what a tenant id may be.
var tenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ensureTenant returns the tenant id, creating it (named as its id) when missing.
// A tenant id given by name must fit tenantIDPattern: it is the first segment
// of its blob keys, so a '/' would nest one tenant's blobs inside another's
// image folder, where the other's DELETE would remove them.
func ensureTenant(ctx context.Context, meta hotpath.MetadataStore, id string) (*hotpath.Tenant, error) {
	if !tenantIDPattern.MatchString(id) {
		return nil, hotpath.Errorf(hotpath.EINVALID, "tenant %q: use 1-63 of a-z, 0-9, _ and -, starting with a letter or digit", id)
	}
	t, err := meta.GetTenant(ctx, id)
	if !hotpath.IsNotFound(err) {
		return t, err
	}
	t = &hotpath.Tenant{ID: id, Name: id, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := meta.CreateTenant(ctx, t); hotpath.ErrorCode(err) == hotpath.ECONFLICT {
		return meta.GetTenant(ctx, id) // another process made it meanwhile
	} else if err != nil {
		return nil, err
	}
	return t, nil
}

// redactURL hides the password of a backend URL for logs.
func redactURL(raw string) string {
	scheme, rest := splitBackendURL(raw)
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// parseLogLevel reads debug, info, warn or error.
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, hotpath.Errorf(hotpath.EINVALID, "log level %q: use debug, info, warn or error", s)
	}
	return l, nil
}
