package crypt

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/minio/sio"

	"github.com/hotpath/hotpath"
)

var _ hotpath.BlobStore = (*BlobStore)(nil)

// BlobStore encrypts every blob it stores in another BlobStore, under the key
// of the tenant that the key's first segment names (keys without a slash
// share the key of tenant ""). Blobs stored before encryption was turned on
// have no hotpath header and are served as they are. Info and Size are those
// of the plaintext; ETags come from the metadata and do not change.
//
// Failures are loud: a blob whose key cannot be had (tenant shredded, wrong
// master key) is EUNAVAILABLE, a modified or cut blob is EINTEGRITY, on Open
// or on the Read that reaches the damage; no byte that failed authentication
// is ever returned.
type BlobStore struct {
	inner  hotpath.BlobStore
	keys   *TenantKeys
	logger *slog.Logger
}

// NewBlobStore returns inner behind encryption under keys.
func NewBlobStore(inner hotpath.BlobStore, keys *TenantKeys, logger *slog.Logger) *BlobStore {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &BlobStore{inner: inner, keys: keys, logger: logger}
}

// Inner returns the store that holds the encrypted bytes.
func (s *BlobStore) Inner() hotpath.BlobStore { return s.inner }

// tenantOf returns the tenant whose key encrypts the blob at key.
func tenantOf(key string) string {
	tenant, _, _ := strings.Cut(key, "/")
	return tenant
}

// Put encrypts r under a new data key sealed by the tenant's key (made on
// the tenant's first Put) and stores it in the inner store, which sees the
// encrypted size when size is known.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tenant := tenantOf(key)
	if tenant == "." || tenant == ".." || strings.ContainsRune(tenant, 0) {
		return hotpath.Errorf(hotpath.EINVALID, "blob key %q names no tenant", key)
	}
	kek, err := s.keys.Key(ctx, tenant, true)
	if err != nil {
		return err
	}
	empty := size == 0
	if size < 0 {
		br := bufio.NewReader(r)
		if _, err := br.Peek(1); err == io.EOF {
			empty = true
		} else if err != nil {
			return err
		}
		r = br
	}
	header, dataKey, err := sealHeader(kek, empty)
	if err != nil {
		return err
	}
	enc, err := sio.EncryptReader(r, dareConfig(dataKey, 0))
	if err != nil {
		return err
	}
	sealedSize := int64(-1)
	if size >= 0 {
		if sealedSize, err = EncryptedSize(size); err != nil {
			return err
		}
	}
	return s.inner.Put(ctx, key, io.MultiReader(bytes.NewReader(header), enc), sealedSize, contentType)
}

// Open returns the blob at key decrypting as it is read; a Seek costs
// nothing until the next Read, which decrypts from the package holding the
// new position.
func (s *BlobStore) Open(ctx context.Context, key string) (hotpath.Blob, error) {
	b, err := s.inner.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	header := make([]byte, HeaderSize)
	n, err := io.ReadFull(b, header)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		b.Close()
		return nil, err
	}
	header = header[:n]
	if !IsEncrypted(header) && (n >= len(magic) || n == 0 || !bytes.HasPrefix(magic[:], header)) {
		// Stored before encryption was turned on: served as it is.
		if _, err := b.Seek(0, io.SeekStart); err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	}
	eb, err := s.openEncrypted(ctx, key, b, header)
	if err != nil {
		b.Close()
		return nil, s.failed(key, err)
	}
	return eb, nil
}

// openEncrypted checks the header and size of an encrypted blob and opens
// its data key.
func (s *BlobStore) openEncrypted(ctx context.Context, key string, b hotpath.Blob, header []byte) (*blob, error) {
	if len(header) < HeaderSize {
		return nil, integrityError("it is cut short inside its header")
	}
	info := b.Info()
	size, err := DecryptedSize(info.Size)
	if err != nil {
		return nil, err
	}
	kek, err := s.keys.Key(ctx, tenantOf(key), false)
	if err != nil {
		return nil, err
	}
	dataKey, empty, err := openHeader(header, kek)
	if err != nil {
		return nil, err
	}
	if empty != (size == 0) {
		return nil, integrityError("its size does not match its header (cut short or extended)")
	}
	info.Size = size
	eb := &blob{inner: b, info: info, dataKey: dataKey, store: s}
	if err := eb.openHead(); err != nil {
		return nil, err
	}
	return eb, nil
}

