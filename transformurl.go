package hotpath

import (
	"strings"
)

// TransformURL is a transform path taken apart.
type TransformURL struct {
	Signature string // base64url HMAC or UnsignedToken
	Options   string // the options segment as written
	ImageID   string
	Format    Format // from the extension; "" when there is none
}

// SignedPart returns the part of the path the signature covers:
// "/{options}/{image_id}[.ext]".
func (u TransformURL) SignedPart() string {
	return TransformSignedPart(u.Options, u.ImageID, u.Format)
}

// TransformSignedPart builds "/{options}/{image_id}[.ext]", the part of a
// transform path its signature covers.
func TransformSignedPart(options, imageID string, ext Format) string {
	p := "/" + options + "/" + imageID
	if ext != "" {
		p += "." + ext.Ext()
	}
	return p
}

// ParseTransformURL takes apart a path "/t/{signature}/{options}/{image_id}[.ext]".
// It checks the shape only; the signature and options are checked by
// TransformSigner.Verify and ParseTransformSpec.
func ParseTransformURL(path string) (TransformURL, error) {
	var u TransformURL
	rest, ok := strings.CutPrefix(path, TransformRoutePrefix)
	if !ok {
		return u, Errorf(EINVALID, "transform path must start with %s", TransformRoutePrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return u, Errorf(EINVALID, "transform path must be /t/{signature}/{options}/{image_id}[.ext]")
	}
	u.Signature, u.Options = parts[0], parts[1]
	id, ext, hasExt := strings.Cut(parts[2], ".")
	if hasExt {
		f, ok := outputFormat(ext)
		if !ok {
			return u, Errorf(EINVALID, "extension %q: want jpg, jpeg, png, webp or avif", clip(ext))
		}
		u.Format = f
	}
	if !validImageID(id) {
		return u, Errorf(EINVALID, "image id %q is malformed", clip(id))
	}
	u.ImageID = id
	if u.Signature == "" {
		return u, Errorf(EINVALID, "transform path has an empty signature")
	}
	return u, nil
}

// Spec parses the options of u and applies its extension, which asks for a
// format like "f:" does; both at once must agree.
func (u TransformURL) Spec() (TransformSpec, error) {
	s, err := ParseTransformSpec(u.Options)
	if err != nil {
		return s, err
	}
	if u.Format != "" {
		if s.Format != "" && s.Format != u.Format {
			return s, Errorf(EINVALID, "option \"f\": %s conflicts with the extension .%s", s.Format, u.Format.Ext())
		}
		s.Format = u.Format
	}
	return s, nil
}
