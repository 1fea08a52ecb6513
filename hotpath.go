// Package hotpath holds the domain of hotpath: the types, interfaces and error
// codes shared by the image service, the CSV engine's callers and the Python
// bridge. It imports nothing outside the standard library; one package per
// technology implements its interfaces and cmd/hotpath wires them.
package hotpath

import (
	"context"
	"io"
	"time"
)

// Version is the release of hotpath, set at build time with -ldflags.
var Version = "0.1.0-dev"

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Blob is an open stored object. It seeks so that HTTP Range requests can be
// served without reading what is skipped.
type Blob interface {
	io.ReadSeekCloser
	Info() BlobInfo
}

// BlobStore keeps originals and variants: local disk or S3-compatible storage.
// Keys are slash-separated relative paths. A key that is empty, absolute, has
// an empty, "." or ".." segment or a NUL byte is EINVALID for every method:
// it is rejected, never cleaned into another key. hotpathtest.TestBlobStore
// checks what these comments say.
type BlobStore interface {
	// Put stores r under key, replacing any existing blob atomically: a
	// reader sees the old blob or the new one, never a part. size may be -1
	// when unknown. An empty content type is stored as
	// "application/octet-stream". A body shorter than size, or a ctx
	// cancelled during the write (an error that errors.Is
	// context.Canceled), fails and leaves the previous blob in place.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the blob at key, ENOTFOUND when there is none.
	Open(ctx context.Context, key string) (Blob, error)
	// Stat returns the blob's info, ENOTFOUND when there is none.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every blob whose key starts with prefix, as a
	// string ("a/b" removes "a/bc"). The empty prefix is EINVALID, so that a
	// bug never empties a bucket.
	DeletePrefix(ctx context.Context, prefix string) error
	// Close releases the store's resources.
	Close() error
}

// StatByOpen returns the info of the blob at key by opening it and closing
// it again: Stat for stores whose Open already reads all that Stat needs.
func StatByOpen(ctx context.Context, open func(context.Context, string) (Blob, error), key string) (BlobInfo, error) {
	b, err := open(ctx, key)
	if err != nil {
		return BlobInfo{}, err
	}
	defer b.Close()
	return b.Info(), nil
}

// Scope is a permission an API key grants.
type Scope string

// API key scopes. Admin implies write, write implies read.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// Allows reports whether a key holding s may act with scope want.
func (s Scope) Allows(want Scope) bool {
	rank := map[Scope]int{ScopeRead: 1, ScopeWrite: 2, ScopeAdmin: 3}
	return rank[s] >= rank[want] && rank[want] > 0
}

// Tenant owns images and API keys; a tenant sees only its own images.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a stored key. The secret is shown once at creation; only its
// SHA-256 is kept.
type APIKey struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"` // first characters of the secret, to recognise it in lists
	Hash      []byte     `json:"-"`
	Scope     Scope      `json:"scope"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// ImagePage is one page of a tenant's images, newest first.
type ImagePage struct {
	Images     []*Image `json:"images"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// MetadataStore keeps tenants, keys, images, variants, jobs and batches:
