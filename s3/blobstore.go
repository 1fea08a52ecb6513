// Package s3 keeps hotpath's originals and variants in S3-compatible object
// storage (AWS S3, MinIO, versitygw, SeaweedFS) through minio-go.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/hotpath/hotpath"
)

var _ hotpath.BlobStore = (*BlobStore)(nil)

// BlobStore is a hotpath.BlobStore on one bucket and key prefix. Every key
// is stored as Prefix+key. It is safe for concurrent use.
type BlobStore struct {
	client    *minio.Client
	core      *minio.Core // for GETs that return the response at once
	transport *http.Transport
	cfg       Config
}

// Open parses rawURL (see ParseURL), with credentials from the process
// environment, and connects.
func Open(ctx context.Context, rawURL string) (*BlobStore, error) {
	cfg, err := ParseURL(rawURL, os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// New connects to the bucket of cfg and checks that it is reachable with the
// given credentials, creating it when cfg.CreateBucket is set, so that a
// misconfigured store fails at start rather than on the first upload.
func New(ctx context.Context, cfg Config) (*BlobStore, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	transport, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "s3: transport")
	}
	transport.ResponseHeaderTimeout = cfg.ResponseTimeout
	transport.MaxIdleConnsPerHost = 64
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINVALID, err, "s3: bad endpoint %q", cfg.Endpoint)
	}
	s := &BlobStore{client: client, core: &minio.Core{Client: client}, transport: transport, cfg: cfg}
	if err := s.ensureBucket(ctx); err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	return s, nil
}

// ensureBucket checks that the bucket answers a listing with these
// credentials, creating it when it is missing and configured to. A listing
// rather than a HEAD, because a HEAD's error has no body to say whether the
// key, the signature or the bucket was wrong.
func (s *BlobStore) ensureBucket(ctx context.Context) error {
	err := s.probe(ctx)
	if minio.ToErrorResponse(err).Code != "NoSuchBucket" {
		if err != nil {
			return s.wrap(err, "list bucket %q at %s", s.cfg.Bucket, s.cfg.Endpoint)
		}
		return nil
	}
	if !s.cfg.CreateBucket {
		return hotpath.Errorf(hotpath.EUNAVAILABLE, "s3: bucket %q does not exist at %s (add create=true to the store URL to create it)", s.cfg.Bucket, s.cfg.Endpoint)
	}
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
		return nil // another process created it first
	}
	if err != nil {
		return s.wrap(err, "create bucket %q at %s", s.cfg.Bucket, s.cfg.Endpoint)
	}
	return nil
}

// probe lists at most one key of the store.
func (s *BlobStore) probe(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oi := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, MaxKeys: 1}) {
		return oi.Err
	}
	return nil
}

// Put stores r under key. S3 replaces objects atomically. An object of
// unknown size (-1) up to 5 MiB (S3's smallest part) goes up in a single,
// retryable PUT from a buffer of its size; a larger one streams as a
// multipart upload holding one PartSize part in memory, aborted on failure so
// that no partial object appears.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	name, err := s.objectName(key)
	if err != nil {
		return err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	src := &sourceReader{r: r}
	body := io.Reader(src)
	if size < 0 {
		var head bytes.Buffer
		n, err := io.CopyN(&head, src, singlePutMax)
		switch {
		case errors.Is(err, io.EOF):
			body, size = bytes.NewReader(head.Bytes()), n
		case err != nil:
			return src.wrap(key)
		default:
			body = io.MultiReader(bytes.NewReader(head.Bytes()), src)
		}
	} else if _, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		// A file or an in-memory reader: minio-go reads it as a section
		// from the current offset, can retry the PUT and upload parts in
		// parallel.
		body = r
	}
	_, err = s.client.PutObject(ctx, s.cfg.Bucket, name, body, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    s.cfg.PartSize,
	})
	if src.err != nil {
		return src.wrap(key)
	}
	if err != nil {
		return s.wrap(err, "put %q", key)
	}
	return nil
}

// singlePutMax is the most Put buffers to find out whether a stream of
// unknown size fits one PUT: S3's minimum part size, below which a multipart
// upload would be one part anyway.
const singlePutMax = 5 << 20

// sourceReader remembers the error of the reader given to Put, so that a
// failing source (a client hanging up, a size limit) is reported as itself
// rather than as a storage failure.
type sourceReader struct {
	r   io.Reader
	err error
}

