package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/hotpath/hotpath"
)

// Jobs is the background side of uploads. Submit stores an original and
// enqueues the generation of its variants; Handle runs those jobs, in a
// `hotpath worker` process or in `serve` itself in the embedded shape.
type Jobs struct {
	Service *Service
	Queue   hotpath.Queue
}

// NewJobs returns the job side of svc, publishing on q.
func NewJobs(svc *Service, q hotpath.Queue) *Jobs { return &Jobs{Service: svc, Queue: q} }

// JobResult is what a finished job records: the image and its variants when
// it succeeded, the client-safe error when it failed.
type JobResult struct {
	ImageID  string              `json:"image_id,omitempty"`
	Status   hotpath.ImageStatus `json:"status,omitempty"`
	Variants []hotpath.Variant   `json:"variants,omitempty"`
	Error    *JobError           `json:"error,omitempty"`
}

// JobError is a failed job's error code and client-safe message.
type JobError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// stateWriteTimeout bounds a job-state write that must happen even while the
// worker shuts down.
const stateWriteTimeout = 10 * time.Second

// Submit stores the image in the file at tmpPath as a new image of tenantID
// in the processing state and enqueues a job to make its variants; batchID
// may be "". It returns once the original, the image row, the job row and
// the queued message are all durable. On any failure it undoes what it
// stored, so that no row points at a missing blob and no blob is orphaned.
// When the failure comes after the job row was written (the enqueue), that
// row stays, marked failed, and is returned with the error, so that a batch
// does not record the file a second time. The caller keeps tmpPath.
func (j *Jobs) Submit(ctx context.Context, tenantID, batchID, filename, tmpPath string) (*hotpath.Image, *hotpath.Job, error) {
	s := j.Service
	fi, err := os.Stat(tmpPath)
	if err != nil {
		return nil, nil, hotpath.WrapError(hotpath.EINTERNAL, err, "stat upload")
	}
	info, err := s.probe(tmpPath, fi.Size())
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	img := &hotpath.Image{
		ID: hotpath.NewID(), TenantID: tenantID, Filename: cleanFilename(filename),
		Format: info.Format, Width: info.Width, Height: info.Height, Bytes: fi.Size(),
		Status: hotpath.ImageProcessing, CreatedAt: now, Variants: []hotpath.Variant{},
	}
	if img.SHA256, err = s.putOriginal(ctx, img, tmpPath); err != nil {
		s.removeBlobs(ctx, img)
		return nil, nil, err
	}
	if err := s.Meta.CreateImage(ctx, img); err != nil {
		s.removeBlobs(ctx, img)
		return nil, nil, err
	}
	job := &hotpath.Job{
		ID: hotpath.NewID(), TenantID: tenantID, Kind: hotpath.JobVariants, ImageID: img.ID,
		BatchID: batchID, Filename: img.Filename, State: hotpath.JobQueued, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Meta.CreateJob(ctx, job); err != nil {
		j.undoImage(ctx, img)
		return nil, nil, err
	}
	if err := j.Queue.Enqueue(ctx, job); err != nil {
		j.finish(ctx, job, hotpath.JobFailed, JobResult{Error: jobError(err)})
		j.undoImage(ctx, img)
		return nil, job, err
	}
	return img, job, nil
}

// RecordFailure records a batch file that could not even be submitted (not
// an image, too large, …) as a failed job, so that every file of a batch is
// accounted for.
func (j *Jobs) RecordFailure(ctx context.Context, tenantID, batchID, filename string, cause error) (*hotpath.Job, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	je := jobError(cause)
	res, _ := json.Marshal(JobResult{Error: je})
	job := &hotpath.Job{
		ID: hotpath.NewID(), TenantID: tenantID, Kind: hotpath.JobVariants, BatchID: batchID,
		Filename: cleanFilename(filename), State: hotpath.JobFailed, Error: je.Message, Result: res,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := j.Service.Meta.CreateJob(ctx, job); err != nil {
		return nil, err
	}
	return job, nil
}

// undoImage removes an image row and its blobs after a failed submit; it
// runs even when ctx has ended.
func (j *Jobs) undoImage(ctx context.Context, img *hotpath.Image) {
	ctx = context.WithoutCancel(ctx)
	if err := j.Service.Meta.DeleteImage(ctx, img.TenantID, img.ID); err != nil && !hotpath.IsNotFound(err) {
		j.Service.Logger.ErrorContext(ctx, "undo image row of failed submit", "image", img.ID, "err", err)
		return // keep the blobs the row still points at
	}
	j.Service.removeBlobs(ctx, img)
}

// Handle runs one delivery of a job; it is the hotpath.JobHandler of the
// worker. It is idempotent: a job already finished is acknowledged without
// work, and a redelivered one replaces the variants a dead worker may have
// half written.
//
// A run that fails because a backend is unavailable (hotpath.Transient) is
// handed back to the queue uncounted, however long the outage lasts. A bad
// input fails the job at once. Any other failure counts: after
// d.MaxFailures of them the job and its image are marked failed. The job's
// Attempts is the count of runs that did not end transiently; a run that
// died with its worker counts too, but only a run that returns an error
// fails a job, so a worker killed on a job's last attempt does not lose it.
// A job whose runs keep killing their workers (crashLimit) is failed.
func (j *Jobs) Handle(ctx context.Context, d hotpath.Delivery) error {
	log := j.Service.Logger
	job, err := j.Service.Meta.GetJob(ctx, d.Job.TenantID, d.Job.ID)
	switch {
	case hotpath.IsNotFound(err):
		log.WarnContext(ctx, "job record gone, dropping its message", "job", d.Job.ID)
		return nil
	case err != nil:
		return err
	case job.State == hotpath.JobSucceeded || job.State == hotpath.JobFailed:
		return nil // done by an earlier delivery whose ack was lost
	}
	maxFailures := d.MaxFailures
	if maxFailures < 1 {
		maxFailures = DefaultMaxFailures
	}
	if job.State == hotpath.JobRunning && job.Attempts >= crashLimit(maxFailures) {
		// Runs started and never ended: each took its worker down with it.
		cause := hotpath.Errorf(hotpath.EUNPROCESSABLE, "the job stopped its worker %d times", job.Attempts)
		return j.fail(ctx, job, d, cause)
	}
	job.State, job.Attempts, job.UpdatedAt = hotpath.JobRunning, job.Attempts+1, time.Now().UTC()
	if err := j.Service.Meta.UpdateJob(ctx, job); err != nil {
		return err
	}

	img, err := j.generate(ctx, job)
	if err == nil {
		res := JobResult{ImageID: img.ID, Status: img.Status, Variants: img.Variants}
		return j.finish(ctx, job, hotpath.JobSucceeded, res)
	}
	code := hotpath.ErrorCode(err)
	if code == hotpath.ENOTFOUND && j.imageGone(ctx, job) {
		// The image was deleted while its variants were being made: remove
		// whatever this run stored after the delete.
		j.Service.removeBlobs(ctx, &hotpath.Image{TenantID: job.TenantID, ID: job.ImageID})
		j.finish(ctx, job, hotpath.JobFailed, JobResult{ImageID: job.ImageID, Error: &JobError{Code: code, Message: "the image was deleted before its variants were made"}})
		return nil
	}
	if hotpath.Transient(err) {
		// Not the job's fault: give the run back, uncounted, and wait for
		// the backend. If even this write fails the run stays counted, as
		// a crashed one would be.
		log.InfoContext(ctx, "job waits for a backend", "job", job.ID, "attempt", d.Attempt, "err", err)
		job.State, job.Attempts, job.Error = hotpath.JobQueued, job.Attempts-1, hotpath.ErrorMessage(err)
		j.writeJob(ctx, job)
		return err
	}
	if permanent(code) || job.Attempts >= maxFailures {
		return j.fail(ctx, job, d, err)
	}
	job.State, job.Error = hotpath.JobQueued, hotpath.ErrorMessage(err)
	j.writeJob(ctx, job)
	return err
}

// DefaultMaxFailures is the failures a job may have when the queue does not
// say (Delivery.MaxFailures 0).
const DefaultMaxFailures = 5

// crashLimit is how many runs of a job may die with their worker before the
// job is failed: more than its failures, so that a worker killed on a job's
// last attempt (a deploy, an OOM elsewhere) does not fail it, but bounded,
// so that an input that kills every worker that touches it stops.
func crashLimit(maxFailures int) int { return 2*maxFailures + 1 }

// fail marks the job and its image failed with cause and acknowledges the
// delivery; when the failure cannot be recorded it returns that error, so
// that the queue delivers the job again.
func (j *Jobs) fail(ctx context.Context, job *hotpath.Job, d hotpath.Delivery, cause error) error {
	j.Service.Logger.WarnContext(ctx, "job failed", "job", job.ID, "image", job.ImageID, "attempts", job.Attempts, "delivery", d.Attempt, "err", cause)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateWriteTimeout)
	defer cancel()
	if uerr := j.Service.Meta.UpdateImageStatus(wctx, job.TenantID, job.ImageID, hotpath.ImageFailed, hotpath.ErrorMessage(cause)); uerr != nil && !hotpath.IsNotFound(uerr) {
		return uerr
	}
	j.Service.InvalidateImage(wctx, job.ImageID)
	return j.finish(ctx, job, hotpath.JobFailed, JobResult{ImageID: job.ImageID, Status: hotpath.ImageFailed, Error: jobError(cause)})
}

// imageGone reports whether the job's image row no longer exists.
func (j *Jobs) imageGone(ctx context.Context, job *hotpath.Job) bool {
	_, err := j.Service.Meta.GetImage(context.WithoutCancel(ctx), job.TenantID, job.ImageID)
	return hotpath.IsNotFound(err)
}

// generate makes the job's variants, waiting for room in the decode pool
// rather than failing the delivery when uploads keep it full.
func (j *Jobs) generate(ctx context.Context, job *hotpath.Job) (*hotpath.Image, error) {
	for {
		for j.Service.Pool.Full() {
			select {
			case <-ctx.Done():
				return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, ctx.Err(), "worker stopping")
			case <-time.After(50 * time.Millisecond):
			}
		}
		img, err := j.Service.GenerateVariants(ctx, job.TenantID, job.ImageID)
		if hotpath.ErrorCode(err) != hotpath.EBUSY {
			return img, err
		}
	}
}