// failed names the blob in err and logs it: the client sees the code and
// the key, the log has the cause.
func (s *BlobStore) failed(key string, err error) error {
	code := hotpath.ErrorCode(err)
	if code != hotpath.EINTEGRITY && code != hotpath.EUNAVAILABLE {
		return err
	}
	err = annotate(err, "blob %s", key)
	level := slog.LevelWarn
	if code == hotpath.EINTEGRITY {
		level = slog.LevelError
	}
	s.logger.Log(context.Background(), level, "encrypted blob unreadable", "key", key, "code", code, "err", err)
	return err
}

// Stat returns the blob's plaintext info, which takes reading its header.
func (s *BlobStore) Stat(ctx context.Context, key string) (hotpath.BlobInfo, error) {
	return hotpath.StatByOpen(ctx, s.Open, key)
}

// Delete removes the blob.
func (s *BlobStore) Delete(ctx context.Context, key string) error { return s.inner.Delete(ctx, key) }

// DeletePrefix removes every blob whose key starts with prefix.
func (s *BlobStore) DeletePrefix(ctx context.Context, prefix string) error {
	return s.inner.DeletePrefix(ctx, prefix)
}

// Close closes the inner store.
func (s *BlobStore) Close() error { return s.inner.Close() }

// blob is an open encrypted blob.
type blob struct {
	inner   hotpath.Blob
	info    hotpath.BlobInfo
	dataKey []byte
	store   *BlobStore

	// head is the plaintext of the first package, opened by Open so that
	// damage there (all of a small image) fails Open, before an HTTP
	// response has begun, rather than in the middle of its body.
	head   []byte
	pos    int64     // plaintext offset of the next Read
	dec    io.Reader // decrypts from decPos on; nil when none is open
	decPos int64
	err    error // a failure, returned by every later Read
}

// openHead opens the first package: inner stands right after the header.
func (b *blob) openHead() error {
	if b.info.Size == 0 {
		return nil
	}
	dec, err := sio.DecryptReader(b.inner, dareConfig(b.dataKey, 0))
	if err != nil {
		return err
	}
	b.head = make([]byte, min(b.info.Size, PackageSize))
	if _, err := io.ReadFull(dec, b.head); err != nil {
		return packageError(err, 0)
	}
	b.dec, b.decPos = dec, int64(len(b.head))
	return nil
}

func (b *blob) Info() hotpath.BlobInfo { return b.info }

func (b *blob) Close() error { return b.inner.Close() }

// Read decrypts from the current position. Reaching the end goes through
// the final package, so a blob cut at a package boundary fails there.
func (b *blob) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.pos < int64(len(b.head)) {
		n := copy(p, b.head[b.pos:])
		b.pos += int64(n)
		return n, nil
	}
	if b.dec == nil || b.decPos != b.pos {
		if b.pos >= b.info.Size {
			return 0, io.EOF
		}
		seq := b.pos / PackageSize
		if _, err := b.inner.Seek(HeaderSize+seq*sealedPackageSize, io.SeekStart); err != nil {
			b.err = err
			return 0, err
		}
		dec, err := sio.DecryptReader(b.inner, dareConfig(b.dataKey, uint32(seq)))
		if err == nil {
			_, err = io.CopyN(io.Discard, dec, b.pos-seq*PackageSize)
		}
		if err != nil {
			b.err = b.store.failed(b.info.Key, packageError(err, uint64(seq)))
			return 0, b.err
		}
		b.dec, b.decPos = dec, b.pos
	}
	n, err := b.dec.Read(p)
	b.pos += int64(n)
	b.decPos = b.pos
	if err != nil && err != io.EOF {
		b.err = b.store.failed(b.info.Key, packageError(err, uint64(b.pos/PackageSize)))
		return n, b.err
	}
	return n, err
}

// Seek moves the plaintext position; the next Read decrypts from there.
func (b *blob) Seek(offset int64, whence int) (int64, error) {
	pos := offset
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		pos += b.pos
	case io.SeekEnd:
		pos += b.info.Size
	default:
		return b.pos, hotpath.Errorf(hotpath.EINVALID, "seek: unknown whence %d", whence)
	}
	if pos < 0 {
		return b.pos, hotpath.Errorf(hotpath.EINVALID, "seek to a negative offset")
	}
	b.pos = pos
	return pos, nil
}
