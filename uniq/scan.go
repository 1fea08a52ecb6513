package uniq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/hotpath/hotpath"
)

// chunk is a run of whole records (or whole lines) for one worker to scan.
type chunk struct {
	data     []byte
	lineOf   func(pos int) int64 // the 1-based input line of data[pos], for errors
	buf      []byte              // the buffer to recycle after the scan, if any
	fileBase int64               // offset of data[0] in the engine's fileSpace; -1 when not mapped
	offset   int64               // offset of data[0] in the input, which orders errors
}

// worker scans chunks into its own sets (or sketches); the engine merges the
// workers' results per partition at the end.
type worker struct {
	e       *engine
	sets    []*set   // per target; nil with Approx and when staging
	stages  []*stage // per target when the engine is radix-partitioned
	batches []batch  // per target: values hashed, not yet inserted
	held    []byte   // copies of batched values that were not in the chunk
	hlls    []*hll   // per target with Approx
	fields  [][]byte
	vals    [][]byte     // per column target: the record's values (scanColumns)
	masks   []blockMasks // structural bytes of the chunk (scanColumns)
	scratch []byte
	canon   []byte
	folded  []byte  // the last value folded by normalize
	nulls   []int64 // per target: values not counted (normalize)
	rows    int64
	skipped int64
	// nextCheck is the staged entries at which stageFull next estimates
	// how many of them are distinct.
	nextCheck int
	// fileBase is the fileSpace offset of the chunk being scanned, -1 when
	// it is not mapped; dataAddr is the address of its first byte.
	fileBase int64
	dataAddr uintptr
	keyed    *keyedWorker // the tables of a keyed count (keyed.go)
}

func newWorker(e *engine) *worker {
	w := &worker{e: e, fileBase: -1}
	if e.keyed != nil {
		w.keyed = &keyedWorker{}
		e.keyed.workers = append(e.keyed.workers, w.keyed)
		return w
	}
	for range e.names {
		switch {
		case e.opts.Approx:
			w.hlls = append(w.hlls, newHLL(e.precision))
		case e.radix:
			w.stages = append(w.stages, newStage(e.blocks))
		default:
			w.sets = append(w.sets, newSet(&e.setCfg))
		}
	}
	w.batches = make([]batch, len(w.sets))
	w.nulls = make([]int64, len(e.names))
	return w
}

// normalize applies IgnoreCase, SkipEmpty and Nulls to value v of target
// t (trimmed already, with Trim): it returns the value to count, which may
// be w.folded, valid until the next call, and false for a null.
func (w *worker) normalize(t int, v []byte) ([]byte, bool) {
	e := w.e
	if e.opts.IgnoreCase && needsFold(v) {
		w.folded = appendFolded(w.folded[:0], v)
		v = w.folded
	}
	if len(v) == 0 && e.opts.SkipEmpty || e.nullSet != nil && e.nullSet[string(v)] {
		w.nulls[t]++
		return nil, false
	}
	return v, true
}

// addValue counts value v of target t, a column or the line, which stays
// valid until the chunk is done, after normalize when the options ask.
func (w *worker) addValue(t int, v []byte) {
	if !w.e.normalize {
		w.add(t, v)
		return
	}
	v, ok := w.normalize(t, v)
	if !ok {
		return
	}
	w.addCopy(t, v) // v may be w.folded
}

// add counts value v, which stays valid until the chunk is done, for target t.
func (w *worker) add(t int, v []byte) {
	h := hashValue(v)
	if w.hlls != nil {
		w.hlls[t].add(h)
		return
	}
	off := int64(-1)
	if w.fileBase >= 0 && len(v) > 0 {
		off = w.fileBase + int64(uintptr(unsafe.Pointer(unsafe.SliceData(v)))-w.dataAddr)
	}
	if w.stages != nil {
		w.stages[t].add(h, v, off)
		return
	}
	b := &w.batches[t]
	b.h[b.n], b.v[b.n], b.off[b.n] = h, v, off
	if b.n++; b.n == batchSize {
		w.sets[t].insertBatch(b)
	}
}

// addCopy counts value v, which the caller reuses, for target t.
func (w *worker) addCopy(t int, v []byte) {
	if w.hlls != nil {
		w.add(t, v)
		return
	}
	if w.stages != nil { // staging copies what is not in a mapped file
		base := w.fileBase
		w.fileBase = -1
		w.add(t, v)
		w.fileBase = base
		return
	}
	n := len(w.held)
	w.held = append(w.held, v...)
	base := w.fileBase
	w.fileBase = -1 // held copies are not in the file
	w.add(t, w.held[n:])
	w.fileBase = base
}

// flush inserts the batched values.
func (w *worker) flush() {
	for t := range w.batches {
		if w.batches[t].n > 0 {
			w.sets[t].insertBatch(&w.batches[t])
		}
	}
	w.held = w.held[:0]
}

