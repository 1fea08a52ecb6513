package vips

/*
#include "binding.h"
*/
import "C"

import (
	"cmp"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/hotpath/hotpath"
)

// source is an input whose header passed the limits: a libvips source
// (file or a C copy of bytes) and what its header says.
type source struct {
	src  *C.VipsSource
	info hotpath.ImageInfo
}

func (s *source) close() {
	if s.src != nil {
		C.hp_unref(unsafe.Pointer(s.src))
		s.src = nil
	}
}

// Probe reads the header of the image at path without decoding pixels. It
// returns the info together with ETOOLARGE when the image passes a limit,
// EUNSUPPORTED for anything but the input formats and EUNPROCESSABLE for an
// unreadable header.
func (e *Engine) Probe(path string) (hotpath.ImageInfo, error) {
	if err := e.check(context.Background()); err != nil {
		return hotpath.ImageInfo{}, err
	}
	s, err := e.openFile(path)
	if s == nil {
		return hotpath.ImageInfo{}, err
	}
	s.close()
	return s.info, err
}

// Renditions decodes the image at path once, shrinking on load to the size
// the largest output needs, keeps that decode in memory and derives every
// output from it, in the order of opts.
func (e *Engine) Renditions(ctx context.Context, path string, opts []hotpath.TransformOptions) ([]hotpath.Rendition, error) {
	if err := e.check(ctx); err != nil {
		return nil, err
	}
	s, err := e.openFile(path)
	if err != nil {
		if s != nil {
			s.close()
		}
		return nil, err
	}
	defer s.close()
	return e.render(ctx, s, opts, false)
}

// Transform makes one rendition of an image held in memory.
func (e *Engine) Transform(ctx context.Context, data []byte, opts hotpath.TransformOptions) (hotpath.Rendition, error) {
	if err := e.check(ctx); err != nil {
		return hotpath.Rendition{}, err
	}
	s, err := e.openBytes(data)
	if err != nil {
		if s != nil {
			s.close()
		}
		return hotpath.Rendition{}, err
	}
	defer s.close()
	rs, err := e.render(ctx, s, []hotpath.TransformOptions{opts}, false)
	if err != nil {
		return hotpath.Rendition{}, err
	}
	return rs[0], nil
}

// openFile checks the size and the leading bytes of the file at path, then
// its header. On a limit error the returned source is not nil, for its info.
func (e *Engine) openFile(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hotpath.WrapError(hotpath.ENOTFOUND, err, "image file not found")
		}
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "cannot open image file")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "cannot open image file")
	}
	if err := e.checkBytes(st.Size()); err != nil {
		return nil, err
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "cannot read image file")
	}
	format, err := sniffFormat(head[:n])
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	src := C.hp_source_file(cpath)
	if src == nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, &vipsError{op: "source", msg: takeError()}, "cannot read image file")
	}
	return e.inspect(src, format)
}

// openBytes is openFile for an image in memory. libvips reads a C copy, so
// no Go memory is held by C past a call.
func (e *Engine) openBytes(data []byte) (*source, error) {
	if err := e.checkBytes(int64(len(data))); err != nil {
		return nil, err
	}
	format, err := sniffFormat(data[:min(len(data), sniffLen)])
	if err != nil {
		return nil, err
	}
	src := C.hp_source_bytes(C.CBytes(data), C.size_t(len(data)))
	if src == nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, &vipsError{op: "source", msg: takeError()}, "cannot read image")
	}
	return e.inspect(src, format)
}

func (e *Engine) checkBytes(n int64) error {
	if n > e.cfg.Limits.MaxBytes {
		return hotpath.Errorf(hotpath.ETOOLARGE, "the image is %d bytes, above the limit of %d bytes", n, e.cfg.Limits.MaxBytes)
	}
	return nil
}

func sniffFormat(head []byte) (hotpath.Format, error) {
	f, ok := sniff(head)
	if !ok {
		return "", hotpath.Errorf(hotpath.EUNSUPPORTED, "not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)")
	}
	return f, nil
}