func (sr *sourceReader) Read(p []byte) (int, error) {
	n, err := sr.r.Read(p)
	if err != nil && err != io.EOF {
		sr.err = err
	}
	return n, err
}

// wrap returns the source's error, keeping its code when it has one.
func (sr *sourceReader) wrap(key string) error {
	if code := hotpath.ErrorCode(sr.err); code != hotpath.EINTERNAL {
		return sr.err
	}
	return hotpath.WrapError(hotpath.EINTERNAL, fmt.Errorf("s3 put %q: read source: %w", key, sr.err), "upload interrupted")
}

// Open returns the blob at key. It starts the GET at once, so that a missing
// blob is ENOTFOUND here and a blob replaced after Open still reads whole in
// its old version. A Read after a Seek elsewhere fetches from the new offset
// with a ranged GET pinned to the opened version's ETag, so serving an HTTP
// Range never downloads what it skips and never mixes two versions. ctx
// governs those later reads too.
func (s *BlobStore) Open(ctx context.Context, key string) (hotpath.Blob, error) {
	name, err := s.objectName(key)
	if err != nil {
		return nil, err
	}
	body, oi, _, err := s.core.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap(err, "open %q", key)
	}
	return &blob{store: s, ctx: ctx, name: name, etag: oi.ETag, info: blobInfo(key, oi), body: body}, nil
}

// Stat returns the blob's info, ENOTFOUND when there is none.
func (s *BlobStore) Stat(ctx context.Context, key string) (hotpath.BlobInfo, error) {
	name, err := s.objectName(key)
	if err != nil {
		return hotpath.BlobInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return hotpath.BlobInfo{}, s.wrap(err, "stat %q", key)
	}
	return blobInfo(key, oi), nil
}

// Delete removes the blob; S3 answers success for a missing one too.
func (s *BlobStore) Delete(ctx context.Context, key string) error {
	name, err := s.objectName(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap(err, "delete %q", key)
	}
	return nil
}

// DeletePrefix removes every blob whose key starts with prefix, deleting in
// batches of up to 1000 keys per request as the listing streams in.
func (s *BlobStore) DeletePrefix(ctx context.Context, prefix string) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing if removal ends early
	var listErr error
	listed := func(yield func(minio.ObjectInfo) bool) {
		for oi := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{
			Prefix:    s.cfg.Prefix + prefix,
			Recursive: true,
		}) {
			if oi.Err != nil {
				listErr = oi.Err
				return
			}
			if !yield(oi) {
				return
			}
		}
	}
	results, err := s.client.RemoveObjectsWithIter(ctx, s.cfg.Bucket, listed, minio.RemoveObjectsOptions{})
	if err != nil {
		return s.wrap(err, "delete prefix %q", prefix)
	}
	for res := range results {
		if res.Err != nil && minio.ToErrorResponse(res.Err).Code != "NoSuchKey" {
			return s.wrap(res.Err, "delete prefix %q", prefix)
		}
	}
	if listErr != nil {
		return s.wrap(listErr, "list prefix %q", prefix)
	}
	return nil
}

// Close releases idle connections.
func (s *BlobStore) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// objectName maps a store key to its object name, refusing keys that would
// escape the store the way they would escape a directory: empty, absolute,
// with ".", ".." or empty segments, a trailing slash, a backslash or a NUL;
// and names beyond S3's 1024-byte limit.
func (s *BlobStore) objectName(key string) (string, error) {
	if key == "" || len(s.cfg.Prefix)+len(key) > 1024 || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") ||
		path.Clean(key) != key || key == "." || key == ".." || strings.HasPrefix(key, "../") {
		return "", hotpath.Errorf(hotpath.EINVALID, "invalid blob key %q", key)
	}
	return s.cfg.Prefix + key, nil
}

// checkPrefix refuses a DeletePrefix prefix that could reach outside the
// store (absolute, or with a "." or ".." segment) and the empty prefix, so
// that a bug never empties a bucket.
func checkPrefix(prefix string) error {
	if prefix == "" || strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "\\\x00") {
		return hotpath.Errorf(hotpath.EINVALID, "invalid blob prefix %q", prefix)
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if seg == "." || seg == ".." {
			return hotpath.Errorf(hotpath.EINVALID, "invalid blob prefix %q", prefix)
		}
	}
	return nil
}

