// Package pipeline is hotpath's upload pipeline: probe an uploaded file's
// header against the limits, make every preset variant from one decode on a
// bounded worker pool, store the original and the variants, and record the
// metadata, so that no row ever points at a missing blob. The HTTP API and
// the background worker both run uploads through it.
package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotpath/hotpath"
)

// DefaultQueueSize is how many uploads may wait for a worker before the
// service answers EBUSY. A waiting upload holds a temp file, not memory.
const DefaultQueueSize = 256

// Config configures a Service.
type Config struct {
	// Workers is how many decodes run at once; 0 means the number of CPUs.
	// Each running decode holds its pixels in memory, so this bounds memory.
	Workers int `json:"workers"`
	// QueueSize is how many uploads may wait for a worker; past it, EBUSY.
	QueueSize int `json:"queue_size"`
	// Presets are the variants made for every upload.
	Presets []hotpath.Preset `json:"presets"`
	// Limits bound what one input may cost. The image engine is built with
	// them and checks each input's header against them; the service bounds
	// presets by MaxOutputSide, and the API the bytes it reads by MaxBytes.
	Limits hotpath.Limits `json:"limits"`
	// TempDir holds files being processed; "" means os.TempDir().
	TempDir string `json:"temp_dir"`
}

// DefaultConfig returns the configuration of an unconfigured server.
func DefaultConfig() Config {
	return Config{
		Workers:   runtime.NumCPU(),
		QueueSize: DefaultQueueSize,
		Presets:   hotpath.DefaultPresets(),
		Limits:    hotpath.DefaultLimits(),
	}
}

// withDefaults returns c with zero fields set from DefaultConfig. A zero
// QueueSize stays: no caller waits for a worker.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Limits == (hotpath.Limits{}) {
		c.Limits = d.Limits
	}
	if c.Limits.MaxWorkPixels == 0 {
		c.Limits.MaxWorkPixels = d.Limits.MaxWorkPixels
	}
	if c.Presets == nil {
		c.Presets = d.Presets
	}
	return c
}

// presetName is what a preset may be called: it becomes part of blob keys and URLs.
var presetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Validate reports the first problem of c, with its defaults filled in, as
// EINVALID.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Workers < 0:
		return hotpath.Errorf(hotpath.EINVALID, "workers must be 0 (one per CPU) or more, not %d", c.Workers)
	case c.QueueSize < 0:
		return hotpath.Errorf(hotpath.EINVALID, "queue size must be 0 or more, not %d", c.QueueSize)
	case c.Limits.MaxPixels <= 0 || c.Limits.MaxBytes <= 0 || c.Limits.MaxFrames <= 0 || c.Limits.MaxOutputSide <= 0 || c.Limits.MaxWorkPixels < 0:
		return hotpath.Errorf(hotpath.EINVALID, "limits must all be positive")
	}
	seen := map[string]bool{}
	for _, p := range c.Presets {
		if !presetName.MatchString(p.Name) {
			return hotpath.Errorf(hotpath.EINVALID, "preset name %q: use 1-64 of a-z, 0-9, _ and -", p.Name)
		}
		if seen[p.Name] {
			return hotpath.Errorf(hotpath.EINVALID, "preset %q is defined twice", p.Name)
		}
		seen[p.Name] = true
		o := p.Options
		if o.Width < 0 || o.Height < 0 || o.Width > c.Limits.MaxOutputSide || o.Height > c.Limits.MaxOutputSide {
			return hotpath.Errorf(hotpath.EINVALID, "preset %q: width and height must be 0-%d", p.Name, c.Limits.MaxOutputSide)
		}
		if o.Quality < 0 || o.Quality > 100 {
			return hotpath.Errorf(hotpath.EINVALID, "preset %q: quality must be 0-100", p.Name)
		}
	}
	return nil
}

// Service runs uploads: Ingest for a new file, GenerateVariants to (re)make
// the variants of a stored original, Delete to remove an image everywhere.
type Service struct {
	Blobs  hotpath.BlobStore
	Meta   hotpath.MetadataStore
	Engine hotpath.ImageEngine
	// Pool runs the decodes; its queue is the service's back-pressure.
	Pool   *Pool
	Config Config
	Logger *slog.Logger
	// Cache is what the API caches image metadata and small variants in;
	// the service invalidates an image's entries whenever it deletes the
	// image or changes its status or variants. nil: none.
	Cache hotpath.Cache
}