// inspect reads the header of src, which must be in format, and checks the
// limits. It takes ownership of src.
func (e *Engine) inspect(src *C.VipsSource, format hotpath.Format) (*source, error) {
	s := &source{src: src}
	hdr := &image{p: C.hp_header(src)}
	if hdr.p == nil {
		s.close()
		return nil, hotpath.WrapError(hotpath.EUNPROCESSABLE, &vipsError{op: "header", msg: takeError()}, "image is corrupt or truncated")
	}
	defer hdr.close()
	if loader, want := hdr.loader(), loaderPrefix[format]; len(loader) < len(want) || loader[:len(want)] != want {
		s.close()
		return nil, hotpath.Errorf(hotpath.EUNSUPPORTED, "image format not recognised")
	}
	w, h := hdr.orientedSize()
	s.info = hotpath.ImageInfo{Format: format, Width: w, Height: h, Frames: 1}
	if format == hotpath.FormatGIF || format == hotpath.FormatWebP {
		s.info.Frames = max(1, hdr.pages())
	}
	l := e.cfg.Limits
	switch {
	case w <= 0 || h <= 0:
		return s, hotpath.Errorf(hotpath.EUNPROCESSABLE, "the image has no pixels")
	case int64(w)*int64(h) > l.MaxPixels:
		return s, hotpath.Errorf(hotpath.ETOOLARGE, "the image is %d×%d pixels, above the limit of %d pixels", w, h, l.MaxPixels)
	case s.info.Frames > l.MaxFrames:
		return s, hotpath.Errorf(hotpath.ETOOLARGE, "the image has %d frames, above the limit of %d", s.info.Frames, l.MaxFrames)
	}
	return s, nil
}

// render makes one rendition per options from one decode of s. full skips
// shrink-on-load (only the benchmarks ask for it).
func (e *Engine) render(ctx context.Context, s *source, opts []hotpath.TransformOptions, full bool) ([]hotpath.Rendition, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	plans := make([]plan, len(opts))
	masterScale, animated := 0.0, false
	for i, o := range opts {
		p, err := makePlan(s.info.Width, s.info.Height, s.info.Format, s.info.Frames, o, e.cfg.Limits)
		if err != nil {
			return nil, err
		}
		plans[i] = p
		masterScale = math.Max(masterScale, p.scale)
		animated = animated || p.animated
	}
	masterScale = math.Min(masterScale, 1)
	if animated {
		// Every kept frame stays in memory at output size: bound them all.
		w, h := float64(s.info.Width)*masterScale, float64(s.info.Height)*masterScale
		if total := int64(w*h) * int64(s.info.Frames); total > e.cfg.Limits.MaxPixels {
			return nil, hotpath.Errorf(hotpath.ETOOLARGE, "animation of %d frames of %.0fx%.0f is above the limit of %d pixels in all",
				s.info.Frames, w, h, e.cfg.Limits.MaxPixels)
		}
	}
	stop := stopOn(ctx)
	defer stop.release()
	master, err := e.decode(s, masterScale, animated, full, stop)
	if err != nil {
		return nil, e.cancelled(ctx, err)
	}
	defer master.close()
	stop.watch(master)
	// Largest first, so that each smaller output can be scaled from the
	// pixels of a larger one rather than from the master: the 200 px
	// thumbnail from the 800 px one costs a quarter of the reads.
	order := make([]int, len(plans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(plans[b].resizeW*plans[b].resizeH, plans[a].resizeW*plans[a].resizeH)
	})
	derivable := master.pageHeight() <= 0 || master.pageHeight() >= master.height()
	var scaled []*image // whole images, upright, smaller than master, in memory
	defer func() {
		for _, im := range scaled {
			im.close()
		}
	}()
	out := make([]hotpath.Rendition, len(plans))
	for n, i := range order {
		if err := e.check(ctx); err != nil {
			return nil, err
		}
		p := plans[i]
		from := master
		if derivable && !p.animated {
			from = smallestCovering(master, scaled, p.resizeW, p.resizeH)
		}
		keep := derivable && n < len(order)-1 && p.opts.Fit == hotpath.FitInside && !p.animated
		var whole *image
		if out[i], whole, err = e.renderOne(from, p, keep); err != nil {
			return nil, e.cancelled(ctx, err)
		}
		if whole != nil {
			// The frame it was copied from is closed, and with it the
			// copy's inherited progress signal: watch it on its own.
			stop.watch(whole)
			scaled = append(scaled, whole)
		}
	}
	return out, nil
}

// smallestCovering is the smallest of master and scaled with both sides at
// least w × h: the cheapest source that is not enlarged.
func smallestCovering(master *image, scaled []*image, w, h int) *image {
	best := master
	for _, im := range scaled {
		if im.width() >= w && im.height() >= h && im.width()*im.height() < best.width()*best.height() {
			best = im
		}
	}
	return best
}

