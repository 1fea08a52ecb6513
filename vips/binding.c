#include <dlfcn.h>
#include <stdio.h>

#include "binding.h"
#include "_cgo_export.h"

/* HP_STOP_FIELD marks an image hp_stop_watch signals cancellation through. */
#define HP_STOP_FIELD "hotpath-stop"

#define X(f) __typeof__(f) *hp_p_##f;
HP_VIPS_FUNCS(X)
#undef X

/* hp_load opens libvips (the ABI version of the headers built against)
 * and fills the function pointers; it returns NULL or what went wrong. */
const char *hp_load(void) {
	static char err[512];
	char name[64];
	snprintf(name, sizeof name, "libvips.so.%d", VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE);
	void *lib = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
	if (!lib) {
		snprintf(err, sizeof err, "%s", dlerror());
		return err;
	}
#define X(f) \
	if (!(hp_p_##f = dlsym(lib, #f))) { \
		snprintf(err, sizeof err, "%s has no %s", name, #f); \
		return err; \
	}
	HP_VIPS_FUNCS(X)
#undef X
	return NULL;
}

int hp_version(int field) { return vips_version(field); }

void hp_tracked(size_t *mem, size_t *highwater, int *allocs) {
	*mem = vips_tracked_get_mem();
	*highwater = vips_tracked_get_mem_highwater();
	*allocs = vips_tracked_get_allocs();
}

void hp_ref(void *object) { g_object_ref(object); }
void hp_unref(void *object) { g_object_unref(object); }
void hp_gfree(void *p) { g_free(p); }
int hp_width(VipsImage *in) { return vips_image_get_width(in); }
int hp_height(VipsImage *in) { return vips_image_get_height(in); }
int hp_bands(VipsImage *in) { return vips_image_get_bands(in); }
int hp_hasalpha(VipsImage *in) { return vips_image_hasalpha(in); }

/* Cancellation. libvips stops a sink when the image it computes is killed
 * (vips_image_set_kill), which is safe only from the thread running the
 * sink: the sink's progress ticks, where it emits "eval" on the image whose
 * progress signal its image inherited. Every image made from a watched one
 * inherits its progress signal (libvips links each operation's output to
 * its inputs), also the images made inside one C call (a resize's memory
 * copies), so the handler sees every sink computing from a watched image
 * and kills the image being computed (progress->im) once the call is
 * cancelled. The HpStop is freed when Go and every handler have let go. */
struct HpStop {
	int cancelled;
	int refs;
};

HpStop *hp_stop_new(void) {
	HpStop *s = calloc(1, sizeof *s);
	if (s)
		s->refs = 1;
	return s;
}

void hp_stop_ref(HpStop *s) { __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL); }

void hp_stop_cancel(HpStop *s) { __atomic_store_n(&s->cancelled, 1, __ATOMIC_RELEASE); }

void hp_stop_unref(HpStop *s) {
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(s);
}

static void hp_stop_notify(gpointer data, GClosure *closure) { hp_stop_unref(data); }

static void hp_stop_eval(VipsImage *signalling, VipsProgress *progress, gpointer data) {
	HpStop *s = data;
	if (__atomic_load_n(&s->cancelled, __ATOMIC_ACQUIRE))
		vips_image_set_kill(progress->im, TRUE);
}

void hp_stop_watch(HpStop *s, VipsImage *im) {
	vips_image_set_progress(im, TRUE);
	vips_image_set_int(im->progress_signal, HP_STOP_FIELD, 1);
	hp_stop_ref(s);
	g_signal_connect_data(im->progress_signal, "eval", G_CALLBACK(hp_stop_eval), s, hp_stop_notify, 0);
}

int hp_start(void) {
	if (VIPS_INIT("hotpath"))
		return -1;
	/* Loaders libvips marks untrusted (magick, pdf, jxl, ...) stay off:
	 * only the formats hotpath sniffs may ever reach a decoder. */
	vips_block_untrusted_set(TRUE);
	vips_leak_set(FALSE);
	return 0;
}

void hp_configure(int concurrency, int cache_ops, size_t cache_mem) {
	vips_concurrency_set(concurrency);
	vips_cache_set_max(cache_ops);
	vips_cache_set_max_mem(cache_mem);
	vips_cache_set_max_files(cache_ops > 0 ? 100 : 0);
}

static void hp_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user) {
	hpLog((char *) (domain ? domain : ""), (int) level, (char *) (message ? message : ""));
}

