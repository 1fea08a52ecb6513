package uniq

// pyStrip removes leading and trailing whitespace as Python's str.strip()
// does on text decoded as UTF-8: the ASCII whitespace and separators
// (" \t\n\v\f\r" and \x1c-\x1f) and the Unicode White_Space characters
// (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000). Bytes that are not UTF-8 are left alone.
func pyStrip(b []byte) []byte {
	for len(b) > 0 {
		c := b[0]
		if c < 0x80 {
			if !asciiSpace[c] {
				break
			}
			b = b[1:]
			continue
		}
		n := uniSpacePrefix(b)
		if n == 0 {
			break
		}
		b = b[n:]
	}
	for len(b) > 0 {
		c := b[len(b)-1]
		if c < 0x80 {
			if !asciiSpace[c] {
				break
			}
			b = b[:len(b)-1]
			continue
		}
		n := uniSpaceSuffix(b)
		if n == 0 {
			break
		}
		b = b[:len(b)-n]
	}
	return b
}

var asciiSpace = [128]bool{' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true}

// isUniSpace reports whether the UTF-8 sequence s (2 or 3 bytes) is one of
// Python's non-ASCII whitespace characters.
func isUniSpace(s []byte) bool {
	switch len(s) {
	case 2:
		return s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0)
	case 3:
		switch {
		case s[0] == 0xe1:
			return s[1] == 0x9a && s[2] == 0x80 // U+1680
		case s[0] == 0xe2 && s[1] == 0x80:
			return s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf // U+2000-200A, 2028, 2029, 202F
		case s[0] == 0xe2 && s[1] == 0x81:
			return s[2] == 0x9f // U+205F
		case s[0] == 0xe3:
			return s[1] == 0x80 && s[2] == 0x80 // U+3000
		}
	}
	return false
}

func uniSpacePrefix(b []byte) int {
	for _, n := range [2]int{2, 3} {
		if len(b) >= n && isUniSpace(b[:n]) {
			return n
		}
	}
	return 0
}

func uniSpaceSuffix(b []byte) int {
	for _, n := range [2]int{2, 3} {
		if len(b) >= n && isUniSpace(b[len(b)-n:]) {
			return n
		}
	}
	return 0
}
