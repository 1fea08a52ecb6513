// Package http is hotpath's HTTP API: the /v1 image routes, API-key
// authentication, JSON errors, health, readiness, Prometheus metrics, access
// logs, the OpenAPI document and the web console (console.go, served from
// the embedded console/ directory). It maps hotpath's error codes to
// statuses; no other package knows about HTTP.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/pipeline"
)

// Config configures the API.
type Config struct {
	// MaxFilesPerRequest bounds the files of one multipart upload.
	MaxFilesPerRequest int `json:"max_files_per_request"`
	// TempDir holds uploads while they stream in; "" means os.TempDir().
	TempDir string `json:"temp_dir"`
	// Transforms configures on-the-fly transforms (/t/..., transform.go).
	Transforms TransformConfig `json:"transforms"`
	// Cache says what the API caches and for how long (cache.go).
	Cache CacheConfig `json:"cache"`
}

// DefaultConfig returns the API configuration of an unconfigured server.
func DefaultConfig() Config {
	return Config{MaxFilesPerRequest: 100, Transforms: DefaultTransformConfig(), Cache: DefaultCacheConfig()}
}

// withDefaults returns c with zero fields set from DefaultConfig.
func (c Config) withDefaults() Config {
	if c.MaxFilesPerRequest == 0 {
		c.MaxFilesPerRequest = DefaultConfig().MaxFilesPerRequest
	}
	c.Transforms = c.Transforms.withDefaults()
	c.Cache = c.Cache.withDefaults()
	return c
}

// Validate reports the first problem of c, with its defaults filled in, as
// EINVALID.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.MaxFilesPerRequest < 1 {
		return hotpath.Errorf(hotpath.EINVALID, "max files per request must be at least 1")
	}
	if err := c.Cache.Validate(); err != nil {
		return err
	}
	return c.Transforms.Validate()
}

// Route is one endpoint of the API. The OpenAPI test walks Routes() so that
// the document cannot drift from the code.
type Route struct {
	Method  string        // GET also answers HEAD
	Pattern string        // a ServeMux path pattern, which is also OpenAPI's path syntax
	Scope   hotpath.Scope // "" for public routes
	Handler http.HandlerFunc
}

// ReadyCheck is one dependency /readyz verifies.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Optional marks a dependency the process serves without, less well:
	// while it fails /readyz answers 200 "degraded" rather than 503, so
	// that a load balancer keeps the process (e.g. the queue for serve:
	// sync uploads and reads work while only async uploads answer 503).
	Optional bool
}

// Server is the HTTP API over an upload pipeline and its stores.
type Server struct {
	Config  Config
	Service *pipeline.Service
	Meta    hotpath.MetadataStore
	Blobs   hotpath.BlobStore
	Logger  *slog.Logger

	readyChecks []ReadyCheck   // Options.ReadyChecks
	jobs        *pipeline.Jobs // Options.Jobs
	routes      []Route
	mux         *http.ServeMux
	metrics     *metrics
	transforms  *transformer
	cache       *apiCache
}

// Options are the optional parts of a Server.
type Options struct {
	Logger *slog.Logger
	// VipsMemory returns the bytes libvips holds, for /metrics; nil leaves the gauge out.
	VipsMemory func() float64
	// Cache keeps API-key lookups, image metadata, small variants, small
	// transform results and their cross-process locks; nil: none. It must
	// be the service's cache, so that the service's deletes and updates
	// invalidate what the API caches.
	Cache hotpath.Cache
	// QueueDepth returns how many background jobs wait in the job queue,
	// for /metrics; nil leaves the gauge out.
	QueueDepth func() float64
	// Jobs takes asynchronous uploads and batches; nil (no queue) makes
	// those routes answer 503.
	Jobs *pipeline.Jobs
	// ReadyChecks are verified by /readyz besides the metadata and blob
	// stores: the cache and the queue, when the wiring has them.
	ReadyChecks []ReadyCheck
}

// New returns the API over svc and its stores.
func New(cfg Config, svc *pipeline.Service, opt Options) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		Config: cfg, Service: svc, Meta: svc.Meta, Blobs: svc.Blobs, Logger: logger,
		readyChecks: slices.Clone(opt.ReadyChecks), jobs: opt.Jobs, mux: http.NewServeMux(),
	}
	s.metrics = newMetrics(svc.Pool, opt.VipsMemory, opt.QueueDepth)
	s.cache = newAPICache(cfg.Cache, opt.Cache, logger, s.metrics.registry)
	var err error
	if s.transforms, err = newTransformer(cfg.Transforms, svc, opt.Cache, s.metrics.registry, logger); err != nil {
		return nil, err
	}
	s.routes = []Route{
		{"GET", "/healthz", "", s.handleHealth},
		{"GET", "/readyz", "", s.handleReady},
		{"GET", "/metrics", "", s.metrics.handler().ServeHTTP},
		{"GET", "/v1/openapi.json", "", handleOpenAPI},
		{"POST", "/v1/images", hotpath.ScopeWrite, s.handleUpload},
		{"GET", "/v1/images", hotpath.ScopeRead, s.handleListImages},
		{"GET", "/v1/images/{id}", hotpath.ScopeRead, s.handleGetImage},
		{"DELETE", "/v1/images/{id}", hotpath.ScopeWrite, s.handleDeleteImage},
		{"GET", "/v1/images/{id}/original", hotpath.ScopeRead, s.handleGetOriginal},
		{"GET", "/v1/images/{id}/variants/{preset}", hotpath.ScopeRead, s.handleGetVariant},
		{"POST", "/v1/batches", hotpath.ScopeWrite, s.handleCreateBatch},
		{"GET", "/v1/batches/{id}", hotpath.ScopeRead, s.handleGetBatch},
		{"GET", "/v1/jobs/{id}", hotpath.ScopeRead, s.handleGetJob},
		{"POST", "/v1/jobs/{id}/retry", hotpath.ScopeWrite, s.handleRetryJob},
		{"POST", "/v1/batches/{id}/retry", hotpath.ScopeWrite, s.handleRetryBatch},
		{"GET", "/v1/whoami", hotpath.ScopeRead, s.handleWhoAmI},
		{"POST", "/v1/sign", signScope, s.handleSign},
		{"GET", TransformRoutePattern, "", s.handleTransform},
	}
	for _, rt := range s.routes {
		h := rt.Handler
		if rt.Scope != "" {
			h = s.authenticate(rt.Scope, h)
		}
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.instrument(rt.Pattern, h))
	}
	ui, err := newConsole()
	if err != nil {
		return nil, err
	}
	for _, p := range consolePatterns {
		s.mux.Handle(p, s.instrument("console", ui.handle))
	}
	return s, nil
}

