package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// ImageJSON is an image as the API shows it: its metadata with the URLs of
// its original and variants.
type ImageJSON struct {
	*hotpath.Image
	URL         string        `json:"url"`
	OriginalURL string        `json:"original_url"`
	Variants    []VariantJSON `json:"variants"`
}

// VariantJSON is one variant with its URL.
type VariantJSON struct {
	hotpath.Variant
	URL string `json:"url"`
}

// ImageListJSON is one page of GET /v1/images.
type ImageListJSON struct {
	Images     []ImageJSON `json:"images"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// imageJSON adds URLs to img; they are relative to the server's origin.
// Only preset variants are listed: stored transform results have their own URLs.
func imageJSON(img *hotpath.Image) ImageJSON {
	base := "/v1/images/" + img.ID
	out := ImageJSON{Image: img, URL: base, OriginalURL: base + "/original", Variants: []VariantJSON{}}
	for _, v := range img.Variants {
		if isPresetVariant(v) {
			out.Variants = append(out.Variants, VariantJSON{Variant: v, URL: base + "/variants/" + v.Name})
		}
	}
	return out
}

// isPresetVariant tells preset variants from stored transform results, whose
// names start with "t:".
func isPresetVariant(v hotpath.Variant) bool { return !strings.HasPrefix(v.Name, "t:") }

// List pagination bounds.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

func (s *Server) handleListImages(w http.ResponseWriter, r *http.Request) {
	key := APIKeyFrom(r.Context())
	limit := defaultPageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			s.Error(w, r, hotpath.Errorf(hotpath.EINVALID, "limit must be a number from 1 to %d", maxPageSize))
			return
		}
		limit = n
	}
	cursor := r.URL.Query().Get("cursor")
	if cursor != "" && !isID(cursor) {
		// A cursor is an image ID; anything else would silently restart the list.
		s.Error(w, r, hotpath.Errorf(hotpath.EINVALID, "cursor must be the next_cursor of an earlier page"))
		return
	}
	page, err := s.Meta.ListImages(r.Context(), key.TenantID, cursor, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := ImageListJSON{Images: make([]ImageJSON, len(page.Images)), NextCursor: page.NextCursor}
	for i, img := range page.Images {
		out.Images[i] = imageJSON(img)
	}
	writeJSON(w, http.StatusOK, out)
}

// isID reports whether s has the form of hotpath.NewID: 32 lowercase hex digits.
func isID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (s *Server) handleGetImage(w http.ResponseWriter, r *http.Request) {
	img, err := s.image(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, imageJSON(img))
}

func (s *Server) handleDeleteImage(w http.ResponseWriter, r *http.Request) {
	if err := s.Service.Delete(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Cache lifetimes: an original never changes under its ID; a variant may be
// regenerated when the presets change.
const (
	originalCacheControl = "private, max-age=31536000, immutable"
	variantCacheControl  = "private, max-age=86400"
)

func (s *Server) handleGetOriginal(w http.ResponseWriter, r *http.Request) {
	img, err := s.image(r.Context(), APIKeyFrom(r.Context()).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	etag := `"` + img.SHA256 + `"`
	s.serveBlob(w, r, hotpath.OriginalKey(img.TenantID, img.ID), img.Format.ContentType(), etag, img.CreatedAt, originalCacheControl)
}

func (s *Server) handleGetVariant(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	img, err := s.image(ctx, APIKeyFrom(ctx).TenantID, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	name := r.PathValue("preset")
	for _, v := range img.Variants {
		if v.Name == name && isPresetVariant(v) {
			etag := `"` + img.ID + "-" + v.Name + "-" + strconv.FormatInt(v.CreatedAt.UnixMilli(), 36) + "-" + strconv.FormatInt(v.Bytes, 36) + `"`
			// Small variants come from the cache. They are looked up only
			// after the image was found, so deleting its img: key is enough.
			data, ok, err := s.variantBytes(ctx, img, v, etag)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			if ok {
				serveBytes(w, r, data, v.Format.ContentType(), etag, v.CreatedAt, variantCacheControl)
				return
			}
			s.serveBlob(w, r, v.BlobKey, v.Format.ContentType(), etag, v.CreatedAt, variantCacheControl)
			return
		}
	}
	if img.Status == hotpath.ImageProcessing {
		s.Error(w, r, hotpath.Errorf(hotpath.ENOTFOUND, "variant %q is not ready yet", name))
		return
	}
	s.Error(w, r, hotpath.Errorf(hotpath.ENOTFOUND, "image has no variant %q", name))
}

// serveBlob streams a stored blob with validators, so that clients get 304
// on If-None-Match, byte ranges, and HEAD without the body.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, key, contentType, etag string, modTime time.Time, cacheControl string) {
	b, err := s.Blobs.Open(r.Context(), key)
	if err != nil {
		if hotpath.IsNotFound(err) {
			// Metadata without its blob: the store lost it.
			err = hotpath.WrapError(hotpath.EINTERNAL, err, "blob %s missing", key)
		}
		s.Error(w, r, err)
		return
	}
	defer b.Close()
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", modTime, b)
}
