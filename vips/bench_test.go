package vips

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/gen"
)

// The benchmarks run on photo-like 12 MP JPEGs (about 3.7 MB) made by
// internal/gen (as `hotpath gen photos`), cached in the user cache dir (or
// $HOTPATH_BENCH_PHOTOS). Compare sub-benchmarks of one run:
//
//	go test ./vips/ -run '^$' -bench . -benchtime 10x
//
// This binding was once compared with govips on one fit-800 JPEG q80 from a
// 12 MP file: with the same vips_thumbnail call both cost the same CPU (67.6
// against 70.7 ms); hotpath is ahead by its deeper JPEG DCT shrink
// (jpegShrink). The comparison is gone so that a second libvips binding is
// not in the module's dependency graph.

// pythonWithPIL runs the Pillow comparisons (Debian's python3-pil).
const pythonWithPIL = "/usr/bin/python3"

var (
	photosOnce sync.Once
	photosDir  string
	photosErr  error
)

// benchPhoto returns the path of a generated 12 MP JPEG, or fails with the
// reason it cannot be made.
func benchPhoto(b *testing.B) string {
	b.Helper()
	photosOnce.Do(func() {
		photosDir = os.Getenv("HOTPATH_BENCH_PHOTOS")
		if photosDir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				cache = os.TempDir()
			}
			photosDir = filepath.Join(cache, "hotpath-bench", "photos")
		}
		_, photosErr = gen.WritePhotos(context.Background(), photosDir, 2, gen.DefaultPhotoOptions())
	})
	if photosErr != nil {
		b.Fatal(photosErr)
	}
	return filepath.Join(photosDir, "photo0.jpg")
}

// cpuTime is the CPU time used so far by this process and its waited-for
// children. On a shared machine wall time swings with the neighbours' load;
// CPU per operation does not, so every benchmark reports both.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	total := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return total(self) + total(children)
}

// measureCPU reports the CPU milliseconds per operation of the rest of b.
func measureCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	})
}

func benchEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func presetOptions() []hotpath.TransformOptions {
	var opts []hotpath.TransformOptions
	for _, p := range hotpath.DefaultPresets() {
		opts = append(opts, p.Options)
	}
	return opts
}