// scan counts one chunk.
func (w *worker) scan(c *chunk) error {
	defer storeFence() // the stages' lines, for the cores that will read them
	defer w.flush()
	w.fileBase = c.fileBase
	if len(c.data) > 0 {
		w.dataAddr = uintptr(unsafe.Pointer(unsafe.SliceData(c.data)))
	}
	if w.e.lines {
		w.scanLines(c.data)
		return nil
	}
	return w.scanCSV(c)
}

// scanLines counts the lines of data as Python's text mode reads them
// (universal newlines: "\n", "\r\n" and a lone "\r" all end a line), each
// stripped of surrounding whitespace.
func (w *worker) scanLines(data []byte) {
	var rows int64
	nextCR := -1 // data[:nextCR] holds no '\r'; found lazily, as '\r' is rare
	for pos := 0; pos < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		if nextCR < pos {
			if k := bytes.IndexByte(data[pos:], '\r'); k >= 0 {
				nextCR = pos + k
			} else {
				nextCR = len(data)
			}
		}
		if end <= nextCR {
			w.addValue(0, pyStrip(data[pos:end]))
			rows++
		} else {
			line := data[pos:end]
			for {
				j := bytes.IndexByte(line, '\r')
				if j < 0 {
					w.addValue(0, pyStrip(line))
					rows++
					break
				}
				w.addValue(0, pyStrip(line[:j]))
				rows++
				line = line[j+1:]
				if len(line) == 0 { // "\r\n", or "\r" at the end
					break
				}
			}
		}
		pos = end + 1
	}
	w.rows += rows
}

// scanCSV counts the records of data. Records without a quote take the fast
// path: they end at the next record end and split at each delimiter.
func (w *worker) scanCSV(c *chunk) error {
	if w.e.fieldTarget != nil && !w.e.records && w.e.keyed == nil {
		return w.scanColumns(c)
	}
	a := ahead{quote: -1, cr: -1}
	for pos := 0; pos < len(c.data); {
		next, err := w.record(c, pos, &a)
		if err != nil {
			return err
		}
		pos = next
	}
	return nil
}

// ahead holds where the next quote and the next CR are, both rare, found
// once and reused by the records before them: data[pos:quote] holds no
// quote and data[pos:cr] no CR when they are >= pos, and they are found
// again otherwise.
type ahead struct{ quote, cr int }

// record counts the record at pos and returns where the next one starts.
func (w *worker) record(c *chunk, pos int, a *ahead) (int, error) {
	data := c.data
	end := len(data)
	if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	next := end + 1
	if a.cr < pos {
		a.cr = indexFrom(data, pos, '\r')
	}
	if a.cr < end { // CRLF ends the record; a lone CR too, where it is
		if a.cr+1 != end || end == len(data) {
			next = a.cr + 1
		}
		end = a.cr
	}
	if a.quote < pos {
		a.quote = len(data)
		if w.e.quoting {
			a.quote = indexFrom(data, pos, w.e.quote)
		}
	}
	if end <= a.quote {
		if end > pos && w.keyed != nil { // a keyed count wants every field
			return w.quotedRecord(c, pos)
		}
		if end > pos {
			return next, w.plainRecord(c, pos, data[pos:end])
		}
		return next, nil // an empty line is no record
	}
	return w.quotedRecord(c, pos)
}

// indexFrom is the index of the first c in data at or after pos, or len(data).
func indexFrom(data []byte, pos int, c byte) int {
	if k := bytes.IndexByte(data[pos:], c); k >= 0 {
		return pos + k
	}
	return len(data)
}

// plainRecord counts a record that holds no quote (nor record end).
func (w *worker) plainRecord(c *chunk, pos int, rec []byte) error {
	e := w.e
	w.rows++
	canonical := e.records && (e.opts.Trim || e.opts.IgnoreCase)
	if len(e.cols) > 0 || canonical {
		fields, r := w.fields[:0], rec
		for len(fields) <= e.maxField || canonical {
			k := indexByteShort(r, e.delim)
			if k < 0 {
				fields = append(fields, r)
				break
			}
			fields = append(fields, r[:k])
			r = r[k+1:]
		}
		w.fields = fields
		if len(e.cols) > 0 && len(fields) <= e.maxField {
			return w.short(c, pos, len(fields))
		}
	}
	t := 0
	if e.records {
		if canonical {
			w.canon = appendCanonical(w.canon[:0], w.fields, e.delim, e.quote, e.opts.Trim, e.opts.IgnoreCase)
			w.addCopy(0, w.canon)
		} else {
			w.add(0, rec) // a record without quotes is its own canonical form
		}
		t = 1
	}
	for i, f := range e.cols {
		v := w.fields[f]
		if e.opts.Trim {
			v = pyStrip(v)
		}
		w.addValue(t+i, v)
	}
	return nil
}

