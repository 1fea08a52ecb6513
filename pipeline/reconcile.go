package pipeline

import (
	"context"
	"time"

	"github.com/hotpath/hotpath"
)

// Reconcile settings of an unconfigured process.
const (
	// DefaultReconcileGrace is how old a job's last update or a processing
	// image must be before Reconcile touches it: longer than any submit
	// takes between its writes, so that work under way is never mistaken
	// for work lost.
	DefaultReconcileGrace = 2 * time.Minute
	// DefaultReconcileInterval is how often a process reconciles.
	DefaultReconcileInterval = time.Minute
	// reconcileBatch bounds the rows one pass reads of each kind.
	reconcileBatch = 500
)

// Reconciled counts what one Reconcile pass did.
type Reconciled struct {
	// Republished are queued or running jobs the queue no longer held (lost
	// with a broken stream, or never published because the enqueue and
	// then its undo failed): published again, they run to their end.
	Republished int `json:"republished"`
	// Removed are processing images no job will ever finish (their submit
	// failed and the undo failed too, so their client was answered an
	// error): their rows and blobs are deleted.
	Removed int `json:"removed"`
}

// Reconcile finds what an outage left half done and finishes or removes it,
// so that no image stays processing forever: jobs the metadata store says
// are queued or running but that the queue does not hold are published
// again, and images in processing with no queued or running job are
// removed, row then blobs. Only rows older than grace are considered. It is
// safe to run in many processes at once: a job published twice within the
// queue's duplicate window is stored once, a later duplicate finds the job
// done, and removing an image twice is removing it once. It stops at the
// first error of a backend, to be run again later.
func (j *Jobs) Reconcile(ctx context.Context, grace time.Duration) (Reconciled, error) {
	var done Reconciled
	s := j.Service
	before := time.Now().Add(-grace)
	jobs, err := s.Meta.ListStaleJobs(ctx, before, reconcileBatch)
	if err != nil {
		return done, err
	}
	for _, job := range jobs {
		held, err := j.Queue.Holds(ctx, job.ID)
		if err != nil {
			return done, err
		}
		if held {
			continue
		}
		if err := j.Queue.Enqueue(ctx, job); err != nil {
			return done, err
		}
		s.Logger.WarnContext(ctx, "reconcile: published a job the queue did not hold", "job", job.ID, "tenant", job.TenantID, "image", job.ImageID, "state", job.State)
		done.Republished++
	}
	images, err := s.Meta.ListStrandedImages(ctx, before, reconcileBatch)
	if err != nil {
		return done, err
	}
	for _, img := range images {
		if err := s.Meta.DeleteImage(ctx, img.TenantID, img.ID); err != nil && !hotpath.IsNotFound(err) {
			return done, err
		}
		s.InvalidateImage(ctx, img.ID)
		if err := s.Blobs.DeletePrefix(ctx, hotpath.ImagePrefix(img.TenantID, img.ID)); err != nil {
			// The row is gone; its blobs are left for the sweep of blobs
			// without a row.
			s.Logger.ErrorContext(ctx, "reconcile: remove blobs of a stranded image", "image", img.ID, "err", err)
		}
		s.Logger.WarnContext(ctx, "reconcile: removed an image no job will finish", "image", img.ID, "tenant", img.TenantID)
		done.Removed++
	}
	return done, nil
}

// ReconcileEvery runs Reconcile now and then every interval until ctx ends,
// logging what each pass did or why it stopped.
func (j *Jobs) ReconcileEvery(ctx context.Context, interval, grace time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := j.Reconcile(ctx, grace)
		switch {
		case err != nil && ctx.Err() == nil:
			j.Service.Logger.WarnContext(ctx, "reconcile pass stopped, will run again", "err", err, "republished", done.Republished, "removed", done.Removed, "next_in", interval)
		case done != Reconciled{}:
			j.Service.Logger.InfoContext(ctx, "reconcile pass", "republished", done.Republished, "removed", done.Removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
