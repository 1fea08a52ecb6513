// Package imagetest holds image fixtures for tests: generated pictures in
// every format, a libvips engine to probe them, and a perceptual hash to
// compare results by what they show rather than by their bytes. It is apart
// from hotpathtest so that the contract suites of pure-Go packages do not
// link libvips.
package imagetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/bits"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/vips"
)

var (
	engineOnce sync.Once
	engine     *vips.Engine
	engineErr  error
)

// ImageEngine returns a process-wide libvips engine with default limits, for
// tests that need to make, inspect or compare images.
func ImageEngine(t testing.TB) *vips.Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = vips.New(vips.Config{}) })
	if engineErr != nil {
		t.Fatalf("starting the image engine: %v", engineErr)
	}
	return engine
}

// Pattern is a w × h test picture: colour gradients with a dark block in the
// top-left quarter and a light one bottom-right, so that crops, rotations
// and flips change its perceptual hash.
func Pattern(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(255 * x / max(1, w-1)), uint8(255 * y / max(1, h-1)), 128, 255}
			switch {
			case x < w/2 && y < h/2 && x > w/8 && y > h/8:
				c = color.RGBA{20, 20, 40, 255}
			case x > w*5/8 && y > h*5/8 && x < w*7/8:
				c = color.RGBA{240, 240, 200, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// RotateCW turns img a quarter clockwise: what a viewer shows for a JPEG
// with EXIF orientation 6.
func RotateCW(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.Y-1-y, x-b.Min.X, img.At(x, y))
		}
	}
	return out
}

// EncodePNG encodes img as PNG.
func EncodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encoding PNG: %v", err)
	}
	return buf.Bytes()
}

// EncodeJPEG encodes img as JPEG at quality 90.
func EncodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatalf("encoding JPEG: %v", err)
	}
	return buf.Bytes()
}

// Image returns Pattern(w, h) encoded in format f: JPEG, PNG, GIF and TIFF
// in pure Go, WebP and AVIF through the engine.
func Image(t testing.TB, f hotpath.Format, w, h int) []byte {
	t.Helper()
	img := Pattern(w, h)
	switch f {
	case hotpath.FormatJPEG:
		return EncodeJPEG(t, img)
	case hotpath.FormatPNG:
		return EncodePNG(t, img)
	case hotpath.FormatGIF:
		var buf bytes.Buffer
		if err := gif.Encode(&buf, img, nil); err != nil {
			t.Fatalf("encoding GIF: %v", err)
		}
		return buf.Bytes()
	case hotpath.FormatTIFF:
		return encodeTIFF(img)
	case hotpath.FormatWebP, hotpath.FormatAVIF:
		r, err := ImageEngine(t).Transform(context.Background(), EncodePNG(t, img), hotpath.TransformOptions{Format: f, Quality: 90})
		if err != nil {
			t.Fatalf("encoding %s: %v", f, err)
		}
		return r.Data
	}
	t.Fatalf("imagetest.Image: cannot make format %q", f)
	return nil
}

// AnimatedGIF returns a w × h GIF of frames frames, each a different solid
// colour, 100 ms apart, looping.
func AnimatedGIF(t testing.TB, w, h, frames int) []byte {
	t.Helper()
	g := &gif.GIF{LoopCount: 0}
	for i := range frames {
		frame := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		c := color.RGBA{uint8(60 * i % 256), uint8(255 - 40*i%256), 100, 255}
		draw.Draw(frame, frame.Bounds(), &image.Uniform{c}, image.Point{}, draw.Src)
		g.Image = append(g.Image, frame)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatalf("encoding animated GIF: %v", err)
	}
	return buf.Bytes()
}

// AnimatedWebP returns AnimatedGIF(w, h, frames) converted to an animated WebP.
func AnimatedWebP(t testing.TB, w, h, frames int) []byte {
	t.Helper()
	r, err := ImageEngine(t).Transform(context.Background(), AnimatedGIF(t, w, h, frames),
		hotpath.TransformOptions{Format: hotpath.FormatWebP, Animated: true, Quality: 90})
	if err != nil {
		t.Fatalf("encoding animated WebP: %v", err)
	}
	return r.Data
}

// JPEGWithOrientation returns Pattern(w, h) as a JPEG whose EXIF orientation
// tag is orientation (1-8); viewers and the engine show it rotated.
func JPEGWithOrientation(t testing.TB, w, h, orientation int) []byte {
	t.Helper()
	j := EncodeJPEG(t, Pattern(w, h))
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8))      // first IFD
	binary.Write(&tiff, binary.BigEndian, uint16(1))      // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112)) // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))      // count
	binary.Write(&tiff, binary.BigEndian, uint16(orientation))
	binary.Write(&tiff, binary.BigEndian, uint16(0)) // padding
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(payload)+2))
	app1 = append(app1, payload...)
	out := append([]byte{}, j[:2]...)
	out = append(out, app1...)
	return append(out, j[2:]...)
}

