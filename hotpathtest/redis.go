package hotpathtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	goredis "github.com/redis/go-redis/v9"
)

// RedisURL returns a redis:// cache URL for the test: HOTPATH_TEST_REDIS or
// the local server, with a key prefix of the test's own so that runs never
// meet. The prefix's keys are removed when the test ends.
func RedisURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("HOTPATH_TEST_REDIS")
	if base == "" {
		base = "redis://127.0.0.1:6379/0"
	}
	prefix := "hotpath-test-" + hotpath.NewID()[20:] + ":"
	t.Cleanup(func() {
		opts, err := goredis.ParseURL(base)
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
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "prefix=" + prefix
}
