package nats_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/nats"
)

// externalURL is the NATS server the external tests use: HOTPATH_TEST_NATS,
// or the machine's JetStream server on 4222.
func externalURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HOTPATH_TEST_NATS")
	if u == "skip" {
		t.Skip("HOTPATH_TEST_NATS=skip: no external NATS server on this machine")
	}
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	return u
}

// suiteConfig is the configuration TestQueue expects, on a stream of its own.
func suiteConfig(url, dataDir string) nats.Config {
	id := hotpath.NewID()[20:]
	return nats.Config{
		URL: url, DataDir: dataDir,
		Stream: "TEST_" + id, Subject: "test.jobs." + id, Consumer: "workers",
		MaxDeliver: hotpathtest.QueueMaxDeliver, AckWait: hotpathtest.QueueAckWait,
		RetryDelay: hotpathtest.QueueRetryDelay, MaxRetryDelay: hotpathtest.QueueMaxRetryDelay,
		MaxMemory: 16 << 20, MaxStore: 64 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// opener returns an open function for TestQueue: the first call for a test
// starts a queue (embedded or on url), later calls connect more clients to it
// as other processes would.
func opener(url string) func(t *testing.T) hotpath.Queue {
	var mu sync.Mutex
	first := map[*testing.T]*nats.Queue{}
	cfgs := map[*testing.T]nats.Config{}
	return func(t *testing.T) hotpath.Queue {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		ctx := context.Background()
		if q, ok := first[t]; ok {
			c := cfgs[t]
			c.URL = q.ClientURL()
			q2, err := nats.New(ctx, c)
			if err != nil {
				t.Fatalf("nats.New second client: %v", err)
			}
			t.Cleanup(func() { q2.Close() })
			return q2
		}
		c := suiteConfig(url, t.TempDir())
		q, err := nats.New(ctx, c)
		if err != nil {
			t.Fatalf("nats.New(%s): %v", c.URL, err)
		}
		first[t], cfgs[t] = q, c
		t.Cleanup(func() {
			if err := q.DeleteStream(context.Background()); err != nil {
				t.Errorf("DeleteStream: %v", err)
			}
			q.Close()
			mu.Lock()
			delete(first, t)
			mu.Unlock()
		})
		return q
	}
}

func TestQueueEmbedded(t *testing.T) {
	t.Parallel()
	hotpathtest.TestQueue(t, opener("embedded"))
}

func TestQueueExternal(t *testing.T) {
	t.Parallel()
	hotpathtest.TestQueue(t, opener(externalURL(t)))
}

// TestEmbeddedQuiet checks that the embedded server writes nothing on stderr
// (no banner), keeps its store under the data directory, and lets another
// client in through its loopback URL.
func TestEmbeddedQuiet(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	var logged bytes.Buffer
	c := suiteConfig("embedded", t.TempDir())
	c.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	q, err := nats.New(context.Background(), c)
	os.Stderr = saved
	w.Close()
	stderr, _ := io.ReadAll(r)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer q.Close()
	if len(stderr) != 0 {
		t.Errorf("embedded server wrote to stderr: %q", stderr)
	}
	if !strings.Contains(logged.String(), "nats-server") {
		t.Errorf("server notices not routed to the logger; got %q", logged.String())
	}
	if _, err := os.Stat(c.DataDir + "/nats/jetstream"); err != nil {
		t.Errorf("store not under the data directory: %v", err)
	}
	u := q.ClientURL()
	if !strings.HasPrefix(u, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q, want a loopback nats:// URL", u)
	}
	c2 := c
	c2.URL = u
	q2, err := nats.New(context.Background(), c2)
	if err != nil {
		t.Fatalf("second client via %s: %v", u, err)
	}
	defer q2.Close()
	if err := q2.Enqueue(context.Background(), &hotpath.Job{ID: hotpath.NewID(), Kind: hotpath.JobVariants}); err != nil {
		t.Fatalf("Enqueue through the second client: %v", err)
	}
	if n, err := q.Pending(context.Background()); err != nil || n != 1 {
		t.Errorf("Pending = %d, %v; want 1", n, err)
	}
}

// TestEmbeddedSurvivesRestart checks that jobs enqueued before a restart of
// the embedded server are still there after it: the store is on disk.
func TestEmbeddedSurvivesRestart(t *testing.T) {
	c := suiteConfig("embedded", t.TempDir())
	q, err := nats.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := &hotpath.Job{ID: hotpath.NewID(), Kind: hotpath.JobVariants, ImageID: "img"}
	if err := q.Enqueue(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q, err = nats.New(context.Background(), c)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer q.Close()
	got := make(chan *hotpath.Job, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go q.Consume(ctx, 1, func(_ context.Context, d hotpath.Delivery) error {
		got <- d.Job
		cancel()
		return nil
	})
	var j *hotpath.Job
	select {
	case j = <-got:
	case <-ctx.Done():
		// The handler cancels right after handing the job over, so both
		// cases can be ready: the job decides, not which one select took.
		select {
		case j = <-got:
		default:
			t.Fatal("job enqueued before the restart was lost")
		}
	}
	if j.ID != want.ID || j.ImageID != want.ImageID {
		t.Errorf("after restart got job %+v, want %+v", j, want)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		ok   bool
		want string // fmt of the fields checked
	}{
		{"embedded?dir=/data", true, "embedded none /data 0 0s"},
		{"?dir=/data", true, "embedded none /data 0 0s"},
		{"embedded?listen=127.0.0.1:4333&dir=/data", true, "embedded 127.0.0.1:4333 /data 0 0s"},
		{"nats://10.0.0.1:4222?stream=S1&max_deliver=7&ack_wait=45s", true, "nats://10.0.0.1:4222   7 45s"},
		{"embedded", false, ""}, // no data directory
		{"nats://h:4222?bogus=1", false, ""},
		{"nats://h:4222?ack_wait=soon", false, ""},
		{"nats://h:4222?stream=a.b", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			c, err := nats.ParseURL(tt.raw)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseURL(%q) error = %v, want ok=%v", tt.raw, err, tt.ok)
			}
			if !tt.ok {
				if hotpath.ErrorCode(err) != hotpath.EINVALID {
					t.Errorf("code = %q, want %q", hotpath.ErrorCode(err), hotpath.EINVALID)
				}
				return
			}
			if got := fmt.Sprintf("%s %s %s %d %s", c.URL, c.Listen, c.DataDir, c.MaxDeliver, c.AckWait); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  nats.Config
		ok   bool
	}{
		{"embedded with dir", nats.Config{DataDir: "/tmp/x"}, true},
		{"embedded without dir", nats.Config{}, false},
		{"external", nats.Config{URL: "nats://127.0.0.1:4222"}, true},
		{"http url", nats.Config{URL: "http://127.0.0.1:4222"}, false},
		{"wildcard subject", nats.Config{DataDir: "d", Subject: "jobs.*"}, false},
		{"bad stream", nats.Config{DataDir: "d", Stream: "a.b"}, false},
		{"tiny ack wait", nats.Config{DataDir: "d", AckWait: time.Millisecond}, false},
		{"negative store", nats.Config{DataDir: "d", MaxStore: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if got := err == nil; got != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && hotpath.ErrorCode(err) != hotpath.EINVALID {
				t.Errorf("code = %q, want %q", hotpath.ErrorCode(err), hotpath.EINVALID)
			}
		})
	}
}
