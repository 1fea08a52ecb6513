package uniq

import (
	"bytes"
	"fmt"
	"testing"
)

// TestCountDelimitedPaths checks CountDelimited against a map on inputs that
// take each of its paths: mostly repeats (per-worker sets) and mostly
// distinct (radix partitions), short (inline) and long values, with and
// without trim, on buffers large enough for several workers.
func TestCountDelimitedPaths(t *testing.T) {
	tests := []struct {
		name     string
		n, mod   int
		format   string
		trim     bool
		wantPath bool // mostlyRepeats
	}{
		{"repeats short", 600000, 3, "item%d", true, true},
		{"repeats long trim", 600000, 1000, "  a long value number %d\t", true, true},
		{"distinct short", 600000, 400000, "%d", false, false},
		{"repeats short trim", 600000, 3000, " %d\t", true, true},
		{"distinct short trim", 600000, 400000, "\u00a0%d ", true, false},
		{"distinct long trim", 600000, 500000, " user-%08d ", true, false},
		{"distinct long", 600000, 500000, " user-%08d ", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			want := map[string]bool{}
			for i := range tt.n {
				if i > 0 {
					b.WriteByte('\n')
				}
				v := fmt.Sprintf(tt.format, i*7919%tt.mod)
				b.WriteString(v)
				if tt.trim {
					v = string(pyStrip([]byte(v)))
				}
				want[v] = true
			}
			if got := mostlyRepeats(b.Bytes(), '\n', tt.trim); got != tt.wantPath {
				t.Errorf("mostlyRepeats: got %v, want %v", got, tt.wantPath)
			}
			if got := CountDelimited(b.Bytes(), '\n', tt.trim); got != int64(len(want)) {
				t.Errorf("got %d, want %d", got, len(want))
			}
		})
	}
}
