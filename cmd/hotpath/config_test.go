package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// loadTestConfig runs loadConfig with the given environment and arguments.
func loadTestConfig(t *testing.T, environ map[string]string, args ...string) (Config, error) {
	t.Helper()
	env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string { return environ[k] }}
	cfg, _, err := loadConfig(env, newFlagSet(env, "serve", "", ""), args)
	return cfg, err
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hotpath.json")
	os.WriteFile(file, []byte(`{"addr": "127.0.0.1:7000", "data_dir": "/srv/from-file", "shutdown_timeout": "5s",
		"pipeline": {"workers": 3, "presets": [{"name": "tiny", "options": {"width": 50, "height": 50, "format": "png"}}]},
		"http": {"cache": {"key_ttl": "5s"}}}`), 0o644)
	secret := filepath.Join(dir, "db-url")
	os.WriteFile(secret, []byte("sqlite:///secret/place.db\n"), 0o600)

	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		check   func(Config) string
	}{
		{"defaults", nil, nil, func(c Config) string {
			if c.Addr != "127.0.0.1:8080" || c.Store != "file://data/blobs" || c.DB != "sqlite://data/hotpath.db" || len(c.Pipeline.Presets) != 3 {
				return "not the embedded defaults"
			}
			return ""
		}},
		{"file", map[string]string{"HOTPATH_CONFIG": file}, nil, func(c Config) string {
			if c.Addr != "127.0.0.1:7000" || c.Pipeline.Workers != 3 || c.Store != "file:///srv/from-file/blobs" ||
				time.Duration(c.ShutdownTimeout) != 5*time.Second || len(c.Pipeline.Presets) != 1 || c.Pipeline.Presets[0].Name != "tiny" ||
				c.HTTP.Cache.KeyTTL != 5*time.Second || c.HTTP.Cache.ImageTTL != 10*time.Minute {
				return "file values not applied"
			}
			return ""
		}},
		{"env beats file", map[string]string{"HOTPATH_CONFIG": file, "HOTPATH_ADDR": "127.0.0.1:7001", "HOTPATH_WORKERS": "4"}, nil, func(c Config) string {
			if c.Addr != "127.0.0.1:7001" || c.Pipeline.Workers != 4 || c.DataDir != "/srv/from-file" {
				return "env did not override the file"
			}
			return ""
		}},
		{"flags beat env", map[string]string{"HOTPATH_ADDR": "127.0.0.1:7001"}, []string{"--addr", "127.0.0.1:7002", "--config", file}, func(c Config) string {
			if c.Addr != "127.0.0.1:7002" || c.Pipeline.Workers != 3 {
				return "flags did not override env, or --config was not read"
			}
			return ""
		}},
		{"secret from _FILE", map[string]string{"HOTPATH_DB_FILE": secret}, nil, func(c Config) string {
			if c.DB != "sqlite:///secret/place.db" {
				return "HOTPATH_DB_FILE not read"
			}
			return ""
		}},
		{"presets flag", nil, []string{"--presets", "a:100:webp:70,b:300:avif:50", "--max-bytes", "1000"}, func(c Config) string {
			p := c.Pipeline.Presets
			if len(p) != 2 || p[1].Name != "b" || p[1].Options.Width != 300 || p[1].Options.Format != hotpath.FormatAVIF || c.Pipeline.Limits.MaxBytes != 1000 {
				return "presets or limits flag not applied"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadTestConfig(t, tt.environ, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(cfg); msg != "" {
				t.Errorf("%s: %+v", msg, cfg)
			}
		})
	}
}

func TestConfigErrorsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"adress": "typo"}`), 0o644)
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		want    string
	}{
		{"unknown flag", nil, []string{"--nope"}, "nope"},
		{"bad env value", map[string]string{"HOTPATH_WORKERS": "many"}, nil, "HOTPATH_WORKERS"},
		{"unknown file field", nil, []string{"--config", bad}, "adress"},
		{"bad log level", nil, []string{"--log-level", "loud"}, "log level"},
		{"bad preset name", nil, []string{"--presets", "Big Name:10:jpeg:80"}, "preset name"},
		{"negative queue", nil, []string{"--queue-size", "-1"}, "queue size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTestConfig(t, tt.environ, tt.args...)
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if !errors.As(err, &ue) {
				t.Errorf("err %v is not a usage error (exit 2)", err)
			}
		})
	}
}

func TestBackendURLs(t *testing.T) {
	tests := []struct{ raw, scheme, rest string }{
		{"file://./data/blobs", "file", "./data/blobs"},
		{"file:///abs/blobs", "file", "/abs/blobs"},
		{"SQLite://x.db", "sqlite", "x.db"},
		{"embedded", "embedded", ""},
	}
	for _, tt := range tests {
		if s, r := splitBackendURL(tt.raw); s != tt.scheme || r != tt.rest {
			t.Errorf("splitBackendURL(%q) = %q, %q; want %q, %q", tt.raw, s, r, tt.scheme, tt.rest)
		}
	}
	_, err := openBlobStore(t.Context(), "ftp://nowhere")
	if err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown store scheme: err %v", err)
	}
	if got := redactURL("postgres://app:s3cret@db:5432/hp"); strings.Contains(got, "s3cret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}

// TestREADMEConfigExample loads the README's example file: each preset is
// exactly what the file says, with nothing taken from the default preset at
// the same position (hero has no height: a 1600×1200 source fits to 1920 wide
// by its own aspect, not into the default large preset's 1600×1600 box).
func TestREADMEConfigExample(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hotpath.json")
	if err := os.WriteFile(file, []byte(readmeBlockIn(t, "Configuration", "json")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadTestConfig(t, nil, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	want := []hotpath.Preset{
		{Name: "thumb", Options: hotpath.TransformOptions{Width: 200, Height: 200, Fit: hotpath.FitFill, Gravity: hotpath.GravitySmart, Format: hotpath.FormatWebP, Quality: 75}},
		{Name: "hero", Options: hotpath.TransformOptions{Width: 1920, Fit: hotpath.FitInside, Format: hotpath.FormatAVIF, Quality: 60}},
	}
	if got := cfg.Pipeline.Presets; !reflect.DeepEqual(got, want) {
		t.Errorf("presets\n got %+v\nwant %+v", got, want)
	}
	if cfg.Addr != "0.0.0.0:8080" || cfg.DataDir != "/var/lib/hotpath" || cfg.Pipeline.Workers != 4 {
		t.Errorf("addr %q, data %q, workers %d: not the file's", cfg.Addr, cfg.DataDir, cfg.Pipeline.Workers)
	}
	// A file that names no presets keeps the defaults.
	os.WriteFile(file, []byte(`{"addr": "127.0.0.1:0"}`), 0o644)
	if cfg, err := loadTestConfig(t, nil, "--config", file); err != nil || !reflect.DeepEqual(cfg.Pipeline.Presets, hotpath.DefaultPresets()) {
		t.Errorf("no presets in the file: got %+v, %v; want the defaults", cfg.Pipeline.Presets, err)
	}
}

// TestConfigLimitNames: limits are snake_case in the file, like every other
// field; the Go names files used before (MaxBytes) are read for one release.
func TestConfigLimitNames(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hotpath.json")
	load := func(limits string) (Config, error) {
		t.Helper()
		os.WriteFile(file, []byte(`{"pipeline": {"limits": `+limits+`}}`), 0o644)
		return loadTestConfig(t, nil, "--config", file)
	}
	cfg, err := load(`{"max_bytes": 1000, "max_pixels": 2000, "max_frames": 3, "max_output_side": 4000, "max_work_pixels": 5000}`)
	if want := (hotpath.Limits{MaxBytes: 1000, MaxPixels: 2000, MaxFrames: 3, MaxOutputSide: 4000, MaxWorkPixels: 5000}); err != nil || cfg.Pipeline.Limits != want {
		t.Errorf("snake_case: %+v, %v; want %+v", cfg.Pipeline.Limits, err, want)
	}
	cfg, err = load(`{"MaxBytes": 1000, "max_frames": 3}`)
	if want := (hotpath.Limits{MaxBytes: 1000, MaxPixels: 50_000_000, MaxFrames: 3, MaxOutputSide: 8192, MaxWorkPixels: 40_000_000}); err != nil || cfg.Pipeline.Limits != want {
		t.Errorf("old names: %+v, %v; want %+v", cfg.Pipeline.Limits, err, want)
	}
	for limits, wantErr := range map[string]string{
		`{"MaxBytes": 1, "max_bytes": 2}`: `"MaxBytes" and "max_bytes" name the same limit`,
		`{"max_byts": 1}`:                 `unknown field "max_byts"`,
		`{"max_bytes": "big"}`:            "max_bytes",
	} {
		if _, err := load(limits); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want one saying %s", limits, err, wantErr)
		}
	}
	if b, _ := json.Marshal(hotpath.DefaultLimits()); !strings.Contains(string(b), `"max_bytes":52428800`) {
		t.Errorf("limits marshal as %s, want snake_case", b)
	}
}
