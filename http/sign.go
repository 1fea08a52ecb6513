package http

import (
	"encoding/json"
	"net/http"

	"github.com/hotpath/hotpath"
)

// signScope is the scope POST /v1/sign needs: a signed URL makes the server
// compute and store a new result, and lets anyone holding it fetch it.
const signScope = hotpath.ScopeWrite

// maxSignBody bounds the JSON body of POST /v1/sign.
const maxSignBody = 16 << 10

// SignRequest is the body of POST /v1/sign.
type SignRequest struct {
	ImageID string `json:"image_id"`
	// Options are transform options as in a URL ("w:400,f:webp"); "" or "-" for none.
	Options string `json:"options"`
}

// SignedJSON answers POST /v1/sign.
type SignedJSON struct {
	// Path is the signed transform path, /t/{signature}/{options}/{image_id}.
	Path string `json:"path"`
	// Options are the options in canonical syntax, as signed.
	Options string `json:"options"`
}

// canSign reports whether the server can hand out transform URLs it will accept.
func (t *transformer) canSign() bool { return t.signer.CanSign() || t.cfg.AllowUnsigned }

// handleSign serves POST /v1/sign: the signed transform path of one of the
// tenant's images, so that clients (the web console among them) get
// transform URLs without ever holding the signing key. The options are
// checked as the transform route would check them, so a URL this returns
// is one the server serves.
func (s *Server) handleSign(w http.ResponseWriter, r *http.Request) {
	var req SignRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.Error(w, r, hotpath.WrapError(hotpath.EINVALID, err, "the body must be JSON: {\"image_id\":\"…\",\"options\":\"w:400,f:webp\"}"))
		return
	}
	t := s.transforms
	if !t.canSign() {
		s.Error(w, r, hotpath.Errorf(hotpath.EUNAVAILABLE, "this server has no transform signing key (--signing-keys)"))
		return
	}
	if req.Options == "" {
		req.Options = hotpath.NoTransformOptions
	}
	spec, err := hotpath.ParseTransformSpec(req.Options)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !isID(req.ImageID) {
		s.Error(w, r, hotpath.Errorf(hotpath.EINVALID, "image_id must be an image's id"))
		return
	}
	_, img, err := s.resolveTransform(r.Context(), APIKeyFrom(r.Context()).TenantID, req.ImageID, spec)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	canonical := spec.String()
	writeJSON(w, http.StatusOK, SignedJSON{Path: t.signer.Path(canonical, img.ID, ""), Options: canonical})
}
