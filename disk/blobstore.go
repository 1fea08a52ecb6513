// Package disk keeps blobs as files under one root directory on local disk:
// the BlobStore of the embedded, single-machine shape of hotpath.
//
// A Put writes a temp file in the blob's own directory, fsyncs it, renames it
// over the key and fsyncs the directory, so a reader sees the old blob or the
// new one, never a part, and an acknowledged Put survives a power cut.
//
// The content type is kept in the file's user.hotpath.content_type extended
// attribute rather than in a sidecar file. The attribute is set on the temp
// file before the rename, so data and content type are replaced together by
// one atomic rename; a sidecar would need a second rename that a reader or a
// crash could see half done, and it would take names from the key space. The
// files on disk stay the plain bytes that were stored. Open checks once that
// the filesystem under root supports user extended attributes (ext4, xfs,
// btrfs, and tmpfs since Linux 6.6 do) and fails clearly if it does not.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hotpath/hotpath"
)

// contentTypeAttr is the extended attribute holding a blob's content type.
const contentTypeAttr = "user.hotpath.content_type"

// tempPrefix starts the names of files being written; keys may not use it, so
// a temp file is never mistaken for a blob.
const tempPrefix = ".tmp-"

// defaultContentType is stored when Put is given none, as S3 does.
const defaultContentType = "application/octet-stream"

// maxContentType bounds the stored content type; it also sizes the read buffer.
const maxContentType = 255

var _ hotpath.BlobStore = (*BlobStore)(nil)

// BlobStore is a hotpath.BlobStore on a local directory tree. It is safe for
// concurrent use, also by several processes sharing the root.
type BlobStore struct {
	root string // absolute, cleaned
}

// Open returns a store for a store URL, file://DIR (relative directories
// stay relative: file://./data/blobs) or a bare directory path, creating the
// directory if needed.
func Open(_ context.Context, rawURL string) (*BlobStore, error) {
	root := rawURL
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok {
		if !strings.EqualFold(scheme, "file") {
			return nil, hotpath.Errorf(hotpath.EINVALID, "disk store: %q is not a file:// URL", rawURL)
		}
		root = rest
	}
	if root == "" {
		return nil, hotpath.Errorf(hotpath.EINVALID, "disk store: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("disk store: resolve root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("disk store: create root: %w", err)
	}
	s := &BlobStore{root: abs}
	if err := s.probeXattr(); err != nil {
		return nil, err
	}
	return s, nil
}

// probeXattr checks that files under root can carry the content type.
func (s *BlobStore) probeXattr() error {
	f, err := os.CreateTemp(s.root, tempPrefix+"probe-")
	if err != nil {
		return fmt.Errorf("disk store: root %s is not writable: %w", s.root, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), contentTypeAttr, []byte("probe"), 0); err != nil {
		return hotpath.WrapError(hotpath.EUNSUPPORTED, err,
			"disk store: the filesystem under %s does not support user extended attributes, needed to keep content types", s.root)
	}
	return nil
}

// Root returns the absolute directory holding the blobs.
func (s *BlobStore) Root() string { return s.root }

// Close releases nothing: the store holds no open files between calls.
func (s *BlobStore) Close() error { return nil }

// path validates key and returns its file path under root. A key that is
// empty, absolute, has empty, "." or ".." segments, a NUL byte, or a segment
// that looks like a temp file is EINVALID: keys are rejected, never cleaned.
func (s *BlobStore) path(key string) (string, error) {
	if err := validateKey(key, false); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// validateKey applies the key rules; a prefix may end with a slash.
func validateKey(key string, prefix bool) error {
	if key == "" {
		return hotpath.Errorf(hotpath.EINVALID, "empty blob key")
	}
	if len(key) > 1024 {
		return hotpath.Errorf(hotpath.EINVALID, "blob key longer than 1024 bytes")
	}
	if strings.ContainsRune(key, 0) {
		return hotpath.Errorf(hotpath.EINVALID, "blob key contains a NUL byte")
	}
	if key[0] == '/' {
		return hotpath.Errorf(hotpath.EINVALID, "blob key %q is absolute", key)
	}
	segments := strings.Split(key, "/")
	if prefix && strings.HasSuffix(key, "/") {
		segments = segments[:len(segments)-1]
	}
	for _, seg := range segments {
		switch {
		case seg == "":
			return hotpath.Errorf(hotpath.EINVALID, "blob key %q has an empty segment", key)
		case seg == "." || seg == "..":
			return hotpath.Errorf(hotpath.EINVALID, "blob key %q has a %q segment", key, seg)
		case strings.HasPrefix(seg, tempPrefix):
			return hotpath.Errorf(hotpath.EINVALID, "blob key %q has a segment starting with %q, reserved for temp files", key, tempPrefix)
		case len(seg) > 255:
			return hotpath.Errorf(hotpath.EINVALID, "blob key %q has a segment longer than 255 bytes", key)
		}
	}
	return nil
}

// Put stores r under key atomically: temp file in the key's directory, write,
// content type attribute, fsync, rename, fsync of the directory. When size is
// not -1, r must yield exactly size bytes or nothing is stored.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if contentType == "" {
		contentType = defaultContentType
	}
	if len(contentType) > maxContentType {
		return hotpath.Errorf(hotpath.EINVALID, "content type longer than %d bytes", maxContentType)
	}
	dir := filepath.Dir(p)
	tmp, err := s.createTemp(dir)
	if err != nil {
		return s.fsError(err, key, "put")
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	n, err := io.Copy(tmp, &ctxReader{ctx: ctx, r: r})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("put %s: %w", key, ctxErr)
		}
		return fmt.Errorf("put %s: write: %w", key, err)
	}
	if size >= 0 && n != size {
		return hotpath.Errorf(hotpath.EINVALID, "blob %s: body has %d bytes, %d were declared", key, n, size)
	}
	if err := unix.Fsetxattr(int(tmp.Fd()), contentTypeAttr, []byte(contentType), 0); err != nil {
		return fmt.Errorf("put %s: set content type: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: fsync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %s: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return s.fsError(err, key, "put")
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put %s: fsync directory: %w", key, err)
	}
	return nil
}

