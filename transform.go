package hotpath

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The URL form of on-the-fly transforms, stable once published
// (docs/transforms.md):
//
//	/t/{signature}/{options}/{image_id}[.ext]
//
// options is a comma-separated list of name:value pairs such as
// "w:400,h:300,fit:fill,g:smart,q:80,f:webp", or "-" for none. The signature
// is the unpadded base64url HMAC-SHA256 of everything after it, starting with
// the slash: "/{options}/{image_id}[.ext]". "unsafe" stands in for the
// signature only on servers that enable unsigned URLs.

// TransformRoutePrefix is the path prefix of transform URLs.
const TransformRoutePrefix = "/t/"

// UnsignedToken takes the place of the signature in unsigned transform URLs,
// which servers accept only when explicitly configured to.
const UnsignedToken = "unsafe"

// NoTransformOptions is the options segment of a URL that asks for no option.
const NoTransformOptions = "-"

// TransformSpec is an options segment as written: what the URL asks for
// before presets, defaults and limits apply. Zero fields were not given.
type TransformSpec struct {
	Preset     string
	Width      int
	Height     int
	DPR        float64 // device pixel ratio multiplying Width and Height; 0 when not given
	Fit        Fit
	Gravity    Gravity
	Quality    int
	Format     Format
	Background []uint8 // RGB or RGBA
	Animated   *bool
	Metadata   *bool
}

// transformOption is one option name of the URL language.
type transformOption struct {
	name    string
	aliases []string
	parse   func(s *TransformSpec, value string) error
	given   func(s *TransformSpec) bool
}

// Transform options bounds that hold whatever the server's limits are.
const (
	maxOptionSide   = 100_000
	maxDPR          = 8
	maxPresetName   = 64
	maxOptionsChars = 1024
)

// transformOptions lists the options in canonical order.
var transformOptions = []transformOption{
	{name: "preset", aliases: []string{"p"},
		parse: func(s *TransformSpec, v string) error {
			if !validPresetName(v) {
				return fmt.Errorf("want a preset name of letters, digits, '-' or '_'")
			}
			s.Preset = v
			return nil
		},
		given: func(s *TransformSpec) bool { return s.Preset != "" }},
	{name: "w", aliases: []string{"width"},
		parse: func(s *TransformSpec, v string) (err error) { s.Width, err = parseSide(v); return err },
		given: func(s *TransformSpec) bool { return s.Width != 0 }},
	{name: "h", aliases: []string{"height"},
		parse: func(s *TransformSpec, v string) (err error) { s.Height, err = parseSide(v); return err },
		given: func(s *TransformSpec) bool { return s.Height != 0 }},
	{name: "dpr",
		parse: func(s *TransformSpec, v string) error {
			d, err := strconv.ParseFloat(v, 64)
			if err != nil || !(d > 0 && d <= maxDPR) || strings.ContainsAny(v, "eExXpP_") {
				return fmt.Errorf("want a number above 0 and at most %d, got %q", maxDPR, v)
			}
			s.DPR = math.Round(d*100) / 100
			if s.DPR == 0 {
				return fmt.Errorf("want a number above 0 and at most %d, got %q", maxDPR, v)
			}
			return nil
		},
		given: func(s *TransformSpec) bool { return s.DPR != 0 }},
	{name: "fit", aliases: []string{"m", "mode"},
		parse: func(s *TransformSpec, v string) error {
			switch f := Fit(v); f {
			case FitInside, FitFill, FitPad, FitForce:
				s.Fit = f
				return nil
			}
			return fmt.Errorf("want fit, fill, pad or force, got %q", v)
		},
		given: func(s *TransformSpec) bool { return s.Fit != "" }},
	{name: "g", aliases: []string{"gravity"},
		parse: func(s *TransformSpec, v string) error {
			switch g := Gravity(v); g {
			case GravityCentre, GravityNorth, GravitySouth, GravityEast, GravityWest, GravitySmart, GravityEntropy:
				s.Gravity = g
				return nil
			case "center":
				s.Gravity = GravityCentre
				return nil
			}
			return fmt.Errorf("want centre, north, south, east, west, smart or entropy, got %q", v)
		},
		given: func(s *TransformSpec) bool { return s.Gravity != "" }},
	{name: "q", aliases: []string{"quality"},
		parse: func(s *TransformSpec, v string) error {
			q, err := strconv.Atoi(v)
			if err != nil || q < 1 || q > 100 || !isDigits(v) {
				return fmt.Errorf("want an integer from 1 to 100, got %q", v)
			}
			s.Quality = q
			return nil
		},
		given: func(s *TransformSpec) bool { return s.Quality != 0 }},
	{name: "f", aliases: []string{"format"},
		parse: func(s *TransformSpec, v string) error {
			f, ok := outputFormat(v)
			if !ok && v != string(FormatAuto) {
				return fmt.Errorf("want jpeg, png, webp, avif or auto, got %q", v)
			}
			if v == string(FormatAuto) {
				f = FormatAuto
			}
			s.Format = f
			return nil
		},
		given: func(s *TransformSpec) bool { return s.Format != "" }},
	{name: "bg", aliases: []string{"background"},
		parse: func(s *TransformSpec, v string) error {
			c, err := parseColour(v)
			s.Background = c
			return err
		},
		given: func(s *TransformSpec) bool { return s.Background != nil }},
	{name: "anim",
		parse: func(s *TransformSpec, v string) (err error) { s.Animated, err = parseFlag(v); return err },
		given: func(s *TransformSpec) bool { return s.Animated != nil }},
	{name: "meta",
		parse: func(s *TransformSpec, v string) (err error) { s.Metadata, err = parseFlag(v); return err },
		given: func(s *TransformSpec) bool { return s.Metadata != nil }},
}

