package main

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/hotpath/hotpath/uniq"
)

func TestCountValuesJoinsWithAnAbsentByte(t *testing.T) {
	// Enough values for the joined path, some holding the likeliest separators.
	vals := make([]string, 0, 1<<17)
	for i := range 1 << 17 {
		vals = append(vals, fmt.Sprintf("v%d", i%70000))
	}
	vals[5], vals[6], vals[7] = "with\nnewline", "with\x00nul", "with\nnewline"
	want := uniq.CountStrings(vals, false)
	if got := countValues(vals, false); got != want {
		t.Errorf("countValues = %d, want %d", got, want)
	}
	if got, want := countValues(vals, true), uniq.CountStrings(vals, true); got != want {
		t.Errorf("countValues trimmed = %d, want %d", got, want)
	}
}

func TestDistinctObjects(t *testing.T) {
	a, b := new(int), new(int)
	objs := []unsafe.Pointer{unsafe.Pointer(a), unsafe.Pointer(b), unsafe.Pointer(a), unsafe.Pointer(a)}
	if got := distinctObjects(objs); len(got) != 2 || got[0] != objs[0] || got[1] != objs[1] {
		t.Errorf("distinctObjects = %v, want [a b]", got)
	}
	many := make([]unsafe.Pointer, pointerDedupLimit+1)
	for i := range many {
		many[i] = unsafe.Pointer(new(int64))
	}
	if got := distinctObjects(many); len(got) != len(many) {
		t.Errorf("past the limit: %d objects, want all %d", len(got), len(many))
	}
}

func TestAppendUTF8KeepsSurrogatesDistinct(t *testing.T) {
	for _, tc := range []struct {
		units []uint16
		want  string
	}{
		{[]uint16{'a', 0x100}, "a\u0100"},
		{[]uint16{0xD800}, "\xed\xa0\x80"},
		{[]uint16{0xDFFF}, "\xed\xbf\xbf"},
	} {
		got := string(appendUTF8(nil, unsafe.Pointer(&tc.units[0]), len(tc.units), 2))
		if got != tc.want {
			t.Errorf("appendUTF8(%x) = %q, want %q", tc.units, got, tc.want)
		}
	}
	latin := []byte{'c', 0xE9}
	if got := string(appendUTF8(nil, unsafe.Pointer(&latin[0]), 2, 1)); got != "c\u00e9" {
		t.Errorf("latin-1: %q", got)
	}
	if strings.Contains(string(appendUTF8(nil, unsafe.Pointer(&[]uint32{0x1F600}[0]), 1, 4)), "\uFFFD") {
		t.Error("a 4-byte character became U+FFFD")
	}
}
