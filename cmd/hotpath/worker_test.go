package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/e2e"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	hphttp "github.com/hotpath/hotpath/http"
)

// waitJob polls GET /v1/jobs/{id} until the job has finished.
func waitJob(t *testing.T, m *Main, key, id string) hphttp.JobJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var j hphttp.JobJSON
		r := request(t, "GET", m.URL()+"/v1/jobs/"+id, key, nil, nil)
		r.wantStatus(t, http.StatusOK)
		r.decode(t, &j)
		if j.State == hotpath.JobSucceeded || j.State == hotpath.JobFailed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 30s", id, j.State)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// waitBatch polls GET /v1/batches/{id} until it is done.
func waitBatch(t *testing.T, m *Main, key, id string) hphttp.BatchJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var b hphttp.BatchJSON
		r := request(t, "GET", m.URL()+"/v1/batches/"+id, key, nil, nil)
		r.wantStatus(t, http.StatusOK)
		r.decode(t, &b)
		if b.Done {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s not done after 30s: %+v", id, b.Batch)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uploadAsync posts one image with ?async=true and returns the answer.
func uploadAsync(t *testing.T, m *Main, key string, data []byte) hphttp.AcceptedJSON {
	t.Helper()
	r := request(t, "POST", m.URL()+"/v1/images?async=true&filename=a.jpg", key, bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"})
	r.wantStatus(t, http.StatusAccepted)
	var acc hphttp.AcceptedJSON
	r.decode(t, &acc)
	if acc.Job == nil || acc.Image == nil || r.Header.Get("Location") != "/v1/jobs/"+acc.Job.ID {
		t.Fatalf("async answer = %s (Location %q), want the job and the image", r.body, r.Header.Get("Location"))
	}
	return acc
}

// TestEmbeddedAsyncUpload checks that in the embedded shape serve runs the
// jobs itself: an async upload gets its variants with no worker process.
func TestEmbeddedAsyncUpload(t *testing.T) {
	m, key := newTestServer(t)
	acc := uploadAsync(t, m, key, imagetest.Image(t, hotpath.FormatJPEG, 900, 600))
	if acc.Image.Status != hotpath.ImageProcessing || acc.Job.State != hotpath.JobQueued {
		t.Errorf("accepted: image %s, job %s; want processing, queued", acc.Image.Status, acc.Job.State)
	}
	j := waitJob(t, m, key, acc.Job.ID)
	if j.State != hotpath.JobSucceeded || j.Attempts != 1 || j.ImageURL != "/v1/images/"+acc.Image.ID {
		t.Fatalf("job = %s after %d attempts (%s), image_url %q", j.State, j.Attempts, j.Error, j.ImageURL)
	}
	r := request(t, "GET", m.URL()+"/v1/images/"+acc.Image.ID+"/variants/medium", key, nil, nil)
	r.wantStatus(t, http.StatusOK)
	if w, h, _ := imageSize(t, r.body); w != 800 || h != 533 {
		t.Errorf("medium variant = %dx%d, want 800x533", w, h)
	}
	var img hphttp.ImageJSON
	request(t, "GET", m.URL()+"/v1/images/"+acc.Image.ID, key, nil, nil).decode(t, &img)
	if img.Status != hotpath.ImageReady || len(img.Variants) != 3 {
		t.Errorf("image = %s with %d variants, want ready with 3", img.Status, len(img.Variants))
	}
	// Another tenant sees neither the job nor the image.
	other := newKey(t, m, "other", hotpath.ScopeRead)
	request(t, "GET", m.URL()+"/v1/jobs/"+acc.Job.ID, other, nil, nil).wantError(t, http.StatusNotFound, hotpath.ENOTFOUND)
}

// TestAsyncRefusesBadInput checks that an async upload is probed before it
// is accepted: a non-image gets its error at once, not a job that fails later.
func TestAsyncRefusesBadInput(t *testing.T) {
	m, key := newTestServer(t)
	r := request(t, "POST", m.URL()+"/v1/images?async=true", key, strings.NewReader("hello, not an image"), nil)
	if r.StatusCode != http.StatusUnsupportedMediaType && r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("async upload of text: %d %s, want 415 or 422", r.StatusCode, r.body)
	}
	page := request(t, "GET", m.URL()+"/v1/images", key, nil, nil)
	if strings.Contains(string(page.body), `"id"`) {
		t.Errorf("a refused async upload left an image: %s", page.body)
	}
}

// TestAsyncMultipart checks one result per file of an async multipart upload.
func TestAsyncMultipart(t *testing.T) {
	m, key := newTestServer(t)
	files := map[string][]byte{"a.jpg": imagetest.Image(t, hotpath.FormatJPEG, 300, 200), "b.txt": []byte("nope"), "c.png": imagetest.Image(t, hotpath.FormatPNG, 120, 90)}
	body, ct := multipartBody(t, files, []string{"a.jpg", "b.txt", "c.png"})
	r := request(t, "POST", m.URL()+"/v1/images?async=true", key, body, map[string]string{"Content-Type": ct})
	r.wantStatus(t, http.StatusAccepted)
	var out hphttp.AcceptedListJSON
	r.decode(t, &out)
	if out.Succeeded != 2 || out.Failed != 1 || len(out.Results) != 3 || out.Results[1].Error == nil || out.Results[1].Filename != "b.txt" {
		t.Fatalf("results = %s, want a.jpg and c.png accepted, b.txt refused", r.body)
	}
	for _, res := range []hphttp.AcceptedJSON{out.Results[0], out.Results[2]} {
		if j := waitJob(t, m, key, res.Job.ID); j.State != hotpath.JobSucceeded {
			t.Errorf("%s: job %s (%s)", res.Filename, j.State, j.Error)
		}
	}
}

// batchFiles are the files every batch format test sends: three images and
// one file that is not an image.
func batchFiles(t *testing.T) ([]string, map[string][]byte) {
	names := []string{"one.jpg", "two.png", "notes.txt", "three.webp"}
	return names, map[string][]byte{
		"one.jpg":    imagetest.Image(t, hotpath.FormatJPEG, 320, 240),
		"two.png":    imagetest.Image(t, hotpath.FormatPNG, 64, 64),
		"notes.txt":  []byte("just text"),
		"three.webp": imagetest.Image(t, hotpath.FormatWebP, 200, 100),
	}
}

// tarBody writes files as a tar archive (with a directory entry and a
// hidden file that must be skipped), gzipped when gz.
func tarBody(t *testing.T, names []string, files map[string][]byte, gz bool) []byte {
	var buf bytes.Buffer
	var zw *gzip.Writer
	var w io.Writer = &buf
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "dir/._one.jpg", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	tw.Write([]byte("xyz"))
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: "dir/" + n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[n])
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// zipBody writes files as a zip archive.
func zipBody(t *testing.T, names []string, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create("pics/" + n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	zw.Close()
	return buf.Bytes()
}

// TestBatchFormats posts the same files as multipart, tar, tar.gz and zip
// (with and without a Content-Type) and checks every file is accounted for.
func TestBatchFormats(t *testing.T) {
	m, key := newTestServer(t)
	names, files := batchFiles(t)
	mp := func() ([]byte, string) {
		body, ct := multipartBody(t, files, names)
		var b bytes.Buffer
		b.ReadFrom(body)
		return b.Bytes(), ct
	}
	mpBody, mpType := mp()
	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"multipart", mpType, mpBody},
		{"tar", "application/x-tar", tarBody(t, names, files, false)},
		{"tar sniffed", "application/octet-stream", tarBody(t, names, files, false)},
		{"tar.gz", "application/gzip", tarBody(t, names, files, true)},
		{"zip", "application/zip", zipBody(t, names, files)},
		{"zip sniffed", "", zipBody(t, names, files)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t, "POST", m.URL()+"/v1/batches", key, bytes.NewReader(tt.body), map[string]string{"Content-Type": tt.contentType})
			r.wantStatus(t, http.StatusAccepted)
			var created hphttp.BatchJSON
			r.decode(t, &created)
			if created.Total != 4 || r.Header.Get("Location") != "/v1/batches/"+created.ID {
				t.Fatalf("created batch = %s", r.body)
			}
			b := waitBatch(t, m, key, created.ID)
			if b.Total != 4 || b.Succeeded != 3 || b.Failed != 1 || len(b.Files) != 4 {
				t.Fatalf("batch = %+v with %d files, want 3 succeeded and 1 failed of 4", *b.Batch, len(b.Files))
			}
			var got []string
			for _, f := range b.Files {
				got = append(got, fmt.Sprintf("%s:%s", f.Filename, f.State))
			}
			want := []string{"one.jpg:succeeded", "two.png:succeeded", "notes.txt:failed", "three.webp:succeeded"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("files = %v, want %v (in arrival order)", got, want)
			}
			var res struct {
				Error struct{ Code string } `json:"error"`
			}
			json.Unmarshal(b.Files[2].Result, &res)
			if res.Error.Code != hotpath.EUNSUPPORTED && res.Error.Code != hotpath.EUNPROCESSABLE {
				t.Errorf("notes.txt result = %s, want an unsupported error", b.Files[2].Result)
			}
		})
	}
}

