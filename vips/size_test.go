package vips_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// fitBoxes are the boxes the size tests fit images into; 0 leaves a side to
// the aspect ratio.
var fitBoxes = [][2]int{{100, 100}, {100, 0}, {0, 100}, {67, 45}, {150, 40}, {333, 333}, {1, 1}, {0, 0}}

// TestFitStaysInsideBox is the regression test for a 200×300 portrait
// fitted in 100×100 coming out 67×101: across aspect ratios, input formats
// (JPEG shrink-on-load, WebP reduced decode, a plain PNG decode) and all eight
// EXIF orientations (5-8 swap the sides), a fit never passes its box and is
// exactly the size hotpath.OutputSize predicts, from Transform and from one
// shared decode in Renditions.
func TestFitStaysInsideBox(t *testing.T) {
	e := imagetest.ImageEngine(t)
	type input struct {
		name string
		data []byte
		w, h int // upright
	}
	var inputs []input
	sizes := [][2]int{{200, 300}, {300, 200}, {100, 100}, {301, 200}, {1000, 999}, {999, 1000}, {1234, 567}, {567, 1234}, {641, 479}, {97, 61}, {3, 700}, {700, 3}}
	for _, s := range sizes {
		for orientation := 1; orientation <= 8; orientation++ {
			w, h := s[0], s[1]
			if orientation >= 5 {
				w, h = h, w
			}
			inputs = append(inputs, input{name: fmt.Sprintf("jpeg-%dx%d-o%d", s[0], s[1], orientation),
				data: imagetest.JPEGWithOrientation(t, s[0], s[1], orientation), w: w, h: h})
		}
		for _, f := range []hotpath.Format{hotpath.FormatPNG, hotpath.FormatWebP} {
			inputs = append(inputs, input{name: fmt.Sprintf("%s-%dx%d", f, s[0], s[1]), data: imagetest.Image(t, f, s[0], s[1]), w: s[0], h: s[1]})
		}
	}
	var opts []hotpath.TransformOptions
	for _, b := range fitBoxes {
		opts = append(opts, hotpath.TransformOptions{Width: b[0], Height: b[1], Format: hotpath.FormatPNG})
	}
	check := func(t *testing.T, in input, o hotpath.TransformOptions, r hotpath.Rendition) {
		t.Helper()
		wantW, wantH := hotpath.OutputSize(o, in.w, in.h)
		if r.Width != wantW || r.Height != wantH {
			t.Errorf("%s fit %dx%d: got %dx%d, OutputSize predicts %dx%d", in.name, o.Width, o.Height, r.Width, r.Height, wantW, wantH)
		}
		if o.Width > 0 && r.Width > o.Width || o.Height > 0 && r.Height > o.Height {
			t.Errorf("%s fit %dx%d: got %dx%d, outside the box", in.name, o.Width, o.Height, r.Width, r.Height)
		}
		if info := imagetest.ProbeImage(t, r.Data); info.Width != r.Width || info.Height != r.Height {
			t.Errorf("%s fit %dx%d: rendition says %dx%d, its image is %dx%d", in.name, o.Width, o.Height, r.Width, r.Height, info.Width, info.Height)
		}
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			if info := imagetest.ProbeImage(t, in.data); info.Width != in.w || info.Height != in.h {
				t.Fatalf("probe = %dx%d, want %dx%d upright", info.Width, info.Height, in.w, in.h)
			}
			for _, o := range opts {
				r, err := e.Transform(context.Background(), in.data, o)
				if err != nil {
					t.Fatalf("fit %dx%d: %v", o.Width, o.Height, err)
				}
				check(t, in, o, r)
			}
			rs, err := e.Renditions(context.Background(), imagetest.WriteImage(t, "in", in.data), opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				check(t, in, opts[i], r)
			}
		})
	}
}

// TestNoSizeCapsAtMaxOutputSide: with no width and no height the engine
// keeps the source size up to MaxOutputSide and scales larger sources down
// to it, and so does a fit whose given side leaves the other past it; both
// as Limits.OutputSize predicts, and as hotpath.OutputSize does for the
// default limits.
func TestNoSizeCapsAtMaxOutputSide(t *testing.T) {
	tests := []struct {
		limits       hotpath.Limits
		srcW, srcH   int
		opts         hotpath.TransformOptions
		wantW, wantH int
	}{
		{hotpath.DefaultLimits(), 9000, 120, hotpath.TransformOptions{}, 8192, 109},
		{hotpath.DefaultLimits(), 120, 9000, hotpath.TransformOptions{}, 109, 8192},
		{hotpath.DefaultLimits(), 8192, 50, hotpath.TransformOptions{}, 8192, 50},
		{hotpath.DefaultLimits(), 120, 9000, hotpath.TransformOptions{Width: 119}, 109, 8192},
		{hotpath.Limits{MaxOutputSide: 64}, 200, 300, hotpath.TransformOptions{}, 43, 64},
		{hotpath.Limits{MaxOutputSide: 64}, 200, 300, hotpath.TransformOptions{Width: 60}, 43, 64},
		{hotpath.Limits{MaxOutputSide: 64}, 64, 20, hotpath.TransformOptions{}, 64, 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d-w%d-max%d", tt.srcW, tt.srcH, tt.opts.Width, tt.limits.MaxOutputSide), func(t *testing.T) {
			e := newEngine(t, tt.limits)
			o := tt.opts
			o.Format = hotpath.FormatPNG
			r, err := e.Transform(context.Background(), imagetest.Image(t, hotpath.FormatPNG, tt.srcW, tt.srcH), o)
			if err != nil {
				t.Fatal(err)
			}
			if info := imagetest.ProbeImage(t, r.Data); r.Width != tt.wantW || r.Height != tt.wantH || info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("got %dx%d (image %dx%d), want %dx%d", r.Width, r.Height, info.Width, info.Height, tt.wantW, tt.wantH)
			}
			if w, h := tt.limits.OutputSize(o, tt.srcW, tt.srcH); w != r.Width || h != r.Height {
				t.Errorf("Limits.OutputSize = %dx%d, the engine made %dx%d", w, h, r.Width, r.Height)
			}
			if tt.limits == hotpath.DefaultLimits() {
				if w, h := hotpath.OutputSize(o, tt.srcW, tt.srcH); w != r.Width || h != r.Height {
					t.Errorf("hotpath.OutputSize = %dx%d, the engine made %dx%d", w, h, r.Width, r.Height)
				}
			}
		})
	}
}
