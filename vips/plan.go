package vips

import "github.com/hotpath/hotpath"

// plan is one output worked out from the input's header: the options with
// defaults filled, the size the image is scaled to, and the final size
// after a fill crop or a pad.
type plan struct {
	opts     hotpath.TransformOptions
	scale    float64 // of the oriented input
	resizeW  int     // size after scaling, before crop or pad
	resizeH  int
	outW     int // final size of one frame
	outH     int
	animated bool // keep every frame
}

// makePlan resolves opts against an input of inW × inH (after EXIF
// orientation) in format in with frames frames.
//
// Sizes: a zero side is derived from the other and the aspect ratio; both
// zero keep the input size. fit never enlarges; fill and force always give
// the asked box, enlarging if they must; pad gives the asked box with the
// image inside it, not enlarged. Fit sizes come from hotpath.FitScale and
// hotpath.ScaledSide, the rule hotpath.Limits.OutputSize predicts with, and
// are scaled down to keep both sides within limits.MaxOutputSide. Boxes with
// a side above it, asked or derived, are ETOOLARGE; a scaled image before the
// crop above limits.MaxWorkPixels (and larger than the input) is EINVALID.
func makePlan(inW, inH int, in hotpath.Format, frames int, opts hotpath.TransformOptions, limits hotpath.Limits) (plan, error) {
	maxSide := limits.MaxOutputSide
	o, err := normalize(opts, in)
	if err != nil {
		return plan{}, err
	}
	w, h := o.Width, o.Height
	if w > maxSide || h > maxSide {
		return plan{}, hotpath.Errorf(hotpath.ETOOLARGE, "asked size %dx%d is above the limit of %d pixels a side", w, h, maxSide)
	}
	if w == 0 && h == 0 {
		o.Fit = hotpath.FitInside
	} else if o.Fit != hotpath.FitInside {
		w, h = limits.OutputSize(o, inW, inH)
		if w > maxSide || h > maxSide {
			return plan{}, hotpath.Errorf(hotpath.ETOOLARGE, "%s to %dx%d (the missing side following the aspect ratio) is above the limit of %d pixels a side", o.Fit, w, h, maxSide)
		}
	}
	p := plan{opts: o, animated: o.Animated && frames > 1 && animatable(o.Format)}
	p.scale, p.resizeW, p.resizeH = hotpath.WorkSize(o.Fit, inW, inH, w, h, limits.MaxOutputSide)
	if err := limits.CheckWorkSize(inW, inH, p.resizeW, p.resizeH); err != nil {
		return plan{}, err
	}
	p.outW, p.outH = p.resizeW, p.resizeH
	if o.Fit != hotpath.FitInside {
		p.outW, p.outH = w, h
	}
	return p, nil
}

// normalize fills the defaults of opts and rejects values the engine cannot
// honour. The output format defaults to the input's when it is writable,
// else JPEG.
func normalize(o hotpath.TransformOptions, in hotpath.Format) (hotpath.TransformOptions, error) {
	if o.Width < 0 || o.Height < 0 {
		return o, hotpath.Errorf(hotpath.EINVALID, "width and height must not be negative")
	}
	switch o.Fit {
	case "":
		o.Fit = hotpath.FitInside
	case hotpath.FitInside, hotpath.FitFill, hotpath.FitPad, hotpath.FitForce:
	default:
		return o, hotpath.Errorf(hotpath.EINVALID, "unknown fit %q", o.Fit)
	}
	switch o.Gravity {
	case "":
		o.Gravity = hotpath.GravityCentre
	case hotpath.GravityCentre, hotpath.GravityNorth, hotpath.GravitySouth, hotpath.GravityEast,
		hotpath.GravityWest, hotpath.GravitySmart, hotpath.GravityEntropy:
	default:
		return o, hotpath.Errorf(hotpath.EINVALID, "unknown gravity %q", o.Gravity)
	}
	switch {
	case o.Format == hotpath.FormatAuto:
		return o, hotpath.Errorf(hotpath.EINVALID, "format auto must be resolved before the image engine")
	case o.Format == "" && writable(in):
		o.Format = in
	case o.Format == "":
		o.Format = hotpath.FormatJPEG
	case !writable(o.Format):
		return o, hotpath.Errorf(hotpath.EUNSUPPORTED, "cannot write format %q", o.Format)
	}
	switch {
	case o.Quality == 0:
		o.Quality = defaultQuality(o.Format)
	case o.Quality < 1 || o.Quality > 100:
		return o, hotpath.Errorf(hotpath.EINVALID, "quality must be 1-100, got %d", o.Quality)
	}
	if n := len(o.Background); n != 0 && n != 3 && n != 4 {
		return o, hotpath.Errorf(hotpath.EINVALID, "background must be RGB or RGBA, got %d values", n)
	}
	return o, nil
}

// cropOffset places a crop of size want inside have by gravity: the edge
// gravities keep that edge, everything else keeps the centre.
func cropOffset(g hotpath.Gravity, haveW, haveH, wantW, wantH int) (left, top int) {
	left, top = (haveW-wantW)/2, (haveH-wantH)/2
	switch g {
	case hotpath.GravityNorth:
		top = 0
	case hotpath.GravitySouth:
		top = haveH - wantH
	case hotpath.GravityWest:
		left = 0
	case hotpath.GravityEast:
		left = haveW - wantW
	}
	return left, top
}
