package main

import (
	"bytes"
	"unicode/utf8"
	"unsafe"

	"github.com/hotpath/hotpath/uniq"
)

// Offsets every CPython 3 object shares: ob_type after ob_refcnt, then the
// size (a str's length in characters, a bytes object's in bytes), and a str's
// state bits after its cached hash.
const (
	pyTypeOffset  = 8
	pySizeOffset  = 16
	pyStateOffset = 32
)

// pointerDedupLimit bounds the table of distinct object pointers: past it
// the items are mostly distinct objects and every item is read instead.
const pointerDedupLimit = 1 << 16

// pyLayout is CPython's object layout as the calling interpreter measured
// it (hotpath/uniq.py probes it at run time): the addresses of the exact str
// and bytes types, and where a compact ASCII str, a compact non-ASCII str and
// a bytes object keep their data.
type pyLayout struct {
	strType, bytesType                uintptr
	asciiData, compactData, bytesData int
}

// countPyObjects counts the distinct values among objs (see
// hotpath_count_pyobjects); ok is false when an object is not one it reads.
func countPyObjects(objs []unsafe.Pointer, layout pyLayout, trim bool) (count int64, ok bool) {
	strs, raw, ok := pyValues(distinctObjects(objs), layout)
	if !ok || (trim && len(raw) > 0) {
		// bytes.strip() removes ASCII whitespace only, not what str.strip()
		// removes: stripped bytes values are left to the caller.
		return -1, false
	}
	// A str never equals a bytes object: the two kinds are counted apart.
	return countValues(strs, trim) + countValues(raw, trim), true
}

// separators are the bytes countValues tries between values, likeliest
// absent first.
var separators = []byte{'\n', 0, 0x1f, 0x1e, 0x1d, 0x1c, 1, 2, 3, 4, 5, 6, 7, 8}

// countValues counts the distinct values of vals. Many values are copied into
// one buffer, joined by a byte that no value holds, for the partitioned
// engine of uniq.CountDelimited (measured: the copy costs less than what it
// saves over uniq.CountStrings' per-worker sets once the values number in the
// hundreds of thousands); few are counted in place.
func countValues(vals []string, trim bool) int64 {
	if len(vals) < 1<<16 {
		return uniq.CountStrings(vals, trim)
	}
	size := len(vals) - 1
	for _, v := range vals {
		size += len(v)
	}
	buf := make([]byte, size)
	for _, sep := range separators {
		off := 0
		for i, v := range vals {
			off += copy(buf[off:], v)
			if i < len(vals)-1 {
				buf[off] = sep
				off++
			}
		}
		if bytes.Count(buf, []byte{sep}) == len(vals)-1 {
			return uniq.CountDelimited(buf, sep, trim)
		}
	}
	return uniq.CountStrings(vals, trim)
}

// distinctObjects returns objs without repeats of the same object while
// there are at most pointerDedupLimit distinct ones, else objs itself: a
// list built as ["a", "b"] * 1000000 holds two objects, read twice rather
// than two million times.
func distinctObjects(objs []unsafe.Pointer) []unsafe.Pointer {
	const size = pointerDedupLimit * 2
	table := make([]unsafe.Pointer, size)
	var out []unsafe.Pointer
	for _, p := range objs {
		h := (uintptr(p) >> 4) * 0x9E3779B97F4A7C15 >> (64 - 17)
		for table[h] != nil && table[h] != p {
			h = (h + 1) & (size - 1)
		}
		if table[h] == p {
			continue
		}
		if len(out) == pointerDedupLimit {
			return objs
		}
		table[h] = p
		out = append(out, p)
	}
	return out
}

// pyValues returns the values of the str objects and of the bytes objects in
// objs, as strings viewing the interpreter's memory where it holds UTF-8 (an
// ASCII str, a bytes object) and as UTF-8 copies otherwise; ok is false for
// any other object.
func pyValues(objs []unsafe.Pointer, layout pyLayout) (strs, raw []string, ok bool) {
	strs = make([]string, 0, len(objs))
	var arena []byte
	for _, p := range objs {
		typ := *(*uintptr)(unsafe.Add(p, pyTypeOffset))
		size := int(*(*int64)(unsafe.Add(p, pySizeOffset)))
		switch typ {
		case layout.bytesType:
			raw = append(raw, unsafe.String((*byte)(unsafe.Add(p, layout.bytesData)), size))
		case layout.strType:
			state := *(*uint32)(unsafe.Add(p, pyStateOffset))
			kind, compact, ascii := state>>2&7, state>>5&1, state>>6&1
			switch {
			case compact == 0:
				return nil, nil, false
			case ascii == 1:
				strs = append(strs, unsafe.String((*byte)(unsafe.Add(p, layout.asciiData)), size))
			default:
				start := len(arena)
				arena = appendUTF8(arena, unsafe.Add(p, layout.compactData), size, kind)
				// A later append that moves arena leaves this view on the old
				// array, which nothing writes again.
				strs = append(strs, unsafe.String(unsafe.SliceData(arena[start:]), len(arena)-start))
			}
		default:
			return nil, nil, false
		}
	}
	return strs, raw, true
}

// appendUTF8 appends the n characters at data, kind bytes each (CPython's
// 1, 2 or 4-byte canonical forms), encoded as UTF-8; a lone surrogate is
// written as its three bytes, as Python's "surrogatepass" does, so that
// distinct strings stay distinct.
func appendUTF8(dst []byte, data unsafe.Pointer, n int, kind uint32) []byte {
	for i := 0; i < n; i++ {
		var r rune
		switch kind {
		case 1:
			r = rune(*(*uint8)(unsafe.Add(data, i)))
		case 2:
			r = rune(*(*uint16)(unsafe.Add(data, 2*i)))
		default:
			r = rune(*(*uint32)(unsafe.Add(data, 4*i)))
		}
		if r >= 0xD800 && r <= 0xDFFF {
			dst = append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