// finish records the job's final state and result.
func (j *Jobs) finish(ctx context.Context, job *hotpath.Job, state hotpath.JobState, res JobResult) error {
	job.State, job.Error = state, ""
	if res.Error != nil {
		job.Error = res.Error.Message
	}
	job.Result, _ = json.Marshal(res)
	return j.writeJob(ctx, job)
}

// writeJob stores job's state, even when ctx has ended (a worker stopping
// still records where its job got to).
func (j *Jobs) writeJob(ctx context.Context, job *hotpath.Job) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateWriteTimeout)
	defer cancel()
	job.UpdatedAt = time.Now().UTC()
	if err := j.Service.Meta.UpdateJob(ctx, job); err != nil {
		j.Service.Logger.ErrorContext(ctx, "record job state", "job", job.ID, "state", job.State, "err", err)
		return err
	}
	return nil
}

// permanent reports whether an error code means the input itself is bad, so
// that retrying cannot help.
func permanent(code string) bool {
	switch code {
	case hotpath.EINVALID, hotpath.ETOOLARGE, hotpath.EUNSUPPORTED, hotpath.EUNPROCESSABLE:
		return true
	}
	return false
}

// jobError is err as a client may see it.
func jobError(err error) *JobError {
	return &JobError{Code: hotpath.ErrorCode(err), Message: hotpath.ErrorMessage(err)}
}

