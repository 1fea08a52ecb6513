package http

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/hotpath/hotpath"
)

// UploadResultJSON is the outcome of one file of a multipart upload.
type UploadResultJSON struct {
	Filename string       `json:"filename"`
	Status   int          `json:"status"`
	Image    *ImageJSON   `json:"image,omitempty"`
	Error    *ErrorDetail `json:"error,omitempty"`
}

// UploadBatchJSON answers a multipart upload: one result per file, in order,
// so that a partial success is explicit. Error is set when every file failed
// for the same reason, and the response then has that error's status.
type UploadBatchJSON struct {
	Results   []UploadResultJSON `json:"results"`
	Succeeded int                `json:"succeeded"`
	Failed    int                `json:"failed"`
	Error     *ErrorDetail       `json:"error,omitempty"`
}

// handleUpload stores images: a multipart body with one or many files, or a
// raw body holding one image. Every file streams to a temp file first; none
// is ever held whole in memory.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("async") == "true" {
		s.uploadAsync(w, r)
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mediaType, "multipart/") {
		s.uploadMultipart(w, r)
		return
	}
	if r.ContentLength > s.Service.Config.Limits.MaxBytes {
		s.Error(w, r, s.tooLarge())
		return
	}
	img, err := s.ingest(r, uploadFilename(r), r.Body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	j := imageJSON(img)
	w.Header().Set("Location", j.URL)
	writeJSON(w, http.StatusCreated, j)
}

// uploadMultipart stores each file part in turn as it streams in; parts
// without a file name (plain form fields) are skipped.
func (s *Server) uploadMultipart(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		s.Error(w, r, hotpath.WrapError(hotpath.EINVALID, err, "malformed multipart body"))
		return
	}
	var out UploadBatchJSON
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.logError(r, err, http.StatusBadRequest)
			d := ErrorDetail{Code: hotpath.EINVALID, Message: "malformed multipart body"}
			out.Results = append(out.Results, UploadResultJSON{Status: http.StatusBadRequest, Error: &d})
			break
		}
		if part.FileName() == "" {
			part.Close()
			continue
		}
		res := UploadResultJSON{Filename: part.FileName()}
		var img *hotpath.Image
		overLimit := len(out.Results) >= s.Config.MaxFilesPerRequest
		if overLimit {
			// One result for the first file past the limit, then stop
			// reading: a body of endless tiny parts must not grow the answer.
			err = hotpath.Errorf(hotpath.ETOOLARGE, "at most %d files per request: this file and any after it were not read", s.Config.MaxFilesPerRequest)
		} else {
			img, err = s.ingest(r, part.FileName(), part)
		}
		part.Close()
		if err != nil {
			d := errorDetail(err)
			res.Status, res.Error = statusOf[d.Code], &d
			s.logError(r, err, res.Status)
		} else {
			j := imageJSON(img)
			res.Status, res.Image = http.StatusCreated, &j
		}
		out.Results = append(out.Results, res)
		if overLimit {
			break
		}
	}
	if len(out.Results) == 0 {
		s.Error(w, r, hotpath.Errorf(hotpath.EINVALID, "the multipart body has no file part"))
		return
	}
	status := http.StatusCreated
	for _, res := range out.Results {
		if res.Error != nil {
			out.Failed++
		} else {
			out.Succeeded++
		}
	}
	if out.Failed > 0 {
		status = http.StatusMultiStatus
		if first := out.Results[0].Error; out.Succeeded == 0 && allSameError(out.Results) {
			status, out.Error = out.Results[0].Status, first
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", RetryAfterSeconds)
			}
		}
	}
	writeJSON(w, status, out)
}

// allSameError reports whether every result failed with the same code.
func allSameError(results []UploadResultJSON) bool {
	for _, res := range results {
		if res.Error == nil || res.Error.Code != results[0].Error.Code {
			return false
		}
	}
	return true
}

// ingest streams body to a temp file, then runs it through the pipeline for
// the request's tenant. It refuses at once when the worker queue is full, so
// that a busy server does not read bodies it cannot process.
func (s *Server) ingest(r *http.Request, filename string, body io.Reader) (*hotpath.Image, error) {
	if s.Service.Pool.Full() {
		s.metrics.imagesProcessed.WithLabelValues(hotpath.EBUSY).Inc()
		return nil, hotpath.Errorf(hotpath.EBUSY, "the server is busy, retry later")
	}
	path, err := s.spool(body)
	if err != nil {
		s.metrics.imagesProcessed.WithLabelValues(hotpath.ErrorCode(err)).Inc()
		return nil, err
	}
	defer os.Remove(path)
	img, err := s.Service.Ingest(r.Context(), APIKeyFrom(r.Context()).TenantID, filename, path)
	if err != nil {
		s.metrics.imagesProcessed.WithLabelValues(hotpath.ErrorCode(err)).Inc()
		return nil, err
	}
	s.metrics.imagesProcessed.WithLabelValues("stored").Inc()
	s.metrics.bytesProcessed.Add(float64(img.Bytes))
	return img, nil
}

// spool copies body into a new temp file, at most the byte limit, and
// returns its path; the caller removes it.
func (s *Server) spool(body io.Reader) (string, error) {
	f, err := os.CreateTemp(s.Config.TempDir, "hotpath-upload-*")
	if err != nil {
		return "", hotpath.WrapError(hotpath.EINTERNAL, err, "create temp file")
	}
	limit := s.Service.Config.Limits.MaxBytes
	n, err := io.Copy(f, io.LimitReader(bodyReader{body}, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var rerr bodyReadError
	switch {
	case errors.As(err, &rerr):
		err = hotpath.WrapError(hotpath.EINVALID, rerr.error, "the upload was interrupted")
	case err != nil:
		err = hotpath.WrapError(hotpath.EINTERNAL, err, "write temp file")
	case n > limit:
		err = s.tooLarge()
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (s *Server) tooLarge() error {
	return hotpath.Errorf(hotpath.ETOOLARGE, "the upload is larger than the %d-byte limit", s.Service.Config.Limits.MaxBytes)
}

// bodyReadError marks a failure to read the client's body, as opposed to a
// failure to write the temp file.
type bodyReadError struct{ error }

// bodyReader marks its reader's errors as bodyReadError.
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = bodyReadError{err}
	}
	return n, err
}