// decode loads s scaled by scale (≤ 1), rotated upright, in sRGB, into
// memory. Every decode error surfaces here as EUNPROCESSABLE, since the
// pixels are all read before any output is made.
//
// libjpeg reports scan data that ends before the pixels the header announces
// (a header claiming 8000×6000 over the data of 640×480) only as a warning,
// and fills the rest grey; libvips fails on it only when it fails on every
// warning, which would also refuse the harmless ones common in camera files
// (extraneous bytes before a marker). So a JPEG is decoded failing on
// warnings first; when that fails on missing data it is EUNPROCESSABLE, on
// any other warning it is decoded again tolerating them.
func (e *Engine) decode(s *source, scale float64, animated, full bool, stop *stopper) (*image, error) {
	if s.info.Format != hotpath.FormatJPEG || full {
		return e.decodeOnce(s, scale, animated, full, stop, false)
	}
	mem, err := e.decodeOnce(s, scale, animated, full, stop, true)
	if err == nil || stop.cancelled() {
		return mem, err
	}
	var ve *vipsError
	if errors.As(err, &ve) && dataEndsEarly(ve.msg) {
		return nil, hotpath.WrapError(hotpath.EUNPROCESSABLE, ve, "image data ends before all the pixels its header announces")
	}
	return e.decodeOnce(s, scale, animated, full, stop, false)
}

// dataEndsEarly reports whether a libvips error says that a JPEG's scan data
// ended before its pixels did: libjpeg's JWRN_HIT_MARKER (an end marker met
// inside the scan) or JWRN_JPEG_EOF (the file itself ended).
func dataEndsEarly(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "premature end of data segment") || strings.Contains(m, "premature end of jpeg file")
}

// decodeOnce is decode with JPEG warnings failing it (strict) or not.
//
// libvips is asked for both sides of the scaled size, exactly: the plan that
// asked for scale rounds each side on its own (hotpath.ScaledSide), while
// vips_thumbnail given a width alone derives the height with its own
// rounding, which can pass the plan's box by a pixel (200×300 at a third:
// 67×101 where the box is 100 high).
func (e *Engine) decodeOnce(s *source, scale float64, animated, full bool, stop *stopper, strict bool) (*image, error) {
	width, height := hotpath.ScaledSide(s.info.Width, scale), hotpath.ScaledSide(s.info.Height, scale)
	an := C.int(0)
	if animated {
		an = 1
	}
	st := C.int(0)
	if strict {
		st = 1
	}
	loaded, err := call("thumbnail", func(out **C.VipsImage) C.int {
		switch {
		case full:
			return C.hp_load_full(s.src, out)
		case s.info.Format == hotpath.FormatJPEG:
			return C.hp_thumbnail_jpeg(s.src, out, C.int(width), C.int(height), C.int(jpegShrink(scale, min(s.info.Width, s.info.Height))), st)
		}
		return C.hp_thumbnail(s.src, out, C.int(width), C.int(height), an)
	})
	if err != nil {
		return nil, unprocessable(err)
	}
	defer loaded.close()
	srgb, err := loaded.toSRGB()
	if err != nil {
		return nil, unprocessable(err)
	}
	defer srgb.close()
	stop.watch(srgb)
	mem, err := srgb.copyMemory()
	if err != nil {
		return nil, unprocessable(err)
	}
	return mem, nil
}

// cancelled returns the cancellation error instead of err when ctx ended:
// a killed evaluation fails like a broken one, but its caller left.
func (e *Engine) cancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return e.check(ctx)
	}
	return err
}

