package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/pipeline"
	goredis "github.com/redis/go-redis/v9"
)

// testRedisURL is the Redis the tests share: HOTPATH_TEST_REDIS or the local
// one, with a prefix of the test's own so that runs never meet. The prefix's
// keys are removed when the test ends.
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HOTPATH_TEST_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	prefix := "hotpath-test-" + hotpath.NewID()[20:] + ":"
	t.Cleanup(func() {
		opts, err := goredis.ParseURL(u)
		if err != nil {
			t.Errorf("HOTPATH_TEST_REDIS: %v", err)
			return
		}
		client := goredis.NewClient(opts)
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("removing the test's Redis keys: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "prefix=" + prefix
}

// TestSharedCacheInvalidatesAcrossProcesses runs two Mains sharing one Redis
// and one database and blob store, as two serve processes do: a delete or a
// revoke through one is seen by the other at once, although the other had
// the image and the key cached (with TTLs far longer than the test).
func TestSharedCacheInvalidatesAcrossProcesses(t *testing.T) {
	shared := t.TempDir()
	cacheURL := testRedisURL(t)
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
