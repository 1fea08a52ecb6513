package hotpath

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// TransformSigner signs and verifies transform paths with HMAC-SHA256. It
// holds several keys so that keys can be rotated: the first signs, any
// verifies.
type TransformSigner struct {
	keys          [][]byte
	allowUnsigned bool
}

// MinSigningKeyBytes is the shortest signing key accepted.
const MinSigningKeyBytes = 16

// NewTransformSigner returns a signer over keys (their bytes as given; the
// first is used to sign). allowUnsigned accepts "unsafe" in place of a
// signature: for development only. With no key and allowUnsigned false every
// URL is refused.
func NewTransformSigner(keys []string, allowUnsigned bool) (*TransformSigner, error) {
	s := &TransformSigner{allowUnsigned: allowUnsigned}
	for i, k := range keys {
		if len(k) < MinSigningKeyBytes {
			return nil, Errorf(EINVALID, "signing key %d is shorter than %d bytes", i+1, MinSigningKeyBytes)
		}
		s.keys = append(s.keys, []byte(k))
	}
	return s, nil
}

// ParseSigningKeys splits a comma-separated key list (HOTPATH_SIGNING_KEYS),
// trimming spaces and dropping empty entries.
func ParseSigningKeys(list string) []string {
	var keys []string
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// CanSign reports whether the signer has a key to sign with.
func (s *TransformSigner) CanSign() bool { return len(s.keys) > 0 }

// Sign returns the signature of signedPart ("/{options}/{image_id}[.ext]")
// with the first key, or UnsignedToken when the signer has no key.
func (s *TransformSigner) Sign(signedPart string) string {
	if len(s.keys) == 0 {
		return UnsignedToken
	}
	return signTransform(s.keys[0], signedPart)
}

// Path returns the full signed path "/t/{signature}/{options}/{image_id}[.ext]".
func (s *TransformSigner) Path(options, imageID string, ext Format) string {
	part := TransformSignedPart(options, imageID, ext)
	return strings.TrimSuffix(TransformRoutePrefix, "/") + "/" + s.Sign(part) + part
}

// Verify checks signature against signedPart with every key, in constant
// time per key. A bad or missing signature is EFORBIDDEN.
func (s *TransformSigner) Verify(signature, signedPart string) error {
	if signature == UnsignedToken {
		if s.allowUnsigned {
			return nil
		}
		return Errorf(EFORBIDDEN, "unsigned transform URLs are disabled on this server")
	}
	got, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return Errorf(EFORBIDDEN, "invalid transform signature")
	}
	ok := false
	for _, k := range s.keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(signedPart))
		if hmac.Equal(m.Sum(nil), got) {
			ok = true
		}
	}
	if !ok {
		return Errorf(EFORBIDDEN, "invalid transform signature")
	}
	return nil
}

// signTransform is the unpadded base64url HMAC-SHA256 of part under key.
func signTransform(key []byte, part string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(part))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
