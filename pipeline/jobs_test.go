package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	"github.com/hotpath/hotpath/nats"
	"github.com/hotpath/hotpath/pipeline"
	"github.com/hotpath/hotpath/sqlite"
)

const tenant = "t1"

// faults makes chosen operations of the stores fail, to prove that a failure
// on either side leaves no row pointing at nothing and no orphaned blob.
type faults struct {
	mu   sync.Mutex
	fail map[string]func(arg string) bool // operation → fails for this key/id?
	code string                           // the code of the injected errors; "" is EUNAVAILABLE
}

var errInjected = errors.New("injected failure")

// set makes op fail whenever match(arg) is true; nil match clears it.
func (f *faults) set(op string, match func(arg string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]func(string) bool{}
	}
	f.fail[op] = match
}

// check returns an error (unavailable unless f.code says otherwise) when op
// on arg is set to fail.
func (f *faults) check(op, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.fail[op]; m != nil && m(arg) {
		code := f.code
		if code == "" {
			code = hotpath.EUNAVAILABLE
		}
		return hotpath.WrapError(code, errInjected, "%s failed", op)
	}
	return nil
}

// always matches every argument.
func always(string) bool { return true }

// failingBlobs is a BlobStore whose Put fails on demand, after consuming the
// body as a half-written upload would.
type failingBlobs struct {
	hotpath.BlobStore
	*faults
}

func (b failingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	if err := b.check("Put", key); err != nil {
		io.Copy(io.Discard, r)
		return err
	}
	return b.BlobStore.Put(ctx, key, r, size, ct)
}

// failingMeta is a MetadataStore whose writes fail on demand.
type failingMeta struct {
	hotpath.MetadataStore
	*faults
}

func (m failingMeta) CreateImage(ctx context.Context, img *hotpath.Image) error {
	if err := m.check("CreateImage", img.ID); err != nil {
		return err
	}
	return m.MetadataStore.CreateImage(ctx, img)
}

func (m failingMeta) CreateJob(ctx context.Context, j *hotpath.Job) error {
	if err := m.check("CreateJob", j.ID); err != nil {
		return err
	}
	return m.MetadataStore.CreateJob(ctx, j)
}

func (m failingMeta) PutVariant(ctx context.Context, v *hotpath.Variant) error {
	if err := m.check("PutVariant", v.Name); err != nil {
		return err
	}
	return m.MetadataStore.PutVariant(ctx, v)
}

func (m failingMeta) UpdateJob(ctx context.Context, j *hotpath.Job) error {
	if err := m.check("UpdateJob", j.ID); err != nil {
		return err
	}
	return m.MetadataStore.UpdateJob(ctx, j)
}

func (m failingMeta) DeleteImage(ctx context.Context, tenantID, id string) error {
	if err := m.check("DeleteImage", id); err != nil {
		return err
	}
	return m.MetadataStore.DeleteImage(ctx, tenantID, id)
}

// failingQueue is a Queue whose Enqueue fails on demand.
type failingQueue struct {
	hotpath.Queue
	*faults
}

func (q failingQueue) Enqueue(ctx context.Context, j *hotpath.Job) error {
	if err := q.check("Enqueue", j.ID); err != nil {
		return err
	}
	return q.Queue.Enqueue(ctx, j)
}

