package uniq

import "testing"

// TestPmdMappedIn reads a mapping's huge-page bytes out of smaps text: its
// own entry's field, not a neighbour's, and 0 when its entry has none.
func TestPmdMappedIn(t *testing.T) {
	smaps := []byte(`55d0c0000000-55d0c0021000 r--p 00000000 fd:00 123 /usr/bin/hotpath
Rss:                 132 kB
FilePmdMapped:      2048 kB
7f0000000000-7f0040000000 r--s 00000000 fd:00 456 /tmp/data.csv
Size:            1048576 kB
Rss:             1022288 kB
FilePmdMapped:    991232 kB
VmFlags: rd mr me ms sd
7f0040000000-7f0040200000 r--s 00000000 fd:00 789 /tmp/other.csv
Size:               2048 kB
VmFlags: rd mr me ms sd
7f0050000000-7f0050200000 rw-p 00000000 00:00 0
FilePmdMapped:      4096 kB
`)
	for _, tt := range []struct {
		addr uintptr
		want int64
	}{
		{0x7f0000000000, 991232 << 10},
		{0x55d0c0000000, 2048 << 10},
		{0x7f0040000000, 0}, // no field before the next entry's
		{0x7f0000001000, 0}, // not the start of a mapping
		{0x12345, 0},
	} {
		if got := pmdMappedIn(smaps, tt.addr); got != tt.want {
			t.Errorf("pmdMappedIn(%#x) = %d, want %d", tt.addr, got, tt.want)
		}
	}
}
