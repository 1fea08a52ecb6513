package uniq

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/hotpath/hotpath"
)

// Dedup writes the records of inputs to out without those whose key an
// earlier record had: the key is the columns of opts.Keys, or the whole
// record (parsed, so quoting does not matter) when it is empty. The first
// occurrence is kept, in input order, byte for byte as it was (its line end
// added when the input's last record had none); the first input's header
// comes first. It counts as a keyed count does, in one pass on every core
// within opts.MemoryLimit, and then copies the kept records from the
// inputs; a stream, or a compressed file, is kept decompressed in an
// unlinked temp file for that second read. The result counts the distinct
// keys (the records written) and the rows read.
func Dedup(ctx context.Context, inputs []Input, opts Options, out io.Writer) (*Result, error) {
	return writeFirsts(ctx, inputs, opts, out, func(bw *bufio.Writer, k *keyed, input int, rec []byte) error {
		if _, err := bw.Write(rec); err != nil {
			return err
		}
		if !bytes.HasSuffix(rec, []byte{'\n'}) && !bytes.HasSuffix(rec, []byte{'\r'}) {
			return bw.WriteByte('\n')
		}
		return nil
	}, true)
}

// DistinctValues writes every distinct value of the column in
// opts.Columns (one), or of the composite key opts.Keys, to out once, in
// the order of their first occurrence: one value a line as it is, or, when
// asCSV is set or the key has several columns, as CSV records (quoted
// where needed) under a header of the column names. A value holding a
// newline needs CSV to stay one line.
func DistinctValues(ctx context.Context, inputs []Input, opts Options, out io.Writer, asCSV bool) (*Result, error) {
	switch {
	case len(opts.Keys) > 0 && len(opts.Columns) > 0:
		return nil, hotpath.Errorf(hotpath.EINVALID, "distinct values are of one column or one composite key, not both")
	case len(opts.Keys) == 0 && len(opts.Columns) != 1:
		return nil, hotpath.Errorf(hotpath.EINVALID, "distinct values are of one column (or of a composite key with -k a,b)")
	case len(opts.By) > 0:
		return nil, hotpath.Errorf(hotpath.EINVALID, "distinct values cannot be listed per group")
	}
	if len(opts.Keys) == 0 {
		opts.Keys, opts.Columns = opts.Columns, nil
	}
	asCSV = asCSV || len(opts.Keys) > 1
	delim := cmp.Or(opts.Delimiter, ',')
	var fields, vals [][]byte
	var scratch, line []byte
	header := asCSV
	return writeFirsts(ctx, inputs, opts, out, func(bw *bufio.Writer, k *keyed, input int, rec []byte) error {
		if header {
			header = false
			names := make([][]byte, len(k.names))
			for i, n := range k.names {
				names[i] = []byte(n)
			}
			if _, err := bw.Write(append(appendCSV(nil, names, delim), '\n')); err != nil {
				return err
			}
		}
		var f fault
		fields, scratch, _, f = parseRecordAt(trimLineEnd(rec), 0, delim, k.quote, 0, fields[:0], scratch)
		if f.msg != "" { // the count parsed it: the input changed since
			return errFileChanged
		}
		vals = vals[:0]
		for _, f := range k.cols[input] {
			if f >= len(fields) {
				return errFileChanged
			}
			v := fields[f]
			if opts.Trim {
				v = pyStrip(v)
			}
			vals = append(vals, v)
		}
		switch {
		case asCSV && len(vals) == 1 && len(vals[0]) == 0:
			line = append(line[:0], `""`...) // an empty line is no record
		case asCSV:
			line = appendCSV(line[:0], vals, delim)
		default:
			line = append(line[:0], vals[0]...)
		}
		_, err := bw.Write(append(line, '\n'))
		return err
	}, false)
}

// appendCSV writes fields as a CSV record separated by delim, quoting
// with '"' the fields that hold delim, a quote or a line break.
func appendCSV(dst []byte, fields [][]byte, delim byte) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, delim)
		}
		if bytes.IndexByte(f, delim) < 0 && bytes.IndexAny(f, "\"\r\n") < 0 {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, '"')
		for _, b := range f {
			if b == '"' {
				dst = append(dst, '"')
			}
			dst = append(dst, b)
		}
		dst = append(dst, '"')
	}
	return dst
}

func trimLineEnd(rec []byte) []byte {
	rec = bytes.TrimSuffix(rec, []byte{'\n'})
	return bytes.TrimSuffix(rec, []byte{'\r'})
}

// rereadable is an input the kept records are copied from after the count.
type rereadable struct {
	r    io.ReaderAt
	size int64
	f    *os.File // to close
	orig *os.File // the compressed file read through the tee, to close
}