// harness is a pipeline over real stores (disk, SQLite, embedded NATS, libvips)
// with fault injection in front of them.
type harness struct {
	*faults
	svc      *pipeline.Service
	jobs     *pipeline.Jobs
	queue    *nats.Queue
	blobRoot string
	meta     hotpath.MetadataStore
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	h := &harness{faults: &faults{}, blobRoot: filepath.Join(dir, "blobs")}
	blobs, err := disk.Open(context.Background(), h.blobRoot)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "hotpath.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateTenant(ctx, &hotpath.Tenant{ID: tenant, Name: tenant, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h.meta = store
	quiet := slog.New(slog.DiscardHandler)
	h.queue, err = nats.New(ctx, nats.Config{
		DataDir: dir, Listen: "none", MaxDeliver: 3, AckWait: time.Second,
		RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.queue.Close() })
	cfg := pipeline.DefaultConfig()
	cfg.Workers, cfg.TempDir = 2, dir
	h.svc, err = pipeline.New(cfg, failingBlobs{blobs, h.faults}, failingMeta{store, h.faults}, imagetest.ImageEngine(t), nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	h.jobs = pipeline.NewJobs(h.svc, failingQueue{h.queue, h.faults})
	return h
}

// file writes an image of w × h to a temp file and returns its path.
func (h *harness) file(t *testing.T, w, ht int) string {
	t.Helper()
	return imagetest.WriteImage(t, "upload.jpg", imagetest.Image(t, hotpath.FormatJPEG, w, ht))
}

// submit submits an image file and fails t on an error.
func (h *harness) submit(t *testing.T, batchID string) (*hotpath.Image, *hotpath.Job) {
	t.Helper()
	img, job, err := h.jobs.Submit(context.Background(), tenant, batchID, "photo.jpg", h.file(t, 320, 240))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return img, job
}

// blobKeys lists every blob on disk, skipping the store's temp files.
func (h *harness) blobKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(h.blobRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(h.blobRoot, p)
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return keys
}

// images lists every image row of the tenant.
func (h *harness) images(t *testing.T) []*hotpath.Image {
	t.Helper()
	var out []*hotpath.Image
	cursor := ""
	for {
		page, err := h.meta.ListImages(context.Background(), tenant, cursor, 1000)
		if err != nil {
			t.Fatalf("ListImages: %v", err)
		}
		for _, img := range page.Images {
			full, err := h.meta.GetImage(context.Background(), tenant, img.ID)
			if err != nil {
				t.Fatalf("GetImage: %v", err)
			}
			out = append(out, full)
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// checkConsistent fails t when a row points at a missing blob or a blob
// belongs to no image row, and returns the image rows.
func (h *harness) checkConsistent(t *testing.T) []*hotpath.Image {
	t.Helper()
	blobs := map[string]bool{}
	for _, k := range h.blobKeys(t) {
		blobs[k] = true
	}
	imgs := h.images(t)
	owned := map[string]bool{}
	for _, img := range imgs {
		owned[hotpath.ImagePrefix(img.TenantID, img.ID)] = true
		if key := hotpath.OriginalKey(img.TenantID, img.ID); !blobs[key] {
			t.Errorf("image %s: its original %s is missing", img.ID, key)
		}
		for _, v := range img.Variants {
			if !blobs[v.BlobKey] {
				t.Errorf("image %s: variant %s points at missing blob %s", img.ID, v.Name, v.BlobKey)
			}
		}
	}
	for k := range blobs {
		parts := strings.SplitN(k, "/", 3)
		if len(parts) < 3 || !owned[parts[0]+"/"+parts[1]+"/"] {
			t.Errorf("blob %s belongs to no image row (orphan)", k)
		}
	}
	return imgs
}

// job reads a job back.
func (h *harness) job(t *testing.T, id string) *hotpath.Job {
	t.Helper()
	j, err := h.meta.GetJob(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	return j
}

func TestJobsSubmitAndHandle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	img, job := h.submit(t, "")
	if img.Status != hotpath.ImageProcessing || len(img.Variants) != 0 {
		t.Fatalf("submitted image: status %s with %d variants, want processing with none", img.Status, len(img.Variants))
	}
	if n, _ := h.queue.Pending(ctx); n != 1 {
		t.Fatalf("queue holds %d jobs, want 1", n)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 1}); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got := h.checkConsistent(t)
	if len(got) != 1 || got[0].Status != hotpath.ImageReady || len(got[0].Variants) != 3 {
		t.Fatalf("after the job: %d images, status %s, %d variants; want 1 ready with 3", len(got), got[0].Status, len(got[0].Variants))
	}
	j := h.job(t, job.ID)
	var res pipeline.JobResult
	if err := json.Unmarshal(j.Result, &res); err != nil {
		t.Fatalf("job result %q: %v", j.Result, err)
	}
	if j.State != hotpath.JobSucceeded || j.Attempts != 1 || len(res.Variants) != 3 || res.ImageID != img.ID {
		t.Errorf("job = state %s attempts %d result %+v; want succeeded, 1, 3 variants of %s", j.State, j.Attempts, res, img.ID)
	}
}

// TestJobsIdempotent redelivers a job: after it finished (its ack lost) and
// after a worker died half-way. Neither duplicates variants or blobs.
func TestJobsIdempotent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, job := h.submit(t, "")
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	before := h.blobKeys(t)
	first := h.job(t, job.ID)

	// The ack was lost: the redelivery finds the job done and does nothing.
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 2}); err != nil {
		t.Fatalf("redelivery of a finished job: %v", err)
	}
	if again := h.job(t, job.ID); !again.UpdatedAt.Equal(first.UpdatedAt) || again.Attempts != 1 {
		t.Errorf("a finished job was run again: attempts %d", again.Attempts)
	}

	// A worker died mid-job: the record says running; the redelivery redoes it.
	first.State = hotpath.JobRunning
	if err := h.meta.UpdateJob(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 2}); err != nil {
		t.Fatalf("redelivery after a dead worker: %v", err)
	}
	imgs := h.checkConsistent(t)
	if len(imgs) != 1 || len(imgs[0].Variants) != 3 {
		t.Fatalf("after redelivery: %d images with %d variants, want 1 with 3", len(imgs), len(imgs[0].Variants))
	}
	if after := h.blobKeys(t); len(after) != len(before) {
		t.Errorf("blobs %v after redelivery, want the same %v", after, before)
	}
	if j := h.job(t, job.ID); j.State != hotpath.JobSucceeded || j.Attempts != 2 {
		t.Errorf("job state %s attempts %d, want succeeded 2", j.State, j.Attempts)
	}
}

