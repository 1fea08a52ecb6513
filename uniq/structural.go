package uniq

import "encoding/binary"

// blockMasks are the structural bits of a 64-byte block: bit j of fields
// is set when byte j is a newline, a CR, the delimiter or the quote, the
// bytes that can end a field or a record; bit j of ends when it is a
// newline, a CR or the quote, the bytes that can end a record (a lone CR
// ends one, as in Python and Excel). scanColumns walks records by
// these bits instead of searching for each byte of interest on its own (the
// approach of simdjson and simdcsv), and past the last field it needs
// jumps by ends over the delimiters of the fields it does not count.
type blockMasks struct{ fields, ends uint64 }

// structuralMasks returns the masks of data's 64-byte blocks, the last one
// possibly short. The slice is reused when it is large enough.
// Without quoting, quote is '\n', which marks nothing more.
func structuralMasks(data []byte, delim, quote byte, masks []blockMasks) []blockMasks {
	n := (len(data) + 63) / 64
	if cap(masks) < n {
		masks = make([]blockMasks, n)
	}
	masks = masks[:n]
	full := len(data) / 64
	if full > 0 && hasAVX2 {
		structuralAVX2(&data[0], full, delim, quote, &masks[0])
	} else {
		for i := range full {
			masks[i] = structuralWord(data[64*i:64*i+64], delim, quote)
		}
	}
	if full < n {
		masks[full] = structuralWord(data[64*full:], delim, quote)
	}
	return masks
}

// structuralWord is the masks of at most 64 bytes, eight at a time.
func structuralWord(b []byte, delim, quote byte) blockMasks {
	const ones = 0x0101010101010101
	var m blockMasks
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		ends := zeroBytes(x^'\n'*ones) | zeroBytes(x^uint64(quote)*ones) | zeroBytes(x^'\r'*ones)
		m.ends |= uint64(highBits(ends)) << i
		m.fields |= uint64(highBits(ends|zeroBytes(x^uint64(delim)*ones))) << i
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '\n' || c == quote || c == '\r' {
			m.ends |= 1 << i
			m.fields |= 1 << i
		} else if c == delim {
			m.fields |= 1 << i
		}
	}
	return m
}

// highBits returns a byte whose bit j is the high bit of byte j of z, the
// others being zero: bit 8j of z>>7 goes to bit 56+j of the product (no two
// partial products share a bit, so nothing carries).
func highBits(z uint64) byte {
	return byte((z >> 7) * 0x0102040810204080 >> 56)
}

// zeroBytes sets the high bit of each byte of x that is zero, and no other.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}
