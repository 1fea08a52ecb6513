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
	rows    int64
	skipped int64
	// nextCheck is the staged entries at which stageFull next estimates
	// how many of them are distinct.
	nextCheck int
	// fileBase is the fileSpace offset of the chunk being scanned, -1 when
	// it is not mapped; dataAddr is the address of its first byte.
	fileBase int64
	dataAddr uintptr
}

func newWorker(e *engine) *worker {
	w := &worker{e: e, fileBase: -1}
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
	return w
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
			w.add(0, pyStrip(data[pos:end]))
			rows++
		} else {
			line := data[pos:end]
			for {
				j := bytes.IndexByte(line, '\r')
				if j < 0 {
					w.add(0, pyStrip(line))
					rows++
					break
				}
				w.add(0, pyStrip(line[:j]))
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

var quote = []byte{'"'}

// scanCSV counts the records of data. Records without a quote take the fast
// path: they end at the next newline and split at each delimiter.
func (w *worker) scanCSV(c *chunk) error {
	if w.e.fieldTarget != nil && !w.e.records {
		return w.scanColumns(c)
	}
	nextQuote := -1 // data[:nextQuote] holds no quote; found lazily, as quotes are rare
	for pos := 0; pos < len(c.data); {
		next, err := w.record(c, pos, &nextQuote)
		if err != nil {
			return err
		}
		pos = next
	}
	return nil
}

// record counts the record at pos and returns where the next one starts.
// data[pos:*nextQuote] holds no quote when *nextQuote >= pos; it is found
// again otherwise.
func (w *worker) record(c *chunk, pos int, nextQuote *int) (int, error) {
	data := c.data
	end := len(data)
	if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	if *nextQuote < pos {
		if k := bytes.IndexByte(data[pos:], '"'); k >= 0 {
			*nextQuote = pos + k
		} else {
			*nextQuote = len(data)
		}
	}
	if end <= *nextQuote {
		if rec := trimCR(data[pos:end]); len(rec) > 0 {
			if err := w.plainRecord(c, pos, rec); err != nil {
				return 0, err
			}
		}
		return end + 1, nil
	}
	// Usually the quotes close on the line: an even number of them
	// means the newline ends the record.
	open := false
	if end == len(data) || bytes.Count(data[*nextQuote:end], quote)&1 != 0 {
		end, open = recordEnd(data, pos)
	}
	if end < 0 {
		if open {
			w.rows++
			return len(data), w.bad(c, pos, "unterminated quote")
		}
		end = len(data)
	}
	if err := w.quotedRecord(c, pos, trimCR(data[pos:end])); err != nil {
		return 0, err
	}
	return end + 1, nil
}

// plainRecord counts a record that holds no quote.
func (w *worker) plainRecord(c *chunk, pos int, rec []byte) error {
	e := w.e
	if e.records && e.opts.Trim {
		return w.quotedRecord(c, pos, rec)
	}
	w.rows++
	if len(e.cols) > 0 {
		fields, r := w.fields[:0], rec
		for len(fields) <= e.maxField {
			k := indexByteShort(r, e.delim)
			if k < 0 {
				fields = append(fields, r)
				break
			}
			fields = append(fields, r[:k])
			r = r[k+1:]
		}
		w.fields = fields
		if len(fields) <= e.maxField {
			return w.short(c, pos, len(fields))
		}
	}
	t := 0
	if e.records {
		w.add(0, rec)
		t = 1
	}
	for i, f := range e.cols {
		v := w.fields[f]
		if e.opts.Trim {
			v = pyStrip(v)
		}
		w.add(t+i, v)
	}
	return nil
}

// quotedRecord counts a record that needs the full RFC 4180 parser.
func (w *worker) quotedRecord(c *chunk, pos int, rec []byte) error {
	e := w.e
	w.rows++
	want := 0 // all fields
	if !e.records {
		want = e.maxField + 1
	}
	fields, scratch, msg := parseRecord(rec, e.delim, want, w.fields[:0], w.scratch)
	w.fields, w.scratch = fields, scratch
	if msg != "" {
		return w.bad(c, pos, msg)
	}
	if len(e.cols) > 0 && len(fields) <= e.maxField {
		return w.short(c, pos, len(fields))
	}
	t := 0
	if e.records {
		w.canon = appendCanonical(w.canon[:0], fields, e.delim, e.opts.Trim)
		w.addCopy(0, w.canon)
		t = 1
	}
	for i, f := range e.cols {
		v := fields[f]
		if e.opts.Trim {
			v = pyStrip(v)
		}
		w.addCopy(t+i, v) // may point into scratch
	}
	return nil
}

func (w *worker) short(c *chunk, pos int, n int) error {
	e := w.e
	for i, f := range e.cols {
		if f >= n {
			return w.bad(c, pos, fmt.Sprintf("row has %d fields, column %s is field %d", n, e.names[len(e.names)-len(e.cols)+i], f+1))
		}
	}
	return w.bad(c, pos, "row too short")
}

// bad reports a malformed row, or counts it as skipped in lenient mode.
func (w *worker) bad(c *chunk, pos int, msg string) error {
	if w.e.opts.Lenient {
		w.skipped++
		return nil
	}
	return hotpath.Errorf(hotpath.EINVALID, "line %d: %s", c.lineOf(pos), msg)
}

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

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// recordEnd finds the newline that ends the record starting at pos: the
// first one after an even number of quotes. It returns -1 when data ends
// first, with open telling whether a quote was left open.
func recordEnd(data []byte, pos int) (end int, open bool) {
	return recordEndFrom(data, pos, false)
}

// recordEndFrom is recordEnd from a position inside quotes when open is true.
func recordEndFrom(data []byte, pos int, open bool) (int, bool) {
	for {
		if open {
			q := bytes.IndexByte(data[pos:], '"')
			if q < 0 {
				return -1, true
			}
			pos += q + 1
			open = false
			continue
		}
		rest := data[pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			nl = len(rest)
		}
		q := bytes.IndexByte(rest[:nl], '"')
		if q < 0 {
			if nl == len(rest) {
				return -1, false
			}
			return pos + nl, false
		}
		pos += q + 1
		open = true
	}
}

// parseRecord splits one record (its line terminator removed) into fields
// as RFC 4180 reads them: a quoted field may hold delimiters, newlines and
// doubled quotes. Unescaped values are written to scratch, sized up front
// so that earlier fields stay valid. msg describes the first quoting error.
// With want > 0 only the first want fields are returned; the rest of the
// record is only checked (checkFields), which is cheaper.
func parseRecord(rec []byte, delim byte, want int, fields [][]byte, scratch []byte) ([][]byte, []byte, string) {
	if cap(scratch) < len(rec) {
		scratch = make([]byte, 0, len(rec))
	}
	scratch = scratch[:0]
	pos := 0
	for {
		if pos < len(rec) && rec[pos] == '"' {
			j, escaped := pos+1, false
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return fields, scratch, "unterminated quote"
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					escaped = true
					j += 2
					continue
				}
				break
			}
			v := rec[pos+1 : j]
			if escaped {
				s0 := len(scratch)
				for i := 0; i < len(v); i++ {
					scratch = append(scratch, v[i])
					if v[i] == '"' {
						i++
					}
				}
				v = scratch[s0:]
			}
			fields = append(fields, v)
			pos = j + 1
			if pos == len(rec) {
				return fields, scratch, ""
			}
			if rec[pos] != delim {
				return fields, scratch, "extraneous character after a closing quote"
			}
			pos++
			if len(fields) == want {
				return fields, scratch, checkFields(rec[pos:], delim)
			}
			continue
		}
		v := rec[pos:]
		k := bytes.IndexByte(v, delim)
		if k >= 0 {
			v = v[:k]
		}
		if bytes.IndexByte(v, '"') >= 0 {
			return fields, scratch, "bare quote in an unquoted field"
		}
		fields = append(fields, v)
		if k < 0 {
			return fields, scratch, ""
		}
		pos += k + 1
		if len(fields) == want {
			return fields, scratch, checkFields(rec[pos:], delim)
		}
	}
}

