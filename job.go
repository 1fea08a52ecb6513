package hotpath

import (
	"context"
	"encoding/json"
	"time"
)

// JobKind names what a job does.
type JobKind string

// Job kinds.
const (
	// JobVariants generates an image's preset variants from its stored original.
	JobVariants JobKind = "variants"
)

// JobState is where a job is.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Job is a unit of background work, recorded in the MetadataStore and carried
// by the Queue.
type Job struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id"`
	Kind      JobKind         `json:"kind"`
	ImageID   string          `json:"image_id,omitempty"`
	BatchID   string          `json:"batch_id,omitempty"`
	Filename  string          `json:"filename,omitempty"`
	State     JobState        `json:"state"`
	Attempts  int             `json:"attempts"`
	Error     string          `json:"error,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Batch groups the jobs of one multi-image upload.
type Batch struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Total     int       `json:"total"`
	Queued    int       `json:"queued"`
	Running   int       `json:"running"`
	Succeeded int       `json:"succeeded"`
	Failed    int       `json:"failed"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one delivery of a job message.
type Delivery struct {
	Job *Job
	// Attempt counts deliveries of this message, from 1, whatever ended the
	// earlier ones.
	Attempt int
	// MaxFailures is how many runs of the job may fail, for a reason other
	// than a backend being unavailable (Transient), before the handler
	// fails it for good. The queue redelivers without limit: only the
	// handler, which records its runs, decides that a job has failed.
	MaxFailures int
}

// JobHandler runs one delivery. A nil error acknowledges the message: the
// job is done, or failed for good and recorded so. An error has it
// redelivered after a backoff that grows to a cap, however many times it
// takes, so that an outage of a backend delays jobs instead of failing them.
type JobHandler func(ctx context.Context, d Delivery) error

// Transient reports whether err says that a backend is unavailable or busy
// rather than that the work is wrong: retrying later is expected to succeed,
// and such a failure does not count against a job's MaxFailures.
func Transient(err error) bool {
	switch ErrorCode(err) {
	case EUNAVAILABLE, EBUSY:
		return true
	}
	return false
}

// Queue carries jobs to workers: NATS JetStream, embedded or external.
// Delivery is at least once, and each delivery goes to one consumer: the
// consumers of several processes share the jobs. hotpathtest.TestQueue checks
// what these comments say.
type Queue interface {
	// Enqueue publishes j durably; it returns once the broker has it, and
	// the job survives a restart of the broker or of every consumer.
	Enqueue(ctx context.Context, j *Job) error
	// Consume runs h on deliveries with at most concurrency at once, until
	// ctx is done; then it stops taking deliveries and returns. A delivery
	// h acknowledges (nil) is removed; one h fails, or whose consumer dies
	// mid-job, is redelivered (JobHandler says when). A job h is still
	// running is not redelivered to another consumer, however long it runs.
	Consume(ctx context.Context, concurrency int, h JobHandler) error
	// Holds reports whether the queue still has a message of the job with
	// this id, waiting or being worked on. A job the metadata store says is
	// queued or running that the queue does not hold was lost (or never
	// published) and is published again by the reconciler.
	Holds(ctx context.Context, id string) (bool, error)
	// Ping checks the broker, for readiness.
	Ping(ctx context.Context) error
	Close() error
}