// opsPatterns are the routes a process without the API still serves.
var opsPatterns = []string{"/healthz", "/readyz", "/metrics"}

// OpsHandler serves only /healthz, /readyz and /metrics, with the same
// checks and series as the API: what a `hotpath worker` process exposes.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		if slices.Contains(opsPatterns, rt.Pattern) {
			mux.Handle(rt.Method+" "+rt.Pattern, s.instrument(rt.Pattern, rt.Handler))
		}
	}
	mux.Handle("/", s.instrument("unmatched", func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, hotpath.Errorf(hotpath.ENOTFOUND, "no such endpoint: this process serves /healthz, /readyz and /metrics"))
	}))
	return mux
}

// Routes returns the API's endpoints.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// ServeHTTP serves the API. Requests no route matches get a JSON 404 or 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.instrument("unmatched", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); len(allow) > 0 {
			w.Header()["Allow"] = allow
			s.Error(w, r, &hotpath.Error{Code: hotpath.EINVALID, Message: "method " + r.Method + " is not allowed here"})
			return
		}
		s.Error(w, r, hotpath.Errorf(hotpath.ENOTFOUND, "no such endpoint"))
	})(w, r)
}

// allowedMethods returns the methods some route accepts for r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// requestInfo is filled in while a request runs, for its access log line.
type requestInfo struct{ tenantID, keyID string }

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps a route's handler with panic recovery, the request
// duration metric and a JSON access log line.
func (s *Server) instrument(route string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "route", route, "panic", v)
				if rec.status == 0 {
					s.Error(rec, r, hotpath.Errorf(hotpath.EINTERNAL, "panic"))
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			elapsed := time.Since(start)
			s.metrics.observeRequest(route, r.Method, rec.status, elapsed)
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("tenant", info.tenantID), slog.String("key", info.keyID),
				slog.String("remote", r.RemoteAddr))
		}()
		next(rec, r)
	}
}

// handleHealth answers while the process is alive.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ReadyJSON is the body of /readyz: the process's state and each
// dependency's. Status is "ready" (200), "degraded" (200: an optional
// dependency is down) or "unavailable" (503: a required one is, and Error
// names the first).
type ReadyJSON struct {
	Status string                    `json:"status"`
	Checks map[string]ReadyCheckJSON `json:"checks"`
	Error  *ErrorDetail              `json:"error,omitempty"`
}

// ReadyCheckJSON is one dependency's state in /readyz.
type ReadyCheckJSON struct {
	Status   string `json:"status"` // "ok" or "down"
	Required bool   `json:"required"`
	Error    string `json:"error,omitempty"`
}

// handleReady checks every dependency at once, each within the same 2 s, and
// answers 200 when every required one answers (degraded when an optional
// one does not), 503 otherwise, with each dependency's state in the body.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := append([]ReadyCheck{
		{Name: "metadata", Check: s.Meta.Ping},
		{Name: "blobs", Check: func(ctx context.Context) error {
			_, err := s.Blobs.Stat(ctx, "readyz-probe")
			if hotpath.IsNotFound(err) {
				return nil
			}
			return err
		}},
	}, s.readyChecks...)
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { errs[i] = c.Check(ctx) })
	}
	wg.Wait()
	out := ReadyJSON{Status: "ready", Checks: make(map[string]ReadyCheckJSON, len(checks))}
	for i, c := range checks {
		st := ReadyCheckJSON{Status: "ok", Required: !c.Optional}
		if err := errs[i]; err != nil {
			st.Status, st.Error = "down", hotpath.ErrorMessage(err)
			s.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "required", !c.Optional, "err", err)
			switch {
			case !c.Optional && out.Error == nil:
				out.Status = "unavailable"
				out.Error = &ErrorDetail{Code: hotpath.EUNAVAILABLE, Message: c.Name + " is not answering"}
			case c.Optional && out.Status == "ready":
				out.Status = "degraded"
			}
		}
		out.Checks[c.Name] = st
	}
	if out.Error != nil {
		w.Header().Set("Retry-After", RetryAfterUnavailableSeconds)
		writeJSON(w, http.StatusServiceUnavailable, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