// SQLite embedded or PostgreSQL. What every implementation guarantees (and
// hotpathtest.TestMetadataStore checks):
//   - Lookups that find nothing are ENOTFOUND. A tenant never reads, changes
//     or deletes another tenant's image, job or batch: those calls answer
//     ENOTFOUND, as for a missing one.
//   - Create* fill an empty ID (NewID), a zero CreatedAt (now), an empty image
//     Status (ready) and job State (queued), and normalise the times they were
//     given, in place, to what reads return: UTC, whole microseconds.
//   - A taken ID (or API key hash, or variant name within one CreateImage) is
//     ECONFLICT and stores nothing; a reference to a missing tenant, batch or
//     image is ENOTFOUND; an unknown image status, job state or key scope is
//     EINVALID. A failed call changes nothing.
//   - A store that cannot answer (down, unreachable, overloaded) is
//     EUNAVAILABLE, so that callers retry instead of failing for good.
type MetadataStore interface {
	// CreateTenant records a tenant.
	CreateTenant(ctx context.Context, t *Tenant) error
	// GetTenant returns a tenant.
	GetTenant(ctx context.Context, id string) (*Tenant, error)

	// CreateAPIKey records a key of an existing tenant; a key without a
	// hash is EINVALID.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey returns the unrevoked key with this hash; a revoked key is
	// ENOTFOUND.
	FindAPIKey(ctx context.Context, hash []byte) (*APIKey, error)
	// ListAPIKeys lists a tenant's keys, revoked ones included with their
	// RevokedAt; tenantID "" lists all.
	ListAPIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	// RevokeAPIKey stamps the key revoked now; revoking it again changes
	// nothing and is not an error, an unknown id is ENOTFOUND.
	RevokeAPIKey(ctx context.Context, id string) error

	// CreateImage records an image and its variants in one transaction.
	CreateImage(ctx context.Context, img *Image) error
	// GetImage returns the tenant's image with its preset variants, in the
	// order they were added; stored transform results (names "t:…",
	// unbounded per image) are left out and found with GetVariant. tenantID
	// "" finds the image whatever its tenant: transform URLs (/t/...) carry
	// no tenant, their signature by the server's keys is the authority.
	GetImage(ctx context.Context, tenantID, id string) (*Image, error)
	// ListImages returns up to limit images older than cursor ("" for the
	// newest), newest first by ID, with their variants as GetImage loads
	// them. Pages have no duplicates or gaps; NextCursor is set only when
	// more images follow; a limit ≤ 0 means 50.
	ListImages(ctx context.Context, tenantID, cursor string, limit int) (*ImagePage, error)
	// DeleteImage removes the image, its variants and its transforms;
	// deleting it again is ENOTFOUND.
	DeleteImage(ctx context.Context, tenantID, id string) error
	// UpdateImageStatus sets status and error text.
	UpdateImageStatus(ctx context.Context, tenantID, id string, status ImageStatus, errText string) error
	// PutVariant records a variant, replacing one of the same image and name
	// in its place, so that a redelivered job never duplicates it. A variant
	// of a missing (or deleted) image is ENOTFOUND.
	PutVariant(ctx context.Context, v *Variant) error
	// GetVariant returns one variant (or stored transform result) of an image.
	GetVariant(ctx context.Context, imageID, name string) (*Variant, error)

	// CreateJob records a job of an existing tenant, in an existing batch of
	// that tenant when BatchID is set.
	CreateJob(ctx context.Context, j *Job) error
	// GetJob returns the tenant's job.
	GetJob(ctx context.Context, tenantID, id string) (*Job, error)
	// UpdateJob stores j's state, attempts, error and result.
	UpdateJob(ctx context.Context, j *Job) error

	// ListStaleJobs returns up to limit jobs of every tenant that are still
	// queued or running and were last updated before before, oldest first:
	// the reconciler checks each against the queue.
	ListStaleJobs(ctx context.Context, before time.Time, limit int) ([]*Job, error)
	// ListStrandedImages returns up to limit images of every tenant that
	// are processing, were created before before, and have no queued or
	// running job that would finish them, oldest first (without variants):
	// what a submit that failed and could not undo itself left.
	ListStrandedImages(ctx context.Context, before time.Time, limit int) ([]*Image, error)

	// CreateBatch records a batch of an existing tenant; a negative Total is
	// EINVALID.
	CreateBatch(ctx context.Context, b *Batch) error
	// GetBatch returns the batch with its jobs' states counted; its Total is
	// the larger of the Total given at creation and its number of jobs.
	GetBatch(ctx context.Context, tenantID, id string) (*Batch, error)
	// ListBatchJobs returns the jobs of a batch in the order they were added.
	ListBatchJobs(ctx context.Context, tenantID, batchID string) ([]*Job, error)

	// Ping checks the store can answer, for readiness: EUNAVAILABLE when not.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// Cache holds small hot values: API-key lookups, image metadata, small
// variants. It is an optimisation: a miss or a failure falls back to the
// store. hotpathtest.TestCache checks what these comments say; how a cache
// evicts when full is its own.
type Cache interface {
	// Get returns a copy of the value and true, or nil and false on a miss.
	// An empty value is a hit, distinct from a miss.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores a copy of value for ttl (0: the cache's default), honoured
	// to within about 100 ms.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; in a shared cache every process sees it.
	Delete(ctx context.Context, keys ...string) error
	// Lock takes a short-lived lock named key, so that processes sharing the
	// cache do one piece of work once. ok is false when another holder has
	// it. Locks and values live in separate namespaces. unlock may be called
	// more than once, and an unlock after the lock expired and was taken by
	// someone else does not release the new holder's lock.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
	Close() error
}
