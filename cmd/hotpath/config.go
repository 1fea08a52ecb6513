package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/pipeline"
)

// Config is everything `hotpath serve` and `hotpath keys` read. Values come,
// each overriding the one before, from the defaults, an optional JSON file
// (--config or HOTPATH_CONFIG), HOTPATH_* environment variables (each also
// readable from a file named by HOTPATH_*_FILE, for secrets) and flags.
type Config struct {
	// Addr is where the API listens; port 0 picks a free port.
	Addr string `json:"addr"`
	// DataDir holds the embedded backends' files when Store and DB are not set.
	DataDir string `json:"data_dir"`
	// Store is the blob store URL: file://DIR or s3://BUCKET/PREFIX?endpoint=….
	Store string `json:"store"`
	// DB is the metadata store URL: sqlite://FILE or postgres://….
	DB string `json:"db"`
	// Cache is the cache URL: mem:// (the default, this process only) or
	// redis://HOST:6379/0 shared by every serve and worker process.
	Cache string `json:"cache"`
	// Queue is the job queue: embedded (the default, an in-process NATS
	// server under DataDir) or nats://HOST:4222 shared with worker processes.
	Queue string `json:"queue"`
	// EncryptionKeyFile names the master key file; set, every blob is
	// stored encrypted (docs/encryption.md). Empty: blobs are stored as
	// they come.
	EncryptionKeyFile string `json:"encryption_key_file"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// ReconcileInterval is how often a process with a queue looks for jobs
	// the queue lost and images no job will finish (pipeline.Reconcile);
	// 0 turns it off.
	ReconcileInterval Duration `json:"reconcile_interval"`
	// ReconcileGrace is how old such a job or image must be to be touched.
	ReconcileGrace Duration `json:"reconcile_grace"`
	// Conns bounds the server's connections (Limits and abuse in the README).
	Conns ConnConfig `json:"conns"`
	// Pipeline sizes the worker pool and holds presets and limits.
	Pipeline pipeline.Config `json:"pipeline"`
	// HTTP configures the API.
	HTTP hphttp.Config `json:"http"`
}

// DefaultConfig returns the configuration of `hotpath serve` with nothing set:
// everything embedded under ./data, listening on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		DataDir:           "./data",
		Cache:             "mem://",
		Queue:             "embedded",
		LogLevel:          "info",
		ShutdownTimeout:   Duration(30 * time.Second),
		ReconcileInterval: Duration(pipeline.DefaultReconcileInterval),
		ReconcileGrace:    Duration(pipeline.DefaultReconcileGrace),
		Pipeline:          pipeline.DefaultConfig(),
		HTTP:              hphttp.DefaultConfig(),
		Conns:             DefaultConnConfig(),
	}
}

// withDefaults returns c with the settings derived from others filled in:
// the store and database URLs under DataDir, one temp dir for both sides.
func (c Config) withDefaults() Config {
	if c.Store == "" {
		c.Store = "file://" + filepath.Join(c.DataDir, "blobs")
	}
	if c.DB == "" {
		c.DB = "sqlite://" + filepath.Join(c.DataDir, "hotpath.db")
	}
	if c.Pipeline.TempDir == "" {
		c.Pipeline.TempDir = c.HTTP.TempDir
	}
	if c.HTTP.TempDir == "" {
		c.HTTP.TempDir = c.Pipeline.TempDir
	}
	return c
}

// Validate reports the first problem of c, with its defaults filled in.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		return err
	}
	if c.Conns.MaxConns < 0 || c.Conns.HeaderTimeout <= 0 || c.Conns.IdleTimeout <= 0 || c.Conns.MinBodyRate < 0 || c.Conns.BodyRateWindow <= 0 {
		return Usagef("connection limits: --max-conns and --min-body-rate must not be negative, the timeouts and window must be positive")
	}
	if c.ShutdownTimeout < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "shutdown timeout must not be negative")
	}
	if c.ReconcileInterval < 0 || c.ReconcileGrace < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "reconcile interval and grace must not be negative")
	}
	if err := c.Pipeline.Validate(); err != nil {
		return err
	}
	return c.HTTP.Validate()
}

// Duration is a time.Duration written as "30s" in JSON and flags.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string such as "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return d.Set(s)
}

// String implements flag.Value.
func (d *Duration) String() string { return time.Duration(*d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// presetsFlag reads presets as "name:SIDE:format:quality,…", each the
// longest side of a fit; the JSON config file can say more.
type presetsFlag struct{ p *[]hotpath.Preset }

func (f presetsFlag) String() string {
	if f.p == nil {
		return ""
	}
	parts := make([]string, len(*f.p))
	for i, p := range *f.p {
		parts[i] = fmt.Sprintf("%s:%d:%s:%d", p.Name, max(p.Options.Width, p.Options.Height), p.Options.Format, p.Options.Quality)
	}
	return strings.Join(parts, ",")
}

func (f presetsFlag) Set(s string) error {
	var presets []hotpath.Preset
	for _, item := range strings.Split(s, ",") {
		fields := strings.Split(strings.TrimSpace(item), ":")
		if len(fields) != 4 {
			return fmt.Errorf("preset %q: want name:SIDE:format:quality", item)
		}
		side, err1 := strconv.Atoi(fields[1])
		quality, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("preset %q: side and quality must be numbers", item)
		}
		presets = append(presets, hotpath.Preset{Name: fields[0], Options: hotpath.TransformOptions{
			Width: side, Height: side, Fit: hotpath.FitInside, Format: hotpath.Format(fields[2]), Quality: quality,
		}})
	}
	*f.p = presets
	return nil
}

// configFlags adds the configuration flags to fs, bound to c's fields.
func configFlags(fs *flag.FlagSet, c *Config) {
	fs.String("config", "", "JSON configuration file (env HOTPATH_CONFIG)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address; port 0 picks a free port")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "directory of the embedded backends: blob store, database, queue")
	fs.StringVar(&c.Store, "store", c.Store, "blob store URL: file://DIR (default DATA/blobs) or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R[&secure=false&create=true]")
	fs.StringVar(&c.DB, "db", c.DB, "metadata store URL: sqlite://FILE (default DATA/hotpath.db) or postgres://USER[:PASSWORD]@HOST:5432/DB[?sslmode=disable]")
	fs.StringVar(&c.Cache, "cache", c.Cache, "cache URL: mem://[?size=64MiB] (this process) or redis://HOST:6379/0[?prefix=P] / rediss://… shared by every process")
	fs.DurationVar(&c.HTTP.Cache.KeyTTL, "cache-key-ttl", c.HTTP.Cache.KeyTTL, "how long an API-key lookup is cached: a revoke without a shared cache takes effect within it")
	fs.DurationVar(&c.HTTP.Cache.ImageTTL, "cache-image-ttl", c.HTTP.Cache.ImageTTL, "how long image metadata and small variants are cached (changes invalidate them at once)")
	fs.IntVar(&c.HTTP.Cache.VariantMaxBytes, "cache-variant-max-bytes", c.HTTP.Cache.VariantMaxBytes, "largest preset variant cached in memory or Redis (-1: none)")
	fs.StringVar(&c.Queue, "queue", c.Queue, "job queue: embedded[?listen=HOST:PORT] (in-process NATS under DATA) or nats://HOST:4222[?stream=S&ack_wait=30s&max_deliver=5] / tls://… shared with workers")
	fs.StringVar(&c.EncryptionKeyFile, "encryption-key-file", c.EncryptionKeyFile, "master key file (base64, from 'hotpath keys encryption-key'): encrypt every blob at rest; blobs stored before stay readable")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.Var(&c.ShutdownTimeout, "shutdown-timeout", "how long shutdown waits for in-flight requests")
	fs.Var(&c.ReconcileInterval, "reconcile-interval", "how often jobs the queue lost are published again and images no job will finish removed (0: never)")
	fs.Var(&c.ReconcileGrace, "reconcile-grace", "how old a job's last update or a processing image must be before the reconciler touches it")
	fs.IntVar(&c.Conns.MaxConns, "max-conns", c.Conns.MaxConns, "most open connections (0: three quarters of the file descriptor limit, at most 10000); past it the longest idle is closed, or the new one when none is idle")
	fs.Var(&c.Conns.HeaderTimeout, "header-timeout", "how long a client may take to send a request's headers")
	fs.Var(&c.Conns.IdleTimeout, "idle-timeout", "how long a keep-alive connection may wait for its next request")
	fs.Int64Var(&c.Conns.MinBodyRate, "min-body-rate", c.Conns.MinBodyRate, "slowest request body in bytes per second, averaged over --body-rate-window (0: none); slower bodies are cut")
	fs.Var(&c.Conns.BodyRateWindow, "body-rate-window", "the window --min-body-rate is measured over")
	fs.IntVar(&c.Pipeline.Workers, "workers", c.Pipeline.Workers, "images processed at once (0: one per CPU)")
	fs.IntVar(&c.Pipeline.QueueSize, "queue-size", c.Pipeline.QueueSize, "uploads waiting for a worker before 429")
	fs.Var(presetsFlag{&c.Pipeline.Presets}, "presets", "variants made for every upload, name:SIDE:format:quality,…")
	fs.Int64Var(&c.Pipeline.Limits.MaxPixels, "max-pixels", c.Pipeline.Limits.MaxPixels, "largest input in pixels")
	fs.Int64Var(&c.Pipeline.Limits.MaxBytes, "max-bytes", c.Pipeline.Limits.MaxBytes, "largest input in bytes")
	fs.IntVar(&c.Pipeline.Limits.MaxFrames, "max-frames", c.Pipeline.Limits.MaxFrames, "most animation frames of an input")
	fs.IntVar(&c.Pipeline.Limits.MaxOutputSide, "max-output-side", c.Pipeline.Limits.MaxOutputSide, "largest output width or height")
	fs.Int64Var(&c.Pipeline.Limits.MaxWorkPixels, "max-work-pixels", c.Pipeline.Limits.MaxWorkPixels, "largest image a transform or preset scales to before cropping, in pixels, when larger than the input (fill enlarging): past it 400")
	fs.IntVar(&c.HTTP.MaxFilesPerRequest, "max-files", c.HTTP.MaxFilesPerRequest, "most files in one multipart upload")
	fs.StringVar(&c.Pipeline.TempDir, "temp-dir", c.Pipeline.TempDir, "directory for uploads in progress (default the system's)")
	transformFlags(fs, &c.HTTP.Transforms)
}

// envName is the environment variable of a flag: --max-bytes is HOTPATH_MAX_BYTES.
func envName(flagName string) string {
	return "HOTPATH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookupEnv returns HOTPATH_X, or the content of the file HOTPATH_X_FILE
// names (trailing newline removed), so that secrets need not sit in the environment.
func lookupEnv(env *Env, name string) (string, bool, error) {
	if v := env.Getenv(name); v != "" {
		return v, true, nil
	}
	path := env.Getenv(name + "_FILE")
	if path == "" {
		return "", false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

// loadConfig builds the Config from the defaults, the file, the environment
// and the flags in args, and returns it with the positional arguments. fs
// holds the command's own flags; the configuration flags are added to it:
// all of them, or only those named in only (a command that reads a few
// settings lists no flags in its --help that it would ignore).
func loadConfig(env *Env, fs *flag.FlagSet, args []string, only ...string) (Config, []string, error) {
	cfg := DefaultConfig()
	path, _, err := lookupEnv(env, "HOTPATH_CONFIG")
	if err != nil {
		return cfg, nil, err
	}
	if p := configFlagValue(args); p != "" {
		path = p
	}
	if path != "" {
		if err := readConfigFile(path, &cfg); err != nil {
			return cfg, nil, err
		}
	}
	if len(only) == 0 {
		configFlags(fs, &cfg)
	} else {
		all := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		configFlags(all, &cfg)
		for _, name := range only {
			f := all.Lookup(name)
			fs.Var(f.Value, f.Name, f.Usage)
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil || f.Name == "config" {
			return
		}
		name := envName(f.Name)
		v, ok, err := lookupEnv(env, name)
		if err == nil && ok {
			if err = f.Value.Set(v); err != nil {
				err = Usagef("%s=%q: %v", name, v, err)
			}
		}
		envErr = err
	})
	if envErr != nil {
		return cfg, nil, envErr
	}
	positional, err := parseFlags(fs, args)
	if err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, Usagef("%s", hotpath.ErrorMessage(err))
	}
	return cfg.withDefaults(), positional, nil
}

// configFlagValue finds --config's value in args before the flags are parsed,
// because the file's values are the flags' defaults.
func configFlagValue(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// readConfigFile reads a JSON configuration file over cfg; unknown fields are errors.
// A list in the file replaces the default list whole: encoding/json decodes
// an array into the slice's existing elements, so a file preset would keep
// every field it leaves out from the default preset at its position; the
// lists are therefore decoded into fresh slices, and the defaults kept only
// when the file names no list.
func readConfigFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	presets, keys := cfg.Pipeline.Presets, cfg.HTTP.Transforms.SigningKeys
	cfg.Pipeline.Presets, cfg.HTTP.Transforms.SigningKeys = nil, nil
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return Usagef("config file %s: %v", path, err)
	}
	if cfg.Pipeline.Presets == nil {
		cfg.Pipeline.Presets = presets
	}
	if cfg.HTTP.Transforms.SigningKeys == nil {
		cfg.HTTP.Transforms.SigningKeys = keys
	}
	return nil
}
