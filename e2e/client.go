package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client calls one hotpath server with an API key.
type Client struct {
	Base string
	Key  string
	HTTP *http.Client
}

// NewClient returns a client of the server at base.
func NewClient(base, key string) *Client {
	return &Client{Base: base, Key: key, HTTP: &http.Client{Timeout: 2 * time.Minute}}
}

// Do sends a request and returns the status and the whole body.
func (c *Client) Do(method, path, contentType string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// JSON sends a request and decodes a JSON answer into out when the status
// is want; any other status is an error carrying the body.
func (c *Client) JSON(method, path, contentType string, body io.Reader, want int, out any) error {
	st, b, err := c.Do(method, path, contentType, body)
	if err != nil {
		return err
	}
	if st != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, st, want, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode %s: %w", method, path, b, err)
	}
	return nil
}

// Image is the part of an image's JSON the tests read.
type Image struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Variants []struct {
		Name  string `json:"name"`
		Bytes int64  `json:"bytes"`
	} `json:"variants"`
}

// Job is the part of a job's JSON the tests read.
type Job struct {
	ID       string `json:"id"`
	ImageID  string `json:"image_id"`
	Filename string `json:"filename"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// Accepted answers an asynchronous upload.
type Accepted struct {
	Job   Job   `json:"job"`
	Image Image `json:"image"`
}

// Batch is a batch's JSON.
type Batch struct {
	ID        string `json:"id"`
	Total     int    `json:"total"`
	Queued    int    `json:"queued"`
	Running   int    `json:"running"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Done      bool   `json:"done"`
	Files     []Job  `json:"files"`
}

// Upload stores one image synchronously.
func (c *Client) Upload(data []byte) (Image, error) {
	var img Image
	err := c.JSON("POST", "/v1/images", "application/octet-stream", bytes.NewReader(data), http.StatusCreated, &img)
	return img, err
}

// UploadAsync stores one image and queues its variants.
func (c *Client) UploadAsync(data []byte) (Accepted, error) {
	var a Accepted
	err := c.JSON("POST", "/v1/images?async=true", "application/octet-stream", bytes.NewReader(data), http.StatusAccepted, &a)
	return a, err
}

// WaitJob polls a job until it has left the queued and running states.
func (c *Client) WaitJob(id string, timeout time.Duration) (Job, error) {
	deadline := time.Now().Add(timeout)
	for {
		var j Job
		if err := c.JSON("GET", "/v1/jobs/"+id, "", nil, http.StatusOK, &j); err != nil {
			return j, err
		}
		if j.State == "succeeded" || j.State == "failed" {
			return j, nil
		}
		if time.Now().After(deadline) {
			return j, fmt.Errorf("job %s still %s after %v", id, j.State, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitBatch polls a batch until it is done.
func (c *Client) WaitBatch(id string, timeout time.Duration) (Batch, error) {
	deadline := time.Now().Add(timeout)
	for {
		var b Batch
		if err := c.JSON("GET", "/v1/batches/"+id, "", nil, http.StatusOK, &b); err != nil {
			return b, err
		}
		if b.Done {
			return b, nil
		}
		if time.Now().After(deadline) {
			return b, fmt.Errorf("batch %s not done after %v: %d queued, %d running, %d succeeded, %d failed", id, timeout, b.Queued, b.Running, b.Succeeded, b.Failed)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TarStream writes files (name → content) as a tar stream into a pipe, so
// that a batch upload streams instead of sitting in memory.
func TarStream(names []string, content func(i int) []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for i, name := range names {
			data := content(i)
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := tw.Write(data); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	return pr
}