// lookupTransformOption finds an option by name or alias.
func lookupTransformOption(name string) (*transformOption, bool) {
	for i := range transformOptions {
		o := &transformOptions[i]
		if o.name == name {
			return o, true
		}
		for _, a := range o.aliases {
			if a == name {
				return o, true
			}
		}
	}
	return nil, false
}

// ParseTransformSpec parses an options segment ("w:400,h:300,fit:fill" or
// "-"). Errors are EINVALID and name the offending option, so that clients
// see which part of their URL is wrong.
func ParseTransformSpec(options string) (TransformSpec, error) {
	var s TransformSpec
	if options == NoTransformOptions {
		return s, nil
	}
	if options == "" {
		return s, Errorf(EINVALID, "empty transform options: use %q for none", NoTransformOptions)
	}
	if len(options) > maxOptionsChars {
		return s, Errorf(EINVALID, "transform options longer than %d characters", maxOptionsChars)
	}
	for _, pair := range strings.Split(options, ",") {
		name, value, ok := strings.Cut(pair, ":")
		if !ok {
			return s, Errorf(EINVALID, "option %q: want name:value", clip(pair))
		}
		o, known := lookupTransformOption(name)
		if !known {
			return s, Errorf(EINVALID, "option %q: unknown option", clip(name))
		}
		if o.given(&s) {
			return s, Errorf(EINVALID, "option %q: given more than once", o.name)
		}
		if err := o.parse(&s, value); err != nil {
			return s, Errorf(EINVALID, "option %q: %v", o.name, err)
		}
	}
	return s, nil
}