// New returns a Service over the given stores, engine and cache (nil: none),
// with a worker pool sized by cfg. Zero fields of cfg take their defaults.
func New(cfg Config, blobs hotpath.BlobStore, meta hotpath.MetadataStore, engine hotpath.ImageEngine, cache hotpath.Cache, logger *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		Blobs: blobs, Meta: meta, Engine: engine, Cache: cache,
		Pool:   NewPool(cfg.Workers, cfg.QueueSize),
		Config: cfg,
		Logger: logger,
	}, nil
}

// Ingest stores the image in the file at tmpPath as a new image of tenantID:
// it checks the header against the limits before any decode, makes all preset
// variants from one decode, stores the original and the variants, then
// records the metadata. When a blob write fails no metadata is written; when
// the metadata write fails the blobs are removed. The caller keeps tmpPath.
func (s *Service) Ingest(ctx context.Context, tenantID, filename, tmpPath string) (*hotpath.Image, error) {
	fi, err := os.Stat(tmpPath)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "stat upload")
	}
	info, err := s.probe(tmpPath, fi.Size())
	if err != nil {
		return nil, err
	}
	rends, err := s.render(ctx, tmpPath)
	if err != nil {
		return nil, err
	}

	img := &hotpath.Image{
		ID:        hotpath.NewID(),
		TenantID:  tenantID,
		Filename:  cleanFilename(filename),
		Format:    info.Format,
		Width:     info.Width,
		Height:    info.Height,
		Bytes:     fi.Size(),
		Status:    hotpath.ImageReady,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	if img.SHA256, err = s.putOriginal(ctx, img, tmpPath); err != nil {
		s.removeBlobs(ctx, img)
		return nil, err
	}
	if img.Variants, err = s.putVariants(ctx, img, rends); err != nil {
		s.removeBlobs(ctx, img)
		return nil, err
	}
	if err := s.Meta.CreateImage(ctx, img); err != nil {
		s.removeBlobs(ctx, img)
		return nil, err
	}
	return img, nil
}

// GenerateVariants (re)makes every preset variant of a stored image from its
// original, marks the image ready and invalidates its cache entries. It is
// idempotent: variants are replaced, never duplicated, so a redelivered job
// may run it again.
func (s *Service) GenerateVariants(ctx context.Context, tenantID, imageID string) (*hotpath.Image, error) {
	img, err := s.Meta.GetImage(ctx, tenantID, imageID)
	if err != nil {
		return nil, err
	}
	tmpPath, err := s.download(ctx, hotpath.OriginalKey(tenantID, imageID))
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmpPath)

	rends, err := s.render(ctx, tmpPath)
	if err != nil {
		return nil, err
	}
	variants, err := s.putVariants(ctx, img, rends)
	if err != nil {
		return nil, err
	}
	for i := range variants {
		if err := s.Meta.PutVariant(ctx, &variants[i]); err != nil {
			return nil, err
		}
	}
	if err := s.Meta.UpdateImageStatus(ctx, tenantID, imageID, hotpath.ImageReady, ""); err != nil {
		return nil, err
	}
	s.InvalidateImage(ctx, imageID)
	img.Status, img.Error, img.Variants = hotpath.ImageReady, "", variants
	return img, nil
}

// Delete removes a tenant's image: its metadata first, so that no row points
// at a removed blob, then its cache entries (every process sharing the cache
// stops serving it at once), then every blob under the image's prefix.
func (s *Service) Delete(ctx context.Context, tenantID, imageID string) error {
	if err := s.Meta.DeleteImage(ctx, tenantID, imageID); err != nil {
		return err
	}
	s.InvalidateImage(ctx, imageID)
	if err := s.Blobs.DeletePrefix(ctx, hotpath.ImagePrefix(tenantID, imageID)); err != nil {
		// The image is gone for clients; the orphaned blobs are only space.
		s.Logger.ErrorContext(ctx, "delete image blobs", "tenant", tenantID, "image", imageID, "err", err)
	}
	return nil
}

