package uniq

import (
	"bytes"
	mbits "math/bits"
)

// scanColumns counts the asked columns of data's records when no whole
// record is asked for and no field is asked twice. Records are walked by
// the bits of their structural bytes (structuralMasks: newlines,
// delimiters, quotes): a record without a quote is split at its
// delimiters up to the newline, which is all that is needed to know it has
// none. A record with a quote goes to splitQuoted, which reads quoted
// fields without doubled quotes in place and checks the rest of the record
// quote by quote; anything else (doubled quotes, malformed or short
// records) goes to the general parser, record by record, so that values
// and errors are the same.
func (w *worker) scanColumns(c *chunk) error {
	e := w.e
	data := c.data
	delim, last, target := e.delim, e.maxField, e.fieldTarget
	if len(w.vals) != len(e.cols) {
		w.vals = make([][]byte, len(e.cols))
	}
	vals := w.vals
	w.masks = structuralMasks(data, delim, w.masks)
	masks := w.masks
	// word is the index of the mask being read, bits its structural bytes
	// not yet passed.
	word, bits := 0, uint64(0)
	if len(masks) > 0 {
		bits = masks[0].fields
	}
	for pos := 0; pos < len(data); {
		start, field, f := pos, pos, 0
		end, quote := len(data), -1 // the record's newline (or the end of data); its first quote
	walk:
		for {
			for bits == 0 {
				if word++; word >= len(masks) {
					break walk
				}
				bits = masks[word].fields
			}
			k := word<<6 | mbits.TrailingZeros64(bits)
			bits &= bits - 1
			switch data[k] {
			case '\n':
				end = k
				break walk
			case '"':
				quote = k
				break walk
			default: // the delimiter
				if f <= last {
					if t := target[f]; t >= 0 {
						vals[t] = data[field:k]
					}
				}
				f++
				field = k + 1
				if f > last { // the rest of the record is not counted
					word, bits = nextEnd(masks, field)
				}
			}
		}
		if quote >= 0 {
			next, ok := splitQuoted(data, start, indexFrom(data, start, '\n'), &quote, delim, last, target, vals)
			if !ok {
				quote = -1
				var err error
				if next, err = w.record(c, start, &quote); err != nil {
					return err
				}
				pos = next
				word, bits = maskFrom(masks, pos)
				continue
			}
			pos = next
			word, bits = maskFrom(masks, pos)
		} else {
			pos = end + 1
			if end == start || end == start+1 && data[start] == '\r' { // an empty record
				continue
			}
			if f < last { // short: the general parser reports it
				if err := w.plainRecord(c, start, trimCR(data[start:end])); err != nil {
					return err
				}
				continue
			}
			if f == last {
				if t := target[f]; t >= 0 {
					vals[t] = trimCR(data[field:end])
				}
			}
		}
		w.rows++
		for t, v := range vals {
			if e.opts.Trim {
				v = pyStrip(v)
			}
			if w.stages != nil { // columns are never mapped: no file offset
				var h uint64
				if len(v) <= maxInline {
					if h = hashShort(v); w.stages[t].addShort(h, len(v)) {
						continue
					}
				} else {
					h = hashValue(v)
				}
				w.stages[t].add(h, v, -1)
			} else {
				w.add(t, v)
			}
		}
	}
	return nil
}

// maskFrom returns the mask word holding position pos, and its fields bits
// at or after pos.
func maskFrom(masks []blockMasks, pos int) (int, uint64) {
	word := pos >> 6
	if word >= len(masks) {
		return len(masks), 0
	}
	return word, masks[word].fields &^ (1<<(pos&63) - 1)
}

// nextEnd returns the mask word holding the first newline or quote at or
// after pos, and its fields bits from that byte on: where the walk goes on
// once the record's delimiters no longer matter.
func nextEnd(masks []blockMasks, pos int) (int, uint64) {
	word := pos >> 6
	if word >= len(masks) {
		return len(masks), 0
	}
	ends := masks[word].ends &^ (1<<(pos&63) - 1)
	for ends == 0 {
		if word++; word >= len(masks) {
			return len(masks), 0
		}
		ends = masks[word].ends
	}
	return word, masks[word].fields &^ (ends&-ends - 1)
}

// indexFrom returns the position of the first byte b of data at or after
// pos, or len(data).
func indexFrom(data []byte, pos int, b byte) int {
	k := bytes.IndexByte(data[pos:], b)
	if k < 0 {
		return len(data)
	}
	return pos + k
}

// splitQuoted reads the fields up to last of the record at pos, which holds
// a quote before its first newline nl, into vals by target, and checks its
// quoting up to the newline that ends it. It returns where the next record
// starts, or ok false when the record needs the general parser: a doubled
// quote, a quoting error, or fewer fields than asked. *nextQuote is kept
// as the first quote at or after the position read.
func splitQuoted(data []byte, pos, nl int, nextQuote *int, delim byte, last int, target []int, vals [][]byte) (next int, ok bool) {
	q := *nextQuote
	p := pos
	for f := 0; ; f++ {
		// Field f starts at p; end is where its terminator is.
		var v []byte
		var end int
		if p < len(data) && data[p] == '"' {
			k := bytes.IndexByte(data[p+1:], '"')
			if k < 0 {
				return 0, false
			}
			v = data[p+1 : p+1+k]
			end = p + 2 + k
			if end < len(data) && data[end] == '"' {
				return 0, false
			}
			if end < len(data) && data[end] == '\r' && (end+1 == len(data) || data[end+1] == '\n') {
				end++
			}
			if end < len(data) && data[end] != delim && data[end] != '\n' {
				return 0, false
			}
			if q < end {
				q = indexFrom(data, end, '"')
			}
			if nl < end {
				nl = indexFrom(data, end, '\n')
			}
		} else {
			lim := min(nl, q)
			end = lim
			if k := indexByteShort(data[p:lim], delim); k >= 0 {
				end = p + k
			}
			if end == q && q < len(data) { // a quote inside an unquoted field
				return 0, false
			}
			v = data[p:end]
			if end == nl {
				v = trimCR(v)
			}
		}
		if t := target[f]; t >= 0 {
			vals[t] = v
		}
		if end == len(data) || data[end] != delim { // the record ends
			if f < last {
				return 0, false
			}
			*nextQuote = q
			return end + 1, true
		}
		p = end + 1
		if f == last {
			break
		}
	}
	// The rest, from field start p: only its quotes matter.
	for {
		if q < p {
			q = indexFrom(data, p, '"')
		}
		if nl < p {
			nl = indexFrom(data, p, '\n')
		}
		if nl <= q {
			*nextQuote = q
			return nl + 1, true
		}
		if q != p && data[q-1] != delim {
			return 0, false
		}
		k := bytes.IndexByte(data[q+1:], '"')
		if k < 0 {
			return 0, false
		}
		end := q + 2 + k
		if end == len(data) {
			*nextQuote = len(data)
			return end + 1, true
		}
		switch data[end] {
		case delim:
			p = end + 1
			continue
		case '\n':
			*nextQuote = q
			return end + 1, true
		case '\r':
			if end+1 == len(data) || data[end+1] == '\n' {
				*nextQuote = q
				return end + 2, true
			}
		}
		return 0, false
	}
}
