package gen

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// PhotoOptions size the generated photos.
type PhotoOptions struct {
	Width, Height int // default 4000×3000 (12 MP)
	Quality       int // JPEG quality, default 90
}

// DefaultPhotoOptions are the benchmarks' photos: 12 MP JPEGs of about 3.7 MB.
func DefaultPhotoOptions() PhotoOptions { return PhotoOptions{Width: 4000, Height: 3000, Quality: 90} }

// Photo draws photo n: a picture with a camera photo's mix of smooth areas,
// edges and sensor-like noise (a blurred fractal over a gradient, upscaled
// four times, with fine noise on top), so that it costs what a photo costs to
// decode, scale and encode; a flat test image would compress to nothing and
// flatter every encoder. The same n and size give the same pixels.
func Photo(n int, o PhotoOptions) *image.RGBA {
	w, h := o.Width, o.Height
	sw, sh := max(1, w/4), max(1, h/4) // drawn at a quarter of the size, then upscaled
	small := make([][3]float64, sw*sh)
	rng := rand.New(rand.NewPCG(uint64(n), 0x70686f746f)) // "photo"
	x0, y0, x1, y1 := -2+float64(n)*0.1, -1.2, 1.0, 1.2
	for y := range sh {
		for x := range sw {
			cx := x0 + (x1-x0)*float64(x)/float64(sw)
			cy := y0 + (y1-y0)*float64(y)/float64(sh)
			small[y*sw+x] = [3]float64{
				clamp(128 + 60*rng.NormFloat64()),        // red: coarse noise
				255 * float64(y) / float64(max(1, sh-1)), // green: a gradient
				mandelbrot(cx, cy, 50),                   // blue: fractal edges
			}
		}
	}
	small = blur3(small, sw, sh)

	// Bilinear upscaling: each output column's two source columns and weight.
	xs0, xs1, txs := make([]int, w), make([]int, w), make([]float64, w)
	for x := range w {
		xs0[x], xs1[x], txs[x] = sourceOf(x, w, sw)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rows := make(chan int, h)
	for y := range h {
		rows <- y
	}
	close(rows)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for y := range rows {
				// Each row's noise has its own seed, so the picture does not
				// depend on which goroutine drew which row.
				rng := rand.New(rand.NewPCG(uint64(n)<<32|uint64(y), 0x6e6f697365)) // "noise"
				y0, y1, ty := sourceOf(y, h, sh)
				px := img.Pix[y*img.Stride : y*img.Stride+4*w]
				for x := range w {
					x0, x1, tx := xs0[x], xs1[x], txs[x]
					a, b, c, d := small[y0*sw+x0], small[y0*sw+x1], small[y1*sw+x0], small[y1*sw+x1]
					r := rng.Uint64() // three noise samples, each the sum of two random bytes (near normal)
					for ch := range 3 {
						v := (a[ch]*(1-tx)+b[ch]*tx)*(1-ty) + (c[ch]*(1-tx)+d[ch]*tx)*ty
						noise := float64(int(r>>(16*ch)&0xff)+int(r>>(16*ch+8)&0xff)-255) * photoNoise
						px[4*x+ch] = uint8(clamp(0.75*v + 0.25*128 + noise)) // blended a quarter towards grey
					}
					px[4*x+3] = 255
				}
			}
		})
	}
	wg.Wait()
	return img
}

// WritePhoto encodes photo n as a JPEG.
func WritePhoto(w io.Writer, n int, o PhotoOptions) error {
	return jpeg.Encode(w, Photo(n, o), &jpeg.Options{Quality: o.Quality})
}

// WritePhotos writes photo0.jpg … photo{count-1}.jpg into dir (created when
// missing) and returns their paths. A file that exists already is kept: the
// same name always holds the same picture, so callers may cache the directory.
func WritePhotos(ctx context.Context, dir string, count int, o PhotoOptions) ([]string, error) {
	if o.Width < 1 || o.Height < 1 || o.Quality < 1 || o.Quality > 100 {
		return nil, fmt.Errorf("photos: want a positive size and a quality of 1-100, got %d×%d q%d", o.Width, o.Height, o.Quality)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, count)
	for n := range count {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		paths[n] = filepath.Join(dir, fmt.Sprintf("photo%d.jpg", n))
		if _, err := os.Stat(paths[n]); err == nil {
			continue
		}
		// Written beside, then renamed: a killed run leaves no truncated photo
		// for the next one to take as made.
		f, err := os.CreateTemp(dir, ".photo*.tmp")
		if err != nil {
			return nil, err
		}
		err = WritePhoto(f, n, o)
		if err == nil {
			err = f.Chmod(0o644)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), paths[n])
		}
		if err != nil {
			os.Remove(f.Name())
			return nil, fmt.Errorf("photo %d: %w", n, err)
		}
	}
	return paths, nil
}

// photoNoise scales the fine noise (a sum of two random bytes, standard
// deviation about 104) to a standard deviation of about 9 levels: what makes
// a 12 MP picture at quality 90 about as large as a camera's (3.7 MB).
const photoNoise = 0.085

// sourceOf maps output coordinate i of n to the two source coordinates of
// m around it and the weight of the second (pixel centres aligned).
func sourceOf(i, n, m int) (int, int, float64) {
	f := (float64(i)+0.5)*float64(m)/float64(n) - 0.5
	if f < 0 {
		return 0, 0, 0
	}
	i0 := min(int(f), m-1)
	return i0, min(i0+1, m-1), f - float64(i0)
}

// mandelbrot returns 0-255: how fast c escapes, as a shade.
func mandelbrot(cx, cy float64, iterations int) float64 {
	zx, zy := 0.0, 0.0
	for k := range iterations {
		zx, zy = zx*zx-zy*zy+cx, 2*zx*zy+cy
		if zx*zx+zy*zy > 4 {
			return 255 * float64(k) / float64(iterations)
		}
	}
	return 0
}

// blur3 is a 3×3 box blur, edges clamped.
func blur3(p [][3]float64, w, h int) [][3]float64 {
	out := make([][3]float64, len(p))
	for y := range h {
		for x := range w {
			var s [3]float64
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					q := p[clampInt(y+dy, 0, h-1)*w+clampInt(x+dx, 0, w-1)]
					for ch := range 3 {
						s[ch] += q[ch] / 9
					}
				}
			}
			out[y*w+x] = s
		}
	}
	return out
}

func clamp(v float64) float64 { return math.Max(0, math.Min(255, math.Round(v))) }

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }
