package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/e2e"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// cluster is the scale-out shape on this machine: serve and worker processes
// sharing PostgreSQL (a schema of the test's own), S3 (a versitygw of the
// test's own), Redis (a key prefix of the test's own) and NATS (a stream of
// the test's own).
type cluster struct {
	bin  string
	env  []string
	args []string
	key  string
}

// newCluster builds the binary, prepares the shared backends and makes an
// admin key of tenant "e2e".
func newCluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	bin, err := e2e.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id := hotpath.NewID()[20:]
	natsURL := os.Getenv("HOTPATH_TEST_NATS")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	t.Cleanup(func() {
		if err := e2e.DeleteStream(natsURL, "E2E_"+id, "e2e."+id+".jobs"); err != nil {
			t.Error(err)
		}
	})
	c := &cluster{bin: bin}
	c.args = []string{
		"--store", hotpathtest.StartS3(t),
		"--db", hotpathtest.PostgresDSN(t),
		"--cache", hotpathtest.RedisURL(t),
		"--queue", natsURL + "?stream=E2E_" + id + "&subject=e2e." + id + ".jobs&ack_wait=2s&retry_delay=100ms",
		"--data", dir, "--temp-dir", dir, "--log-level", "info",
	}
	c.key, err = e2e.CreateKey(ctx, bin, c.env, "e2e", "admin", c.args...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve starts a serve process on a free port, stopped when t ends.
func (c *cluster) serve(t *testing.T, name string) (*e2e.Proc, *e2e.Client) {
	t.Helper()
	p, err := e2e.Start(c.bin, name, c.env, "listening", 30*time.Second, append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProc(t, p) })
	return p, e2e.NewClient(p.URL, c.key)
}

// worker starts a worker process, stopped when t ends.
func (c *cluster) worker(t *testing.T, name string) *e2e.Proc {
	t.Helper()
	// --addr serves the worker's /healthz, /readyz and /metrics; p.URL is it.
	p, err := e2e.Start(c.bin, name, c.env, "worker serving /healthz, /readyz and /metrics", 30*time.Second,
		append([]string{"worker", "--addr", "127.0.0.1:0"}, c.args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProc(t, p) })
	return p
}

// stopProc stops p gracefully unless it already ended, and shows its log on failure.
func stopProc(t *testing.T, p *e2e.Proc) {
	if p.Exited() {
		return
	}
	if err := p.Stop(20 * time.Second); err != nil {
		t.Errorf("%s: %v", p.Name, err)
	}
	if t.Failed() {
		t.Logf("%s log tail:\n%s", p.Name, p.Logs(15))
	}
}

// solid returns a small JPEG of one colour, different for each i.
func solid(t *testing.T, i, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c := color.RGBA{uint8(i * 37), uint8(i * 91), uint8(i * 13), 255}
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, c.A
	}
	return imagetest.EncodeJPEG(t, img)
}

