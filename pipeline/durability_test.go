package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// TestDurability makes the blob side or the metadata side fail at each step
// of a synchronous and an asynchronous upload, and checks that the upload is
// refused, that no row points at a missing blob, and that no blob is left
// without its row. Then it checks that a later upload still succeeds.
func TestDurability(t *testing.T) {
	tests := []struct {
		name  string
		async bool
		op    string
		match func(string) bool
	}{
		{"sync/original blob write", false, "Put", func(k string) bool { return strings.HasSuffix(k, "/original") }},
		{"sync/variant blob write", false, "Put", func(k string) bool { return strings.HasSuffix(k, "/v/medium") }},
		{"sync/metadata write", false, "CreateImage", always},
		{"async/original blob write", true, "Put", func(k string) bool { return strings.HasSuffix(k, "/original") }},
		{"async/image row write", true, "CreateImage", always},
		{"async/job row write", true, "CreateJob", always},
		{"async/enqueue", true, "Enqueue", always},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			upload := func() error {
				path := h.file(t, 320, 240)
				if tt.async {
					_, _, err := h.jobs.Submit(ctx, tenant, "", "photo.jpg", path)
					return err
				}
				_, err := h.svc.Ingest(ctx, tenant, "photo.jpg", path)
				return err
			}
			h.set(tt.op, tt.match)
			err := upload()
			if err == nil {
				t.Fatalf("upload succeeded with %s failing", tt.op)
			}
			if code := hotpath.ErrorCode(err); code != hotpath.EUNAVAILABLE {
				t.Errorf("error code = %q, want %q", code, hotpath.EUNAVAILABLE)
			}
			if imgs := h.checkConsistent(t); len(imgs) != 0 {
				t.Errorf("a refused upload left %d image rows", len(imgs))
			}
			if keys := h.blobKeys(t); len(keys) != 0 {
				t.Errorf("a refused upload left blobs %v", keys)
			}

			h.set(tt.op, nil)
			if err := upload(); err != nil {
				t.Fatalf("upload after the fault cleared: %v", err)
			}
			if imgs := h.checkConsistent(t); len(imgs) != 1 {
				t.Errorf("after a good upload: %d image rows, want 1", len(imgs))
			}
		})
	}
}

// TestDurabilityJobFailures fails the variant side of an async upload's job,
// blob or row, on every delivery with an error that is not an outage: the
// image ends failed with its original intact, and every variant row that
// exists has its blob.
func TestDurabilityJobFailures(t *testing.T) {
	tests := []struct {
		name  string
		op    string
		match func(string) bool
	}{
		{"variant blob write", "Put", func(k string) bool { return strings.HasSuffix(k, "/v/large") }},
		{"variant row write", "PutVariant", func(name string) bool { return name == "medium" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			img, job := h.submit(t, "")
			h.faults.code = hotpath.EINTERNAL
			h.set(tt.op, tt.match)
			for attempt := 1; attempt <= 3; attempt++ {
				d := hotpath.Delivery{Job: job, Attempt: attempt, MaxFailures: 3}
				if err := h.jobs.Handle(ctx, d); (err == nil) != (attempt == 3) {
					t.Fatalf("attempt %d with %s failing: %v", attempt, tt.op, err)
				}
			}
			imgs := h.checkConsistent(t)
			if len(imgs) != 1 || imgs[0].ID != img.ID || imgs[0].Status != hotpath.ImageFailed {
				t.Fatalf("images = %d, want the one image, failed", len(imgs))
			}
			// Deleting the failed image removes everything it stored.
			if err := h.svc.Delete(ctx, tenant, img.ID); err != nil {
				t.Fatal(err)
			}
			if keys := h.blobKeys(t); len(keys) != 0 {
				t.Errorf("blobs left after deleting the failed image: %v", keys)
			}
		})
	}
}

// TestSubmitEnqueueFailureInBatch checks that a batch file whose enqueue
// fails is recorded once, as the failed job Submit returns with its error,
// so that the API does not record it a second time.
func TestSubmitEnqueueFailureInBatch(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	b := &hotpath.Batch{ID: hotpath.NewID(), TenantID: tenant, CreatedAt: time.Now().UTC()}
	if err := h.meta.CreateBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	h.set("Enqueue", always)
	img, job, err := h.jobs.Submit(ctx, tenant, b.ID, "photo.jpg", h.file(t, 320, 240))
	if err == nil || img != nil {
		t.Fatalf("Submit = %v, %v, want an error and no image", img, err)
	}
	if job == nil || job.State != hotpath.JobFailed || job.BatchID != b.ID {
		t.Fatalf("job = %+v, want the batch's job, failed", job)
	}
	jobs, err := h.meta.ListBatchJobs(ctx, tenant, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].ID != job.ID || jobs[0].State != hotpath.JobFailed {
		t.Errorf("batch jobs = %d, want only the returned failed job", len(jobs))
	}
}

// TestTransformDurability fails the blob or the row of a transform result:
// the transform is refused, no row points at a missing blob and no result
// blob is left without its row; once the fault clears the result is made,
// stored and found.
func TestTransformDurability(t *testing.T) {
	isResult := func(s string) bool { return strings.Contains(s, "/v/t-") || strings.HasPrefix(s, "t:") }
	for _, op := range []string{"Put", "PutVariant"} {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			img, err := h.svc.Ingest(ctx, tenant, "photo.jpg", h.file(t, 320, 240))
			if err != nil {
				t.Fatal(err)
			}
			before := len(h.blobKeys(t))
			opts := hotpath.TransformOptions{Width: 100, Format: hotpath.FormatPNG}
			h.set(op, isResult)
			if _, _, err := h.svc.Transform(ctx, img, opts); hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE {
				t.Fatalf("Transform with %s failing: err = %v, want %s", op, err, hotpath.EUNAVAILABLE)
			}
			if keys := h.blobKeys(t); len(keys) != before {
				t.Errorf("a refused transform left blobs: %v", keys)
			}
			if _, err := h.svc.StoredTransform(ctx, img, opts); !hotpath.IsNotFound(err) {
				t.Errorf("StoredTransform after a refused transform: err = %v, want not found", err)
			}

			h.set(op, nil)
			v, data, err := h.svc.Transform(ctx, img, opts)
			if err != nil {
				t.Fatal(err)
			}
			if v.Width != 100 || v.Format != hotpath.FormatPNG || v.Bytes != int64(len(data)) {
				t.Errorf("result = %dpx %s %d bytes (data %d), want 100px png", v.Width, v.Format, v.Bytes, len(data))
			}
			stored, err := h.svc.StoredTransform(ctx, img, opts)
			if err != nil || stored.BlobKey != v.BlobKey {
				t.Fatalf("StoredTransform = %+v, %v, want the result just made", stored, err)
			}
			b, err := h.svc.OpenVariant(ctx, stored)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if got := b.Info().Size; got != int64(len(data)) {
				t.Errorf("stored blob is %d bytes, want %d", got, len(data))
			}
			h.checkConsistent(t)
		})
	}
}
