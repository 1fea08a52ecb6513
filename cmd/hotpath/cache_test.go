package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/pipeline"
)

// TestSharedCacheInvalidatesAcrossProcesses runs two Mains sharing one Redis
// and one database and blob store, as two serve processes do: a delete or a
// revoke through one is seen by the other at once, although the other had
// the image and the key cached (with TTLs far longer than the test).
func TestSharedCacheInvalidatesAcrossProcesses(t *testing.T) {
	shared := t.TempDir()
	cacheURL := hotpathtest.RedisURL(t)
	start := func() *Main {
		cfg := testConfig(t)
		cfg.DB = "sqlite://" + filepath.Join(shared, "hotpath.db")
		cfg.Store = "file://" + filepath.Join(shared, "blobs")
		cfg.Cache = cacheURL
		cfg.HTTP.Cache.KeyTTL = time.Hour
		cfg.HTTP.Cache.ImageTTL = time.Hour
		m, _ := startMain(t, cfg)
		return m
	}
	a := start()
	b := start()
	key := a.AdminKey
	img := uploadImage(t, a, key, 640, 480)
	paths := []string{"/v1/images/" + img.ID, "/v1/images/" + img.ID + "/variants/thumb"}
	for _, p := range paths {
		for range 2 {
			request(t, "GET", b.URL()+p, key, nil, nil).wantStatus(t, 200)
		}
	}
	ctx := context.Background()
	for _, ck := range []string{pipeline.ImageCacheKey(img.ID), pipeline.VariantCacheKey(img.ID, "thumb")} {
		if _, ok, err := b.Cache.Get(ctx, ck); err != nil || !ok {
			t.Fatalf("after two reads through b, %s is not in the shared cache (%v)", ck, err)
		}
	}

	request(t, "DELETE", a.URL()+"/v1/images/"+img.ID, key, nil, nil).wantStatus(t, 204)
	for _, p := range paths {
		request(t, "GET", b.URL()+p, key, nil, nil).wantError(t, 404, hotpath.ENOTFOUND)
	}

	// A key revoked by the CLI, sharing the cache, is refused at once.
	reader := newKey(t, a, DefaultTenantID, hotpath.ScopeRead)
	request(t, "GET", b.URL()+"/v1/images", reader, nil, nil).wantStatus(t, 200)
	if _, ok, _ := b.Cache.Get(ctx, hphttp.APIKeyCacheKey(hphttp.HashAPIKey(reader))); !ok {
		t.Fatalf("the key's lookup is not in the shared cache")
	}
	var id string
	for _, line := range strings.Split(runCommand(t, "keys", "list", "--db", a.Config.DB), "\n") {
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(reader, f[3]) {
			id = f[0]
		}
	}
	if id == "" {
		t.Fatal("keys list lacks the new key")
	}
	runCommand(t, "keys", "revoke", id, "--db", a.Config.DB, "--cache", cacheURL)
	request(t, "GET", b.URL()+"/v1/images", reader, nil, nil).wantError(t, 401, hotpath.EUNAUTHORIZED)
}
