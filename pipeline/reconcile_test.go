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
