package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/vips"
)

func init() {
	register(command{Name: "resize", Summary: "resize and convert one image file with libvips", Run: runResize})
}

const resizeDescription = `Resizes one image with the engine the server uses: shrink-on-load, EXIF
orientation applied, converted to sRGB and stripped of metadata.

IN and OUT are file paths, or '-' for standard input and output. The input
format is found from its bytes (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF). The
output format is --format, else OUT's extension (.jpg .png .webp .avif .gif),
else the input's format when it can be written, else JPEG.

--fit: fit (inside the box, never enlarged), fill (cover the box, then crop by
--gravity), pad (inside, then padded to the box with --background), force
(exactly the box). A missing --width or --height follows the aspect ratio.`

// runResize implements "hotpath resize IN OUT [flags]".
func runResize(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "resize", "IN OUT [--width N] [--height N] [--fit MODE] [--gravity G] [--format F] [--quality Q]", resizeDescription)
	var o hotpath.TransformOptions
	fs.IntVar(&o.Width, "width", 0, "output width in pixels (0: from height and aspect)")
	fs.IntVar(&o.Height, "height", 0, "output height in pixels (0: from width and aspect)")
	fit := fs.String("fit", string(hotpath.FitInside), "fit, fill, pad or force")
	gravity := fs.String("gravity", string(hotpath.GravityCentre), "fill crop: centre, north, south, east, west, smart or entropy")
	format := fs.String("format", "", "jpeg, png, webp, avif or gif (default: from OUT's extension)")
	fs.IntVar(&o.Quality, "quality", 0, "1-100 for JPEG, WebP and AVIF (default: 80, 80, 60)")
	background := fs.String("background", "", "pad colour as RRGGBB or RRGGBBAA (default: white, transparent where the format allows)")
	fs.BoolVar(&o.KeepMetadata, "keep-metadata", false, "keep EXIF, XMP and ICC metadata")
	fs.BoolVar(&o.Animated, "animated", true, "keep all frames of an animated GIF or WebP when the output format can")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return Usagef("want IN and OUT, got %d arguments (see 'hotpath resize --help')", len(pos))
	}
	in, out := pos[0], pos[1]
	o.Fit, o.Gravity = hotpath.Fit(*fit), hotpath.Gravity(*gravity)
	if o.Format, err = resizeFormat(*format, out); err != nil {
		return err
	}
	if *background != "" {
		spec, err := hotpath.ParseTransformSpec("bg:" + *background)
		if err != nil {
			return Usagef("--background %q: want RRGGBB or RRGGBBAA", *background)
		}
		o.Background = spec.Background
	}

	engine, err := vips.New(vips.Config{})
	if err != nil {
		return err
	}
	defer engine.Close()
	var r hotpath.Rendition
	if in == "-" {
		data, err := io.ReadAll(io.LimitReader(env.Stdin, engine.Limits().MaxBytes+1))
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		r, err = engine.Transform(ctx, data, o)
		if err != nil {
			return err
		}
	} else {
		rs, err := engine.Renditions(ctx, in, []hotpath.TransformOptions{o})
		if err != nil {
			return err
		}
		r = rs[0]
	}
	if out == "-" {
		_, err = env.Stdout.Write(r.Data)
		return err
	}
	return writeFileAtomic(out, r.Data)
}

// resizeFormat picks the output format: the flag, else OUT's extension,
// else "" for the engine's default.
func resizeFormat(flagValue, out string) (hotpath.Format, error) {
	formats := map[string]hotpath.Format{
		"jpeg": hotpath.FormatJPEG, "jpg": hotpath.FormatJPEG, "png": hotpath.FormatPNG,
		"webp": hotpath.FormatWebP, "avif": hotpath.FormatAVIF, "gif": hotpath.FormatGIF,
	}
	if flagValue != "" {
		f, ok := formats[strings.ToLower(flagValue)]
		if !ok {
			return "", Usagef("--format %q: want jpeg, png, webp, avif or gif", flagValue)
		}
		return f, nil
	}
	if out == "-" {
		return "", nil
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	f, ok := formats[ext]
	if !ok {
		return "", Usagef("cannot tell the output format from %q: pass --format or use .jpg, .png, .webp, .avif or .gif", out)
	}
	return f, nil
}

// writeFileAtomic writes data to path through a temp file in the same
// directory, so that a failed run never leaves half an image behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hotpath-resize-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