// String returns the spec in canonical syntax: long names shortened, options
// in a fixed order, "-" for none. Parsing it yields an equal spec. Presets
// stay unexpanded; see CanonicalTransform for the form results are stored by.
func (s TransformSpec) String() string {
	var parts []string
	add := func(name, value string) { parts = append(parts, name+":"+value) }
	if s.Preset != "" {
		add("preset", s.Preset)
	}
	if s.Width != 0 {
		add("w", strconv.Itoa(s.Width))
	}
	if s.Height != 0 {
		add("h", strconv.Itoa(s.Height))
	}
	if s.DPR != 0 {
		add("dpr", strconv.FormatFloat(s.DPR, 'f', -1, 64))
	}
	if s.Fit != "" {
		add("fit", string(s.Fit))
	}
	if s.Gravity != "" {
		add("g", string(s.Gravity))
	}
	if s.Quality != 0 {
		add("q", strconv.Itoa(s.Quality))
	}
	if s.Format != "" {
		add("f", string(s.Format))
	}
	if s.Background != nil {
		add("bg", formatColour(s.Background))
	}
	if s.Animated != nil {
		add("anim", formatFlag(*s.Animated))
	}
	if s.Metadata != nil {
		add("meta", formatFlag(*s.Metadata))
	}
	if len(parts) == 0 {
		return NoTransformOptions
	}
	return strings.Join(parts, ",")
}

// TransformPolicy is what a server lets transform URLs ask for.
type TransformPolicy struct {
	// Presets are the names "preset:NAME" may use.
	Presets []Preset
	// PresetsOnly is the allow-list mode: only "preset:NAME", optionally
	// with "f:auto", is accepted.
	PresetsOnly bool
	// MaxWidth and MaxHeight bound the output sides in pixels.
	MaxWidth  int
	MaxHeight int
	// MaxPixels bounds width × height of the output.
	MaxPixels int64
	// MaxWorkPixels bounds the scaled image before a fill's crop
	// (Limits.MaxWorkPixels); 0: no bound.
	MaxWorkPixels int64
}

// DefaultTransformPolicy returns the policy of an unconfigured server: the
// default presets, any options, outputs up to 8192 pixels a side and 40 MP.
func DefaultTransformPolicy() TransformPolicy {
	return TransformPolicy{
		Presets:       DefaultPresets(),
		MaxWidth:      DefaultLimits().MaxOutputSide,
		MaxHeight:     DefaultLimits().MaxOutputSide,
		MaxPixels:     40_000_000,
		MaxWorkPixels: DefaultLimits().MaxWorkPixels,
	}
}

// Validate checks the policy's own values.
func (p TransformPolicy) Validate() error {
	if p.MaxWidth < 1 || p.MaxHeight < 1 || p.MaxPixels < 1 {
		return Errorf(EINVALID, "transform limits must be positive")
	}
	for _, pr := range p.Presets {
		if !validPresetName(pr.Name) {
			return Errorf(EINVALID, "preset %q: want a name of letters, digits, '-' or '_'", clip(pr.Name))
		}
	}
	return nil
}

// Resolve turns a spec into the options of one output: the preset expanded
// first, explicit options over it, DPR multiplied in, defaults filled, and the
// policy's allow-list and size limits checked. Format may remain FormatAuto,
// for the server to pick from the Accept header. Errors are EINVALID naming
// the option, or EFORBIDDEN when the allow-list refuses the URL.
func (p TransformPolicy) Resolve(s TransformSpec) (TransformOptions, error) {
	o := TransformOptions{Animated: true}
	if p.PresetsOnly {
		rest := s
		rest.Preset, rest.Format = "", ""
		if s.Format != "" && s.Format != FormatAuto {
			rest.Format = s.Format
		}
		if s.Preset == "" || rest.String() != NoTransformOptions {
			return o, Errorf(EFORBIDDEN, "option %q: this server only serves named presets (preset:NAME, optionally with f:auto)", firstOptionName(rest))
		}
	}
	if s.Preset != "" {
		pr, ok := p.preset(s.Preset)
		if !ok {
			return o, Errorf(EINVALID, "option \"preset\": unknown preset %q", s.Preset)
		}
		o = pr
		o.Animated = true
	}
	if s.Width != 0 {
		o.Width = s.Width
	}
	if s.Height != 0 {
		o.Height = s.Height
	}
	if s.Fit != "" {
		o.Fit = s.Fit
	}
	if s.Gravity != "" {
		o.Gravity = s.Gravity
	}
	if s.Quality != 0 {
		o.Quality = s.Quality
	}
	if s.Format != "" {
		o.Format = s.Format
	}
	if s.Background != nil {
		o.Background = append([]uint8(nil), s.Background...)
	}
	if s.Animated != nil {
		o.Animated = *s.Animated
	}
	if s.Metadata != nil {
		o.KeepMetadata = *s.Metadata
	}
	if s.DPR != 0 {
		o.Width = int(math.Round(float64(o.Width) * s.DPR))
		o.Height = int(math.Round(float64(o.Height) * s.DPR))
	}
	o = normalizeTransform(o)
	if o.Width > p.MaxWidth {
		return o, Errorf(EINVALID, "option \"w\": %d exceeds the maximum output width %d", o.Width, p.MaxWidth)
	}
	if o.Height > p.MaxHeight {
		return o, Errorf(EINVALID, "option \"h\": %d exceeds the maximum output height %d", o.Height, p.MaxHeight)
	}
	if int64(o.Width)*int64(o.Height) > p.MaxPixels {
		return o, Errorf(EINVALID, "option \"w\": %d×%d exceeds the maximum of %d output pixels", o.Width, o.Height, p.MaxPixels)
	}
	return o, nil
}

