package http

import (
	"net/http"

	"github.com/hotpath/hotpath"
)

// WhoAmIJSON answers GET /v1/whoami: the key that signed the request (never
// its secret or hash) and its tenant, so that a client can tell what the key
// may do before it tries.
type WhoAmIJSON struct {
	Key    *hotpath.APIKey `json:"key"`
	Tenant *hotpath.Tenant `json:"tenant"`
	// CanSign tells whether POST /v1/sign would sign for this key: the
	// server has a signing key (or accepts unsigned URLs) and the key has
	// the scope signing needs.
	CanSign bool `json:"can_sign"`
}

// handleWhoAmI serves GET /v1/whoami.
func (s *Server) handleWhoAmI(w http.ResponseWriter, r *http.Request) {
	key := APIKeyFrom(r.Context())
	tenant, err := s.Meta.GetTenant(r.Context(), key.TenantID)
	if hotpath.IsNotFound(err) {
		// A key may name a tenant that was never recorded as a row (keys
		// made before tenants were); its id is all there is to show.
		tenant, err = &hotpath.Tenant{ID: key.TenantID, Name: key.TenantID}, nil
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, WhoAmIJSON{Key: key, Tenant: tenant, CanSign: s.transforms.canSign() && key.Scope.Allows(signScope)})
}
