package hotpath

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Format is an image file format, always detected from the bytes.
type Format string

// Formats hotpath reads; the first four are also written.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatWebP Format = "webp"
	FormatAVIF Format = "avif"
	FormatGIF  Format = "gif"
	FormatHEIF Format = "heif"
	FormatTIFF Format = "tiff"
	// FormatAuto asks the server to pick AVIF, WebP or JPEG from the Accept header.
	FormatAuto Format = "auto"
)

// ContentType returns the MIME type of f.
func (f Format) ContentType() string {
	switch f {
	case FormatJPEG:
		return "image/jpeg"
	case FormatPNG:
		return "image/png"
	case FormatWebP:
		return "image/webp"
	case FormatAVIF:
		return "image/avif"
	case FormatGIF:
		return "image/gif"
	case FormatHEIF:
		return "image/heif"
	case FormatTIFF:
		return "image/tiff"
	}
	return "application/octet-stream"
}

// Ext returns the usual file extension of f, without a dot.
func (f Format) Ext() string {
	if f == FormatJPEG {
		return "jpg"
	}
	return string(f)
}

// Fit says how an image is resized into a width × height box.
type Fit string

// Resize modes.
const (
	FitInside Fit = "fit"   // inside the box, aspect kept (the default)
	FitFill   Fit = "fill"  // cover the box, then crop with a gravity
	FitPad    Fit = "pad"   // inside the box, then padded to it with a background
	FitForce  Fit = "force" // exactly the box, aspect ignored
)

// Gravity says which part of the image survives a fill crop.
type Gravity string

// Crop gravities.
const (
	GravityCentre  Gravity = "centre"
	GravityNorth   Gravity = "north"
	GravitySouth   Gravity = "south"
	GravityEast    Gravity = "east"
	GravityWest    Gravity = "west"
	GravitySmart   Gravity = "smart"   // libvips attention: the most interesting region
	GravityEntropy Gravity = "entropy" // libvips entropy
)

// TransformOptions describe one output image. A zero Width or Height means
// "derived from the other side and the aspect ratio"; both zero keep the size.
type TransformOptions struct {
	Width   int     `json:"width,omitempty"`
	Height  int     `json:"height,omitempty"`
	Fit     Fit     `json:"fit,omitempty"`
	Gravity Gravity `json:"gravity,omitempty"`
	Format  Format  `json:"format,omitempty"`  // "" keeps the input format when writable, else JPEG
	Quality int     `json:"quality,omitempty"` // 1-100; 0 means the format's default
	// Background is the pad colour as RGB(A) 0-255; nil means white (transparent for formats with alpha).
	Background []uint8 `json:"background,omitempty"`
	// KeepMetadata keeps EXIF/XMP/ICC; by default everything is stripped after conversion to sRGB.
	KeepMetadata bool `json:"keep_metadata,omitempty"`
	// Animated keeps all frames when the output format supports animation.
	Animated bool `json:"animated,omitempty"`
}

// Preset is a named TransformOptions generated for every upload.
type Preset struct {
	Name    string           `json:"name"`
	Options TransformOptions `json:"options"`
}

// DefaultPresets are the presets of an unconfigured server: longest side 200,
// 800 and 1600 pixels.
func DefaultPresets() []Preset {
	return []Preset{
		{Name: "thumb", Options: TransformOptions{Width: 200, Height: 200, Fit: FitInside, Format: FormatJPEG, Quality: 80}},
		{Name: "medium", Options: TransformOptions{Width: 800, Height: 800, Fit: FitInside, Format: FormatJPEG, Quality: 80}},
		{Name: "large", Options: TransformOptions{Width: 1600, Height: 1600, Fit: FitInside, Format: FormatWebP, Quality: 80}},
	}
}

// ImageInfo is what an image header says, read without decoding pixels.
type ImageInfo struct {
	Format Format `json:"format"`
	Width  int    `json:"width"`  // after EXIF orientation
	Height int    `json:"height"` // after EXIF orientation
	Frames int    `json:"frames"` // 1 for still images
}

