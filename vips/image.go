package vips

/*
#include "binding.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/hotpath/hotpath"
)

// image owns one reference to a libvips image. Operations return new images
// and leave the receiver alive; close drops the reference.
type image struct {
	p *C.VipsImage
}

func (im *image) close() {
	if im != nil && im.p != nil {
		C.hp_unref(unsafe.Pointer(im.p))
		im.p = nil
	}
}

func (im *image) width() int      { return int(C.hp_width(im.p)) }
func (im *image) height() int     { return int(C.hp_height(im.p)) }
func (im *image) bands() int      { return int(C.hp_bands(im.p)) }
func (im *image) pages() int      { return int(C.hp_pages(im.p)) }
func (im *image) pageHeight() int { return int(C.hp_page_height(im.p)) }
func (im *image) hasAlpha() bool  { return C.hp_hasalpha(im.p) != 0 }
func (im *image) loader() string  { return C.GoString(C.hp_loader(im.p)) }

// orientedSize is the size after EXIF orientation: 5-8 swap the sides.
func (im *image) orientedSize() (w, h int) {
	w, h = im.width(), im.height()
	if o := int(C.hp_orientation(im.p)); o >= 5 && o <= 8 {
		w, h = h, w
	}
	return w, h
}

// vipsError is a libvips failure; its text is for logs only.
type vipsError struct{ op, msg string }

func (e *vipsError) Error() string { return fmt.Sprintf("vips %s: %s", e.op, e.msg) }

// call runs one libvips operation that writes a new image to its argument.
// Failures are EINTERNAL unless the caller recodes them: an input that
// decoded fine and then fails is hotpath's problem, not the client's.
func call(op string, f func(out **C.VipsImage) C.int) (*image, error) {
	var out *C.VipsImage
	if f(&out) != 0 {
		err := &vipsError{op: op, msg: takeError()}
		if out != nil {
			C.hp_unref(unsafe.Pointer(out))
		}
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "image processing failed")
	}
	return &image{p: out}, nil
}

// unprocessable recodes a decode failure: the input is corrupt or truncated.
func unprocessable(err error) error {
	return hotpath.WrapError(hotpath.EUNPROCESSABLE, unwrapCause(err), "image is corrupt or truncated")
}

func unwrapCause(err error) error {
	if e, ok := err.(*hotpath.Error); ok && e.Err != nil {
		return e.Err
	}
	return err
}

func (im *image) toSRGB() (*image, error) {
	return call("colourspace", func(out **C.VipsImage) C.int { return C.hp_to_srgb(im.p, out) })
}

// forceSRGB converts grey images to three bands so that RGB backgrounds apply.
func (im *image) forceSRGB() (*image, error) {
	return call("colourspace", func(out **C.VipsImage) C.int {
		return C.hp_colourspace(im.p, out, C.VIPS_INTERPRETATION_sRGB)
	})
}

func (im *image) copyMemory() (*image, error) {
	return call("copy_memory", func(out **C.VipsImage) C.int { return C.hp_copy_memory(im.p, out) })
}

func (im *image) resize(w, h int) (*image, error) {
	return call("thumbnail_image", func(out **C.VipsImage) C.int { return C.hp_resize_force(im.p, out, C.int(w), C.int(h)) })
}

func (im *image) extract(left, top, w, h int) (*image, error) {
	return call("extract_area", func(out **C.VipsImage) C.int {
		return C.hp_extract(im.p, out, C.int(left), C.int(top), C.int(w), C.int(h))
	})
}

func (im *image) smartcrop(w, h int, interesting C.int) (*image, error) {
	return call("smartcrop", func(out **C.VipsImage) C.int { return C.hp_smartcrop(im.p, out, C.int(w), C.int(h), interesting) })
}

func (im *image) embed(left, top, w, h int, bg []float64) (*image, error) {
	return call("embed", func(out **C.VipsImage) C.int {
		return C.hp_embed(im.p, out, C.int(left), C.int(top), C.int(w), C.int(h), (*C.double)(unsafe.Pointer(&bg[0])), C.int(len(bg)))
	})
}

func (im *image) flatten(r, g, b float64) (*image, error) {
	return call("flatten", func(out **C.VipsImage) C.int {
		return C.hp_flatten(im.p, out, C.double(r), C.double(g), C.double(b))
	})
}

func (im *image) addAlpha() (*image, error) {
	return call("addalpha", func(out **C.VipsImage) C.int { return C.hp_add_alpha(im.p, out) })
}

// joinPages stacks frames vertically into one animated image.
func joinPages(frames []*image, pageHeight int) (*image, error) {
	ps := C.malloc(C.size_t(len(frames)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(ps)
	arr := unsafe.Slice((**C.VipsImage)(ps), len(frames))
	for i, f := range frames {
		arr[i] = f.p
	}
	return call("arrayjoin", func(out **C.VipsImage) C.int {
		return C.hp_join_pages((**C.VipsImage)(ps), C.int(len(frames)), out, C.int(pageHeight))
	})
}

// save encodes im; quality applies to the lossy formats.
func (im *image) save(f hotpath.Format, quality int, strip bool, cfg Config) ([]byte, error) {
	var buf unsafe.Pointer
	var n C.size_t
	s := C.int(0)
	if strip {
		s = 1
	}
	var rc C.int
	switch f {
	case hotpath.FormatJPEG:
		rc = C.hp_save_jpeg(im.p, &buf, &n, C.int(quality), s)
	case hotpath.FormatPNG:
		rc = C.hp_save_png(im.p, &buf, &n, s)
	case hotpath.FormatWebP:
		rc = C.hp_save_webp(im.p, &buf, &n, C.int(quality), s, C.int(cfg.WebPEffort))
	case hotpath.FormatAVIF:
		rc = C.hp_save_avif(im.p, &buf, &n, C.int(quality), s, C.int(cfg.AVIFEffort))
	case hotpath.FormatGIF:
		rc = C.hp_save_gif(im.p, &buf, &n, s)
	default:
		return nil, hotpath.Errorf(hotpath.EUNSUPPORTED, "cannot write format %q", f)
	}
	runtime.KeepAlive(im)
	if rc != 0 {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, &vipsError{op: string(f) + "save", msg: takeError()}, "image encoding failed")
	}
	defer C.hp_gfree(unsafe.Pointer(buf))
	return C.GoBytes(buf, C.int(n)), nil
}

// ref returns another reference to the same image, for code that closes
// what it is given.
func (im *image) ref() (*image, error) {
	C.hp_ref(unsafe.Pointer(im.p))
	return &image{p: im.p}, nil
}

// interesting maps a content-aware gravity to libvips' smartcrop strategy.
func interesting(g hotpath.Gravity) C.int {
	if g == hotpath.GravityEntropy {
		return C.VIPS_INTERESTING_ENTROPY
	}
	return C.VIPS_INTERESTING_ATTENTION
}