void hp_route_logs(void) {
	const char *domains[] = { "VIPS", "GLib", "GLib-GObject", "GModule" };
	for (int i = 0; i < 4; i++)
		g_log_set_handler(domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, hp_log_handler, NULL);
}

char *hp_error_take(void) {
	char *msg = g_strdup(vips_error_buffer());
	vips_error_clear();
	return msg;
}

VipsSource *hp_source_file(const char *path) {
	return vips_source_new_from_file(path);
}

static int hp_free_cb(void *a, void *b) {
	free(a);
	return 0;
}

/* hp_source_bytes takes ownership of malloc'd data: the blob frees it when
 * the last image reading it is gone, so no Go memory is ever held by C. */
VipsSource *hp_source_bytes(void *data, size_t len) {
	VipsBlob *blob = vips_blob_new(hp_free_cb, data, len);
	VipsSource *src = vips_source_new_from_blob(blob);
	vips_area_unref(VIPS_AREA(blob));
	return src;
}

/* hp_header reads the header only: pixels are decoded on demand, never here. */
VipsImage *hp_header(VipsSource *src) {
	return vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
}

int hp_orientation(VipsImage *in) { return vips_image_get_orientation(in); }
int hp_pages(VipsImage *in) { return vips_image_get_n_pages(in); }
int hp_page_height(VipsImage *in) { return vips_image_get_page_height(in); }
int hp_has_icc(VipsImage *in) { return vips_image_get_typeof(in, VIPS_META_ICC_NAME) != 0; }

const char *hp_loader(VipsImage *in) {
	const char *s = NULL;
	if (vips_image_get_typeof(in, VIPS_META_LOADER) && !vips_image_get_string(in, VIPS_META_LOADER, &s))
		return s;
	return "";
}

/* Shrink-on-load: vips_thumbnail picks the JPEG DCT scale, the WebP/HEIF
 * reduced decode or the TIFF pyramid level that the size needs, rotates by
 * EXIF orientation and, with n=-1, keeps every animation frame. width and
 * height are the upright size wanted, per frame, already in the image's
 * aspect ratio: FORCE makes exactly that, where a width alone would leave
 * libvips to round the height its own way. */
static const char *load_options(int animated) {
	return animated ? "n=-1,fail_on=error" : "fail_on=error";
}

int hp_thumbnail(VipsSource *src, VipsImage **out, int width, int height, int animated) {
	return vips_thumbnail_source(src, out, width, "height", height,
		"size", VIPS_SIZE_FORCE, "option_string", load_options(animated), NULL);
}

/* libvips before 8.15 reduces vertically with vector code (orc) but
 * horizontally with plain C, about six times slower per pixel: on a
 * 2000×1500 photo scaled to 1600×1200, vips_reduceh takes 32 ms of the
 * 38 ms. can_reduce_transposed says whether in may take the detour below:
 * an opaque 8-bit sRGB or grey image (anything else needs vips_thumbnail's
 * premultiply or colour handling) on a libvips whose reduceh is slow. */
static int can_reduce_transposed(VipsImage *in) {
	int bands = vips_image_get_bands(in);
	VipsInterpretation i = vips_image_get_interpretation(in);
	return vips_version(0) == 8 && vips_version(1) < 15 &&
		vips_image_get_format(in) == VIPS_FORMAT_UCHAR && !vips_image_hasalpha(in) &&
		((bands == 3 && i == VIPS_INTERPRETATION_sRGB) || (bands == 1 && i == VIPS_INTERPRETATION_B_W));
}

/* resize_vertical scales in to height rows with vips_resize's default
 * kernel (lanczos3), the same one vips_thumbnail uses, and copies the
 * result to memory, where the transpose that follows reads it. */