// CheckSize checks the size o produces from a srcW × srcH image against the
// policy, for sides the URL left to the aspect ratio, and the size it scales
// the image to before cropping (Limits.CheckWork).
func (p TransformPolicy) CheckSize(o TransformOptions, srcW, srcH int) error {
	w, h := OutputSize(o, srcW, srcH)
	if w > p.MaxWidth || h > p.MaxHeight || int64(w)*int64(h) > p.MaxPixels {
		return Errorf(EINVALID, "option \"w\": the output would be %d×%d, beyond the limits %d×%d and %d pixels", w, h, p.MaxWidth, p.MaxHeight, p.MaxPixels)
	}
	return Limits{MaxWorkPixels: p.MaxWorkPixels}.CheckWork(o, srcW, srcH)
}

// preset returns the options of the named preset.
func (p TransformPolicy) preset(name string) (TransformOptions, bool) {
	for _, pr := range p.Presets {
		if pr.Name == name {
			pr.Options.Background = append([]uint8(nil), pr.Options.Background...)
			if len(pr.Options.Background) == 0 {
				pr.Options.Background = nil
			}
			return pr.Options, true
		}
	}
	return TransformOptions{}, false
}

// firstOptionName names the first option of rest in canonical order, or
// "preset" when rest is empty (the preset itself is missing).
func firstOptionName(rest TransformSpec) string {
	for _, o := range transformOptions {
		if o.name != "preset" && o.given(&rest) {
			return o.name
		}
	}
	return "preset"
}

// normalizeTransform drops what cannot change the output, so that equivalent
// options share one canonical form: a fit without a size, a gravity outside
// fill, a background outside pad, an opaque or invisible alpha, "anim" for
// single-frame formats, the default fit and gravity.
func normalizeTransform(o TransformOptions) TransformOptions {
	if o.Fit == "" {
		o.Fit = FitInside
	}
	if o.Width == 0 && o.Height == 0 {
		o.Fit = FitInside
	}
	if o.Fit != FitFill || o.Gravity == "" {
		o.Gravity = GravityCentre
	}
	if o.Fit != FitPad {
		o.Background = nil
	}
	if len(o.Background) == 4 && o.Background[3] == 255 {
		o.Background = o.Background[:3]
	}
	if len(o.Background) != 3 && len(o.Background) != 4 {
		o.Background = nil
	}
	switch o.Format {
	case FormatJPEG, FormatPNG, FormatAVIF:
		o.Animated = true // these outputs hold one frame whatever anim says
	}
	if o.Format == FormatJPEG && len(o.Background) == 4 {
		o.Background = o.Background[:3] // JPEG has no alpha to show it
	}
	return o
}

