package vips_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// TestJPEGShorterThanItsHeader: a JPEG whose header claims 8000×6000 over
// the scan data of 640×480 is unprocessable, where libjpeg alone would fill
// the missing 47 MP with grey and the upload would be stored as a ready
// 8000×6000 image; a JPEG with a harmless warning (bytes between its scan
// and its end marker, common in camera files) still decodes.
func TestJPEGShorterThanItsHeader(t *testing.T) {
	e := newEngine(t, hotpath.Limits{})
	small := imagetest.Image(t, hotpath.FormatJPEG, 640, 480)
	liar := imagetest.JPEGClaimingSize(t, small, 8000, 6000)
	if info, err := e.Probe(imagetest.WriteImage(t, "liar.jpg", liar)); err != nil || info.Width != 8000 {
		t.Fatalf("probe: %+v, %v; the header should pass", info, err)
	}
	for _, o := range []hotpath.TransformOptions{{Width: 800}, {}, {Width: 100, Height: 100, Fit: hotpath.FitFill}} {
		_, err := e.Transform(context.Background(), liar, o)
		wantCode(t, err, hotpath.EUNPROCESSABLE)
	}
	_, err := e.Renditions(context.Background(), imagetest.WriteImage(t, "liar.jpg", liar), []hotpath.TransformOptions{{Width: 200}, {Width: 1600}})
	wantCode(t, err, hotpath.EUNPROCESSABLE)

	end := bytes.LastIndex(small, []byte{0xFF, 0xD9})
	padded := append(append(append([]byte(nil), small[:end]...), 1, 2, 3, 4), small[end:]...)
	r, err := e.Transform(context.Background(), padded, hotpath.TransformOptions{Width: 320})
	if err != nil {
		t.Fatalf("JPEG with extraneous bytes before its end marker: %v", err)
	}
	if r.Width != 320 || r.Height != 240 {
		t.Errorf("got %dx%d, want 320x240", r.Width, r.Height)
	}
}

// TestCancelStopsLibvips: a client that leaves stops libvips mid-evaluation
// (the image's kill flag), so the call returns at once with the cancellation
// instead of finishing a result nobody will read. The transform, a 640×480
// image filled to 6600×4950 and encoded as PNG, takes seconds of CPU; before
// the kill, the engine only looked at the context between steps and
// returned the finished image.
func TestCancelStopsLibvips(t *testing.T) {
	e := newEngine(t, hotpath.Limits{})
	src := imagetest.Image(t, hotpath.FormatPNG, 640, 480)
	heavy := hotpath.TransformOptions{Width: 6600, Height: 4950, Fit: hotpath.FitFill, Format: hotpath.FormatPNG}
	for _, tc := range []struct {
		name  string
		after time.Duration
	}{{"decoding", 100 * time.Millisecond}, {"resizing", 700 * time.Millisecond}, {"encoding", 2 * time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			timer := time.AfterFunc(tc.after, cancel)
			defer timer.Stop()
			start := time.Now()
			_, err := e.Transform(ctx, src, heavy)
			took := time.Since(start)
			wantCode(t, err, hotpath.EUNAVAILABLE)
			if took > tc.after+2*time.Second {
				t.Errorf("returned %v after the cancel, want at once", took-tc.after)
			}
		})
	}
	// The engine is still whole: the next call works.
	if _, err := e.Transform(context.Background(), src, hotpath.TransformOptions{Width: 64}); err != nil {
		t.Fatalf("after cancelled calls: %v", err)
	}
}