// writeFirsts runs the keyed count that keeps each distinct key's first
// record, then hands the records, in input order, to write (after the
// first input's header when withHeader and the input has one).
func writeFirsts(ctx context.Context, inputs []Input, opts Options, out io.Writer, write func(bw *bufio.Writer, k *keyed, input int, rec []byte) error, withHeader bool) (res *Result, err error) {
	if len(opts.By) > 0 {
		return nil, hotpath.Errorf(hotpath.EINVALID, "groups do not apply here")
	}
	srcs := make([]rereadable, len(inputs))
	defer func() {
		for _, s := range srcs {
			for _, f := range []*os.File{s.f, s.orig} {
				if f != nil {
					f.Close()
				}
			}
		}
	}()
	counted := make([]Input, len(inputs))
	for i, in := range inputs {
		if counted[i], srcs[i], err = prepareReread(in, opts.TempDir); err != nil {
			return nil, err
		}
	}
	opts.Columns, opts.Keys = opts.Keys, nil
	k := &keyed{mode: keyKeep}
	res, firsts, err := keepFirst(ctx, counted, opts, k)
	if err != nil {
		return nil, err
	}
	for i := range srcs {
		if srcs[i].f != nil && srcs[i].r == nil { // a temp copy: now complete
			st, err := srcs[i].f.Stat()
			if err != nil {
				return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "temp copy of the input")
			}
			srcs[i].r, srcs[i].size = srcs[i].f, st.Size()
		}
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	if withHeader && !opts.NoHeader && len(srcs) > 0 {
		first := srcs[0].size
		if len(firsts) > 0 && firsts[0].ord>>ordinalInputShift == 0 {
			first = int64(firsts[0].ord)
		}
		h, err := headerBytes(srcs[0], first)
		if err != nil {
			return nil, err
		}
		if _, err := bw.Write(h); err != nil {
			return nil, writeError(err)
		}
	}
	readers := make([]*bufio.Reader, len(srcs))
	pos := make([]int64, len(srcs))
	var rec []byte
	for _, fr := range firsts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, off := int(fr.ord>>ordinalInputShift), int64(fr.ord&(1<<ordinalInputShift-1))
		if readers[in] == nil {
			readers[in] = bufio.NewReaderSize(io.NewSectionReader(srcs[in].r, 0, srcs[in].size), 1<<20)
		}
		if _, err := readers[in].Discard(int(off - pos[in])); err != nil {
			return nil, errFileChanged
		}
		rec = slicesGrow(rec, int(fr.raw))
		if _, err := io.ReadFull(readers[in], rec); err != nil {
			return nil, errFileChanged
		}
		pos[in] = off + int64(fr.raw)
		if err := write(bw, k, in, rec); err != nil {
			if errors.Is(err, errFileChanged) {
				return nil, err
			}
			return nil, writeError(err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, writeError(err)
	}
	return res, nil
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func writeError(err error) error {
	return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot write the output")
}

// headerBytes returns the header record of an input whose first data
// record starts at first: its bytes after any byte order mark, without the
// blank lines that may follow it, ending in a newline.
func headerBytes(src rereadable, first int64) ([]byte, error) {
	h := make([]byte, first)
	if _, err := src.r.ReadAt(h, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, errFileChanged
	}
	h = bytes.TrimPrefix(h, bom)
	if len(h) == 0 {
		return nil, nil
	}
	end := bytes.TrimRight(h, "\r\n")
	nl := "\n"
	if len(end) < len(h) && h[len(end)] == '\r' && len(end)+1 < len(h) && h[len(end)+1] == '\n' {
		nl = "\r\n"
	}
	return append(end[:len(end):len(end)], nl...), nil
}

// prepareReread returns the input to count and where its records can be
// read again: a plain file is read again itself; a stream or a compressed
// file is counted through a tee into an unlinked temp file, decompressed.
func prepareReread(in Input, tempDir string) (Input, rereadable, error) {
	var orig *os.File
	if in.Reader == nil {
		f, err := os.Open(in.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return in, rereadable{}, hotpath.WrapError(hotpath.ENOTFOUND, err, "%s: no such file", in.Path)
		} else if err != nil {
			return in, rereadable{}, hotpath.WrapError(hotpath.EINVALID, err, "%s: cannot open", in.Path)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return in, rereadable{}, hotpath.WrapError(hotpath.EINVALID, err, "%s: cannot stat", in.Path)
		}
		if st.IsDir() {
			f.Close()
			return in, rereadable{}, hotpath.Errorf(hotpath.EINVALID, "%s is a directory", in.Path)
		}
		var magic [4]byte
		n, _ := f.ReadAt(magic[:], 0)
		if st.Mode().IsRegular() && compression(magic[:n]) == "" {
			return in, rereadable{r: f, size: st.Size(), f: f}, nil
		}
		in.Reader = f
		orig = f // read through the tee by the count
	}
	tmp, err := os.CreateTemp(tempDir, "hotpath-input-*")
	if err != nil {
		if orig != nil {
			orig.Close()
		}
		return in, rereadable{}, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot create a temp file in %q", tempDir)
	}
	_ = os.Remove(tmp.Name())
	in.Reader = &teeInput{r: in.Reader, tmp: tmp}
	return in, rereadable{f: tmp, orig: orig}, nil
}

// teeInput decompresses what it reads (on its first read, by the magic
// bytes) and copies it to a temp file.
type teeInput struct {
	r     io.Reader
	tmp   *os.File
	src   io.Reader
	close func()
	err   error
}

func (t *teeInput) Read(p []byte) (int, error) {
	if t.src == nil {
		src, closeSrc, _, err := decompress(bufio.NewReaderSize(t.r, 1<<20))
		if err != nil {
			return 0, err
		}
		t.src, t.close = src, closeSrc
	}
	n, err := t.src.Read(p)
	if n > 0 {
		if _, werr := t.tmp.Write(p[:n]); werr != nil {
			return n, hotpath.WrapError(hotpath.EUNAVAILABLE, werr, "cannot write the temp copy of the input")
		}
	}
	if err == io.EOF && t.close != nil {
		t.close()
		t.close = nil
	}
	return n, err
}
