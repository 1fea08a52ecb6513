// Thin C layer over libvips for package vips: cgo cannot call variadic C
// functions, so each operation hotpath uses gets a fixed-argument wrapper.
#ifndef HOTPATH_VIPS_BINDING_H
#define HOTPATH_VIPS_BINDING_H

#include <stdlib.h>
#include <vips/vips.h>

int hp_start(void);
void hp_configure(int concurrency, int cache_ops, size_t cache_mem);
void hp_route_logs(void);
char *hp_error_take(void);

VipsSource *hp_source_file(const char *path);
VipsSource *hp_source_bytes(void *data, size_t len);
VipsImage *hp_header(VipsSource *src);
int hp_orientation(VipsImage *in);
int hp_pages(VipsImage *in);
int hp_page_height(VipsImage *in);
const char *hp_loader(VipsImage *in);
int hp_has_icc(VipsImage *in);

int hp_thumbnail(VipsSource *src, VipsImage **out, int width, int height, int animated);
int hp_thumbnail_jpeg(VipsSource *src, VipsImage **out, int width, int height, int shrink);
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
