package hotpath

import (
	"math"
)

// OutputSize returns the width and height o makes of a srcW × srcH image, as
// an engine with the default limits does (see Limits.OutputSize).
func OutputSize(o TransformOptions, srcW, srcH int) (int, int) {
	return DefaultLimits().OutputSize(o, srcW, srcH)
}

// OutputSize returns the width and height o makes of a srcW × srcH image, as
// an engine with these limits does, so that callers can check and announce an
// output before making it: a missing side follows the aspect ratio, both
// missing keep the source size; fit scales inside the box and never enlarges;
// fill, pad and force produce the box. Fit sizes, and the source size when
// no side is given, shrink further so that neither side passes
// MaxOutputSide (0: no bound), as the engine shrinks them; a box with a side
// above it the engine refuses outright (ETOOLARGE).
func (l Limits) OutputSize(o TransformOptions, srcW, srcH int) (int, int) {
	w, h := o.Width, o.Height
	if srcW <= 0 || srcH <= 0 {
		return w, h
	}
	fw, fh := float64(srcW), float64(srcH)
	if o.Fit == FitInside || o.Fit == "" || w == 0 && h == 0 {
		scale := FitScale(srcW, srcH, w, h, l.MaxOutputSide)
		return ScaledSide(srcW, scale), ScaledSide(srcH, scale)
	}
	if w == 0 {
		w = max(1, int(math.Round(fw*float64(h)/fh)))
	}
	if h == 0 {
		h = max(1, int(math.Round(fh*float64(w)/fw)))
	}
	return w, h
}

// FitScale is the scale that fits a srcW × srcH image inside a w × h box
// (a zero side is unbounded; both zero keep the size) without enlarging it,
// then shrinks it further when a side would pass maxSide (0: no bound).
// Engines size fit outputs with it and ScaledSide, so that their outputs are
// what OutputSize predicts to the pixel.
func FitScale(srcW, srcH, w, h, maxSide int) float64 {
	fw, fh := float64(srcW), float64(srcH)
	scale := 1.0
	if w > 0 {
		scale = math.Min(scale, float64(w)/fw)
	}
	if h > 0 {
		scale = math.Min(scale, float64(h)/fh)
	}
	if long := math.Max(fw, fh) * scale; maxSide > 0 && long > float64(maxSide) {
		scale *= float64(maxSide) / long
	}
	return scale
}

// ScaledSide is a side of side pixels scaled by scale: rounded to the
// nearest pixel, at least one. Rounding each side on its own keeps a fit
// inside its box: the side the box bounds scales to the box exactly.
func ScaledSide(side int, scale float64) int {
	return max(1, int(math.Round(float64(side)*scale)))
}

// WorkSize returns the scale a transform applies to a srcW × srcH image and
// the size it scales it to, before a fill crops it to the boxW × boxH box or
// a pad frames it in the box: fit scales inside the box, never enlarging,
// and within maxSide (FitScale); pad scales inside without enlarging; fill
// covers the box, enlarging if it must; force makes the box. For fit a zero
// box side is unbounded; the other fits need both sides (see OutputSize for
// deriving a missing one). Engines scale by it, and Limits.CheckWork bounds
// it before any decode.
func WorkSize(fit Fit, srcW, srcH, boxW, boxH, maxSide int) (scale float64, w, h int) {
	fw, fh := float64(srcW), float64(srcH)
	switch fit {
	case FitPad:
		scale = math.Min(math.Min(float64(boxW)/fw, float64(boxH)/fh), 1)
	case FitFill, FitForce:
		scale = math.Max(float64(boxW)/fw, float64(boxH)/fh)
	default:
		scale = FitScale(srcW, srcH, boxW, boxH, maxSide)
	}
	w, h = ScaledSide(srcW, scale), ScaledSide(srcH, scale)
	switch fit {
	case FitPad:
		w, h = min(w, boxW), min(h, boxH)
	case FitFill:
		w, h = max(w, boxW), max(h, boxH)
	case FitForce:
		w, h = boxW, boxH
	}
	return scale, w, h
}

// CheckWork refuses, as EINVALID naming the limit, a transform o of a
// srcW × srcH image whose scaled image before the crop (WorkSize) is larger
// than both MaxWorkPixels and the image itself, so that enlarging is bounded
// from the header and the options alone, before any decode. A zero
// MaxWorkPixels means no bound.
func (l Limits) CheckWork(o TransformOptions, srcW, srcH int) error {
	if srcW <= 0 || srcH <= 0 {
		return nil
	}
	fit := o.Fit
	if fit == "" || o.Width == 0 && o.Height == 0 {
		fit = FitInside
	}
	boxW, boxH := o.Width, o.Height
	if fit != FitInside {
		boxW, boxH = l.OutputSize(o, srcW, srcH)
	}
	_, w, h := WorkSize(fit, srcW, srcH, boxW, boxH, l.MaxOutputSide)
	return l.CheckWorkSize(srcW, srcH, w, h)
}

// CheckWorkSize is CheckWork for a scaled size already worked out.
func (l Limits) CheckWorkSize(srcW, srcH, workW, workH int) error {
	work := int64(workW) * int64(workH)
	if l.MaxWorkPixels <= 0 || work <= l.MaxWorkPixels || work <= int64(srcW)*int64(srcH) {
		return nil
	}
	return Errorf(EINVALID, "option \"w\": scaling the %d×%d image to %d×%d before cropping is above the limit of %d work pixels (max-work-pixels)",
		srcW, srcH, workW, workH, l.MaxWorkPixels)
}