// TestJobsOutageThenFailures fails a job's variant writes. While the error
// is an unavailable backend, no number of deliveries fails the job: each is
// handed back queued and uncounted, and once the backend is back the job
// succeeds. An error of another kind counts, and after MaxFailures of them
// the job and its image are failed.
func TestJobsOutageThenFailures(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, job := h.submit(t, "")
	h.set("PutVariant", always)
	const maxFailures = 3
	for attempt := 1; attempt <= 4*maxFailures; attempt++ {
		err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: attempt, MaxFailures: maxFailures})
		if hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
			t.Fatalf("delivery %d with the store down = %v, want unavailable (retry)", attempt, err)
		}
		j := h.job(t, job.ID)
		if j.State != hotpath.JobQueued || j.Attempts != 0 || j.Error == "" {
			t.Fatalf("after delivery %d in the outage: state %s, attempts %d, error %q; want queued, 0, the error", attempt, j.State, j.Attempts, j.Error)
		}
	}
	if imgs := h.checkConsistent(t); imgs[0].Status != hotpath.ImageProcessing {
		t.Fatalf("image during the outage: %s, want processing", imgs[0].Status)
	}
	h.set("PutVariant", nil)
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 4*maxFailures + 1, MaxFailures: maxFailures}); err != nil {
		t.Fatalf("delivery after the outage: %v", err)
	}
	if j, imgs := h.job(t, job.ID), h.checkConsistent(t); j.State != hotpath.JobSucceeded || j.Attempts != 1 || imgs[0].Status != hotpath.ImageReady {
		t.Fatalf("after the outage: job %s after %d attempts, image %s; want succeeded after 1, ready", j.State, j.Attempts, imgs[0].Status)
	}

	// Failures that are not an outage count, and the last one fails the job.
	_, job = h.submit(t, "")
	h.faults.code = hotpath.EINTERNAL
	h.set("PutVariant", always)
	for attempt := 1; attempt <= maxFailures; attempt++ {
		err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: attempt, MaxFailures: maxFailures})
		if last := attempt == maxFailures; last != (err == nil) {
			t.Fatalf("delivery %d of %d = %v; want an error (retry) before the last, nil (failed for good) on it", attempt, maxFailures, err)
		}
	}
	j := h.job(t, job.ID)
	img, err := h.meta.GetImage(ctx, tenant, job.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != hotpath.JobFailed || j.Attempts != maxFailures || img.Status != hotpath.ImageFailed || img.Error == "" {
		t.Errorf("after %d failures: job %s after %d attempts, image %s %q; want both failed with the error", maxFailures, j.State, j.Attempts, img.Status, img.Error)
	}
	if strings.Contains(j.Error, errInjected.Error()) {
		t.Errorf("job error %q leaks an internal cause", j.Error)
	}
}

