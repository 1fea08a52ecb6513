package uniq

import (
	"math/rand/v2"
	"testing"
)

// TestStructuralMasks checks the masks (vector code where the CPU has it,
// word at a time otherwise) against a byte-by-byte definition, on lengths
// around the 64-byte blocks and with every byte value.
func TestStructuralMasks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,\n\";\t\r\x00\xff\x80\x0a\x22\x2c")
	for n := 0; n < 300; n++ {
		for _, dq := range [][2]byte{{',', '"'}, {';', '\''}, {'\t', '\n'}, {0x00, '"'}, {0xff, 0x00}} {
			delim, quote := dq[0], dq[1]
			data := make([]byte, n)
			for i := range data {
				if rng.IntN(4) == 0 {
					data[i] = byte(rng.IntN(256))
				} else {
					data[i] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			masks := structuralMasks(data, delim, quote, nil)
			if len(masks) != (n+63)/64 {
				t.Fatalf("n=%d: %d masks", n, len(masks))
			}
			for i, c := range data {
				wantEnd := c == '\n' || c == '\r' || c == quote
				wantField := wantEnd || c == delim
				m := masks[i/64]
				if got := m.fields>>(i%64)&1 == 1; got != wantField {
					t.Fatalf("n=%d delim=%q: byte %d (%q): fields bit %v, want %v", n, delim, i, c, got, wantField)
				}
				if got := m.ends>>(i%64)&1 == 1; got != wantEnd {
					t.Fatalf("n=%d delim=%q: byte %d (%q): ends bit %v, want %v", n, delim, i, c, got, wantEnd)
				}
			}
			for i := n; i < len(masks)*64; i++ {
				if m := masks[i/64]; (m.fields|m.ends)>>(i%64)&1 == 1 {
					t.Fatalf("n=%d: bit %d past the data is set", n, i)
				}
			}
			if hasAVX2 && n >= 64 { // the word-at-a-time code on the same data
				for i := range n / 64 {
					if w := structuralWord(data[64*i:64*i+64], delim, quote); w != masks[i] {
						t.Fatalf("n=%d: block %d: word code %+v, vector code %+v", n, i, w, masks[i])
					}
				}
			}
		}
	}
}
