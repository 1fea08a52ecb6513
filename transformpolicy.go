package hotpath

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
)

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