// BenchmarkPresets makes the three default presets (200 and 800 px JPEG,
// 1600 px WebP) of one 12 MP JPEG, one upload per iteration, five ways.
func BenchmarkPresets(b *testing.B) {
	path := benchPhoto(b)
	e := benchEngine(b)
	opts := presetOptions()
	ctx := context.Background()

	b.Run("renditions-one-decode", func(b *testing.B) {
		measureCPU(b)
		for b.Loop() {
			if _, err := e.Renditions(ctx, path, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("three-shrink-on-load-decodes", func(b *testing.B) {
		measureCPU(b)
		for b.Loop() {
			for _, o := range opts {
				if _, err := e.Renditions(ctx, path, []hotpath.TransformOptions{o}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("three-full-decodes", func(b *testing.B) {
		measureCPU(b)
		for b.Loop() {
			for _, o := range opts {
				s, err := e.openFile(path)
				if err != nil {
					b.Fatal(err)
				}
				_, err = e.render(ctx, s, []hotpath.TransformOptions{o}, true)
				s.close()
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("vipsthumbnail-three-runs", func(b *testing.B) {
		if _, err := exec.LookPath("vipsthumbnail"); err != nil {
			b.Skip("vipsthumbnail not installed (apt-get install libvips-tools)")
		}
		out := b.TempDir()
		runs := [][]string{
			{path, "-s", "200", "-o", filepath.Join(out, "thumb.jpg[Q=80,strip]")},
			{path, "-s", "800", "-o", filepath.Join(out, "medium.jpg[Q=80,strip]")},
			{path, "-s", "1600", "-o", filepath.Join(out, "large.webp[Q=80,strip]")},
		}
		measureCPU(b)
		for b.Loop() {
			for _, args := range runs {
				if out, err := exec.Command("vipsthumbnail", args...).CombinedOutput(); err != nil {
					b.Fatalf("vipsthumbnail: %v: %s", err, out)
				}
			}
		}
	})
	b.Run("pillow-draft", func(b *testing.B) {
		benchPillow(b, path)
	})
}

// pillowPresets is the Pillow pipeline of the FastAPI baseline
// (../shared/baselines/fastapi_images): draft (JPEG shrink-on-load), EXIF
// transpose, then LANCZOS thumbnails of a copy per preset.
const pillowPresets = `
import io, sys
from PIL import Image, ImageOps
path, n = sys.argv[1], int(sys.argv[2])
variants = [(200, "JPEG", 80), (800, "JPEG", 80), (1600, "WEBP", 80)]
for _ in range(n):
    img = Image.open(path)
    img.draft("RGB", (1600, 1600))
    img = ImageOps.exif_transpose(img)
    img.load()
    for side, fmt, q in variants:
        v = img.copy()
        v.thumbnail((side, side), Image.LANCZOS)
        buf = io.BytesIO()
        v.save(buf, fmt, quality=q)
`

// benchPillow runs all iterations in one Python process, so that the
// interpreter's start is paid once.
func benchPillow(b *testing.B, path string) {
	if err := exec.Command(pythonWithPIL, "-c", "import PIL").Run(); err != nil {
		b.Skip("no python3-pil for the Pillow comparison")
	}
	measureCPU(b)
	b.ResetTimer()
	if out, err := exec.Command(pythonWithPIL, "-c", pillowPresets, path, strconv.Itoa(b.N)).CombinedOutput(); err != nil {
		b.Fatalf("pillow: %v: %s", err, out)
	}
}

// BenchmarkRenditionsVsPillow is the CPU per upload of the engine's work
// beside the FastAPI baseline's, on the same photo in the same run: the
// three default presets from one Renditions call against Pillow's pipeline
// (pillowPresets), whose interpreter start is measured apart and taken out.
// It reports both in CPU-ms per upload and pillow/hotpath, the ratio the
// upload benchmark's uploads/s follow when both servers are CPU-bound.
//
//	go test ./vips/ -run '^$' -bench RenditionsVsPillow -benchtime 10x
func BenchmarkRenditionsVsPillow(b *testing.B) {
	path := benchPhoto(b)
	if err := exec.Command(pythonWithPIL, "-c", "import PIL").Run(); err != nil {
		b.Skip("no python3-pil for the Pillow comparison")
	}
	e := benchEngine(b)
	opts := presetOptions()
	pillow := func(n int) time.Duration {
		start := cpuTime()
		if out, err := exec.Command(pythonWithPIL, "-c", pillowPresets, path, strconv.Itoa(n)).CombinedOutput(); err != nil {
			b.Fatalf("pillow: %v: %s", err, out)
		}
		return cpuTime() - start
	}
	pillowStart := pillow(0)
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		if _, err := e.Renditions(context.Background(), path, opts); err != nil {
			b.Fatal(err)
		}
	}
	hotpathCPU := cpuTime() - start
	b.StopTimer()
	pillowCPU := pillow(b.N) - pillowStart
	perOp := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	b.ReportMetric(perOp(hotpathCPU), "hotpath-cpu-ms/op")
	b.ReportMetric(perOp(pillowCPU), "pillow-cpu-ms/op")
	b.ReportMetric(float64(pillowCPU)/float64(hotpathCPU), "pillow/hotpath")
}

// BenchmarkTransform is one on-the-fly transform of a 12 MP JPEG held in
// memory, the work of issue 5's cold requests.
func BenchmarkTransform(b *testing.B) {
	path := benchPhoto(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	e := benchEngine(b)
	tests := []struct {
		name string
		opts hotpath.TransformOptions
	}{
		{"fit-400-jpeg", hotpath.TransformOptions{Width: 400, Height: 400, Format: hotpath.FormatJPEG}},
		{"fit-800-jpeg", hotpath.TransformOptions{Width: 800, Height: 800, Format: hotpath.FormatJPEG}},
		{"fill-200-smart-jpeg", hotpath.TransformOptions{Width: 200, Height: 200, Fit: hotpath.FitFill, Gravity: hotpath.GravitySmart, Format: hotpath.FormatJPEG}},
		{"fit-1600-webp", hotpath.TransformOptions{Width: 1600, Height: 1600, Format: hotpath.FormatWebP}},
		{"fit-800-avif", hotpath.TransformOptions{Width: 800, Height: 800, Format: hotpath.FormatAVIF}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			measureCPU(b)
			for b.Loop() {
				if _, err := e.Transform(context.Background(), data, tt.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
