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
// Keys are slash-separated relative paths; a key that would escape the store
// is EINVALID.
type BlobStore interface {
	// Put stores r under key, replacing any existing blob atomically: a
	// reader sees the old blob or the new one, never a part. size may be -1
	// when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the blob at key, ENOTFOUND when there is none.
	Open(ctx context.Context, key string) (Blob, error)
	// Stat returns the blob's info, ENOTFOUND when there is none.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every blob whose key starts with prefix.
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
// SQLite embedded or PostgreSQL. Lookups that find nothing return ENOTFOUND.
type MetadataStore interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	GetTenant(ctx context.Context, id string) (*Tenant, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey returns the unrevoked key with this hash.
	FindAPIKey(ctx context.Context, hash []byte) (*APIKey, error)
	// ListAPIKeys lists a tenant's keys; tenantID "" lists all.
	ListAPIKeys(ctx context.Context, tenantID string) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, id string) error

	// CreateImage records an image and its variants in one transaction.
	CreateImage(ctx context.Context, img *Image) error
	// GetImage returns the tenant's image with its preset variants; stored
	// transform results (names "t:…", unbounded per image) are left out and
	// found with GetVariant. tenantID ""
	// finds the image whatever its tenant: transform URLs (/t/...) carry no
	// tenant, their signature by the server's keys is the authority.
	GetImage(ctx context.Context, tenantID, id string) (*Image, error)
	// ListImages returns up to limit images older than cursor ("" for the
	// newest), with their variants as GetImage loads them.
	ListImages(ctx context.Context, tenantID, cursor string, limit int) (*ImagePage, error)
	// DeleteImage removes the image, its variants and its transforms.
	DeleteImage(ctx context.Context, tenantID, id string) error
	// UpdateImageStatus sets status and error text.
	UpdateImageStatus(ctx context.Context, tenantID, id string, status ImageStatus, errText string) error
	// PutVariant records a variant, replacing one of the same image and name,
	// so that a redelivered job never duplicates it.
	PutVariant(ctx context.Context, v *Variant) error
	// GetVariant returns one variant of an image.
	GetVariant(ctx context.Context, imageID, name string) (*Variant, error)

	CreateJob(ctx context.Context, j *Job) error
	GetJob(ctx context.Context, tenantID, id string) (*Job, error)
	// UpdateJob stores j's state, attempts, error and result.
	UpdateJob(ctx context.Context, j *Job) error

	CreateBatch(ctx context.Context, b *Batch) error
	// GetBatch returns the batch with its jobs' states counted.
	GetBatch(ctx context.Context, tenantID, id string) (*Batch, error)
	// ListBatchJobs returns the jobs of a batch in the order they were added.
	ListBatchJobs(ctx context.Context, tenantID, batchID string) ([]*Job, error)

	// Ping checks the store can answer, for readiness.
	Ping(ctx context.Context) error
	Close() error
}

// Cache holds small hot values: API-key lookups, image metadata, small
// variants. It is an optimisation: a miss or a failure falls back to the store.
type Cache interface {
	// Get returns the value and true, or nil and false on a miss.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value for ttl (0: the cache's default).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; in a shared cache every process sees it.
	Delete(ctx context.Context, keys ...string) error
	// Lock takes a short-lived lock named key, so that processes sharing the
	// cache do one piece of work once. ok is false when another holder has it.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
	Close() error
}
