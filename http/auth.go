package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// apiKeyPrefix starts every secret so that leaked keys are easy to grep for.
const apiKeyPrefix = "hp_"

// apiKeyListedChars is how much of a secret is kept in clear, to recognise it in lists.
const apiKeyListedChars = len(apiKeyPrefix) + 8

// NewAPIKey returns a new secret and the key record to store for it: 32
// random bytes, of which only the SHA-256 and a short prefix are kept. The
// secret must be shown to its owner once and then forgotten.
func NewAPIKey(tenantID, name string, scope hotpath.Scope) (secret string, key *hotpath.APIKey, err error) {
	if !scope.Allows(hotpath.ScopeRead) {
		return "", nil, hotpath.Errorf(hotpath.EINVALID, "scope must be read, write or admin, not %q", scope)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, hotpath.WrapError(hotpath.EINTERNAL, err, "generate key")
	}
	secret = apiKeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, &hotpath.APIKey{
		ID:        hotpath.NewID(),
		TenantID:  tenantID,
		Name:      name,
		Prefix:    secret[:apiKeyListedChars],
		Hash:      HashAPIKey(secret),
		Scope:     scope,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}, nil
}

// HashAPIKey returns what the metadata store keeps of a secret.
func HashAPIKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

type apiKeyContextKey struct{}

// APIKeyFrom returns the key that authenticated the request, nil for public routes.
func APIKeyFrom(ctx context.Context) *hotpath.APIKey {
	k, _ := ctx.Value(apiKeyContextKey{}).(*hotpath.APIKey)
	return k
}

// authenticate wraps next so that it runs only for a request bearing an
// unrevoked API key with scope want; the key, and so the tenant, is in the
// request context.
func (s *Server) authenticate(want hotpath.Scope, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearerToken(r)
		if !ok {
			s.Error(w, r, hotpath.Errorf(hotpath.EUNAUTHORIZED, "missing API key: send Authorization: Bearer KEY"))
			return
		}
		key, err := s.findAPIKey(r.Context(), HashAPIKey(secret))
		if hotpath.IsNotFound(err) {
			s.Error(w, r, hotpath.Errorf(hotpath.EUNAUTHORIZED, "invalid or revoked API key"))
			return
		} else if err != nil {
			s.Error(w, r, err)
			return
		}
		if !key.Scope.Allows(want) {
			s.Error(w, r, hotpath.Errorf(hotpath.EFORBIDDEN, "this API key has scope %s; %s is needed", key.Scope, want))
			return
		}
		if info := requestInfoFrom(r.Context()); info != nil {
			info.tenantID, info.keyID = key.TenantID, key.ID
		}
		next(w, r.WithContext(context.WithValue(r.Context(), apiKeyContextKey{}, key)))
	}
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