// quotedRecord counts the record at pos, which holds a quote, with the
// full parser, and returns where the next record starts: after its record
// end, or, when it is malformed, after the first record end at or after
// the fault (so a bad record costs that record and no other).
func (w *worker) quotedRecord(c *chunk, pos int) (int, error) {
	e := w.e
	w.rows++
	want := 0 // all fields
	if !e.records && e.keyed == nil {
		want = e.maxField + 1
	}
	fields, scratch, next, f := parseRecordAt(c.data, pos, e.delim, e.quote, want, w.fields[:0], w.scratch)
	w.fields, w.scratch = fields, scratch
	if f.msg != "" {
		return next, w.bad(c, f.at, f.field, f.msg)
	}
	if len(e.cols) > 0 && len(fields) <= e.maxField {
		return next, w.short(c, pos, len(fields))
	}
	if w.keyed != nil {
		w.keyedRecord(c, pos, next, fields)
		return next, nil
	}
	t := 0
	if e.records {
		w.canon = appendCanonical(w.canon[:0], fields, e.delim, e.quote, e.opts.Trim, e.opts.IgnoreCase)
		w.addCopy(0, w.canon)
		t = 1
	}
	for i, f := range e.cols {
		v := fields[f]
		if e.opts.Trim {
			v = pyStrip(v)
		}
		if e.normalize {
			var ok bool
			if v, ok = w.normalize(t+i, v); !ok {
				continue
			}
		}
		w.addCopy(t+i, v) // may point into scratch
	}
	return next, nil
}

func (w *worker) short(c *chunk, pos int, n int) error {
	e := w.e
	for i, f := range e.cols {
		if f >= n {
			return w.bad(c, pos, 0, fmt.Sprintf("row has %d fields, column %s is field %d", n, e.names[len(e.names)-len(e.cols)+i], f+1))
		}
	}
	return w.bad(c, pos, 0, "row too short")
}

// bad reports a malformed row, whose fault is at data[pos] (in its
// 1-based field, 0 for the row as a whole), or counts it as skipped in
// lenient mode.
func (w *worker) bad(c *chunk, pos, field int, msg string) error {
	if w.e.opts.Lenient {
		w.skipped++
		return nil
	}
	where := fmt.Sprintf("line %d", c.lineOf(pos))
	if field > 0 {
		where += fmt.Sprintf(", field %d", field)
	}
	return &recordError{at: c.offset + int64(pos), err: hotpath.Errorf(hotpath.EINVALID, "%s: %s", where, msg)}
}

// recordError is a malformed record's error with its place in the input:
// of the errors the workers find, the first in the input is reported (the
// chunks after it may start in the wrong place, and fail otherwise).
type recordError struct {
	at  int64
	err error
}

func (r *recordError) Error() string { return r.err.Error() }
func (r *recordError) Unwrap() error { return r.err }

// indexByteShort is bytes.IndexByte for fields that are usually short:
// the first 16 bytes are searched a word at a time (SWAR: the lowest zero
// byte of x sets the lowest bit of (x-0x01..)&^x&0x80..), which beats the
// call into the vector search.
func indexByteShort(b []byte, c byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	pat := uint64(c) * ones
	i := 0
	for ; i < 16 && i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ pat
		if m := (x - ones) &^ x & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	if i < 16 { // fewer than 8 bytes left
		for ; i < len(b); i++ {
			if b[i] == c {
				return i
			}
		}
		return -1
	}
	if k := bytes.IndexByte(b[i:], c); k >= 0 {
		return i + k
	}
	return -1
}

// appendCanonical writes fields as one record quoted only where needed
// (with quote; without quoting, quote is '\n', which no field holds), so
// that records with equal fields get equal bytes however they were quoted.
// A record without quotes is its own canonical form.
func appendCanonical(dst []byte, fields [][]byte, delim, quote byte, trim, fold bool) []byte {
	for i, f := range fields {
		if trim {
			f = pyStrip(f)
		}
		if i > 0 {
			dst = append(dst, delim)
		}
		if fold && needsFold(f) { // folded in place, copied only to be quoted
			n := len(dst)
			dst = appendFolded(dst, f)
			if f = dst[n:]; bytes.IndexByte(f, delim) < 0 && bytes.IndexByte(f, quote) < 0 {
				continue
			}
			f = append([]byte(nil), f...)
			dst = dst[:n]
		} else if bytes.IndexByte(f, delim) < 0 && bytes.IndexByte(f, quote) < 0 {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, quote)
		for _, b := range f {
			if b == quote {
				dst = append(dst, quote)
			}
			dst = append(dst, b)
		}
		dst = append(dst, quote)
	}
	return dst
}