// renderOne shapes and encodes one output from the decoded master. With
// keep it also returns the shaped image in memory, before any background
// flattening, for smaller outputs to be scaled from; the caller closes it.
func (e *Engine) renderOne(master *image, p plan, keep bool) (hotpath.Rendition, *image, error) {
	var owned []*image
	defer func() {
		for _, im := range owned {
			im.close()
		}
	}()
	own := func(im *image, err error) (*image, error) {
		if im != nil {
			owned = append(owned, im)
		}
		return im, err
	}

	pageH, pages := master.height(), 1
	if ph := master.pageHeight(); ph > 0 && ph < master.height() && master.height()%ph == 0 {
		pageH, pages = ph, master.height()/ph
	}
	n := 1
	if p.animated {
		n = pages
	}
	frames := make([]*image, n)
	for i := range frames {
		frame := master
		if pages > 1 {
			f, err := own(master.extract(0, i*pageH, master.width(), pageH))
			if err != nil {
				return hotpath.Rendition{}, nil, err
			}
			frame = f
		}
		shaped, err := own(e.shape(frame, p))
		if err != nil {
			return hotpath.Rendition{}, nil, err
		}
		frames[i] = shaped
	}
	final := frames[0]
	if n > 1 {
		joined, err := own(joinPages(frames, frames[0].height()))
		if err != nil {
			return hotpath.Rendition{}, nil, err
		}
		final = joined
	}
	if !hasAlpha(p.opts.Format) && final.hasAlpha() {
		r, g, b := 255.0, 255.0, 255.0
		if bg := p.opts.Background; len(bg) >= 3 {
			r, g, b = float64(bg[0]), float64(bg[1]), float64(bg[2])
		}
		flat, err := own(final.flatten(r, g, b))
		if err != nil {
			return hotpath.Rendition{}, nil, err
		}
		final = flat
	}
	data, err := final.save(p.opts.Format, p.opts.Quality, !p.opts.KeepMetadata, e.cfg)
	if err != nil {
		return hotpath.Rendition{}, nil, err
	}
	r := hotpath.Rendition{Format: p.opts.Format, Width: final.width(), Height: frames[0].height(), Data: data}
	if !keep || n > 1 {
		return r, nil, nil
	}
	var whole *image
	if frames[0].p == master.p {
		whole, err = master.ref()
	} else {
		whole, err = frames[0].copyMemory()
	}
	if err != nil {
		return hotpath.Rendition{}, nil, err
	}
	return r, whole, nil
}

// shape scales one frame and crops or pads it to the plan. The result is a
// new reference the caller closes.
func (e *Engine) shape(frame *image, p plan) (*image, error) {
	o := p.opts
	w, h := frame.width(), frame.height()
	// The plan's size is the output's, whatever the master's: a master made
	// for this plan already has it and is not resampled.
	rw, rh := p.resizeW, p.resizeH
	cur, err := frame.ref()
	if err != nil {
		return nil, err
	}
	step := func(next *image, err error) error {
		if err != nil {
			return err
		}
		cur.close()
		cur = next
		return nil
	}
	if w != rw || h != rh {
		if err := step(cur.resize(rw, rh)); err != nil {
			cur.close()
			return nil, err
		}
	}
	switch {
	case o.Fit == hotpath.FitFill && (rw != p.outW || rh != p.outH):
		if o.Gravity == hotpath.GravitySmart || o.Gravity == hotpath.GravityEntropy {
			err = step(cur.smartcrop(p.outW, p.outH, interesting(o.Gravity)))
		} else {
			left, top := cropOffset(o.Gravity, rw, rh, p.outW, p.outH)
			err = step(cur.extract(left, top, p.outW, p.outH))
		}
	case o.Fit == hotpath.FitPad && (rw != p.outW || rh != p.outH):
		err = e.pad(&cur, step, p, rw, rh)
	}
	if err != nil {
		cur.close()
		return nil, err
	}
	return cur, nil
}

// pad embeds cur in the plan's box on its background: the given colour, or
// transparent for formats with alpha and white for the others.
func (e *Engine) pad(cur **image, step func(*image, error) error, p plan, rw, rh int) error {
	o := p.opts
	if (*cur).bands() < 3 {
		if err := step((*cur).forceSRGB()); err != nil {
			return err
		}
	}
	rgb, alpha := []float64{255, 255, 255}, 255.0
	switch {
	case len(o.Background) >= 3:
		rgb = []float64{float64(o.Background[0]), float64(o.Background[1]), float64(o.Background[2])}
		if len(o.Background) == 4 {
			alpha = float64(o.Background[3])
		}
	case hasAlpha(o.Format):
		rgb, alpha = []float64{0, 0, 0}, 0
	}
	if alpha < 255 && hasAlpha(o.Format) && !(*cur).hasAlpha() {
		if err := step((*cur).addAlpha()); err != nil {
			return err
		}
	}
	bg := rgb
	if (*cur).hasAlpha() {
		bg = append(bg, alpha)
	}
	left, top := cropOffset(o.Gravity, p.outW, p.outH, rw, rh)
	return step((*cur).embed(left, top, p.outW, p.outH, bg))
}

// jpegShrink is the largest JPEG DCT scale-down (1, 2, 4 or 8) that still
// decodes at least scale of an image whose shorter side is minSide pixels,
// and leaves that side at least one pixel: libvips 8.14 sizes a shrunk JPEG
// by whole division and aborts the process on a side of zero (a 3×700 JPEG
// loaded at shrink 4).
func jpegShrink(scale float64, minSide int) int {
	for _, shrink := range []int{8, 4, 2} {
		if scale*float64(shrink) <= 1 && shrink <= minSide {
			return shrink
		}
	}
	return 1
}