// probe reads the header of the file, so that a bomb is refused before any
// pixel is decoded. The engine checks the header against the limits (bytes,
// pixels, frames): limits are checked in one layer, with one wording.
func (s *Service) probe(path string, size int64) (hotpath.ImageInfo, error) {
	if size == 0 {
		return hotpath.ImageInfo{}, hotpath.Errorf(hotpath.EINVALID, "the upload is empty")
	}
	info, err := s.Engine.Probe(path)
	if err != nil {
		return hotpath.ImageInfo{}, err
	}
	return info, nil
}

// render makes every preset's rendition of the file from one decode, on a
// pool worker.
func (s *Service) render(ctx context.Context, path string) ([]hotpath.Rendition, error) {
	opts := make([]hotpath.TransformOptions, len(s.Config.Presets))
	for i, p := range s.Config.Presets {
		opts[i] = p.Options
	}
	var rends []hotpath.Rendition
	err := s.Pool.Do(ctx, func() error {
		var err error
		rends, err = s.Engine.Renditions(ctx, path, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(rends) != len(opts) {
		return nil, hotpath.Errorf(hotpath.EINTERNAL, "engine returned %d renditions for %d presets", len(rends), len(opts))
	}
	return rends, nil
}

// putOriginal stores the uploaded file as the image's original and returns
// its SHA-256, computed as it streams.
func (s *Service) putOriginal(ctx context.Context, img *hotpath.Image, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", hotpath.WrapError(hotpath.EINTERNAL, err, "open upload")
	}
	defer f.Close()
	h := sha256.New()
	if err := s.Blobs.Put(ctx, hotpath.OriginalKey(img.TenantID, img.ID), io.TeeReader(f, h), img.Bytes, img.Format.ContentType()); err != nil {
		return "", err
	}
	return hexSum(h), nil
}

// putVariants stores each rendition as the variant of its preset, dropping
// each encoded buffer once it is written so memory is released early.
func (s *Service) putVariants(ctx context.Context, img *hotpath.Image, rends []hotpath.Rendition) ([]hotpath.Variant, error) {
	variants := make([]hotpath.Variant, 0, len(rends))
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range rends {
		r := &rends[i]
		name := s.Config.Presets[i].Name
		key := hotpath.VariantKey(img.TenantID, img.ID, name)
		if err := s.Blobs.Put(ctx, key, bytes.NewReader(r.Data), int64(len(r.Data)), r.Format.ContentType()); err != nil {
			return nil, err
		}
		variants = append(variants, hotpath.Variant{
			ImageID: img.ID, Name: name, Format: r.Format,
			Width: r.Width, Height: r.Height, Bytes: int64(len(r.Data)),
			BlobKey: key, CreatedAt: now,
		})
		r.Data = nil
	}
	return variants, nil
}

// removeBlobs undoes a partly stored upload; it runs even when ctx has ended.
func (s *Service) removeBlobs(ctx context.Context, img *hotpath.Image) {
	ctx = context.WithoutCancel(ctx)
	if err := s.Blobs.DeletePrefix(ctx, hotpath.ImagePrefix(img.TenantID, img.ID)); err != nil {
		s.Logger.ErrorContext(ctx, "remove blobs of failed upload", "tenant", img.TenantID, "image", img.ID, "err", err)
	}
}

// download copies a blob into a new temp file, because the engine reads files.
func (s *Service) download(ctx context.Context, key string) (string, error) {
	b, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer b.Close()
	f, err := os.CreateTemp(s.Config.TempDir, "hotpath-original-*")
	if err != nil {
		return "", hotpath.WrapError(hotpath.EINTERNAL, err, "create temp file")
	}
	if _, err := io.Copy(f, b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", hotpath.WrapError(hotpath.EUNAVAILABLE, err, "read original")
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", hotpath.WrapError(hotpath.EINTERNAL, err, "write temp file")
	}
	return f.Name(), nil
}

// cleanFilename keeps the base name of an uploaded file, valid UTF-8 and at
// most 255 bytes: it is informational only and never used as a path.
func cleanFilename(name string) string {
	name = strings.ToValidUTF8(filepath.Base(strings.ReplaceAll(name, `\`, "/")), "")
	if name == "." || name == "/" {
		return ""
	}
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
