// Thin C layer over libvips for package vips: cgo cannot call variadic C
// functions, so each operation hotpath uses gets a fixed-argument wrapper.
//
// libvips is not linked but loaded with dlopen when the first engine
// starts (hp_load): it pulls in about a hundred shared libraries, bound at
// load time, which cost every run of the binary 60 ms before main, also
// the runs that never touch an image (hotpath uniq, sign, keys). The
// functions used are called through pointers that hp_load fills; the
// #defines below keep the calls in binding.c written as libvips documents
// them. Go code calls only hp_ functions.
#ifndef HOTPATH_VIPS_BINDING_H
#define HOTPATH_VIPS_BINDING_H

#include <stdlib.h>
#include <vips/vips.h>

#define HP_VIPS_FUNCS(X) \
	X(g_free) \
	X(g_log) \
	X(g_log_set_handler) \
	X(g_object_ref) \
	X(g_object_unref) \
	X(g_signal_connect_data) \
	X(g_strdup) \
	X(vips_addalpha) \
	X(vips_area_unref) \
	X(vips_array_double_new) \
	X(vips_arrayjoin) \
	X(vips_autorot) \
	X(vips_blob_new) \
	X(vips_block_untrusted_set) \
	X(vips_cache_set_max) \
	X(vips_cache_set_max_files) \
	X(vips_cache_set_max_mem) \
	X(vips_colourspace) \
	X(vips_concurrency_set) \
	X(vips_copy) \
	X(vips_embed) \
	X(vips_error) \
	X(vips_error_buffer) \
	X(vips_error_clear) \
	X(vips_extract_area) \
	X(vips_flatten) \
	X(vips_gifsave_buffer) \
	X(vips_heifsave_buffer) \
	X(vips_icc_transform) \
	X(vips_image_copy_memory) \
	X(vips_image_get_bands) \
	X(vips_image_get_format) \
	X(vips_image_get_height) \
	X(vips_image_get_interpretation) \
	X(vips_image_get_n_pages) \
	X(vips_image_get_orientation) \
	X(vips_image_get_page_height) \
	X(vips_image_get_string) \
	X(vips_image_get_typeof) \
	X(vips_image_get_width) \
	X(vips_image_hasalpha) \
	X(vips_image_new_from_source) \
	X(vips_image_set_int) \
	X(vips_image_set_kill) \
	X(vips_image_set_progress) \
	X(vips_init) \
	X(vips_jpegsave_buffer) \
	X(vips_leak_set) \
	X(vips_pngsave_buffer) \
	X(vips_reduceh) \
	X(vips_resize) \
	X(vips_rot270) \
	X(vips_rot90) \
	X(vips_smartcrop) \
	X(vips_source_new_from_blob) \
	X(vips_source_new_from_file) \
	X(vips_thumbnail) \
	X(vips_thumbnail_image) \
	X(vips_thumbnail_source) \
	X(vips_tracked_get_allocs) \
	X(vips_tracked_get_mem) \
	X(vips_tracked_get_mem_highwater) \
	X(vips_version) \
	X(vips_webpsave_buffer)

#define X(f) extern __typeof__(f) *hp_p_##f;
HP_VIPS_FUNCS(X)
#undef X

