package http

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// consoleFiles is the web console: plain HTML, CSS and JavaScript modules,
// served as they are (no build step), so what is in http/console is what
// the browser runs.
//
//go:embed console
var consoleFiles embed.FS

// ConsoleCSP is the Content-Security-Policy of the console's pages: its own
// scripts, styles and API only, images from the API (as blob: URLs, since
// they need the Authorization header) or from signed transform URLs; no
// inline script or style, no framing, no form posts.
const ConsoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// consoleFile is one embedded file, ready to serve.
type consoleFile struct {
	data        []byte
	etag        string
	contentType string
}

// console serves the embedded web console at / and /ui/.
type console struct {
	files   map[string]consoleFile // by path under console/, e.g. "main.js"
	started time.Time
}

// newConsole reads the embedded files once, with an ETag each.
func newConsole() (*console, error) {
	c := &console{files: map[string]consoleFile{}, started: time.Now()}
	err := fs.WalkDir(consoleFiles, "console", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := consoleFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.files[strings.TrimPrefix(p, "console/")] = consoleFile{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
		return nil
	})
	return c, err
}

// consolePatterns are the ServeMux patterns of the console. They are not
// API routes: they are left out of Routes() and the OpenAPI document.
var consolePatterns = []string{"GET /{$}", "GET /ui/{path...}"}

// handle serves a console file; any other path under /ui/ is one of the
// console's own pages (/ui/gallery, /ui/images/ID) and gets index.html,
// whose script shows the page the path names.
func (c *console) handle(w http.ResponseWriter, r *http.Request) {
	f, ok := c.files[r.PathValue("path")]
	if !ok || r.PathValue("path") == "" {
		f = c.files["index.html"]
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Security-Policy", ConsoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache") // revalidated by ETag: a new binary serves new files at once
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", c.started, bytes.NewReader(f.data))
}
