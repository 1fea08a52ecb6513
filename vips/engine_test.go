package vips_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	"github.com/hotpath/hotpath/vips"
)

var inputFormats = []hotpath.Format{
	hotpath.FormatJPEG, hotpath.FormatPNG, hotpath.FormatGIF, hotpath.FormatTIFF, hotpath.FormatWebP, hotpath.FormatAVIF,
}

var outputFormats = []hotpath.Format{
	hotpath.FormatJPEG, hotpath.FormatPNG, hotpath.FormatWebP, hotpath.FormatAVIF, hotpath.FormatGIF,
}

func newEngine(t *testing.T, limits hotpath.Limits) *vips.Engine {
	t.Helper()
	e, err := vips.New(vips.Config{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hotpath.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestEveryFormatInAndOut(t *testing.T) {
	e := imagetest.ImageEngine(t)
	for _, in := range inputFormats {
		src := imagetest.Image(t, in, 160, 120)
		if got := imagetest.ProbeImage(t, src); got.Format != in || got.Width != 160 || got.Height != 120 {
			t.Errorf("probe %s = %+v, want %s 160x120", in, got, in)
		}
		for _, out := range outputFormats {
			t.Run(fmt.Sprintf("%s-to-%s", in, out), func(t *testing.T) {
				r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{Width: 80, Format: out})
				if err != nil {
					t.Fatal(err)
				}
				info := imagetest.ProbeImage(t, r.Data)
				if info.Format != out || info.Width != 80 || info.Height != 60 || r.Width != 80 || r.Height != 60 || r.Format != out {
					t.Errorf("got %+v (rendition %s %dx%d), want %s 80x60", info, r.Format, r.Width, r.Height, out)
				}
				imagetest.AssertSimilar(t, r.Data, src, 12)
			})
		}
	}
}

func TestDefaultFormatKeepsWritableInput(t *testing.T) {
	e := imagetest.ImageEngine(t)
	tests := []struct{ in, want hotpath.Format }{
		{hotpath.FormatPNG, hotpath.FormatPNG},
		{hotpath.FormatWebP, hotpath.FormatWebP},
		{hotpath.FormatTIFF, hotpath.FormatJPEG},
	}
	for _, tt := range tests {
		r, err := e.Transform(context.Background(), imagetest.Image(t, tt.in, 40, 30), hotpath.TransformOptions{Width: 20})
		if err != nil {
			t.Fatal(err)
		}
		if got := imagetest.ProbeImage(t, r.Data).Format; got != tt.want || r.Format != tt.want {
			t.Errorf("%s with no format: got %s (rendition says %s), want %s", tt.in, got, r.Format, tt.want)
		}
	}
}

func TestModesGiveAskedDimensions(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.Image(t, hotpath.FormatJPEG, 400, 300)
	type mode struct {
		fit     hotpath.Fit
		gravity hotpath.Gravity
		w, h    int
		wantW   int
		wantH   int
	}
	tests := []mode{
		{hotpath.FitInside, "", 200, 200, 200, 150},
		{hotpath.FitInside, "", 0, 150, 200, 150},
		{hotpath.FitInside, "", 100, 0, 100, 75},
		{hotpath.FitInside, "", 0, 0, 400, 300},
		{hotpath.FitInside, "", 800, 800, 400, 300}, // fit never enlarges
		{hotpath.FitForce, "", 123, 321, 123, 321},
		{hotpath.FitForce, "", 100, 0, 100, 75},
		{hotpath.FitPad, "", 200, 200, 200, 200},
		{hotpath.FitPad, hotpath.GravityNorth, 300, 100, 300, 100},
		{hotpath.FitPad, "", 800, 800, 800, 800},
		{hotpath.FitFill, "", 600, 100, 600, 100}, // fill enlarges to cover
	}
	for _, g := range []hotpath.Gravity{hotpath.GravityCentre, hotpath.GravityNorth, hotpath.GravitySouth,
		hotpath.GravityEast, hotpath.GravityWest, hotpath.GravitySmart, hotpath.GravityEntropy} {
		tests = append(tests, mode{hotpath.FitFill, g, 100, 100, 100, 100}, mode{hotpath.FitFill, g, 150, 40, 150, 40})
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s-%s-%dx%d", tt.fit, tt.gravity, tt.w, tt.h)
		t.Run(name, func(t *testing.T) {
			r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{
				Width: tt.w, Height: tt.h, Fit: tt.fit, Gravity: tt.gravity, Format: hotpath.FormatPNG})
			if err != nil {
				t.Fatal(err)
			}
			info := imagetest.ProbeImage(t, r.Data)
			if info.Width != tt.wantW || info.Height != tt.wantH || r.Width != tt.wantW || r.Height != tt.wantH {
				t.Errorf("got %dx%d (rendition %dx%d), want %dx%d", info.Width, info.Height, r.Width, r.Height, tt.wantW, tt.wantH)
			}
			if w, h := hotpath.OutputSize(hotpath.TransformOptions{Width: tt.w, Height: tt.h, Fit: tt.fit}, 400, 300); w != tt.wantW || h != tt.wantH {
				t.Errorf("hotpath.OutputSize = %dx%d, engine gives %dx%d", w, h, tt.wantW, tt.wantH)
			}
		})
	}
}

// crop returns the part r of Pattern(400, 300) as a PNG.
func crop(t *testing.T, r image.Rectangle) []byte {
	t.Helper()
	return imagetest.EncodePNG(t, imagetest.Pattern(400, 300).SubImage(r))
}

func TestFillGravityKeepsThatPart(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.Image(t, hotpath.FormatPNG, 400, 300)
	tests := []struct {
		gravity hotpath.Gravity
		w, h    int
		want    image.Rectangle // of the 400x300 source
	}{
		{hotpath.GravityNorth, 400, 100, image.Rect(0, 0, 400, 100)},
		{hotpath.GravitySouth, 400, 100, image.Rect(0, 200, 400, 300)},
		{hotpath.GravityCentre, 400, 100, image.Rect(0, 100, 400, 200)},
		{hotpath.GravityWest, 100, 300, image.Rect(0, 0, 100, 300)},
		{hotpath.GravityEast, 100, 300, image.Rect(300, 0, 400, 300)},
	}
	for _, tt := range tests {
		t.Run(string(tt.gravity), func(t *testing.T) {
			r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{
				Width: tt.w, Height: tt.h, Fit: hotpath.FitFill, Gravity: tt.gravity, Format: hotpath.FormatPNG})
			if err != nil {
				t.Fatal(err)
			}
			imagetest.AssertSimilar(t, r.Data, crop(t, tt.want), 6)
		})
	}
}