// wrap maps an S3 error to a domain code: a missing object is ENOTFOUND,
// anything else (rejected credentials, an unreachable or failing server, the
// caller's cancellation) EUNAVAILABLE. The client-safe message names no
// endpoint or key; the cause keeps the operation and minio-go's error for
// logs and errors.Is.
func (s *BlobStore) wrap(err error, format string, args ...any) error {
	cause := fmt.Errorf("s3 %s: %w", fmt.Sprintf(format, args...), err)
	resp := minio.ToErrorResponse(err)
	switch code := resp.Code; {
	case code == "NoSuchKey" || code == "NotFound":
		return hotpath.WrapError(hotpath.ENOTFOUND, cause, "blob not found")
	case code == "PreconditionFailed":
		return hotpath.WrapError(hotpath.ECONFLICT, cause, "blob replaced while it was read")
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied" ||
		code == "ExpiredToken" || code == "InvalidToken" || resp.StatusCode == http.StatusUnauthorized ||
		code == "XAdminUserNotFound": // versitygw's answer to an unknown access key
		return hotpath.WrapError(hotpath.EUNAVAILABLE, cause, "blob storage rejected the credentials (%s)", code)
	case code == "NoSuchBucket":
		return hotpath.WrapError(hotpath.EUNAVAILABLE, cause, "blob storage bucket missing")
	}
	return hotpath.WrapError(hotpath.EUNAVAILABLE, cause, "blob storage unavailable")
}

// blob is an open object: the response body of a GET, positioned at
// bodyPos, and the position pos the caller has sought to.
type blob struct {
	store   *BlobStore
	ctx     context.Context
	name    string // object name in the bucket
	etag    string // version opened; ranged reads must match it
	info    hotpath.BlobInfo
	body    io.ReadCloser // nil after Close or a failed fetch
	bodyPos int64
	pos     int64
}

// Info returns what the GET at Open reported.
func (b *blob) Info() hotpath.BlobInfo { return b.info }

// Read reads from the current position, starting a ranged GET when a Seek
// moved away from where the open response body is.
func (b *blob) Read(p []byte) (int, error) {
	if b.pos >= b.info.Size {
		return 0, io.EOF
	}
	if b.body == nil || b.bodyPos != b.pos {
		if err := b.fetch(); err != nil {
			return 0, err
		}
	}
	n, err := b.body.Read(p)
	b.pos += int64(n)
	b.bodyPos = b.pos
	switch {
	case err == io.EOF && b.pos < b.info.Size:
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		return n, b.store.wrap(err, "read %q", b.info.Key)
	}
	return n, err
}

// fetch replaces the response body by a GET of the opened version from pos.
func (b *blob) fetch() error {
	if b.body != nil {
		b.body.Close()
		b.body = nil
	}
	opts := minio.GetObjectOptions{}
	if b.pos > 0 { // SetRange(0, 0) would ask for the first byte only
		if err := opts.SetRange(b.pos, 0); err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "bad range")
		}
	}
	if b.etag != "" {
		opts.SetMatchETag(b.etag)
	}
	body, _, _, err := b.store.core.GetObject(b.ctx, b.store.cfg.Bucket, b.name, opts)
	if err != nil {
		return b.store.wrap(err, "read %q at %d", b.info.Key, b.pos)
	}
	b.body, b.bodyPos = body, b.pos
	return nil
}

// Seek sets the position for the next Read; it makes no request.
func (b *blob) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = b.pos + offset
	case io.SeekEnd:
		pos = b.info.Size + offset
	default:
		return b.pos, hotpath.Errorf(hotpath.EINVALID, "seek: bad whence %d", whence)
	}
	if pos < 0 {
		return b.pos, hotpath.Errorf(hotpath.EINVALID, "seek: negative position")
	}
	b.pos = pos
	return pos, nil
}

// Close ends the open response, if any.
func (b *blob) Close() error {
	if b.body != nil {
		b.body.Close()
		b.body = nil
	}
	return nil
}

// blobInfo converts minio's object info, keeping the store key rather than
// the prefixed object name.
func blobInfo(key string, oi minio.ObjectInfo) hotpath.BlobInfo {
	return hotpath.BlobInfo{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}
}
