package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/pipeline"
)

// TestReconcile plays the submits whose undo failed during an outage: a job
// never published (the enqueue failed, then recording its failure and
// removing its image failed too) and an image whose job row was never
// written (and whose removal failed). Reconcile publishes the first, which
// then runs to a ready image, and removes the second, row and blobs; a job
// the queue still holds is left alone.
func TestReconcile(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	_, held := h.submit(t, "") // published: the queue holds it

	h.set("Enqueue", always)
	h.set("UpdateJob", always)
	h.set("DeleteImage", always)
	if _, _, err := h.jobs.Submit(ctx, tenant, "", "lost.jpg", h.file(t, 320, 240)); err == nil {
		t.Fatal("Submit with the queue down succeeded")
	}
	h.set("Enqueue", nil)
	h.set("CreateJob", always)
	if _, _, err := h.jobs.Submit(ctx, tenant, "", "stranded.jpg", h.file(t, 320, 240)); err == nil {
		t.Fatal("Submit with the job table down succeeded")
	}
	h.set("CreateJob", nil)
	h.set("UpdateJob", nil)
	h.set("DeleteImage", nil)

	imgs := h.images(t)
	if len(imgs) != 3 {
		t.Fatalf("%d images after the failed submits, want 3 (their undo failed)", len(imgs))
	}
	// Within the grace period nothing is touched: the submits might be under way.
	if done, err := h.jobs.Reconcile(ctx, time.Hour); err != nil || done != (pipeline.Reconciled{}) {
		t.Fatalf("Reconcile within the grace period = %+v, %v; want nothing done", done, err)
	}
	done, err := h.jobs.Reconcile(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if done.Republished != 1 || done.Removed != 1 {
		t.Fatalf("Reconcile = %+v, want 1 republished, 1 removed", done)
	}
	if again, err := h.jobs.Reconcile(ctx, 0); err != nil || again.Removed != 0 {
		t.Errorf("second Reconcile = %+v, %v; want nothing more removed", again, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() { h.queue.Consume(cctx, 2, h.jobs.Handle); close(finished) }()
	defer func() { cancel(); <-finished }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		imgs = h.checkConsistent(t)
		ready := 0
		for _, img := range imgs {
			if img.Status == hotpath.ImageReady {
				ready++
			}
		}
		if len(imgs) == 2 && ready == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Reconcile: %d images, %d ready; want 2, both ready", len(imgs), ready)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j := h.job(t, held.ID); j.State != hotpath.JobSucceeded || j.Attempts != 1 {
		t.Errorf("the held job: %s after %d attempts, want succeeded after 1 (not published twice)", j.State, j.Attempts)
	}
	// checkConsistent found every remaining row with its blobs; the removed
	// image's blobs are gone too.
	want := 0
	for _, img := range imgs {
		want += 1 + len(img.Variants)
	}
	if keys := h.blobKeys(t); len(keys) != want {
		t.Errorf("%d blobs for %d ready images, want %d: %v", len(keys), len(imgs), want, keys)
	}
}

// TestRetry runs a failed job again: its image is processing again, the
// job queued with its failures forgotten, and the next run makes it ready.
// A job that is not failed cannot be retried.
func TestRetry(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	img, job := h.submit(t, "")
	if _, err := h.jobs.Retry(ctx, tenant, job.ID); hotpath.ErrorCode(err) != hotpath.ECONFLICT {
		t.Fatalf("Retry of a queued job = %v, want conflict", err)
	}
	h.faults.code = hotpath.EINTERNAL
	h.set("PutVariant", always)
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 1, MaxFailures: 1}); err != nil {
		t.Fatalf("the failing run: %v, want nil (failed for good)", err)
	}
	if j := h.job(t, job.ID); j.State != hotpath.JobFailed {
		t.Fatalf("job %s, want failed", j.State)
	}
	h.set("PutVariant", nil)
	retried, err := h.jobs.Retry(ctx, tenant, job.ID)
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	got, err := h.meta.GetImage(ctx, tenant, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retried.State != hotpath.JobQueued || retried.Attempts != 0 || got.Status != hotpath.ImageProcessing {
		t.Fatalf("after Retry: job %s with %d attempts, image %s; want queued, 0, processing", retried.State, retried.Attempts, got.Status)
	}
	if held, err := h.queue.Holds(ctx, job.ID); err != nil || !held {
		t.Fatalf("the queue holds the retried job: %v, %v; want true", held, err)
	}
	if err := h.jobs.Handle(ctx, hotpath.Delivery{Job: job, Attempt: 1, MaxFailures: 1}); err != nil {
		t.Fatalf("the retried run: %v", err)
	}
	if imgs := h.checkConsistent(t); imgs[0].Status != hotpath.ImageReady || h.job(t, job.ID).State != hotpath.JobSucceeded {
		t.Errorf("after the retried run: image %s, job %s; want ready, succeeded", imgs[0].Status, h.job(t, job.ID).State)
	}
}
