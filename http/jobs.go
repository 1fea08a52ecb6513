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

// JobJSON is a background job as the API shows it. Result holds the image's
// variants once the job succeeded, or the error's code and message when it
// failed.
type JobJSON struct {
	*hotpath.Job
	URL      string `json:"url"`
	ImageURL string `json:"image_url,omitempty"`
}

// jobJSON adds URLs to j; they are relative to the server's origin.
func jobJSON(j *hotpath.Job) JobJSON {
	out := JobJSON{Job: j, URL: "/v1/jobs/" + j.ID}
	if j.ImageID != "" {
		out.ImageURL = "/v1/images/" + j.ImageID
	}
	return out
}

// AcceptedJSON answers an asynchronous upload of one file: the job that
// makes its variants and the image, stored and in the "processing" state.
// Until the job succeeds, GET /v1/images/{id}/variants/{preset} answers 404
// not_found ("not ready yet") and GET /v1/images/{id} shows the status.
type AcceptedJSON struct {
	Filename string       `json:"filename,omitempty"`
	Status   int          `json:"status"`
	Job      *JobJSON     `json:"job,omitempty"`
	Image    *ImageJSON   `json:"image,omitempty"`
	Error    *ErrorDetail `json:"error,omitempty"`
}

// AcceptedListJSON answers an asynchronous multipart upload: one result per
// file, in order.
type AcceptedListJSON struct {
	Results   []AcceptedJSON `json:"results"`
	Succeeded int            `json:"succeeded"`
	Failed    int            `json:"failed"`
}

// handleGetJob shows one job of the caller's tenant.
func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.Meta.GetJob(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobJSON(j))
}

// handleRetryJob serves POST /v1/jobs/{id}/retry: a failed job runs again
// (pipeline.Jobs.Retry); 202 with the job, queued.
func (s *Server) handleRetryJob(w http.ResponseWriter, r *http.Request) {
	if s.jobs == nil {
		s.Error(w, r, hotpath.Errorf(hotpath.EUNAVAILABLE, "retrying jobs needs a job queue"))
		return
	}
	j, err := s.jobs.Retry(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, jobJSON(j))
}

// RetriedJSON answers POST /v1/batches/{id}/retry.
type RetriedJSON struct {
	Retried int `json:"retried"`
}

// handleRetryBatch serves POST /v1/batches/{id}/retry: every failed job of
// the batch whose image still exists runs again; 202 with how many.
func (s *Server) handleRetryBatch(w http.ResponseWriter, r *http.Request) {
	if s.jobs == nil {
		s.Error(w, r, hotpath.Errorf(hotpath.EUNAVAILABLE, "retrying jobs needs a job queue"))
		return
	}
	n, err := s.jobs.RetryBatch(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RetriedJSON{Retried: n})
}

// uploadAsync serves POST /v1/images?async=true: each file's original is
// stored and a job enqueued to make its variants; 202 with the job. A raw
// body answers one AcceptedJSON, a multipart body an AcceptedListJSON.
func (s *Server) uploadAsync(w http.ResponseWriter, r *http.Request) {
	if s.jobs == nil {
		s.Error(w, r, hotpath.Errorf(hotpath.EUNAVAILABLE, "asynchronous uploads need a job queue"))
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(mediaType, "multipart/") {
		if r.ContentLength > s.Service.Config.Limits.MaxBytes {
			s.Error(w, r, s.tooLarge())
			return
		}
		res := s.submit(r, "", uploadFilename(r), r.Body)
		if res.Error != nil {
			s.Error(w, r, res.err)
			return
		}
		w.Header().Set("Location", res.Job.URL)
		writeJSON(w, http.StatusAccepted, res.AcceptedJSON)
		return
	}
	var out AcceptedListJSON
	err := s.eachPart(r, func(name string, body io.Reader) error {
		if len(out.Results) >= s.Config.MaxFilesPerRequest {
			return hotpath.Errorf(hotpath.ETOOLARGE, "at most %d files per request: this file and any after it were not read; send more to /v1/batches", s.Config.MaxFilesPerRequest)
		}
		res := s.submit(r, "", name, body)
		if res.Error != nil {
			out.Failed++
		} else {
			out.Succeeded++
		}
		out.Results = append(out.Results, res.AcceptedJSON)
		return nil
	})
	if err == nil && len(out.Results) == 0 {
		err = hotpath.Errorf(hotpath.EINVALID, "the multipart body has no file part")
	}
	if err != nil && len(out.Results) == 0 {
		s.Error(w, r, err)
		return
	}
	if err != nil {
		// Files before the failure are stored and queued: answer with their
		// jobs, and the failure as the last result, rather than an error
		// that would hide work the server is doing.
		s.logError(r, err, ErrorStatus(err))
		d := errorDetail(err)
		out.Results = append(out.Results, AcceptedJSON{Status: statusOf[d.Code], Error: &d})
		out.Failed++
	}
	writeJSON(w, http.StatusAccepted, out)
}

// uploadFilename is the file name of a raw upload: ?filename= or the
// Content-Disposition header.
func uploadFilename(r *http.Request) string {
	if name := r.URL.Query().Get("filename"); name != "" {
		return name
	}
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
		return params["filename"]
	}
	return ""
}

// submitted is the outcome of one file submitted for background work, with
// the error kept for logs and status mapping.
type submitted struct {
	AcceptedJSON
	err error
}

// submit streams body to a temp file and submits it as a job of batchID ("":
// none). In a batch a file that cannot be submitted is recorded as a failed
// job, so that the batch accounts for it.
func (s *Server) submit(r *http.Request, batchID, filename string, body io.Reader) submitted {
	ctx := r.Context()
	tenantID := APIKeyFrom(ctx).TenantID
	res := submitted{AcceptedJSON: AcceptedJSON{Filename: filename}}
	var job *hotpath.Job // the failed job Submit recorded, if it got that far
	path, err := s.spool(body)
	if err == nil {
		var img *hotpath.Image
		img, job, err = s.jobs.Submit(ctx, tenantID, batchID, filename, path)
		os.Remove(path)
		if err == nil {
			s.metrics.imagesProcessed.WithLabelValues("queued").Inc()
			s.metrics.bytesProcessed.Add(float64(img.Bytes))
			ij, jj := imageJSON(img), jobJSON(job)
			res.Status, res.Image, res.Job = http.StatusAccepted, &ij, &jj
			return res
		}
	}
	s.metrics.imagesProcessed.WithLabelValues(hotpath.ErrorCode(err)).Inc()
	d := errorDetail(err)
	res.Status, res.Error, res.err = statusOf[d.Code], &d, err
	s.logError(r, err, res.Status)
	if batchID != "" && job == nil {
		var rerr error
		if job, rerr = s.jobs.RecordFailure(ctx, tenantID, batchID, filename, err); rerr != nil {
			s.logError(r, rerr, http.StatusInternalServerError)
		}
	}
	if batchID != "" && job != nil {
		jj := jobJSON(job)
		res.Job = &jj
	}
	return res
}

// eachPart calls fn with every file part of a multipart request, in order,
// as it streams in. Parts without a file name (form fields) are skipped. It
// stops at the first error of the body or of fn.
func (s *Server) eachPart(r *http.Request, fn func(filename string, body io.Reader) error) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return hotpath.WrapError(hotpath.EINVALID, err, "malformed multipart body")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "malformed multipart body")
		}
		if part.FileName() == "" {
			part.Close()
			continue
		}
		err = fn(part.FileName(), part)
		part.Close()
		if err != nil {
			return err
		}
	}
}