// CanonicalTransform returns the canonical options string of o: equal for
// options that produce the same output, so that equivalent URLs share one
// stored result. It parses back (ParseTransformSpec) to options that resolve
// to o. The stored result of a transform is named "t:" + this string.
func CanonicalTransform(o TransformOptions) string {
	o = normalizeTransform(o)
	s := TransformSpec{Width: o.Width, Height: o.Height, Quality: o.Quality, Format: o.Format, Background: o.Background}
	if o.Fit != FitInside {
		s.Fit = o.Fit
	}
	if o.Gravity != GravityCentre {
		s.Gravity = o.Gravity
	}
	if !o.Animated {
		s.Animated = &o.Animated
	}
	if o.KeepMetadata {
		s.Metadata = &o.KeepMetadata
	}
	return s.String()
}

// TransformHash is the short stable digest of a canonical options string
// (32 hex characters): the name of the stored result's blob ("t-" + hash)
// and its ETag.
func TransformHash(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:16])
}

// OutputSize returns the width and height o makes of a srcW × srcH image, as
// an engine with the default limits does (see Limits.OutputSize).
func OutputSize(o TransformOptions, srcW, srcH int) (int, int) {
	return DefaultLimits().OutputSize(o, srcW, srcH)
}

// OutputSize returns the width and height o makes of a srcW × srcH image, as
// an engine with these limits does, so that callers can check and announce an
// output before making it: a missing side follows the aspect ratio, both
// missing keep the source size; fit scales inside the box and never enlarges;
// fill, pad and force produce the box. Fit sizes, and the source size when
// no side is given, shrink further so that neither side passes
// MaxOutputSide (0: no bound), as the engine shrinks them; a box with a side
// above it the engine refuses outright (ETOOLARGE).
func (l Limits) OutputSize(o TransformOptions, srcW, srcH int) (int, int) {
	w, h := o.Width, o.Height
	if srcW <= 0 || srcH <= 0 {
		return w, h
	}
	fw, fh := float64(srcW), float64(srcH)
	if o.Fit == FitInside || o.Fit == "" || w == 0 && h == 0 {
		scale := FitScale(srcW, srcH, w, h, l.MaxOutputSide)
		return ScaledSide(srcW, scale), ScaledSide(srcH, scale)
	}
	if w == 0 {
		w = max(1, int(math.Round(fw*float64(h)/fh)))
	}
	if h == 0 {
		h = max(1, int(math.Round(fh*float64(w)/fw)))
	}
	return w, h
}

// FitScale is the scale that fits a srcW × srcH image inside a w × h box
// (a zero side is unbounded; both zero keep the size) without enlarging it,
// then shrinks it further when a side would pass maxSide (0: no bound).
// Engines size fit outputs with it and ScaledSide, so that their outputs are
// what OutputSize predicts to the pixel.
func FitScale(srcW, srcH, w, h, maxSide int) float64 {
	fw, fh := float64(srcW), float64(srcH)
	scale := 1.0
	if w > 0 {
		scale = math.Min(scale, float64(w)/fw)
	}
	if h > 0 {
		scale = math.Min(scale, float64(h)/fh)
	}
	if long := math.Max(fw, fh) * scale; maxSide > 0 && long > float64(maxSide) {
		scale *= float64(maxSide) / long
	}
	return scale
}

// ScaledSide is a side of side pixels scaled by scale: rounded to the
// nearest pixel, at least one. Rounding each side on its own keeps a fit
// inside its box: the side the box bounds scales to the box exactly.
func ScaledSide(side int, scale float64) int {
	return max(1, int(math.Round(float64(side)*scale)))
}

// WorkSize returns the scale a transform applies to a srcW × srcH image and
// the size it scales it to, before a fill crops it to the boxW × boxH box or
// a pad frames it in the box: fit scales inside the box, never enlarging,
// and within maxSide (FitScale); pad scales inside without enlarging; fill
// covers the box, enlarging if it must; force makes the box. For fit a zero
// box side is unbounded; the other fits need both sides (see OutputSize for
// deriving a missing one). Engines scale by it, and Limits.CheckWork bounds
// it before any decode.
func WorkSize(fit Fit, srcW, srcH, boxW, boxH, maxSide int) (scale float64, w, h int) {
	fw, fh := float64(srcW), float64(srcH)
	switch fit {
	case FitPad:
		scale = math.Min(math.Min(float64(boxW)/fw, float64(boxH)/fh), 1)
	case FitFill, FitForce:
		scale = math.Max(float64(boxW)/fw, float64(boxH)/fh)
	default:
		scale = FitScale(srcW, srcH, boxW, boxH, maxSide)
	}
	w, h = ScaledSide(srcW, scale), ScaledSide(srcH, scale)
	switch fit {
	case FitPad:
		w, h = min(w, boxW), min(h, boxH)
	case FitFill:
		w, h = max(w, boxW), max(h, boxH)
	case FitForce:
		w, h = boxW, boxH
	}
	return scale, w, h
}

