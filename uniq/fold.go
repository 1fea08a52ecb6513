package uniq

import (
	"unicode"
	"unicode/utf8"
)

// appendFolded appends v with every letter replaced by one representative
// of its Unicode simple case folding class (--ignore-case): two values are
// then equal exactly when strings.EqualFold would call them equal, except
// that bytes that are not UTF-8 are kept as they are and compared byte for
// byte (EqualFold would read every such byte as U+FFFD and call them all
// equal). ASCII letters fold to lower case, as do almost all others; the
// representative is fixed per class, so the result does not depend on
// which member of a class comes first.
func appendFolded(dst, v []byte) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c) // not UTF-8: kept as it is
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

// needsFold reports whether appendFolded would change v: an ASCII upper
// case letter or any byte past ASCII. Most values in most columns are
// neither, and are counted where they are.
func needsFold(v []byte) bool {
	for _, c := range v {
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// foldRune returns the representative of r's simple case folding class:
// the lower case of the class's smallest member when that is in the class
// (it is not for U+0130, whose lower case 'i' is in another class), else
// the smallest member. unicode.SimpleFold walks the class as a cycle.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	lower := unicode.ToLower(least)
	for f := unicode.SimpleFold(least); ; f = unicode.SimpleFold(f) {
		if f == lower {
			return lower
		}
		if f == least {
			return least
		}
	}
}
