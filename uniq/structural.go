package uniq

import "encoding/binary"

// structuralMasks sets bit j of masks[i] when data[64*i+j] is a newline,
// the delimiter or a quote: the bytes that can end a field or a record.
// scanColumns walks records by these bits instead of searching for each
// byte of interest on its own (the approach of simdjson and simdcsv). The
// slice is reused when it is large enough.
func structuralMasks(data []byte, delim byte, masks []uint64) []uint64 {
	n := (len(data) + 63) / 64
	if cap(masks) < n {
		masks = make([]uint64, n)
	}
	masks = masks[:n]
	full := len(data) / 64
	if full > 0 && hasAVX2 {
		structuralAVX2(&data[0], full, delim, &masks[0])
	} else {
		for i := range full {
			masks[i] = structuralWord(data[64*i:64*i+64], delim)
		}
	}
	if full < n {
		masks[full] = structuralWord(data[64*full:], delim)
	}
	return masks
}

// structuralWord is the mask of at most 64 bytes, eight at a time.
func structuralWord(b []byte, delim byte) uint64 {
	var m uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		m |= uint64(structuralByte(binary.LittleEndian.Uint64(b[i:]), delim)) << i
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '\n' || c == delim || c == '"' {
			m |= 1 << i
		}
	}
	return m
}

// structuralByte returns a byte whose bit j is set when byte j of x is a
// newline, delim or a quote.
func structuralByte(x uint64, delim byte) byte {
	const ones = 0x0101010101010101
	z := zeroBytes(x^'\n'*ones) | zeroBytes(x^'"'*ones) | zeroBytes(x^uint64(delim)*ones)
	// Bit 8j of z>>7 goes to bit 56+j of the product (no two partial
	// products share a bit, so nothing carries).
	return byte((z >> 7) * 0x0102040810204080 >> 56)
}

// zeroBytes sets the high bit of each byte of x that is zero, and no other.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}