// TestJobsWorkerKilledOnLastAttempt: a run that dies with its worker on the
// job's last allowed attempt leaves the job running; the next delivery runs
// it again and it succeeds, while a job that kills every worker is failed.
func TestJobsWorkerKilledOnLastAttempt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const maxFailures = 3
	_, job := h.submit(t, "")
	j := h.job(t, job.ID)
	j.State, j.Attempts = hotpath.JobRunning, maxFailures // the last run died mid-job
	if err := h.meta.UpdateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 9, MaxFailures: maxFailures}); err != nil {
		t.Fatalf("delivery after the kill: %v", err)
	}
	if j := h.job(t, job.ID); j.State != hotpath.JobSucceeded {
		t.Fatalf("job after the kill on its last attempt: %s, want succeeded", j.State)
	}

	_, job = h.submit(t, "")
	j = h.job(t, job.ID)
	j.State, j.Attempts = hotpath.JobRunning, 2*maxFailures+1 // every run died
	if err := h.meta.UpdateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 20, MaxFailures: maxFailures}); err != nil {
		t.Fatalf("delivery of a job that kills its workers: %v, want nil (failed for good)", err)
	}
	if j := h.job(t, job.ID); j.State != hotpath.JobFailed {
		t.Errorf("job that killed %d workers: %s, want failed", 2*maxFailures+1, j.State)
	}
}

// TestJobsImageDeleted runs a job whose image was deleted meanwhile: the job
// fails without retry and leaves no blob behind.
func TestJobsImageDeleted(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	img, job := h.submit(t, "")
	if err := h.svc.Delete(ctx, tenant, img.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 1}); err != nil {
		t.Fatalf("Handle of a deleted image = %v, want nil (nothing to retry)", err)
	}
	if j := h.job(t, job.ID); j.State != hotpath.JobFailed {
		t.Errorf("job state %s, want failed", j.State)
	}
	if keys := h.blobKeys(t); len(keys) != 0 {
		t.Errorf("blobs left after the deleted image's job: %v", keys)
	}
}

// TestJobsThroughQueue runs submitted jobs through the embedded queue with
// the handler, as `serve` does in the embedded shape.
func TestJobsThroughQueue(t *testing.T) {
	h := newHarness(t)
	batch := &hotpath.Batch{ID: hotpath.NewID(), TenantID: tenant, CreatedAt: time.Now()}
	if err := h.meta.CreateBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	const n = 6
	for range n {
		h.submit(t, batch.ID)
	}
	if _, err := h.jobs.RecordFailure(context.Background(), tenant, batch.ID, "notes.txt", hotpath.Errorf(hotpath.EUNSUPPORTED, "not an image")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.queue.Consume(ctx, 2, h.jobs.Handle); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := h.meta.GetBatch(context.Background(), tenant, batch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Succeeded == n && b.Failed == 1 && b.Total == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch = %+v, want %d succeeded and 1 failed", b, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, img := range h.checkConsistent(t) {
		if img.Status != hotpath.ImageReady || len(img.Variants) != 3 {
			t.Errorf("image %s: %s with %d variants, want ready with 3", img.ID, img.Status, len(img.Variants))
		}
	}
}