// get fetches path and returns status and body, failing t on a transport error.
func get(t *testing.T, c *e2e.Client, path string) (int, []byte) {
	t.Helper()
	st, b, err := c.Do("GET", path, "", nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return st, b
}

// TestScaleOut runs two serve processes and workers against shared
// PostgreSQL, S3, Redis and NATS, as the README's "Scale out" section starts them.
// metric returns the value of the series named exactly name (with its
// labels) on c's /metrics.
func metric(t *testing.T, c *e2e.Client, name string) (float64, bool) {
	t.Helper()
	st, body := get(t, c, "/metrics")
	if st != http.StatusOK {
		t.Fatalf("/metrics: %d", st)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func TestScaleOut(t *testing.T) {
	c := newCluster(t)
	_, a := c.serve(t, "serve-a")
	_, b := c.serve(t, "serve-b")

	// Async before any worker runs: stored, but no variants yet.
	acc, err := a.UploadAsync(imagetest.Image(t, hotpath.FormatJPEG, 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	if acc.Image.Status != "processing" || acc.Job.State != "queued" {
		t.Fatalf("async upload: image %s, job %s; want processing, queued", acc.Image.Status, acc.Job.State)
	}
	if st, body := get(t, b, "/v1/images/"+acc.Image.ID+"/variants/thumb"); st != http.StatusNotFound {
		t.Errorf("variant before the job ran: %d %s, want 404", st, body)
	}
	if st, _ := get(t, b, "/v1/images/"+acc.Image.ID+"/original"); st != http.StatusOK {
		t.Errorf("original of an async upload through the other server: %d, want 200", st)
	}

	t.Run("AsyncVariantsOnceWorkerRuns", func(t *testing.T) {
		w := e2e.NewClient(c.worker(t, "worker-1").URL, "")
		for _, path := range []string{"/healthz", "/readyz"} {
			if st, body := get(t, w, path); st != http.StatusOK {
				t.Errorf("worker %s: %d %s", path, st, body)
			}
		}
		if _, ok := metric(t, w, "hotpath_job_queue_depth"); !ok {
			t.Errorf("worker /metrics lacks hotpath_job_queue_depth")
		}
		j, err := b.WaitJob(acc.Job.ID, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != "succeeded" || j.Attempts != 1 {
			t.Fatalf("job %s after %d attempts (%s), want succeeded after 1", j.State, j.Attempts, j.Error)
		}
		for _, preset := range []string{"thumb", "medium", "large"} {
			st, body := get(t, b, "/v1/images/"+acc.Image.ID+"/variants/"+preset)
			if st != http.StatusOK {
				t.Errorf("variant %s after the job: %d, want 200", preset, st)
				continue
			}
			info := imagetest.ProbeImage(t, body)
			if max(info.Width, info.Height) > 1600 || info.Width == 0 {
				t.Errorf("variant %s is %dx%d", preset, info.Width, info.Height)
			}
		}
	})

	t.Run("UploadThroughOneReadThroughOther", func(t *testing.T) {
		data := imagetest.Image(t, hotpath.FormatPNG, 500, 300)
		img, err := a.Upload(data)
		if err != nil {
			t.Fatal(err)
		}
		var got e2e.Image
		if err := b.JSON("GET", "/v1/images/"+img.ID, "", nil, http.StatusOK, &got); err != nil {
			t.Fatal(err)
		}
		if got.Width != 500 || got.Height != 300 || len(got.Variants) != 3 {
			t.Errorf("image through B = %dx%d with %d variants, want 500x300 with 3", got.Width, got.Height, len(got.Variants))
		}
		_, orig := get(t, b, "/v1/images/"+img.ID+"/original")
		if !bytes.Equal(orig, data) {
			t.Errorf("original through B differs from the upload (%d vs %d bytes)", len(orig), len(data))
		}
		_, va := get(t, a, "/v1/images/"+img.ID+"/variants/medium")
		_, vb := get(t, b, "/v1/images/"+img.ID+"/variants/medium")
		if len(va) == 0 || !bytes.Equal(va, vb) {
			t.Errorf("variant differs between servers (%d vs %d bytes)", len(va), len(vb))
		}
	})

	t.Run("DeleteInvalidatesOtherCache", func(t *testing.T) {
		img, err := a.Upload(solid(t, 1, 120, 80))
		if err != nil {
			t.Fatal(err)
		}
		// Read twice through B: the second reads come from the shared cache,
		// as B's hit counters show.
		hits := func() (image, variant float64) {
			image, _ = metric(t, b, `hotpath_cache_hits_total{kind="image"}`)
			variant, _ = metric(t, b, `hotpath_cache_hits_total{kind="variant"}`)
			return image, variant
		}
		imageHits, variantHits := hits()
		for range 2 {
			if st, _ := get(t, b, "/v1/images/"+img.ID); st != http.StatusOK {
				t.Fatalf("GET through B: %d", st)
			}
			if st, _ := get(t, b, "/v1/images/"+img.ID+"/variants/thumb"); st != http.StatusOK {
				t.Fatalf("GET variant through B: %d", st)
			}
		}
		// Each variant GET reads the image's metadata too: 3 image hits, 1 variant hit.
		if image, variant := hits(); image < imageHits+3 || variant < variantHits+1 {
			t.Fatalf("B's cache hits went from image %v, variant %v to %v, %v; want +3 and +1 (the second reads cached)",
				imageHits, variantHits, image, variant)
		}
		if st, body, err := a.Do("DELETE", "/v1/images/"+img.ID, "", nil); err != nil || st != http.StatusNoContent {
			t.Fatalf("DELETE through A: %d %s %v", st, body, err)
		}
		for _, path := range []string{"/v1/images/" + img.ID, "/v1/images/" + img.ID + "/variants/thumb", "/v1/images/" + img.ID + "/original"} {
			if st, _ := get(t, b, path); st != http.StatusNotFound {
				t.Errorf("GET %s through B after delete through A: %d, want 404", path, st)
			}
		}
	})

	t.Run("WorkerKilledMidJob", func(t *testing.T) {
		// A large PNG takes the worker a while: long enough to kill it mid-job.
		big := imagetest.Image(t, hotpath.FormatPNG, 6000, 4000)
		victim := c.worker(t, "worker-victim")
		var acc e2e.Accepted
		for attempt := 0; ; attempt++ {
			acc, err = a.UploadAsync(big)
			if err != nil {
				t.Fatal(err)
			}
			if waitRunning(t, b, acc.Job.ID, 20*time.Second) {
				break
			}
			if attempt == 2 {
				t.Fatal("never caught the job running: it finished before the kill three times")
			}
		}
		victim.Kill()
		c.worker(t, "worker-replacement")
		j, err := b.WaitJob(acc.Job.ID, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != "succeeded" || j.Attempts < 2 {
			t.Fatalf("job after the kill: %s after %d attempts (%s); want succeeded after a redelivery", j.State, j.Attempts, j.Error)
		}
		var img e2e.Image
		if err := b.JSON("GET", "/v1/images/"+acc.Image.ID, "", nil, http.StatusOK, &img); err != nil {
			t.Fatal(err)
		}
		names := map[string]int{}
		for _, v := range img.Variants {
			names[v.Name]++
		}
		if img.Status != "ready" || len(img.Variants) != 3 || names["thumb"] != 1 || names["medium"] != 1 || names["large"] != 1 {
			t.Errorf("image after the redelivered job: %s with variants %v; want ready with thumb, medium, large once each", img.Status, names)
		}
	})

	t.Run("Batch200", func(t *testing.T) {
		c.worker(t, "worker-batch")
		const n = 200
		names := make([]string, n+1)
		for i := range n {
			names[i] = fmt.Sprintf("photos/img-%03d.jpg", i)
		}
		names[n] = "photos/readme.txt"
		body := e2e.TarStream(names, func(i int) []byte {
			if i == n {
				return []byte("not an image")
			}
			return solid(t, i, 48+i%16, 32+i%8)
		})
		var created e2e.Batch
		if err := b.JSON("POST", "/v1/batches", "application/x-tar", body, http.StatusAccepted, &created); err != nil {
			t.Fatal(err)
		}
		if created.Total != n+1 {
			t.Errorf("batch accepted with total %d, want %d", created.Total, n+1)
		}
		done, err := a.WaitBatch(created.ID, 90*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if done.Total != n+1 || done.Succeeded != n || done.Failed != 1 || len(done.Files) != n+1 {
			t.Fatalf("batch = total %d, %d succeeded, %d failed, %d files; want %d, %d, 1, %d", done.Total, done.Succeeded, done.Failed, len(done.Files), n+1, n, n+1)
		}
		var got []string
		for _, f := range done.Files {
			got = append(got, f.Filename)
			if f.Filename == "readme.txt" && (f.State != "failed" || f.Error == "") {
				t.Errorf("the text file: %s %q, want failed with an error", f.State, f.Error)
			}
		}
		sort.Strings(got)
		for i, name := range got[:n] {
			if want := fmt.Sprintf("img-%03d.jpg", i); name != want {
				t.Fatalf("file %d = %q, want %q: a file went missing", i, name, want)
			}
		}
	})
}

// waitRunning polls a job until it is running (true) or has finished or the
// timeout passes (false).
func waitRunning(t *testing.T, c *e2e.Client, id string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var j e2e.Job
		if err := c.JSON("GET", "/v1/jobs/"+id, "", nil, http.StatusOK, &j); err != nil {
			t.Fatal(err)
		}
		switch j.State {
		case "running":
			return true
		case "succeeded", "failed":
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
