package main

import (
	"debug/elf"
	"os"
	"strings"
	"testing"

	"github.com/hotpath/hotpath/vips"
)

// TestLibvipsNotLinked checks that the hotpath binary (this test binary
// holds the same packages) does not need libvips to start: package vips
// opens it when the first engine starts, so commands without images
// (uniq, sign, keys) skip loading its hundred libraries.
func TestLibvipsNotLinked(t *testing.T) {
	f, err := elf.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.Contains(l, "vips") || strings.Contains(l, "glib") || strings.Contains(l, "gobject") {
			t.Errorf("the binary needs %s at start (needed: %v)", l, libs)
		}
	}
	if vips.Version() == "" || strings.Contains(vips.Version(), "loading") {
		t.Errorf("libvips did not load on demand: %s", vips.Version())
	}
}
