package http

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// Batch bounds. A batch streams: each file is stored as it arrives, so only
// the zip format, whose index sits at its end, is spooled whole to disk.
const (
	// MaxBatchFiles bounds the files of one batch.
	MaxBatchFiles = 10000
	// MaxZipBytes bounds a zip archive, which is spooled to a temp file.
	MaxZipBytes = 4 << 30
)

// BatchJSON is a batch as the API shows it: counts of its jobs by state and
// one entry per file, in the order the files arrived. Done is true when no
// job is queued or running.
type BatchJSON struct {
	*hotpath.Batch
	Done  bool      `json:"done"`
	URL   string    `json:"url"`
	Files []JobJSON `json:"files"`
}

// batchJSON shows b with its jobs; Total counts the jobs, since every file
// that arrived is one.
func batchJSON(b *hotpath.Batch, jobs []*hotpath.Job) BatchJSON {
	out := BatchJSON{Batch: b, URL: "/v1/batches/" + b.ID, Files: make([]JobJSON, len(jobs))}
	for i, j := range jobs {
		out.Files[i] = jobJSON(j)
	}
	b.Total = max(b.Total, len(jobs), b.Queued+b.Running+b.Succeeded+b.Failed)
	out.Done = b.Queued == 0 && b.Running == 0
	return out
}

// handleCreateBatch serves POST /v1/batches: many images in one request, as
// a multipart body with many file parts, a tar (optionally gzipped) or a zip
// archive. Each file is stored as it streams in and becomes one job; a file
// that is not an acceptable image becomes a failed job, so that every file is
// accounted for. 202 with the batch once the whole body is read. A body
// that breaks off (a truncated archive, too many files) after some files
// still answers 202: the failure is one more failed file of the batch.
func (s *Server) handleCreateBatch(w http.ResponseWriter, r *http.Request) {
	if s.jobs == nil {
		s.Error(w, r, hotpath.Errorf(hotpath.EUNAVAILABLE, "batches need a job queue"))
		return
	}
	ctx := r.Context()
	tenantID := APIKeyFrom(ctx).TenantID
	b := &hotpath.Batch{ID: hotpath.NewID(), TenantID: tenantID, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.Meta.CreateBatch(ctx, b); err != nil {
		s.Error(w, r, err)
		return
	}
	files := 0
	add := func(name string, body io.Reader) error {
		if files >= MaxBatchFiles {
			return hotpath.Errorf(hotpath.ETOOLARGE, "at most %d files per batch", MaxBatchFiles)
		}
		files++
		s.submit(r, b.ID, name, body)
		return nil
	}
	if err := s.eachBatchFile(r, add); err != nil {
		if files == 0 {
			s.Error(w, r, err)
			return
		}
		// The files read so far are stored and queued: keep them, record the
		// failure as a failed file of the batch, and answer with the batch,
		// so that the client can follow the work it started.
		s.logError(r, err, ErrorStatus(err))
		if _, rerr := s.jobs.RecordFailure(ctx, tenantID, b.ID, "", err); rerr != nil {
			s.Error(w, r, rerr)
			return
		}
	}
	if files == 0 {
		s.Error(w, r, hotpath.Errorf(hotpath.EINVALID, "the batch holds no file"))
		return
	}
	s.writeBatch(w, r, tenantID, b.ID, http.StatusAccepted)
}

// handleGetBatch serves GET /v1/batches/{id}: state, progress and per-file results.
func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request) {
	s.writeBatch(w, r, APIKeyFrom(r.Context()).TenantID, r.PathValue("id"), http.StatusOK)
}

// writeBatch answers with the stored state of a batch.
func (s *Server) writeBatch(w http.ResponseWriter, r *http.Request, tenantID, id string, status int) {
	b, err := s.Meta.GetBatch(r.Context(), tenantID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	jobs, err := s.Meta.ListBatchJobs(r.Context(), tenantID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := batchJSON(b, jobs)
	if status == http.StatusAccepted {
		w.Header().Set("Location", out.URL)
	}
	writeJSON(w, status, out)
}

// eachBatchFile calls fn with every file of the request body, in order, as
// it streams in: the parts of a multipart body or the regular files of a
// tar, tar.gz or zip archive. The format comes from Content-Type, else from
// the body's first bytes.
func (s *Server) eachBatchFile(r *http.Request, fn func(name string, body io.Reader) error) error {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mediaType, "multipart/") {
		return s.eachPart(r, fn)
	}
	br := bufio.NewReaderSize(r.Body, 64<<10)
	head, _ := br.Peek(512)
	switch {
	case mediaType == "application/zip" || bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return eachZipFile(br, s.Config.TempDir, fn)
	case mediaType == "application/gzip" || mediaType == "application/x-gzip" || mediaType == "application/x-gtar" ||
		bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "malformed gzip body")
		}
		defer zr.Close()
		return eachTarFile(zr, fn)
	case mediaType == "application/x-tar" || mediaType == "application/tar" ||
		(len(head) >= 262 && string(head[257:262]) == "ustar"):
		return eachTarFile(br, fn)
	}
	return hotpath.Errorf(hotpath.EUNSUPPORTED, "a batch is a multipart body, a tar, tar.gz or zip archive")
}

// eachTarFile calls fn with each regular file of a tar stream.
func eachTarFile(r io.Reader, fn func(name string, body io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "malformed tar archive")
		}
		if h.Typeflag != tar.TypeReg || skippedEntry(h.Name) {
			continue
		}
		if err := fn(path.Base(h.Name), tr); err != nil {
			return err
		}
	}
}

// eachZipFile spools a zip archive to a temp file (its index is at its end)
// and calls fn with each regular file.
func eachZipFile(r io.Reader, tempDir string, fn func(name string, body io.Reader) error) error {
	f, err := os.CreateTemp(tempDir, "hotpath-batch-*.zip")
	if err != nil {
		return hotpath.WrapError(hotpath.EINTERNAL, err, "create temp file")
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, MaxZipBytes+1))
	switch {
	case err != nil:
		return hotpath.WrapError(hotpath.EINVALID, err, "the upload was interrupted")
	case n > MaxZipBytes:
		return hotpath.Errorf(hotpath.ETOOLARGE, "a zip batch may hold at most %d bytes; send a tar stream instead", int64(MaxZipBytes))
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		return hotpath.WrapError(hotpath.EINVALID, err, "malformed zip archive")
	}
	for _, zf := range zr.File {
		if !zf.Mode().IsRegular() || skippedEntry(zf.Name) {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "malformed zip entry %q", zf.Name)
		}
		err = fn(path.Base(zf.Name), rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// skippedEntry reports archive entries that are never images: macOS resource
// forks and hidden files.
func skippedEntry(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(base, ".") || strings.HasPrefix(name, "__MACOSX/")
}