static int resize_vertical(VipsImage *in, VipsImage **out, int height) {
	VipsImage *t;
	if (vips_resize(in, &t, 1.0, "vscale", 1.0 / ((double) in->Ysize / height), NULL))
		return -1;
	*out = vips_image_copy_memory(t);
	g_object_unref(t);
	if (!*out)
		return -1;
	/* Freeing t broke the link through which the copy inherited in's
	 * progress signal: restore it, so that a cancelled call (HpStop) still
	 * stops the sinks computing from the copy. Only an image hp_stop_watch
	 * marked is taken: package vips keeps it open until every image made
	 * from it is closed (a loader's own signalling image may go sooner). */
	if (!(*out)->progress_signal && in->progress_signal &&
		vips_image_get_typeof(in->progress_signal, HP_STOP_FIELD))
		(*out)->progress_signal = in->progress_signal;
	return 0;
}

/* reduce_transposed scales in to exactly width × height with only vertical
 * reduces: scale the rows, transpose, scale the former columns, transpose
 * back. The output is lanczos3 like vips_thumbnail_image's, equal to it up
 * to rounding (PSNR 59 dB on a photo), for about half the CPU. in is read
 * once from top to bottom, so a sequential decode can feed it. */
static int reduce_transposed(VipsImage *in, VipsImage **out, int width, int height) {
	VipsImage *rows = NULL, *turned = NULL, *cols = NULL;
	int r = -1;
	if (resize_vertical(in, &rows, height) ||
		vips_rot90(rows, &turned, NULL) ||
		resize_vertical(turned, &cols, width) ||
		vips_rot270(cols, out, NULL))
		goto done;
	if ((*out)->Xsize != width || (*out)->Ysize != height) {
		vips_error("hotpath", "resize gave %dx%d, not %dx%d", (*out)->Xsize, (*out)->Ysize, width, height);
		g_object_unref(*out);
		*out = NULL;
		goto done;
	}
	r = 0;
done:
	if (rows)
		g_object_unref(rows);
	if (turned)
		g_object_unref(turned);
	if (cols)
		g_object_unref(cols);
	return r;
}

/* JPEG shrink-on-load by the largest DCT scale the output allows, as
 * Pillow's draft and imgproxy do: vips_thumbnail keeps a factor of two more
 * for its own reduce, which for a 12 MP photo scaled to 1600 px means a
 * full-size decode. The rest of the scale is reduce_transposed when it can
 * be, then the EXIF rotation, which vips_thumbnail_image also does last. */
int hp_thumbnail_jpeg(VipsSource *src, VipsImage **out, int width, int height, int shrink, int strict) {
	VipsImage *im = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL,
		"fail_on", strict ? VIPS_FAIL_ON_WARNING : VIPS_FAIL_ON_ERROR, "shrink", shrink, NULL);
	if (!im)
		return -1;
	int r;
	if (can_reduce_transposed(im)) {
		int o = vips_image_get_orientation(im);
		int storedW = o >= 5 && o <= 8 ? height : width, storedH = o >= 5 && o <= 8 ? width : height;
		VipsImage *scaled;
		r = reduce_transposed(im, &scaled, storedW, storedH);
		if (!r) {
			r = vips_autorot(scaled, out, NULL);
			g_object_unref(scaled);
		}
	} else
		r = vips_thumbnail_image(im, out, width, "height", height, "size", VIPS_SIZE_FORCE, NULL);
	g_object_unref(im);
	return r;
}

/* A full-size decode without shrink-on-load, kept for the benchmark that
 * shows what shrink-on-load saves. */
int hp_load_full(VipsSource *src, VipsImage **out) {
	VipsImage *im = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	if (!im)
		return -1;
	int r = vips_autorot(im, out, NULL);
	g_object_unref(im);
	return r;
}