// createTemp makes the key's directory and a temp file in it. A concurrent
// Delete may remove the directory once it is empty, between the MkdirAll and
// the create; the loop makes it again.
func (s *BlobStore) createTemp(dir string) (*os.File, error) {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tempPrefix)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// fsError maps a filesystem error on key to a domain error.
func (s *BlobStore) fsError(err error, key, op string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hotpath.WrapError(hotpath.ENOTFOUND, err, "blob %s not found", key)
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, fs.ErrExist):
		return hotpath.WrapError(hotpath.ECONFLICT, err, "blob key %s conflicts with an existing key's path", key)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return hotpath.WrapError(hotpath.EINVALID, err, "blob key %s is too long", key)
	case errors.Is(err, syscall.ENOSPC):
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "blob store is full")
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// syncDir fsyncs a directory so that a rename or remove in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open returns the blob at key. The open file keeps the bytes it found even
// if the key is replaced or deleted while it is read.
func (s *BlobStore) Open(ctx context.Context, key string) (hotpath.Blob, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, s.fsError(err, key, "open")
	}
	info, err := fileInfo(f, key)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &blob{File: f, info: info}, nil
}

// Stat returns the blob's size, content type and modification time.
func (s *BlobStore) Stat(ctx context.Context, key string) (hotpath.BlobInfo, error) {
	return hotpath.StatByOpen(ctx, s.Open, key)
}

// fileInfo reads the BlobInfo of an open blob file; a directory is no blob.
func fileInfo(f *os.File, key string) (hotpath.BlobInfo, error) {
	st, err := f.Stat()
	if err != nil {
		return hotpath.BlobInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return hotpath.BlobInfo{}, hotpath.Errorf(hotpath.ENOTFOUND, "blob %s not found", key)
	}
	buf := make([]byte, maxContentType)
	n, err := unix.Fgetxattr(int(f.Fd()), contentTypeAttr, buf)
	contentType := defaultContentType
	switch {
	case err == nil:
		contentType = string(buf[:n])
	case errors.Is(err, unix.ENODATA):
		// A file placed under root by hand: serve it as bytes.
	default:
		return hotpath.BlobInfo{}, fmt.Errorf("stat %s: read content type: %w", key, err)
	}
	return hotpath.BlobInfo{Key: key, Size: st.Size(), ContentType: contentType, ModTime: st.ModTime()}, nil
}

// blob is an open blob file.
type blob struct {
	*os.File
	info hotpath.BlobInfo
}

// Info returns what the blob was when opened.
func (b *blob) Info() hotpath.BlobInfo { return b.info }

// Delete removes the blob at key and then the directories it leaves empty.
// A missing blob is not an error.
func (s *BlobStore) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if st.IsDir() {
		return nil // a directory is a prefix, not a blob
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: fsync directory: %w", key, err)
	}
	s.removeEmptyDirs(dir)
	return nil
}

// removeEmptyDirs removes dir and its parents up to, not including, root
// while they are empty. It is best effort: a directory that another Put has
// just written into is not empty and stays.
func (s *BlobStore) removeEmptyDirs(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// DeletePrefix removes every blob whose key starts with prefix, as a string:
// "a/b" removes "a/b/c" and "a/bc". An empty prefix is EINVALID so that a
// mistake never empties the store.
func (s *BlobStore) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return hotpath.Errorf(hotpath.EINVALID, "empty blob prefix")
	}
	if err := validateKey(prefix, true); err != nil {
		return err
	}
	// Walk the deepest directory that holds every match.
	dirKey := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey = prefix[:i]
	}
	dir := s.root
	if dirKey != "" {
		dir = filepath.Join(s.root, filepath.FromSlash(dirKey))
	}
	var removed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Descend only where keys can still match the prefix.
			if strings.HasPrefix(key+"/", prefix) || strings.HasPrefix(prefix, key+"/") {
				return nil
			}
			return fs.SkipDir
		}
		if strings.HasPrefix(d.Name(), tempPrefix) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = append(removed, filepath.Dir(p))
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete prefix %s: %w", prefix, err)
	}
	// Deepest directories first, so parents empty out as their children go.
	slices.SortFunc(removed, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, d := range slices.Compact(removed) {
		if err := syncDir(d); err == nil {
			s.removeEmptyDirs(d)
		}
	}
	return nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless the context is done.
func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