// Limits bound the work one input may cause; they are checked from the header
// before any decode.
type Limits struct {
	MaxPixels     int64 `json:"max_pixels"`      // width × height of one frame; default 50 MP
	MaxBytes      int64 `json:"max_bytes"`       // input size; default 50 MB
	MaxFrames     int   `json:"max_frames"`      // animation frames; default 100
	MaxOutputSide int   `json:"max_output_side"` // largest output width or height; default 8192
	// MaxWorkPixels bounds the largest image a transform makes besides its
	// input: the scaled image before a fill crops it (WorkSize). A fill of
	// 1×8192 from a 2100×100 image scales it to 172032×8192 before the crop;
	// past this limit such a transform is refused before any decode. An
	// intermediate no larger than the input is always allowed: MaxPixels
	// already bounds its decode. Default 40 MP, the default largest output.
	MaxWorkPixels int64 `json:"max_work_pixels"`
}

// DefaultLimits returns the limits of an unconfigured server.
func DefaultLimits() Limits {
	return Limits{MaxPixels: 50_000_000, MaxBytes: 50 << 20, MaxFrames: 100, MaxOutputSide: 8192, MaxWorkPixels: 40_000_000}
}

// UnmarshalJSON reads limits by their snake_case names and, for one release,
// by the Go field names configuration files used before (MaxBytes, …): the
// old name is read as the new one, and giving both is an error. Unknown
// names are errors, as in the rest of a configuration file.
func (l *Limits) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for name, value := range fields {
		for _, old := range []string{"MaxPixels", "MaxBytes", "MaxFrames", "MaxOutputSide", "MaxWorkPixels"} {
			if !strings.EqualFold(name, old) {
				continue
			}
			snake := snakeCase(old)
			if _, both := fields[snake]; both {
				return fmt.Errorf("limits: %q and %q name the same limit; keep %q", name, snake, snake)
			}
			delete(fields, name)
			fields[snake] = value
		}
	}
	renamed, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	type plain Limits // Limits without this method
	dec := json.NewDecoder(bytes.NewReader(renamed))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(l))
}

// snakeCase writes a Go field name as a JSON name: MaxOutputSide is max_output_side.
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Rendition is one encoded output image.
type Rendition struct {
	Format Format
	Width  int
	Height int
	Data   []byte
}

// ImageEngine decodes, scales and encodes images. Errors carry ETOOLARGE,
// EUNSUPPORTED or EUNPROCESSABLE for bad inputs.
type ImageEngine interface {
	// Probe reads the header of the image in the file at path and checks it
	// against the engine's Limits (bytes, pixels, frames) before any pixel is
	// decoded: ETOOLARGE, with the info, when it passes one. The engine is
	// the one layer that checks inputs against the limits; Renditions and
	// Transform check the same before they decode.
	Probe(path string) (ImageInfo, error)
	// Renditions decodes the file at path once, at the size the largest
	// output needs, and encodes one Rendition per options, in order.
	Renditions(ctx context.Context, path string, opts []TransformOptions) ([]Rendition, error)
	// Transform makes one rendition of an in-memory image.
	Transform(ctx context.Context, data []byte, opts TransformOptions) (Rendition, error)
}

// ImageStatus is where an image is in its life.
type ImageStatus string

// Image statuses.
const (
	ImageProcessing ImageStatus = "processing" // original stored, variants pending (async upload)
	ImageReady      ImageStatus = "ready"      // all preset variants stored
	ImageFailed     ImageStatus = "failed"     // variant generation failed for good
)

// Image is the metadata of one stored original.
type Image struct {
	ID        string      `json:"id"`
	TenantID  string      `json:"tenant_id"`
	Filename  string      `json:"filename,omitempty"` // as uploaded, informational only
	Format    Format      `json:"format"`
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	Bytes     int64       `json:"bytes"`
	SHA256    string      `json:"sha256"` // hex digest of the original
	Status    ImageStatus `json:"status"`
	Error     string      `json:"error,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	Variants  []Variant   `json:"variants"`
}

// Variant is one stored rendition of an image: a preset, or an on-the-fly
// transform whose Name is "t:" followed by its canonical options.
type Variant struct {
	ImageID   string    `json:"-"`
	Name      string    `json:"name"`
	Format    Format    `json:"format"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Bytes     int64     `json:"bytes"`
	BlobKey   string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// OriginalKey is the blob key of an image's original.
func OriginalKey(tenantID, imageID string) string {
	return tenantID + "/" + imageID + "/original"
}

// VariantKey is the blob key of a variant of an image; name is a preset name
// or a transform's hash.
func VariantKey(tenantID, imageID, name string) string {
	return tenantID + "/" + imageID + "/v/" + name
}

// ImagePrefix is the blob prefix holding everything of one image.
func ImagePrefix(tenantID, imageID string) string {
	return tenantID + "/" + imageID + "/"
}
