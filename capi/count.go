package main

import (
	"bytes"
	"context"
	"encoding/json"
	"unsafe"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/uniq"
)

// viewBytes views n bytes at p as a slice, without copying. The slice is
// valid only during the current C call: nothing may keep it.
func viewBytes(p unsafe.Pointer, n int64) []byte {
	if n == 0 || p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}

// viewStrings views a C array of n string pointers and a parallel array of n
// int64 lengths as Go strings, without copying. The strings are valid only
// during the current C call: nothing may keep them.
func viewStrings(items unsafe.Pointer, lengths unsafe.Pointer, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	ptrs := unsafe.Slice((**byte)(items), n)
	lens := unsafe.Slice((*int64)(lengths), n)
	strs := make([]string, n)
	for i, p := range ptrs {
		l := lens[i]
		switch {
		case l < 0:
			return nil, hotpath.Errorf(hotpath.EINVALID, "negative length at item %d", i)
		case l == 0:
			continue
		case p == nil:
			return nil, hotpath.Errorf(hotpath.EINVALID, "null pointer at item %d", i)
		}
		strs[i] = unsafe.String(p, int(l))
	}
	return strs, nil
}

// viewPacked views buf as n strings laid back to back, the i-th lengths[i]
// bytes long, without copying. The lengths must add up to len(buf).
func viewPacked(buf []byte, lengths unsafe.Pointer, n int) ([]string, error) {
	if n == 0 {
		if len(buf) != 0 {
			return nil, hotpath.Errorf(hotpath.EINVALID, "no lengths for a buffer of %d bytes", len(buf))
		}
		return nil, nil
	}
	lens := unsafe.Slice((*int64)(lengths), n)
	strs := make([]string, n)
	off := int64(0)
	for i, l := range lens {
		if l < 0 || l > int64(len(buf))-off {
			return nil, hotpath.Errorf(hotpath.EINVALID, "lengths exceed the buffer at item %d", i)
		}
		if l > 0 {
			strs[i] = unsafe.String(&buf[off], int(l))
		}
		off += l
	}
	if off != int64(len(buf)) {
		return nil, hotpath.Errorf(hotpath.EINVALID, "lengths add up to %d, the buffer holds %d bytes", off, len(buf))
	}
	return strs, nil
}

// delimitedValues returns how many values buf holds when sep separates them:
// none for an empty buffer, else one more than the separators.
func delimitedValues(buf []byte, sep byte) int64 {
	if len(buf) == 0 {
		return 0
	}
	return int64(bytes.Count(buf, []byte{sep})) + 1
}

// fileOptions are the options of hotpath_count_file as JSON; they mirror the
// flags of `hotpath uniq`.
type fileOptions struct {
	Columns     []string `json:"columns"`
	Keys        []string `json:"keys"`
	By          []string `json:"by"`
	Records     bool     `json:"records"`
	NoHeader    bool     `json:"no_header"`
	Delimiter   string   `json:"delimiter"`
	Trim        bool     `json:"trim"`
	IgnoreCase  bool     `json:"ignore_case"`
	SkipEmpty   bool     `json:"skip_empty"`
	Nulls       []string `json:"nulls"`
	Quote       string   `json:"quote"`
	Top         int      `json:"top"`
	Approx      bool     `json:"approx"`
	Precision   uint8    `json:"precision"`
	MemoryLimit int64    `json:"memory"`
	TempDir     string   `json:"temp_dir"`
	Lenient     bool     `json:"lenient"`
	Workers     int      `json:"workers"`
}

// parseFileOptions decodes a JSON options object into uniq.Options. Unknown
// keys are EINVALID, so that a typo is not silently ignored.
func parseFileOptions(doc string) (uniq.Options, error) {
	var fo fileOptions
	if doc != "" {
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fo); err != nil {
			return uniq.Options{}, hotpath.WrapError(hotpath.EINVALID, err, "bad options: %v", err)
		}
	}
	opts := uniq.Options{
		Columns: fo.Columns, Keys: fo.Keys, By: fo.By, Records: fo.Records, NoHeader: fo.NoHeader, Trim: fo.Trim,
		Top: fo.Top, Approx: fo.Approx, Precision: fo.Precision, MemoryLimit: fo.MemoryLimit,
		TempDir: fo.TempDir, Lenient: fo.Lenient, Workers: fo.Workers,
		IgnoreCase: fo.IgnoreCase, SkipEmpty: fo.SkipEmpty, Nulls: fo.Nulls,
	}
	switch len(fo.Delimiter) {
	case 0:
	case 1:
		opts.Delimiter = fo.Delimiter[0]
	default:
		return uniq.Options{}, hotpath.Errorf(hotpath.EINVALID, "delimiter must be one byte, got %q", fo.Delimiter)
	}
	if err := opts.SetQuote(fo.Quote); err != nil {
		return uniq.Options{}, err
	}
	return opts, nil
}

// countFile runs the distinct count of the file at path with the JSON
// options doc and returns the result as JSON.
func countFile(ctx context.Context, path, doc string) ([]byte, error) {
	opts, err := parseFileOptions(doc)
	if err != nil {
		return nil, err
	}
	res, err := uniq.CountFile(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINTERNAL, err, "internal error: encoding the result")
	}
	return out, nil
}
