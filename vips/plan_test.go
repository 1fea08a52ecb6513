package vips

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
)

// TestPlanMatchesOutputSize sweeps sources of many aspect ratios and boxes
// of every mode: the plan's output size is what hotpath.Limits.OutputSize
// predicts, a fit stays inside its box and within maxSide, and the size the
// master is decoded at for a lone plan is the plan's own, so that the master
// needs no second resample (force aside, which changes the aspect ratio).
func TestPlanMatchesOutputSize(t *testing.T) {
	const maxSide = 500
	limits := hotpath.Limits{MaxOutputSide: maxSide, MaxWorkPixels: 40_000}
	sides := []int{1, 2, 3, 7, 67, 99, 100, 101, 199, 200, 300, 333, 499, 500, 501, 641, 1000, 1023, 4096, 9999}
	boxes := []int{0, 1, 2, 33, 67, 100, 150, 299, 333, 500}
	fits := []hotpath.Fit{"", hotpath.FitInside, hotpath.FitFill, hotpath.FitPad, hotpath.FitForce}
	checked := 0
	for _, inW := range sides {
		for _, inH := range sides {
			for _, bw := range boxes {
				for _, bh := range boxes {
					for _, fit := range fits {
						o := hotpath.TransformOptions{Width: bw, Height: bh, Fit: fit}
						name := fmt.Sprintf("%dx%d %s %dx%d", inW, inH, fit, bw, bh)
						p, err := makePlan(inW, inH, hotpath.FormatPNG, 1, o, limits)
						workErr := limits.CheckWork(o, inW, inH)
						if hotpath.ErrorCode(err) != hotpath.ETOOLARGE && (err != nil) != (workErr != nil) {
							t.Fatalf("%s: plan error %v, CheckWork predicts %v", name, err, workErr)
						}
						if err != nil {
							continue // a derived side above maxSide: refused, nothing to predict
						}
						checked++
						wantW, wantH := limits.OutputSize(o, inW, inH)
						if p.outW != wantW || p.outH != wantH {
							t.Fatalf("%s: plan makes %dx%d, OutputSize predicts %dx%d", name, p.outW, p.outH, wantW, wantH)
						}
						if p.outW > maxSide || p.outH > maxSide {
							t.Fatalf("%s: plan makes %dx%d, above the %d limit", name, p.outW, p.outH, maxSide)
						}
						if fit == "" || fit == hotpath.FitInside {
							if bw > 0 && p.outW > bw || bh > 0 && p.outH > bh {
								t.Fatalf("%s: fit makes %dx%d, outside the box", name, p.outW, p.outH)
							}
						}
						if mw, mh := hotpath.ScaledSide(inW, p.scale), hotpath.ScaledSide(inH, p.scale); fit != hotpath.FitForce && p.scale <= 1 && (mw != p.resizeW || mh != p.resizeH) {
							t.Fatalf("%s: master decoded at %dx%d, plan resizes to %dx%d", name, mw, mh, p.resizeW, p.resizeH)
						}
					}
				}
			}
		}
	}
	if checked < 10_000 {
		t.Fatalf("only %d plans checked", checked)
	}
}

// TestPlanRefusesDerivedSidesAboveLimit: a fill, pad or force box whose
// missing side follows the aspect ratio past maxSide is refused rather than
// made (a 10-pixel-wide strip padded to 8000 wide would be 8000×800000).
func TestPlanRefusesDerivedSidesAboveLimit(t *testing.T) {
	for _, fit := range []hotpath.Fit{hotpath.FitFill, hotpath.FitPad, hotpath.FitForce} {
		_, err := makePlan(10, 1000, hotpath.FormatPNG, 1, hotpath.TransformOptions{Width: 8000, Fit: fit}, hotpath.Limits{MaxOutputSide: 8192})
		if got := hotpath.ErrorCode(err); got != hotpath.ETOOLARGE {
			t.Errorf("%s 8000 wide of 10x1000: error code %q (%v), want %q", fit, got, err, hotpath.ETOOLARGE)
		}
	}
}

// TestPlanBoundsWork: the scaled image before a fill's crop is bounded by
// MaxWorkPixels from the header alone, whatever the output size: the
// transforms that took 76 s, 4.3 GB or tried to allocate 153 GB are refused
// as EINVALID naming the limit; scaling down stays allowed however large.
func TestPlanBoundsWork(t *testing.T) {
	limits := hotpath.DefaultLimits()
	tests := []struct {
		inW, inH int
		o        hotpath.TransformOptions
		refused  bool
	}{
		{2100, 100, hotpath.TransformOptions{Width: 1, Height: 8192, Fit: hotpath.FitFill}, true},    // 172032×8192
		{8000, 10, hotpath.TransformOptions{Width: 8192, Height: 8192, Fit: hotpath.FitFill}, true},  // 6.7 G×8192
		{4000, 3000, hotpath.TransformOptions{Width: 1, Height: 8192, Fit: hotpath.FitFill}, true},   // 10923×8192
		{4000, 3000, hotpath.TransformOptions{Width: 400, Height: 400, Fit: hotpath.FitFill}, false}, // scaled down
		{8000, 6000, hotpath.TransformOptions{Width: 8000, Height: 10, Fit: hotpath.FitFill}, false}, // 48 MP, not above the input
		{2100, 100, hotpath.TransformOptions{Width: 1, Height: 8192, Fit: hotpath.FitForce}, false},  // force makes the box itself
		{640, 480, hotpath.TransformOptions{Width: 5000, Height: 5000, Fit: hotpath.FitFill}, false}, // 6667×5000
		{640, 480, hotpath.TransformOptions{Width: 8000, Height: 6000, Fit: hotpath.FitFill}, true},  // 48 MP enlarged
	}
	for _, tt := range tests {
		_, err := makePlan(tt.inW, tt.inH, hotpath.FormatPNG, 1, tt.o, limits)
		if refused := err != nil; refused != tt.refused {
			t.Errorf("%dx%d %+v: err %v, want refused %v", tt.inW, tt.inH, tt.o, err, tt.refused)
			continue
		}
		if !tt.refused {
			continue
		}
		if hotpath.ErrorCode(err) != hotpath.EINVALID || !strings.Contains(hotpath.ErrorMessage(err), "40000000 work pixels") {
			t.Errorf("%dx%d %+v: %v, want EINVALID naming the limit", tt.inW, tt.inH, tt.o, err)
		}
	}
}
