package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// runResizeCommand runs "hotpath resize ARGS" in-process with stdin and
// returns its exit status, stdout and stderr.
func runResizeCommand(t *testing.T, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: bytes.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := run(context.Background(), env, append([]string{"resize"}, args...))
	return code, stdout.Bytes(), stderr.String()
}

func TestResize(t *testing.T) {
	dir := t.TempDir()
	src := imagetest.Image(t, hotpath.FormatJPEG, 400, 300)
	in := filepath.Join(dir, "in.jpg")
	if err := os.WriteFile(in, src, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      []byte
		out        string // file to read; "" for stdout
		wantFormat hotpath.Format
		wantW      int
		wantH      int
	}{
		{"format from extension", []string{in, filepath.Join(dir, "a.webp"), "--width", "200"}, nil, "a.webp", hotpath.FormatWebP, 200, 150},
		{"flags before positionals", []string{"--width", "100", "--fit", "fill", "--height", "100", "--gravity", "smart", in, filepath.Join(dir, "b.png")}, nil, "b.png", hotpath.FormatPNG, 100, 100},
		{"format flag beats extension", []string{in, filepath.Join(dir, "c.jpg"), "--format", "avif", "--height", "30"}, nil, "c.jpg", hotpath.FormatAVIF, 40, 30},
		{"pad", []string{in, filepath.Join(dir, "d.png"), "--width", "100", "--height", "100", "--fit", "pad", "--background", "ff0000"}, nil, "d.png", hotpath.FormatPNG, 100, 100},
		{"force", []string{in, filepath.Join(dir, "e.gif"), "--width", "50", "--height", "70", "--fit", "force"}, nil, "e.gif", hotpath.FormatGIF, 50, 70},
		{"stdin to stdout keeps format", []string{"-", "-", "--width", "80"}, src, "", hotpath.FormatJPEG, 80, 60},
		{"stdin to stdout with format", []string{"-", "-", "--width", "80", "--format", "webp", "--quality", "50"}, src, "", hotpath.FormatWebP, 80, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runResizeCommand(t, tt.stdin, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			got := stdout
			if tt.out != "" {
				var err error
				if got, err = os.ReadFile(filepath.Join(dir, tt.out)); err != nil {
					t.Fatal(err)
				}
				if len(stdout) != 0 {
					t.Errorf("wrote %d bytes to stdout, want none", len(stdout))
				}
			}
			info := imagetest.ProbeImage(t, got)
			if info.Format != tt.wantFormat || info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("got %+v, want %s %dx%d", info, tt.wantFormat, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestResizeErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	if err := os.WriteFile(in, imagetest.Image(t, hotpath.FormatPNG, 40, 30), 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := filepath.Join(dir, "notes.jpg")
	if err := os.WriteFile(notImage, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, imagetest.PNGHeader(100000, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	strip := filepath.Join(dir, "strip.png")
	if err := os.WriteFile(strip, imagetest.Image(t, hotpath.FormatPNG, 2100, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"enlarged beyond the work bound", []string{strip, filepath.Join(dir, "x.png"), "--width", "1", "--height", "8192", "--fit", "fill"}, 1, "work pixels"},
		{"no arguments", nil, 2, "want IN and OUT"},
		{"unknown extension", []string{in, filepath.Join(dir, "out.bmp")}, 2, "cannot tell the output format"},
		{"bad format flag", []string{in, "-", "--format", "bmp"}, 2, "--format"},
		{"bad background", []string{in, "-", "--background", "nope"}, 2, "--background"},
		{"bad fit", []string{in, "-", "--fit", "stretch"}, 1, "unknown fit"},
		{"missing input", []string{filepath.Join(dir, "missing.png"), "-"}, 1, "not found"},
		{"not an image", []string{notImage, "-"}, 1, "not an image"},
		{"too large", []string{bomb, filepath.Join(dir, "x.png"), "--width", "10"}, 1, "above the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runResizeCommand(t, nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if len(stdout) != 0 {
				t.Errorf("wrote %d bytes to stdout on failure", len(stdout))
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); !os.IsNotExist(err) {
		t.Errorf("a failed resize left an output file (stat: %v)", err)
	}
}