// CheckWork refuses, as EINVALID naming the limit, a transform o of a
// srcW × srcH image whose scaled image before the crop (WorkSize) is larger
// than both MaxWorkPixels and the image itself, so that enlarging is bounded
// from the header and the options alone, before any decode. A zero
// MaxWorkPixels means no bound.
func (l Limits) CheckWork(o TransformOptions, srcW, srcH int) error {
	if srcW <= 0 || srcH <= 0 {
		return nil
	}
	fit := o.Fit
	if fit == "" || o.Width == 0 && o.Height == 0 {
		fit = FitInside
	}
	boxW, boxH := o.Width, o.Height
	if fit != FitInside {
		boxW, boxH = l.OutputSize(o, srcW, srcH)
	}
	_, w, h := WorkSize(fit, srcW, srcH, boxW, boxH, l.MaxOutputSide)
	return l.CheckWorkSize(srcW, srcH, w, h)
}

// CheckWorkSize is CheckWork for a scaled size already worked out.
func (l Limits) CheckWorkSize(srcW, srcH, workW, workH int) error {
	work := int64(workW) * int64(workH)
	if l.MaxWorkPixels <= 0 || work <= l.MaxWorkPixels || work <= int64(srcW)*int64(srcH) {
		return nil
	}
	return Errorf(EINVALID, "option \"w\": scaling the %d×%d image to %d×%d before cropping is above the limit of %d work pixels (max-work-pixels)",
		srcW, srcH, workW, workH, l.MaxWorkPixels)
}

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

// outputFormat maps a format name or extension to a writable format.
func outputFormat(s string) (Format, bool) {
	switch s {
	case "jpeg", "jpg":
		return FormatJPEG, true
	case "png":
		return FormatPNG, true
	case "webp":
		return FormatWebP, true
	case "avif":
		return FormatAVIF, true
	}
	return "", false
}

// parseSide parses a width or height: a positive integer of plain digits.
func parseSide(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxOptionSide || !isDigits(v) || v[0] == '0' {
		return 0, fmt.Errorf("want a whole number of pixels from 1 to %d, got %q", maxOptionSide, clip(v))
	}
	return n, nil
}

// parseFlag parses a 0/1 option.
func parseFlag(v string) (*bool, error) {
	switch v {
	case "1":
		t := true
		return &t, nil
	case "0":
		f := false
		return &f, nil
	}
	return nil, fmt.Errorf("want 0 or 1, got %q", clip(v))
}

func formatFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// parseColour parses 6 or 8 hex digits, RRGGBB or RRGGBBAA.
func parseColour(v string) ([]uint8, error) {
	if len(v) != 6 && len(v) != 8 {
		return nil, fmt.Errorf("want RRGGBB or RRGGBBAA in hex, got %q", clip(v))
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("want RRGGBB or RRGGBBAA in hex, got %q", clip(v))
	}
	return b, nil
}

// formatColour writes a colour as lower-case hex.
func formatColour(c []uint8) string { return hex.EncodeToString(c) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validPresetName allows 1-64 letters, digits, '-' and '_'.
func validPresetName(s string) bool {
	if s == "" || len(s) > maxPresetName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validImageID allows 1-64 letters, digits, '-' and '_', which covers NewID.
func validImageID(s string) bool { return validPresetName(s) }

// clip shortens user input quoted back in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