func TestPadBackground(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.Image(t, hotpath.FormatJPEG, 100, 50)
	tests := []struct {
		name   string
		format hotpath.Format
		bg     []uint8
		want   [4]uint32 // corner pixel, 8-bit RGBA
	}{
		{"jpeg-default-white", hotpath.FormatJPEG, nil, [4]uint32{255, 255, 255, 255}},
		{"png-default-transparent", hotpath.FormatPNG, nil, [4]uint32{0, 0, 0, 0}},
		{"png-red", hotpath.FormatPNG, []uint8{255, 0, 0}, [4]uint32{255, 0, 0, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{
				Width: 100, Height: 100, Fit: hotpath.FitPad, Format: tt.format, Background: tt.bg})
			if err != nil {
				t.Fatal(err)
			}
			png, err := e.Transform(context.Background(), r.Data, hotpath.TransformOptions{Format: hotpath.FormatPNG})
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, png.Data)
			cr, cg, cb, ca := img.At(0, 0).RGBA()
			got := [4]uint32{cr >> 8, cg >> 8, cb >> 8, ca >> 8}
			for i := range got {
				if diff := int(got[i]) - int(tt.want[i]); diff > 3 || diff < -3 {
					t.Fatalf("corner pixel = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestEXIFOrientationApplied(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.JPEGWithOrientation(t, 120, 80, 6)
	if info := imagetest.ProbeImage(t, src); info.Width != 80 || info.Height != 120 {
		t.Errorf("probe = %dx%d, want 80x120 (upright)", info.Width, info.Height)
	}
	r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{Width: 40, Format: hotpath.FormatPNG})
	if err != nil {
		t.Fatal(err)
	}
	if r.Width != 40 || r.Height != 60 {
		t.Errorf("got %dx%d, want 40x60", r.Width, r.Height)
	}
	want := imagetest.EncodePNG(t, imagetest.RotateCW(imagetest.Pattern(120, 80)))
	imagetest.AssertSimilar(t, r.Data, want, 8)
	if d := imagetest.HashDistance(imagetest.ImageHash(t, r.Data), imagetest.ImageHash(t, imagetest.Image(t, hotpath.FormatPNG, 80, 120))); d < 12 {
		t.Errorf("rotated output looks like the unrotated picture (distance %d)", d)
	}
}

func TestMetadataStrippedUnlessKept(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.JPEGWithOrientation(t, 60, 40, 1)
	for _, keep := range []bool{false, true} {
		r, err := e.Transform(context.Background(), src, hotpath.TransformOptions{Width: 30, Format: hotpath.FormatJPEG, KeepMetadata: keep})
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(r.Data, []byte("Exif\x00\x00")); got != keep {
			t.Errorf("KeepMetadata=%v: output has EXIF = %v", keep, got)
		}
	}
}

func TestLimits(t *testing.T) {
	jpg := imagetest.Image(t, hotpath.FormatJPEG, 64, 48)
	tests := []struct {
		name   string
		limits hotpath.Limits
		data   []byte
		opts   hotpath.TransformOptions
	}{
		{"bytes", hotpath.Limits{MaxBytes: 100}, jpg, hotpath.TransformOptions{}},
		{"pixels", hotpath.Limits{MaxPixels: 64*48 - 1}, jpg, hotpath.TransformOptions{}},
		{"frames", hotpath.Limits{MaxFrames: 4}, imagetest.AnimatedGIF(t, 16, 16, 5), hotpath.TransformOptions{}},
		{"animation-in-all", hotpath.Limits{MaxPixels: 16 * 16 * 4}, imagetest.AnimatedGIF(t, 16, 16, 5), hotpath.TransformOptions{Format: hotpath.FormatWebP, Animated: true}},
		{"png-claiming-100000x100000", hotpath.Limits{}, imagetest.PNGHeader(100000, 100000), hotpath.TransformOptions{Width: 10}},
		{"asked-width", hotpath.Limits{MaxOutputSide: 100}, jpg, hotpath.TransformOptions{Width: 101}},
		{"asked-height", hotpath.Limits{}, jpg, hotpath.TransformOptions{Height: 8193, Fit: hotpath.FitForce, Width: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, tt.limits)
			start := time.Now()
			_, err := e.Transform(context.Background(), tt.data, tt.opts)
			wantCode(t, err, hotpath.ETOOLARGE)
			_, err = e.Renditions(context.Background(), imagetest.WriteImage(t, "in", tt.data), []hotpath.TransformOptions{tt.opts})
			wantCode(t, err, hotpath.ETOOLARGE)
			if d := time.Since(start); d > time.Second {
				t.Errorf("rejection took %v: the limit was not checked from the header", d)
			}
		})
	}
	t.Run("probe-reports-size-with-the-error", func(t *testing.T) {
		info, err := imagetest.ImageEngine(t).Probe(imagetest.WriteImage(t, "bomb.png", imagetest.PNGHeader(100000, 100000)))
		wantCode(t, err, hotpath.ETOOLARGE)
		if info.Width != 100000 || info.Height != 100000 {
			t.Errorf("info = %+v, want 100000x100000", info)
		}
	})
	t.Run("one-frame-of-a-big-animation", func(t *testing.T) {
		e := newEngine(t, hotpath.Limits{MaxPixels: 16 * 16 * 4})
		if _, err := e.Transform(context.Background(), imagetest.AnimatedGIF(t, 16, 16, 5), hotpath.TransformOptions{Format: hotpath.FormatWebP}); err != nil {
			t.Errorf("first frame only: %v", err)
		}
	})
	t.Run("derived-size-capped", func(t *testing.T) {
		e := newEngine(t, hotpath.Limits{MaxOutputSide: 32})
		r, err := e.Transform(context.Background(), jpg, hotpath.TransformOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Width != 32 || r.Height != 24 {
			t.Errorf("got %dx%d, want 32x24", r.Width, r.Height)
		}
	})
}

func TestBadInputs(t *testing.T) {
	e := imagetest.ImageEngine(t)
	jpg := imagetest.Image(t, hotpath.FormatJPEG, 200, 150)
	png := imagetest.Image(t, hotpath.FormatPNG, 200, 150)
	// A Huffman table whose code counts add up to more than 256 codes.
	// (Damaged entropy-coded data, by contrast, is a libjpeg warning and
	// decodes with visible damage, as browsers show it.)
	corruptJPEG := append([]byte{}, jpg...)
	dht := bytes.Index(corruptJPEG, []byte{0xFF, 0xC4})
	for i := dht + 5; i < dht+5+16; i++ {
		corruptJPEG[i] = 0x7F
	}
	badCRC := append([]byte{}, png...)
	badCRC[29] ^= 0xFF // inside the IHDR CRC
	tests := []struct {
		name string
		data []byte
		code string
	}{
		{"empty", nil, hotpath.EUNSUPPORTED},
		{"text", []byte("hello, this is not an image at all"), hotpath.EUNSUPPORTED},
		{"pdf", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n"), hotpath.EUNSUPPORTED},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`), hotpath.EUNSUPPORTED},
		{"jpeg-magic-only", []byte{0xFF, 0xD8, 0xFF}, hotpath.EUNPROCESSABLE},
		{"jpeg-truncated", jpg[:len(jpg)/2], hotpath.EUNPROCESSABLE},
		{"jpeg-corrupt", corruptJPEG, hotpath.EUNPROCESSABLE},
		{"png-truncated", png[:len(png)/2], hotpath.EUNPROCESSABLE},
		{"png-bad-crc", badCRC, hotpath.EUNPROCESSABLE},
		{"gif-truncated", imagetest.Image(t, hotpath.FormatGIF, 64, 64)[:40], hotpath.EUNPROCESSABLE},
		{"webp-truncated", func() []byte { b := imagetest.Image(t, hotpath.FormatWebP, 200, 150); return b[:len(b)/2] }(), hotpath.EUNPROCESSABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Transform(context.Background(), tt.data, hotpath.TransformOptions{Width: 50, Format: hotpath.FormatJPEG})
			wantCode(t, err, tt.code)
			_, err = e.Renditions(context.Background(), imagetest.WriteImage(t, "in", tt.data), []hotpath.TransformOptions{{Width: 50}})
			wantCode(t, err, tt.code)
		})
	}
}

func TestBadOptions(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.Image(t, hotpath.FormatPNG, 20, 20)
	tests := []struct {
		name string
		opts hotpath.TransformOptions
		code string
	}{
		{"format-auto", hotpath.TransformOptions{Format: hotpath.FormatAuto}, hotpath.EINVALID},
		{"format-heif", hotpath.TransformOptions{Format: hotpath.FormatHEIF}, hotpath.EUNSUPPORTED},
		{"quality", hotpath.TransformOptions{Quality: 101}, hotpath.EINVALID},
		{"negative-width", hotpath.TransformOptions{Width: -1}, hotpath.EINVALID},
		{"fit", hotpath.TransformOptions{Fit: "stretch"}, hotpath.EINVALID},
		{"gravity", hotpath.TransformOptions{Gravity: "up"}, hotpath.EINVALID},
		{"background", hotpath.TransformOptions{Background: []uint8{1, 2}}, hotpath.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Transform(context.Background(), src, tt.opts)
			wantCode(t, err, tt.code)
		})
	}
}

func TestAnimation(t *testing.T) {
	e := imagetest.ImageEngine(t)
	gif := imagetest.AnimatedGIF(t, 60, 40, 5)
	webp := imagetest.AnimatedWebP(t, 60, 40, 5)
	tests := []struct {
		name       string
		src        []byte
		opts       hotpath.TransformOptions
		wantFrames int
		wantW      int
		wantH      int
	}{
		{"gif-to-webp", gif, hotpath.TransformOptions{Width: 30, Format: hotpath.FormatWebP, Animated: true}, 5, 30, 20},
		{"gif-to-gif", gif, hotpath.TransformOptions{Width: 30, Format: hotpath.FormatGIF, Animated: true}, 5, 30, 20},
		{"webp-to-webp-fill", webp, hotpath.TransformOptions{Width: 20, Height: 20, Fit: hotpath.FitFill, Format: hotpath.FormatWebP, Animated: true}, 5, 20, 20},
		{"webp-to-gif-pad", webp, hotpath.TransformOptions{Width: 50, Height: 50, Fit: hotpath.FitPad, Format: hotpath.FormatGIF, Animated: true}, 5, 50, 50},
		{"gif-to-jpeg-first-frame", gif, hotpath.TransformOptions{Width: 30, Format: hotpath.FormatJPEG, Animated: true}, 1, 30, 20},
		{"not-asked", gif, hotpath.TransformOptions{Width: 30, Format: hotpath.FormatWebP}, 1, 30, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Transform(context.Background(), tt.src, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			info := imagetest.ProbeImage(t, r.Data)
			if info.Frames != tt.wantFrames || info.Width != tt.wantW || info.Height != tt.wantH || r.Width != tt.wantW || r.Height != tt.wantH {
				t.Errorf("got %+v (rendition %dx%d), want %d frames of %dx%d", info, r.Width, r.Height, tt.wantFrames, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestRenditionsMatchSeparateTransforms(t *testing.T) {
	e := imagetest.ImageEngine(t)
	src := imagetest.JPEGWithOrientation(t, 1200, 900, 8)
	path := imagetest.WriteImage(t, "photo.jpg", src)
	presets := hotpath.DefaultPresets()
	opts := make([]hotpath.TransformOptions, len(presets))
	for i, p := range presets {
		opts[i] = p.Options
	}
	opts = append(opts, hotpath.TransformOptions{Width: 100, Height: 100, Fit: hotpath.FitFill, Gravity: hotpath.GravitySmart, Format: hotpath.FormatAVIF})
	got, err := e.Renditions(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]int{{150, 200}, {600, 800}, {900, 1200}, {100, 100}} // orientation 8: upright 900x1200
	for i, r := range got {
		info := imagetest.ProbeImage(t, r.Data)
		if info.Width != want[i][0] || info.Height != want[i][1] || info.Format != opts[i].Format {
			t.Errorf("rendition %d: got %+v, want %s %dx%d", i, info, opts[i].Format, want[i][0], want[i][1])
		}
		one, err := e.Transform(context.Background(), src, opts[i])
		if err != nil {
			t.Fatal(err)
		}
		if one.Width != r.Width || one.Height != r.Height {
			t.Errorf("rendition %d is %dx%d, Transform gives %dx%d", i, r.Width, r.Height, one.Width, one.Height)
		}
		imagetest.AssertSimilar(t, r.Data, one.Data, 6)
	}
}

// TestRenditionsFromSmallerSources checks the outputs scaled from a larger
// output rather than the master (and, for grey and odd sizes, the vertical
// reduces around a transpose): each has Transform's size and looks like it.
func TestRenditionsFromSmallerSources(t *testing.T) {
	e := imagetest.ImageEngine(t)
	tests := []struct {
		name string
		src  []byte
	}{
		{"jpeg-rotated", imagetest.JPEGWithOrientation(t, 1001, 751, 6)},
		{"png", imagetest.Image(t, hotpath.FormatPNG, 997, 613)},
		{"grey-jpeg", imagetest.EncodeJPEG(t, greyPattern(1003, 509))},
	}
	sides := []int{3, 77, 333, 500, 990}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := imagetest.WriteImage(t, "in", tt.src)
			var opts []hotpath.TransformOptions
			for _, side := range sides {
				opts = append(opts, hotpath.TransformOptions{Width: side, Height: side, Format: hotpath.FormatPNG})
			}
			got, err := e.Renditions(context.Background(), path, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range got {
				one, err := e.Transform(context.Background(), tt.src, opts[i])
				if err != nil {
					t.Fatal(err)
				}
				info := imagetest.ProbeImage(t, r.Data)
				if info.Width != one.Width || info.Height != one.Height || max(info.Width, info.Height) != sides[i] {
					t.Errorf("fit %d: got %dx%d, Transform gives %dx%d", sides[i], info.Width, info.Height, one.Width, one.Height)
				}
				if sides[i] >= 77 {
					imagetest.AssertSimilar(t, r.Data, one.Data, 6)
				}
			}
		})
	}
}

func greyPattern(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	rgba := imagetest.Pattern(w, h)
	for y := range h {
		for x := range w {
			r, gr, b, _ := rgba.At(x, y).RGBA()
			g.Pix[y*g.Stride+x] = uint8((r + gr + b) / 3 >> 8)
		}
	}
	return g
}

func TestConcurrentUse(t *testing.T) {
	e := imagetest.ImageEngine(t)
	srcs := map[hotpath.Format][]byte{}
	for _, f := range inputFormats {
		srcs[f] = imagetest.Image(t, f, 300, 200)
	}
	bad := srcs[hotpath.FormatJPEG][:500]
	photo := imagetest.WriteImage(t, "photo.jpg", imagetest.Image(t, hotpath.FormatJPEG, 1000, 750))
	presets := []hotpath.TransformOptions{{Width: 64, Format: hotpath.FormatJPEG}, {Width: 320, Format: hotpath.FormatWebP}}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				f := inputFormats[(g+i)%len(inputFormats)]
				out := outputFormats[(g+i)%len(outputFormats)]
				w := 50 + g + i
				r, err := e.Transform(context.Background(), srcs[f], hotpath.TransformOptions{Width: w, Height: w, Fit: hotpath.FitFill, Gravity: hotpath.GravitySmart, Format: out})
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s to %s: %w", f, out, err)
				case r.Width != w || r.Height != w:
					errs <- fmt.Errorf("%s to %s: got %dx%d, want %dx%d", f, out, r.Width, r.Height, w, w)
				}
				if rs, err := e.Renditions(context.Background(), photo, presets); err != nil || rs[0].Width != 64 || rs[1].Width != 320 {
					errs <- fmt.Errorf("renditions: %v", err)
				}
				if _, err := e.Transform(context.Background(), bad, hotpath.TransformOptions{Width: 10}); hotpath.ErrorCode(err) != hotpath.EUNPROCESSABLE {
					errs <- fmt.Errorf("truncated input: error %v, want unprocessable", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClosedAndCancelled(t *testing.T) {
	src := imagetest.Image(t, hotpath.FormatPNG, 20, 20)
	e := newEngine(t, hotpath.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Transform(ctx, src, hotpath.TransformOptions{})
	wantCode(t, err, hotpath.EUNAVAILABLE)
	e.Close()
	_, err = e.Transform(context.Background(), src, hotpath.TransformOptions{})
	wantCode(t, err, hotpath.EUNAVAILABLE)
	if _, err := imagetest.ImageEngine(t).Transform(context.Background(), src, hotpath.TransformOptions{}); err != nil {
		t.Errorf("closing one engine broke another: %v", err)
	}
}

func TestMemoryStats(t *testing.T) {
	e := imagetest.ImageEngine(t)
	if _, err := e.Transform(context.Background(), imagetest.Image(t, hotpath.FormatPNG, 400, 300), hotpath.TransformOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	mem, high, allocs := vips.MemoryStats()
	if mem < 0 || high < 400*300*3 || allocs < 0 {
		t.Errorf("MemoryStats() = %d, %d, %d; want a high-water mark of at least one decoded image", mem, high, allocs)
	}
}

// FuzzTransform feeds arbitrary bytes to the engine: it must answer with a
// coded error or an image, never crash.
func FuzzTransform(f *testing.F) {
	for _, format := range inputFormats {
		f.Add(imagetest.Image(f, format, 16, 12))
	}
	f.Add(imagetest.AnimatedGIF(f, 8, 8, 3))
	f.Add(imagetest.PNGHeader(100000, 100000))
	e := imagetest.ImageEngine(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := e.Transform(context.Background(), data, hotpath.TransformOptions{Width: 8, Format: hotpath.FormatPNG})
		if code := hotpath.ErrorCode(err); code == hotpath.EINTERNAL {
			t.Errorf("input gave an internal error: %v", err)
		}
	})
}
