package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/inmem"
	"github.com/hotpath/hotpath/postgres"
	"github.com/hotpath/hotpath/redis"
	"github.com/hotpath/hotpath/s3"
	"github.com/hotpath/hotpath/sqlite"
	"github.com/hotpath/hotpath/vips"
)

// This file is the one place that turns configuration URLs into backends.
// A new backend is one more case in the switch of its kind.

// splitBackendURL splits "scheme://rest" into its scheme and the rest, kept
// verbatim so that relative paths ("file://./data/blobs") stay relative.
// A value without "://" is all scheme ("embedded").
func splitBackendURL(raw string) (scheme, rest string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, ""
	}
	return strings.ToLower(scheme), rest
}

// openBlobStore opens the blob store named by --store.
func openBlobStore(ctx context.Context, raw string) (hotpath.BlobStore, error) {
	switch scheme, _ := splitBackendURL(raw); scheme {
	case "file":
		return disk.Open(ctx, raw)
	case "s3":
		return s3.Open(ctx, raw)
	default:
		return nil, Usagef("--store %q: unknown kind %q; use file://DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT", raw, scheme)
	}
}

// encryptBlobs puts blobs behind encryption when a master key file is
// configured (keyFile "": blobs as they are). The tenants' keys live in the
// metadata store, wrapped by the master key.
func encryptBlobs(blobs hotpath.BlobStore, meta hotpath.MetadataStore, keyFile string, logger *slog.Logger) (hotpath.BlobStore, error) {
	if keyFile == "" {
		return blobs, nil
	}
	keys, err := tenantKeys(meta, keyFile)
	if err != nil {
		return nil, err
	}
	return crypt.NewBlobStore(blobs, keys, logger), nil
}

// tenantKeys returns the tenant keys of meta under the master keys of keyFile.
func tenantKeys(meta hotpath.MetadataStore, keyFile string) (*crypt.TenantKeys, error) {
	store, ok := meta.(hotpath.TenantKeyStore)
	if !ok {
		return nil, hotpath.Errorf(hotpath.EUNSUPPORTED, "this metadata store cannot keep encryption keys")
	}
	master, err := crypt.OpenMasterKeys(keyFile)
	if err != nil {
		return nil, err
	}
	return crypt.NewTenantKeys(store, master, 0), nil
}

// openMetadataStore opens the metadata store named by --db.
func openMetadataStore(ctx context.Context, raw string) (hotpath.MetadataStore, error) {
	switch scheme, _ := splitBackendURL(raw); scheme {
	case "sqlite":
		return sqlite.Open(ctx, raw)
	case "postgres", "postgresql":
		return postgres.Open(ctx, raw)
	default:
		return nil, Usagef("--db %q: unknown kind %q; use sqlite://FILE or postgres://USER@HOST/DB", raw, scheme)
	}
}

// openCache opens the cache named by --cache; nothing named is the
// in-memory cache of the default size.
func openCache(ctx context.Context, raw string) (hotpath.Cache, error) {
	switch scheme, _ := splitBackendURL(raw); scheme {
	case "":
		return inmem.Open(ctx, "mem://")
	case "mem":
		return inmem.Open(ctx, raw)
	case "redis", "rediss":
		return redis.Open(ctx, raw)
	default:
		return nil, Usagef("--cache %q: unknown kind %q; use mem://?size=64MiB or redis://HOST:6379/0", raw, scheme)
	}
}

// openQueue opens the job queue named by --queue: an in-process NATS server
// with its store under dataDir ("embedded", the default) or an external
// nats:// server; nats.ParseURL says which parameters tune it.
func openQueue(ctx context.Context, raw, dataDir string, logger *slog.Logger) (hotpath.Queue, error) {
	scheme, _, _ := strings.Cut(raw, "?")
	switch scheme, _ = splitBackendURL(scheme); scheme {
	case "", "embedded", "nats", "tls":
		return openNATSQueue(ctx, raw, dataDir, logger)
	default:
		return nil, Usagef("--queue %q: unknown kind %q; use embedded or nats://HOST:4222", raw, scheme)
	}
}

// openImageEngine starts libvips with the configured limits and returns the
// engine with a reader of libvips' memory use for /metrics.
func openImageEngine(limits hotpath.Limits) (*vips.Engine, func() float64, error) {
	e, err := vips.New(vips.Config{Limits: limits})
	if err != nil {
		return nil, nil, err
	}
	return e, func() float64 {
		mem, _, _ := vips.MemoryStats()
		return float64(mem)
	}, nil
}
