package vips

import (
	"bytes"
	"encoding/binary"

	"github.com/hotpath/hotpath"
)

// sniffLen is how many leading bytes sniff needs to recognise every format.
const sniffLen = 64

// sniff finds the image format from its first bytes. It never trusts a file
// name or Content-Type, and it decides which libvips loader may run: bytes
// it does not recognise never reach a decoder.
func sniff(b []byte) (hotpath.Format, bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return hotpath.FormatJPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return hotpath.FormatPNG, true
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return hotpath.FormatGIF, true
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return hotpath.FormatWebP, true
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return hotpath.FormatTIFF, true
	case len(b) >= 16 && string(b[4:8]) == "ftyp":
		return sniffISOBMFF(b)
	}
	return "", false
}

// sniffISOBMFF tells AVIF from HEIF by the ftyp box's major and compatible
// brands.
func sniffISOBMFF(b []byte) (hotpath.Format, bool) {
	size := int(binary.BigEndian.Uint32(b[0:4]))
	if size < 16 || size > len(b) {
		size = len(b)
	}
	heif := false
	for off := 8; off+4 <= size; off += 4 {
		if off == 12 { // minor version, not a brand
			continue
		}
		switch string(b[off : off+4]) {
		case "avif", "avis":
			return hotpath.FormatAVIF, true
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1":
			heif = true
		}
	}
	if heif {
		return hotpath.FormatHEIF, true
	}
	return "", false
}

// loaderPrefix is the libvips loader nickname each sniffed format must be
// decoded by; a different loader means the bytes are a polyglot and are refused.
var loaderPrefix = map[hotpath.Format]string{
	hotpath.FormatJPEG: "jpegload",
	hotpath.FormatPNG:  "pngload",
	hotpath.FormatGIF:  "gifload",
	hotpath.FormatWebP: "webpload",
	hotpath.FormatTIFF: "tiffload",
	hotpath.FormatHEIF: "heifload",
	hotpath.FormatAVIF: "heifload",
}

// writable reports whether the engine encodes f.
func writable(f hotpath.Format) bool {
	switch f {
	case hotpath.FormatJPEG, hotpath.FormatPNG, hotpath.FormatWebP, hotpath.FormatAVIF, hotpath.FormatGIF:
		return true
	}
	return false
}

// animatable reports whether f can hold an animation.
func animatable(f hotpath.Format) bool {
	return f == hotpath.FormatWebP || f == hotpath.FormatGIF
}

// hasAlpha reports whether f can hold transparency.
func hasAlpha(f hotpath.Format) bool {
	return f != hotpath.FormatJPEG
}

// defaultQuality is the quality of an output when the options give none.
func defaultQuality(f hotpath.Format) int {
	switch f {
	case hotpath.FormatAVIF:
		return 60
	case hotpath.FormatPNG, hotpath.FormatGIF:
		return 0 // lossless: quality does not apply
	}
	return 80
}