// PNGHeader returns a small, valid-looking PNG whose IHDR claims w × h
// pixels: the limit tests' decompression bomb, rejected from the header.
func PNGHeader(w, h int) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		body := append([]byte(typ), data...)
		buf.Write(body)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	// A zlib stream of one empty stored block: a few bytes where the real
	// image would need gigabytes.
	chunk("IDAT", []byte{0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return buf.Bytes()
}

// encodeTIFF writes img as a baseline uncompressed RGB TIFF, one strip.
func encodeTIFF(img *image.RGBA) []byte {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	type entry struct {
		tag, typ uint16
		value    uint32
	}
	const nEntries = 10
	ifdLen := 2 + nEntries*12 + 4
	bpsOff := uint32(8 + ifdLen)
	dataOff := bpsOff + 6
	entries := []entry{
		{256, 4, uint32(w)}, {257, 4, uint32(h)}, {258, 3, bpsOff}, {259, 3, 1}, {262, 3, 2},
		{273, 4, dataOff}, {277, 3, 3}, {278, 4, uint32(h)}, {279, 4, uint32(w * h * 3)}, {284, 3, 1},
	}
	var buf bytes.Buffer
	le := binary.LittleEndian
	buf.WriteString("II*\x00")
	binary.Write(&buf, le, uint32(8))
	binary.Write(&buf, le, uint16(nEntries))
	for _, e := range entries {
		count := uint32(1)
		if e.tag == 258 {
			count = 3
		}
		binary.Write(&buf, le, e.tag)
		binary.Write(&buf, le, e.typ)
		binary.Write(&buf, le, count)
		if e.typ == 3 && count == 1 {
			binary.Write(&buf, le, uint16(e.value))
			binary.Write(&buf, le, uint16(0))
		} else {
			binary.Write(&buf, le, e.value)
		}
	}
	binary.Write(&buf, le, uint32(0))
	binary.Write(&buf, le, [3]uint16{8, 8, 8})
	for y := range h {
		for x := range w {
			c := img.RGBAAt(x, y)
			buf.Write([]byte{c.R, c.G, c.B})
		}
	}
	return buf.Bytes()
}

// WriteImage writes data to a file named name in a test temp dir and
// returns its path.
func WriteImage(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ProbeImage returns what the engine reads from the header of data: format,
// upright size and frames. It fails the test if data is not an image.
func ProbeImage(t testing.TB, data []byte) hotpath.ImageInfo {
	t.Helper()
	info, err := ImageEngine(t).Probe(WriteImage(t, "probe", data))
	if err != nil {
		t.Fatalf("probing image: %v", err)
	}
	return info
}

// ImageHash is a 64-bit difference hash of data (any input format): the
// image is scaled to 9 × 8 grey pixels and each bit says whether a pixel is
// brighter than its right neighbour. Similar pictures differ in few bits
// whatever their size, format or compression.
func ImageHash(t testing.TB, data []byte) uint64 {
	t.Helper()
	r, err := ImageEngine(t).Transform(context.Background(), data,
		hotpath.TransformOptions{Width: 9, Height: 8, Fit: hotpath.FitForce, Format: hotpath.FormatPNG})
	if err != nil {
		t.Fatalf("hashing image: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("hashing image: %v", err)
	}
	var hash uint64
	grey := func(x, y int) uint32 {
		c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
		return uint32(c.Y)
	}
	for y := range 8 {
		for x := range 8 {
			hash <<= 1
			if grey(x, y) > grey(x+1, y) {
				hash |= 1
			}
		}
	}
	return hash
}

// HashDistance is the number of differing bits of two image hashes.
func HashDistance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// AssertSimilar fails the test when got and want look different: their
// hashes differ in more than maxDistance of 64 bits (about 10 tolerates
// scaling and lossy compression; unrelated pictures differ in about 32).
func AssertSimilar(t testing.TB, got, want []byte, maxDistance int) {
	t.Helper()
	if d := HashDistance(ImageHash(t, got), ImageHash(t, want)); d > maxDistance {
		t.Errorf("images differ: hash distance %d, want at most %d", d, maxDistance)
	}
}

// JPEGClaimingSize returns the JPEG data with its frame header (SOF0-2)
// rewritten to claim w × h pixels, its scan data unchanged: an image whose
// header promises far more pixels than its data holds.
func JPEGClaimingSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xFF {
			t.Fatalf("JPEGClaimingSize: no marker at byte %d", i)
		}
		marker, length := out[i+1], int(out[i+2])<<8|int(out[i+3])
		if marker >= 0xC0 && marker <= 0xC2 {
			out[i+5], out[i+6] = byte(h>>8), byte(h)
			out[i+7], out[i+8] = byte(w>>8), byte(w)
			return out
		}
		i += 2 + length
	}
	t.Fatal("JPEGClaimingSize: no frame header")
	return nil
}
