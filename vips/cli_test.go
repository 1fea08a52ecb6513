package vips_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// vipsCLI runs the vips command-line tool to make inputs the engine does not
// write itself (HEIC, ICC-tagged JPEG); it skips without libvips-tools.
func vipsCLI(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("vips"); err != nil {
		t.Skip("the vips command (Debian libvips-tools) is needed to make this input")
	}
	if out, err := exec.Command("vips", args...).CombinedOutput(); err != nil {
		t.Fatalf("vips %v: %v: %s", args, err, out)
	}
}

func TestHEICInput(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "in.png")
	if err := os.WriteFile(png, imagetest.Image(t, hotpath.FormatPNG, 160, 120), 0o644); err != nil {
		t.Fatal(err)
	}
	heic := filepath.Join(dir, "in.heic")
	vipsCLI(t, "copy", png, heic+"[compression=hevc,Q=90]")
	data, err := os.ReadFile(heic)
	if err != nil {
		t.Fatal(err)
	}
	if info := imagetest.ProbeImage(t, data); info.Format != hotpath.FormatHEIF || info.Width != 160 || info.Height != 120 {
		t.Errorf("probe = %+v, want heif 160x120", info)
	}
	r, err := imagetest.ImageEngine(t).Transform(context.Background(), data, hotpath.TransformOptions{Width: 80})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != hotpath.FormatJPEG || r.Width != 80 || r.Height != 60 {
		t.Errorf("got %s %dx%d, want jpeg (HEIF is not written) 80x60", r.Format, r.Width, r.Height)
	}
	imagetest.AssertSimilar(t, r.Data, data, 10)
}

// TestConvertsToSRGB: a Display P3 JPEG comes out with sRGB values and no
// profile, so that it looks the same after stripping.
func TestConvertsToSRGB(t *testing.T) {
	dir := t.TempDir()
	flat := filepath.Join(dir, "flat.v")
	vipsCLI(t, "black", flat, "64", "64", "--bands", "3")
	red := filepath.Join(dir, "red.png")
	vipsCLI(t, "linear", flat, red, "1 1 1", "200 30 30", "--uchar")
	p3 := filepath.Join(dir, "red-p3.jpg")
	vipsCLI(t, "icc_transform", red, p3+"[Q=100]", "p3", "--input-profile", "srgb")
	data, err := os.ReadFile(p3)
	if err != nil {
		t.Fatal(err)
	}
	r, err := imagetest.ImageEngine(t).Transform(context.Background(), data, hotpath.TransformOptions{Width: 32, Format: hotpath.FormatPNG})
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, r.Data)
	cr, cg, cb, _ := img.At(16, 16).RGBA()
	got := []int{int(cr >> 8), int(cg >> 8), int(cb >> 8)}
	for i, want := range []int{200, 30, 30} {
		if d := got[i] - want; d > 4 || d < -4 {
			t.Fatalf("pixel = %v, want about [200 30 30]: the P3 values were not converted to sRGB", got)
		}
	}
}