// checkFields returns the first quoting error of the fields of rec, which
// starts at a field, as parseRecord reports it, or "". Only the quotes are
// looked at: a run of fields without one is valid whatever it holds.
func checkFields(rec []byte, delim byte) string {
	for {
		if len(rec) > 0 && rec[0] == '"' {
			j := 1
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return "unterminated quote"
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					j += 2
					continue
				}
				break
			}
			j++ // past the closing quote
			if j == len(rec) {
				return ""
			}
			if rec[j] != delim {
				return "extraneous character after a closing quote"
			}
			rec = rec[j+1:]
			continue
		}
		q := bytes.IndexByte(rec, '"')
		if q < 0 {
			return ""
		}
		if rec[q-1] != delim { // inside an unquoted field, not at the start of one
			return "bare quote in an unquoted field"
		}
		rec = rec[q:]
	}
}

// appendCanonical writes fields as one CSV record quoted only where needed,
// so that records with equal fields get equal bytes however they were
// quoted. A record without quotes is its own canonical form.
func appendCanonical(dst []byte, fields [][]byte, delim byte, trim bool) []byte {
	for i, f := range fields {
		if trim {
			f = pyStrip(f)
		}
		if i > 0 {
			dst = append(dst, delim)
		}
		if bytes.IndexByte(f, delim) < 0 && bytes.IndexByte(f, '"') < 0 && bytes.IndexByte(f, '\n') < 0 {
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
