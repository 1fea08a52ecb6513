package uniq

import (
	"bytes"
	"testing"
)

// TestIndexByteShort checks the word-at-a-time search against
// bytes.IndexByte at every length and position around its 8- and 16-byte
// steps, with bytes just above the one sought (which a borrow could mistake
// for it).
func TestIndexByteShort(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for at := -1; at < n; at++ {
			b := bytes.Repeat([]byte{'-'}, n) // ',' + 1
			for i := range b {
				if i%3 == 0 {
					b[i] = ',' + 1
				}
			}
			if at >= 0 {
				b[at] = ','
				if at+1 < n {
					b[at+1] = ','
				}
			}
			if got, want := indexByteShort(b, ','), bytes.IndexByte(b, ','); got != want {
				t.Fatalf("indexByteShort(%q) = %d, want %d", b, got, want)
			}
		}
	}
}
