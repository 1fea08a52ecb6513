package vips

import (
	"fmt"
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
	limits := hotpath.Limits{MaxOutputSide: maxSide}
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
						p, err := makePlan(inW, inH, hotpath.FormatPNG, 1, o, maxSide)
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
		_, err := makePlan(10, 1000, hotpath.FormatPNG, 1, hotpath.TransformOptions{Width: 8000, Fit: fit}, 8192)
		if got := hotpath.ErrorCode(err); got != hotpath.ETOOLARGE {
			t.Errorf("%s 8000 wide of 10x1000: error code %q (%v), want %q", fit, got, err, hotpath.ETOOLARGE)
		}
	}
}