int hp_to_srgb(VipsImage *in, VipsImage **out) {
	if (vips_image_get_typeof(in, VIPS_META_ICC_NAME)) {
		if (!vips_icc_transform(in, out, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_PERCEPTUAL, NULL))
			return 0;
		/* A broken embedded profile: fall back to a plain conversion. */
		vips_error_clear();
	}
	VipsInterpretation i = vips_image_get_interpretation(in);
	if (i == VIPS_INTERPRETATION_sRGB || i == VIPS_INTERPRETATION_B_W)
		return vips_copy(in, out, NULL);
	if (i == VIPS_INTERPRETATION_GREY16)
		return vips_colourspace(in, out, VIPS_INTERPRETATION_B_W, NULL);
	return vips_colourspace(in, out, VIPS_INTERPRETATION_sRGB, NULL);
}

int hp_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
	return vips_colourspace(in, out, space, NULL);
}

int hp_copy_memory(VipsImage *in, VipsImage **out) {
	VipsImage *m = vips_image_copy_memory(in);
	if (!m)
		return -1;
	*out = m;
	return 0;
}

int hp_resize_force(VipsImage *in, VipsImage **out, int width, int height) {
	if (can_reduce_transposed(in))
		return reduce_transposed(in, out, width, height);
	return vips_thumbnail_image(in, out, width, "height", height, "size", VIPS_SIZE_FORCE, "no_rotate", TRUE, NULL);
}

int hp_extract(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
	return vips_extract_area(in, out, left, top, width, height, NULL);
}

int hp_smartcrop(VipsImage *in, VipsImage **out, int width, int height, int interesting) {
	return vips_smartcrop(in, out, width, height, "interesting", interesting, NULL);
}

int hp_embed(VipsImage *in, VipsImage **out, int left, int top, int width, int height, double *bg, int nbg) {
	VipsArrayDouble *background = vips_array_double_new(bg, nbg);
	int r = vips_embed(in, out, left, top, width, height,
		"extend", VIPS_EXTEND_BACKGROUND, "background", background, NULL);
	vips_area_unref(VIPS_AREA(background));
	return r;
}

int hp_flatten(VipsImage *in, VipsImage **out, double r, double g, double b) {
	double bg[3] = { r, g, b };
	VipsArrayDouble *background = vips_array_double_new(bg, 3);
	int ret = vips_flatten(in, out, "background", background, NULL);
	vips_area_unref(VIPS_AREA(background));
	return ret;
}

int hp_add_alpha(VipsImage *in, VipsImage **out) {
	return vips_addalpha(in, out);
}

int hp_join_pages(VipsImage **pages, int n, VipsImage **out, int page_height) {
	VipsImage *joined;
	if (vips_arrayjoin(pages, &joined, n, "across", 1, NULL))
		return -1;
	/* The join shares metadata with its inputs: copy before changing it. */
	int r = vips_copy(joined, out, NULL);
	g_object_unref(joined);
	if (r)
		return -1;
	vips_image_set_int(*out, VIPS_META_PAGE_HEIGHT, page_height);
	vips_image_set_int(*out, VIPS_META_N_PAGES, n);
	return 0;
}

int hp_save_jpeg(VipsImage *in, void **buf, size_t *len, int quality, int strip) {
	return vips_jpegsave_buffer(in, buf, len, "Q", quality, "strip", strip,
		"optimize_coding", TRUE, NULL);
}

int hp_save_png(VipsImage *in, void **buf, size_t *len, int strip) {
	return vips_pngsave_buffer(in, buf, len, "strip", strip, "compression", 6, NULL);
}

int hp_save_webp(VipsImage *in, void **buf, size_t *len, int quality, int strip, int effort) {
	return vips_webpsave_buffer(in, buf, len, "Q", quality, "strip", strip, "effort", effort, NULL);
}

int hp_save_avif(VipsImage *in, void **buf, size_t *len, int quality, int strip, int effort) {
	return vips_heifsave_buffer(in, buf, len, "Q", quality, "strip", strip,
		"compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", effort, NULL);
}

int hp_save_gif(VipsImage *in, void **buf, size_t *len, int strip) {
	return vips_gifsave_buffer(in, buf, len, "strip", strip, NULL);
}