// Retry runs a failed job of tenantID again, as if it had just been
// submitted: its failures are forgotten, its image is processing again and
// it is published. Only a failed job whose image still exists can be run
// again (ECONFLICT otherwise: a queued or running job will run anyway, a
// succeeded one is done, a file that was never stored must be uploaded
// again; ENOTFOUND when the image was deleted). When the publish fails the
// job stays queued and the reconciler publishes it once the queue is back.
func (j *Jobs) Retry(ctx context.Context, tenantID, jobID string) (*hotpath.Job, error) {
	s := j.Service
	job, err := s.Meta.GetJob(ctx, tenantID, jobID)
	if err != nil {
		return nil, err
	}
	switch {
	case job.State != hotpath.JobFailed:
		return nil, hotpath.Errorf(hotpath.ECONFLICT, "the job is %s: only a failed job can be retried", job.State)
	case job.ImageID == "":
		return nil, hotpath.Errorf(hotpath.ECONFLICT, "the file of this job was never stored: upload it again")
	}
	if _, err := s.Meta.GetImage(ctx, tenantID, job.ImageID); hotpath.IsNotFound(err) {
		return nil, hotpath.Errorf(hotpath.ENOTFOUND, "the image of this job was deleted")
	} else if err != nil {
		return nil, err
	}
	if err := s.Meta.UpdateImageStatus(ctx, tenantID, job.ImageID, hotpath.ImageProcessing, ""); err != nil {
		return nil, err
	}
	s.InvalidateImage(ctx, job.ImageID)
	job.State, job.Attempts, job.Error, job.Result = hotpath.JobQueued, 0, "", nil
	if err := s.Meta.UpdateJob(ctx, job); err != nil {
		return nil, err
	}
	if err := j.Queue.Enqueue(ctx, job); err != nil {
		return job, err
	}
	return job, nil
}

// RetryBatch runs every failed job of a batch whose image still exists
// again (Retry) and returns how many it queued.
func (j *Jobs) RetryBatch(ctx context.Context, tenantID, batchID string) (int, error) {
	jobs, err := j.Service.Meta.ListBatchJobs(ctx, tenantID, batchID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, job := range jobs {
		if job.State != hotpath.JobFailed || job.ImageID == "" {
			continue
		}
		if _, err := j.Retry(ctx, tenantID, job.ID); hotpath.IsNotFound(err) {
			continue // its image was deleted
		} else if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
