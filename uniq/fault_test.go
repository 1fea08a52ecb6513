package uniq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestTruncatedMappedFile truncates a file under its mapping while its
// whole lines are counted from it (chunks sliced from the mapping, as with
// huge pages, and values left in it): before the scan, and between the
// scan and the deferred comparisons; and its records before the scan, where
// a fault in the quote count must not leave the next chunk's worker
// waiting for a parity that never comes. Reading the gone pages faults
// with SIGBUS; the count must end with a clear error instead of a crash.
func TestTruncatedMappedFile(t *testing.T) {
	var b strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&b, "a line long enough to stay in the file, number %d\n", i%50000) // repeats: deferred pairs
	}
	for _, tc := range []struct {
		when string
		opts Options
	}{
		{"before the scan", Options{Workers: 2}},
		{"before the scan", Options{Workers: 2, Records: true, NoHeader: true, ChunkSize: 4096}}, // the quote-parity chain
		{"before the comparisons", Options{Workers: 2}},
	} {
		when := tc.when
		t.Run(fmt.Sprintf("%s records=%v", when, tc.opts.Records), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lines.txt")
			if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			size := int64(b.Len())
			data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Munmap(data)
			e, err := newEngine(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer e.removeSpills()
			defer e.setCfg.slab.close()
			e.rerunnable = true
			ctx := context.Background()
			if when == "before the scan" {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			}
			err = e.countAt(ctx, f, size, data, true)
			if when == "before the comparisons" {
				if err != nil {
					t.Fatalf("scan of the whole file: %v", err)
				}
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
				_, err = e.result(ctx)
			} else {
				e.freeWorkers()
			}
			if !errors.Is(err, errFileChanged) {
				t.Fatalf("error %v, want %v", err, errFileChanged)
			}
		})
	}
}
