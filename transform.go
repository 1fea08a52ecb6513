package hotpath

import (
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