// TestBatchErrors checks refused batches: not an archive, empty, wrong key.
func TestBatchErrors(t *testing.T) {
	m, key := newTestServer(t)
	reader := newKey(t, m, "default", hotpath.ScopeRead)
	tests := []struct {
		name, key, contentType string
		body                   []byte
		status                 int
		code                   string
	}{
		{"plain text", key, "text/plain", []byte("hello"), http.StatusUnsupportedMediaType, hotpath.EUNSUPPORTED},
		{"empty tar", key, "application/x-tar", tarBody(t, nil, nil, false), http.StatusBadRequest, hotpath.EINVALID},
		{"corrupt zip", key, "application/zip", []byte("PK\x03\x04garbage"), http.StatusBadRequest, hotpath.EINVALID},
		{"read-only key", reader, "application/x-tar", tarBody(t, nil, nil, false), http.StatusForbidden, hotpath.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t, "POST", m.URL()+"/v1/batches", tt.key, bytes.NewReader(tt.body), map[string]string{"Content-Type": tt.contentType})
			r.wantError(t, tt.status, tt.code)
		})
	}
	request(t, "GET", m.URL()+"/v1/batches/nope", key, nil, nil).wantError(t, http.StatusNotFound, hotpath.ENOTFOUND)
}

// TestWorkerProcessesJobs runs serve on an external NATS queue (so serve does
// not consume) and the worker command in-process: the worker makes the
// variants, and stops cleanly on cancel.
func TestWorkerProcessesJobs(t *testing.T) {
	natsURL := os.Getenv("HOTPATH_TEST_NATS")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	id := hotpath.NewID()[20:]
	queue := natsURL + "?stream=WT_" + id + "&subject=wt." + id + "&ack_wait=2s"
	t.Cleanup(func() {
		if err := e2e.DeleteStream(natsURL, "WT_"+id, "wt."+id); err != nil {
			t.Error(err)
		}
	})
	cfg := testConfig(t)
	cfg.Queue = queue
	m, _ := startMain(t, cfg)
	key := m.AdminKey
	acc := uploadAsync(t, m, key, imagetest.Image(t, hotpath.FormatJPEG, 400, 300))
	time.Sleep(300 * time.Millisecond)
	var j hphttp.JobJSON
	request(t, "GET", m.URL()+"/v1/jobs/"+acc.Job.ID, key, nil, nil).decode(t, &j)
	if j.State != hotpath.JobQueued {
		t.Fatalf("with no worker the job is %s, want queued (serve must not consume an external queue)", j.State)
	}

	// serve's /metrics shows the job waiting in the queue.
	metrics := request(t, "GET", m.URL()+"/metrics", "", nil, nil)
	if !strings.Contains(string(metrics.body), "\nhotpath_job_queue_depth 1\n") {
		t.Errorf("serve /metrics lacks hotpath_job_queue_depth 1 with one queued job:\n%s", grepLines(string(metrics.body), "job_queue"))
	}

	cancel, done, stderr := runWorkerCommand(queue, cfg)
	if j := waitJob(t, m, key, acc.Job.ID); j.State != hotpath.JobSucceeded {
		t.Errorf("job after the worker ran: %s (%s)", j.State, j.Error)
	}
	// The worker serves its health and metrics on --addr.
	workerURL := logField(t, stderr, "worker serving /healthz, /readyz and /metrics", "url")
	for _, tt := range []struct{ path, want string }{
		{"/healthz", `"ok"`},
		{"/readyz", `"ready"`},
		{"/metrics", "\nhotpath_job_queue_depth 0\n"},
		{"/v1/images", `"not_found"`},
	} {
		resp := request(t, "GET", workerURL+tt.path, key, nil, nil)
		if !strings.Contains(string(resp.body), tt.want) {
			t.Errorf("worker GET %s: %d %.300s; want it to contain %s", tt.path, resp.StatusCode, resp.body, tt.want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("worker exit %d: %s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop within 20s of cancel")
	}
	if !strings.Contains(stderr.String(), "worker consuming jobs") {
		t.Errorf("worker log lacks its start line: %s", stderr)
	}
}

// runWorkerCommand runs `hotpath worker` in-process on queue and cfg's
// stores, serving its health on a free port, until cancel; done receives
// its exit code.
func runWorkerCommand(queue string, cfg Config) (cancel context.CancelFunc, done chan int, stderr *syncBuffer) {
	ctx, cancel := context.WithCancel(context.Background())
	done, stderr = make(chan int, 1), &syncBuffer{}
	go func() {
		env := &Env{Stdin: strings.NewReader(""), Stdout: stderr, Stderr: stderr, Getenv: func(string) string { return "" }}
		done <- run(ctx, env, []string{"worker", "--queue", queue, "--db", cfg.DB, "--store", cfg.Store, "--data", cfg.DataDir, "--workers", "1", "--addr", "127.0.0.1:0"})
	}()
	return cancel, done, stderr
}

// logField returns field of the first JSON log line whose msg is msg,
// waiting up to 10 s for it.
func logField(t *testing.T, log *syncBuffer, msg, field string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(log.String(), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == msg {
				if v, ok := entry[field].(string); ok {
					return v
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q with %s in:\n%s", msg, field, log)
	return ""
}

func TestWorkerUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"embedded queue", []string{"worker", "--data", t.TempDir()}, "needs a nats:// URL"},
		{"bad concurrency", []string{"worker", "--queue", "nats://127.0.0.1:4222", "--concurrency", "-1"}, "concurrency"},
		{"positional", []string{"worker", "extra", "--queue", "nats://127.0.0.1:4222"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
			if code := run(context.Background(), env, tt.args); code != 2 || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want 2 and %q", code, out.String(), tt.want)
			}
		})
	}
}

func TestQueueURL(t *testing.T) {
	for raw, want := range map[string]string{
		"embedded":                       "embedded?dir=%2Fdata",
		"":                               "embedded?dir=%2Fdata",
		"embedded?listen=127.0.0.1:4333": "embedded?listen=127.0.0.1:4333&dir=%2Fdata",
		"embedded?dir=/elsewhere":        "embedded?dir=/elsewhere",
		"nats://h:4222?stream=S":         "nats://h:4222?stream=S",
	} {
		if got := queueURL(raw, "/data"); got != want {
			t.Errorf("queueURL(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]bool{"embedded": true, "embedded?listen=none": true, "": true, "nats://h:4222": false} {
		if got := embeddedQueue(raw); got != want {
			t.Errorf("embeddedQueue(%q) = %v, want %v", raw, got, want)
		}
	}
}

// TestBrokenBodyKeepsAcceptedFiles checks that a batch or async multipart
// body that breaks off after some files answers 202 with the files already
// queued and the failure as one more failed entry, instead of an error that
// hides jobs the server is running.
func TestBrokenBodyKeepsAcceptedFiles(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.MaxFilesPerRequest = 1
	m, _ := startMain(t, cfg)
	key := m.AdminKey
	files := map[string][]byte{"a.jpg": imagetest.Image(t, hotpath.FormatJPEG, 64, 48), "b.jpg": imagetest.Image(t, hotpath.FormatJPEG, 48, 64)}

	t.Run("truncated tar batch", func(t *testing.T) {
		full := tarBody(t, []string{"a.jpg", "b.jpg"}, files, false)
		// Cut inside b.jpg's data: a.jpg is whole, then the archive breaks.
		cut := full[:len(full)-1024-len(files["b.jpg"])/2]
		r := request(t, "POST", m.URL()+"/v1/batches", key, bytes.NewReader(cut), map[string]string{"Content-Type": "application/x-tar"})
		r.wantStatus(t, http.StatusAccepted)
		var b hphttp.BatchJSON
		r.decode(t, &b)
		b = waitBatch(t, m, key, b.ID)
		// b.jpg fails (its data breaks off), then the archive itself does.
		if b.Succeeded != 1 || b.Failed != 2 || len(b.Files) != 3 || b.Files[0].Filename != "a.jpg" {
			t.Fatalf("batch = %+v, want a.jpg succeeded, b.jpg and the broken archive failed", b.Batch)
		}
		if last := b.Files[len(b.Files)-1]; last.State != hotpath.JobFailed || last.Error == "" {
			t.Errorf("last file = %+v, want the failed archive with its error", last.Job)
		}
	})

	t.Run("async multipart past the file limit", func(t *testing.T) {
		body, ct := multipartBody(t, files, []string{"a.jpg", "b.jpg"})
		r := request(t, "POST", m.URL()+"/v1/images?async=true", key, body, map[string]string{"Content-Type": ct})
		r.wantStatus(t, http.StatusAccepted)
		var out hphttp.AcceptedListJSON
		r.decode(t, &out)
		if out.Succeeded != 1 || out.Failed != 1 || len(out.Results) != 2 || out.Results[0].Job == nil {
			t.Fatalf("results = %s, want a.jpg queued and a too_large result", r.body)
		}
		if e := out.Results[1].Error; e == nil || e.Code != hotpath.ETOOLARGE {
			t.Errorf("second result = %+v, want too_large", out.Results[1])
		}
		if j := waitJob(t, m, key, out.Results[0].Job.ID); j.State != hotpath.JobSucceeded {
			t.Errorf("a.jpg job %s (%s), want succeeded", j.State, j.Error)
		}
	})
}

// TestReadinessPerRole takes NATS away (through a proxy) from a serve and a
// worker: serve stays ready, "degraded" with the queue down in its /readyz
// body, and keeps serving sync uploads while async ones answer 503 with
// Retry-After; the worker, useless without the queue, is not ready. Both are
// ready again once NATS is back.
func TestReadinessPerRole(t *testing.T) {
	natsURL := os.Getenv("HOTPATH_TEST_NATS")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	proxy, err := hotpathtest.NewFaultProxy(strings.TrimPrefix(natsURL, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	id := hotpath.NewID()[20:]
	queue := "nats://" + proxy.Addr + "?stream=RD_" + id + "&subject=rd." + id + "&ack_wait=2s"
	t.Cleanup(func() {
		if err := e2e.DeleteStream(natsURL, "RD_"+id, "rd."+id); err != nil {
			t.Error(err)
		}
	})
	cfg := testConfig(t)
	cfg.Queue = queue
	m, _ := startMain(t, cfg)
	key := m.AdminKey

	cancel, done, stderr := runWorkerCommand(queue, cfg)
	defer func() { cancel(); <-done }()
	workerURL := logField(t, stderr, "worker serving /healthz, /readyz and /metrics", "url")

	ready := func(t *testing.T, url string, wantStatus int, want string) {
		t.Helper()
		var body hphttp.ReadyJSON
		var last response
		deadline := time.Now().Add(10 * time.Second)
		for {
			last = request(t, "GET", url+"/readyz", "", nil, nil)
			body = hphttp.ReadyJSON{}
			json.Unmarshal(last.body, &body)
			if last.StatusCode == wantStatus && body.Status == want || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if last.StatusCode != wantStatus || body.Status != want {
			t.Fatalf("%s/readyz = %d %s, want %d %q", url, last.StatusCode, last.body, wantStatus, want)
		}
	}
	ready(t, m.URL(), 200, "ready")
	ready(t, workerURL, 200, "ready")

	proxy.Refuse()
	ready(t, m.URL(), 200, "degraded")
	ready(t, workerURL, 503, "unavailable")
	var body hphttp.ReadyJSON
	request(t, "GET", m.URL()+"/readyz", "", nil, nil).decode(t, &body)
	if q := body.Checks["queue"]; q.Status != "down" || q.Required || body.Checks["metadata"].Status != "ok" || body.Checks["blobs"].Status != "ok" {
		t.Errorf("serve /readyz checks during the NATS outage = %+v; want queue down (optional), metadata and blobs ok", body.Checks)
	}
	if r := request(t, "GET", workerURL+"/readyz", "", nil, nil); r.Header.Get("Retry-After") == "" {
		t.Errorf("worker /readyz 503 without Retry-After")
	}
	uploadImage(t, m, key, 64, 48) // sync uploads go on
	r := request(t, "POST", m.URL()+"/v1/images?async=true", key, bytes.NewReader(imagetest.Image(t, hotpath.FormatJPEG, 64, 48)), nil)
	r.wantError(t, http.StatusServiceUnavailable, hotpath.EUNAVAILABLE)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("async upload during the NATS outage: 503 without Retry-After")
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	ready(t, m.URL(), 200, "ready")
	ready(t, workerURL, 200, "ready")
	acc := uploadAsync(t, m, key, imagetest.Image(t, hotpath.FormatJPEG, 64, 48))
	if j := waitJob(t, m, key, acc.Job.ID); j.State != hotpath.JobSucceeded {
		t.Errorf("async upload after NATS is back: job %s (%s)", j.State, j.Error)
	}
}