#define g_free (*hp_p_g_free)
#define g_log (*hp_p_g_log)
#define g_log_set_handler (*hp_p_g_log_set_handler)
#undef g_object_ref /* glib's macro only adds a cast */
#define g_object_ref (*hp_p_g_object_ref)
#define g_object_unref (*hp_p_g_object_unref)
#define g_signal_connect_data (*hp_p_g_signal_connect_data)
#define g_strdup (*hp_p_g_strdup)
#define vips_addalpha (*hp_p_vips_addalpha)
#define vips_area_unref (*hp_p_vips_area_unref)
#define vips_array_double_new (*hp_p_vips_array_double_new)
#define vips_arrayjoin (*hp_p_vips_arrayjoin)
#define vips_autorot (*hp_p_vips_autorot)
#define vips_blob_new (*hp_p_vips_blob_new)
#define vips_block_untrusted_set (*hp_p_vips_block_untrusted_set)
#define vips_cache_set_max (*hp_p_vips_cache_set_max)
#define vips_cache_set_max_files (*hp_p_vips_cache_set_max_files)
#define vips_cache_set_max_mem (*hp_p_vips_cache_set_max_mem)
#define vips_colourspace (*hp_p_vips_colourspace)
#define vips_concurrency_set (*hp_p_vips_concurrency_set)
#define vips_copy (*hp_p_vips_copy)
#define vips_embed (*hp_p_vips_embed)
#define vips_error (*hp_p_vips_error)
#define vips_error_buffer (*hp_p_vips_error_buffer)
#define vips_error_clear (*hp_p_vips_error_clear)
#define vips_extract_area (*hp_p_vips_extract_area)
#define vips_flatten (*hp_p_vips_flatten)
#define vips_gifsave_buffer (*hp_p_vips_gifsave_buffer)
#define vips_heifsave_buffer (*hp_p_vips_heifsave_buffer)
#define vips_icc_transform (*hp_p_vips_icc_transform)
#define vips_image_copy_memory (*hp_p_vips_image_copy_memory)
#define vips_image_get_bands (*hp_p_vips_image_get_bands)
#define vips_image_get_format (*hp_p_vips_image_get_format)
#define vips_image_get_height (*hp_p_vips_image_get_height)
#define vips_image_get_interpretation (*hp_p_vips_image_get_interpretation)
#define vips_image_get_n_pages (*hp_p_vips_image_get_n_pages)
#define vips_image_get_orientation (*hp_p_vips_image_get_orientation)
#define vips_image_get_page_height (*hp_p_vips_image_get_page_height)
#define vips_image_get_string (*hp_p_vips_image_get_string)
#define vips_image_get_typeof (*hp_p_vips_image_get_typeof)
#define vips_image_get_width (*hp_p_vips_image_get_width)
#define vips_image_hasalpha (*hp_p_vips_image_hasalpha)
#define vips_image_new_from_source (*hp_p_vips_image_new_from_source)
#define vips_image_set_int (*hp_p_vips_image_set_int)
#define vips_image_set_kill (*hp_p_vips_image_set_kill)
#define vips_image_set_progress (*hp_p_vips_image_set_progress)
#define vips_init (*hp_p_vips_init)
#define vips_jpegsave_buffer (*hp_p_vips_jpegsave_buffer)
#define vips_leak_set (*hp_p_vips_leak_set)
#define vips_pngsave_buffer (*hp_p_vips_pngsave_buffer)
#define vips_reduceh (*hp_p_vips_reduceh)
#define vips_resize (*hp_p_vips_resize)
#define vips_rot270 (*hp_p_vips_rot270)
#define vips_rot90 (*hp_p_vips_rot90)
#define vips_smartcrop (*hp_p_vips_smartcrop)
#define vips_source_new_from_blob (*hp_p_vips_source_new_from_blob)
#define vips_source_new_from_file (*hp_p_vips_source_new_from_file)
#define vips_thumbnail (*hp_p_vips_thumbnail)
#define vips_thumbnail_image (*hp_p_vips_thumbnail_image)
#define vips_thumbnail_source (*hp_p_vips_thumbnail_source)
#define vips_tracked_get_allocs (*hp_p_vips_tracked_get_allocs)
#define vips_tracked_get_mem (*hp_p_vips_tracked_get_mem)
#define vips_tracked_get_mem_highwater (*hp_p_vips_tracked_get_mem_highwater)
#define vips_version (*hp_p_vips_version)
#define vips_webpsave_buffer (*hp_p_vips_webpsave_buffer)

const char *hp_load(void);
int hp_start(void);
void hp_configure(int concurrency, int cache_ops, size_t cache_mem);
void hp_route_logs(void);
char *hp_error_take(void);
int hp_version(int field);
void hp_tracked(size_t *mem, size_t *highwater, int *allocs);
void hp_ref(void *object);
void hp_unref(void *object);
void hp_gfree(void *p);
int hp_width(VipsImage *in);
int hp_height(VipsImage *in);
int hp_bands(VipsImage *in);
int hp_hasalpha(VipsImage *in);
/* HpStop is one call's cancellation, shared by the images it watches. */
typedef struct HpStop HpStop;
HpStop *hp_stop_new(void);
void hp_stop_ref(HpStop *s);
void hp_stop_cancel(HpStop *s);
void hp_stop_unref(HpStop *s);
void hp_stop_watch(HpStop *s, VipsImage *im);

VipsSource *hp_source_file(const char *path);
VipsSource *hp_source_bytes(void *data, size_t len);
VipsImage *hp_header(VipsSource *src);
int hp_orientation(VipsImage *in);
int hp_pages(VipsImage *in);
int hp_page_height(VipsImage *in);
const char *hp_loader(VipsImage *in);
int hp_has_icc(VipsImage *in);

int hp_thumbnail(VipsSource *src, VipsImage **out, int width, int height, int animated);
int hp_thumbnail_jpeg(VipsSource *src, VipsImage **out, int width, int height, int shrink, int strict);
int hp_load_full(VipsSource *src, VipsImage **out);

int hp_to_srgb(VipsImage *in, VipsImage **out);
int hp_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space);
int hp_copy_memory(VipsImage *in, VipsImage **out);
int hp_resize_force(VipsImage *in, VipsImage **out, int width, int height);
int hp_extract(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
int hp_smartcrop(VipsImage *in, VipsImage **out, int width, int height, int interesting);
int hp_embed(VipsImage *in, VipsImage **out, int left, int top, int width, int height, double *bg, int nbg);
int hp_flatten(VipsImage *in, VipsImage **out, double r, double g, double b);
int hp_add_alpha(VipsImage *in, VipsImage **out);
int hp_join_pages(VipsImage **pages, int n, VipsImage **out, int page_height);

int hp_save_jpeg(VipsImage *in, void **buf, size_t *len, int quality, int strip);
int hp_save_png(VipsImage *in, void **buf, size_t *len, int strip);
int hp_save_webp(VipsImage *in, void **buf, size_t *len, int quality, int strip, int effort);
int hp_save_avif(VipsImage *in, void **buf, size_t *len, int quality, int strip, int effort);
int hp_save_gif(VipsImage *in, void **buf, size_t *len, int strip);

#endif
