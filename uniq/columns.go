package uniq

import mbits "math/bits"

// scanColumns counts the asked columns of data's records when no whole
// record is asked for and no field is asked twice. Records are walked by
// the bits of their structural bytes (structuralMasks): a field ends at a
// delimiter, a record at a newline, and past the last counted field the
// walk jumps by the bytes that can end a record. A quoted field is read in
// place from its opening quote to the next quote, newlines inside
// included. Anything else (a doubled quote, a quote inside a field, a
// malformed or short record) goes to the general parser, record by record,
// so that values and errors are the same.
func (w *worker) scanColumns(c *chunk) error {
	e := w.e
	data := c.data
	delim, last, target := e.delim, e.maxField, e.fieldTarget
	if len(w.vals) != len(e.cols) {
		w.vals = make([][]byte, len(e.cols))
	}
	vals := w.vals
	w.masks = structuralMasks(data, delim, e.quote, w.masks)
	masks := w.masks
	// word is the index of the mask being read, bits its structural bytes
	// not yet passed.
	word, bits := 0, uint64(0)
	if len(masks) > 0 {
		bits = masks[0].fields
	}
	for pos := 0; pos < len(data); {
		start, field, f := pos, pos, 0
		end := len(data)  // the record's end ("\n", "\r\n" or "\r"), or the end of data
		next := len(data) // where the next record starts
		// firstQuote is the record's first quote, once one is read; a
		// record the walk cannot read (a doubled quote, a quoting error)
		// goes to the parsers below from there on, with quote set to it.
		firstQuote, quote := -1, -1
		// lastQuoted: the record's last field was quoted, and it is lastVal.
		lastQuoted, lastVal := false, []byte(nil)
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
			var value []byte
			switch c := data[k]; {
			case c == delim: // the most common, tested first
				value = data[field:k]
			case c == '\n':
				end, next = k, k+1
				break walk
			case c == '\r':
				end, next = k, afterCR(data, k)
				word, bits = maskFrom(masks, next)
				break walk
			default: // the quote (without quoting, quote is '\n', taken above)
				if firstQuote < 0 {
					firstQuote = k
				}
				// A quoted field: its quote opens it (after the jump past
				// the last counted field, field is stale: the byte before
				// tells), and a single quote closes it, followed by the
				// end of the field or of the record.
				if k != field && (f <= last || data[k-1] != delim) {
					quote = firstQuote
					break walk
				}
				j := closingQuote(data, masks, k, e.quote)
				if j < 0 || j+1 < len(data) && data[j+1] == e.quote {
					quote = firstQuote
					break walk
				}
				v, after := data[k+1:j], j+1
				if after < len(data) && data[after] == delim {
					value, k = v, after // the field ends at that delimiter
					word, bits = maskFrom(masks, k+1)
					break
				}
				end, next = after, after
				if after < len(data) {
					switch data[after] {
					case '\n':
						next = after + 1
					case '\r':
						next = afterCR(data, after)
					default:
						quote = firstQuote
						break walk
					}
				}
				lastQuoted, lastVal = true, v
				word, bits = maskFrom(masks, next)
				break walk
			}
			// Field f ended at the delimiter at k; its value is value.
			if f <= last {
				if t := target[f]; t >= 0 {
					vals[t] = value
				}
			}
			f++
			field = k + 1
			if f > last { // the rest of the record is not counted
				word, bits = nextEnd(masks, field)
			}
		}
		if quote < 0 && firstQuote >= 0 && f < last {
			quote = firstQuote // short: the general parser reports it
		}
		if quote >= 0 {
			next, err := w.quotedRecord(c, start)
			if err != nil {
				return err
			}
			pos = next
			word, bits = maskFrom(masks, pos)
			continue
		}
		pos = next
		if end == start { // an empty record
			continue
		}
		if f < last { // short: the general parser reports it
			if err := w.plainRecord(c, start, data[start:end]); err != nil {
				return err
			}
			continue
		}
		if f == last {
			if t := target[f]; t >= 0 {
				if lastQuoted {
					vals[t] = lastVal
				} else {
					vals[t] = data[field:end]
				}
			}
		}
		w.rows++
		for t, v := range vals {
			if e.opts.Trim {
				v = pyStrip(v)
			}
			if e.normalize {
				var ok bool
				if v, ok = w.normalize(t, v); !ok {
					continue
				}
				if w.stages == nil {
					w.addCopy(t, v) // v may be w.folded
					continue
				}
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

// closingQuote returns the position of the first quote after the one at
// k, found by the ends masks (newlines inside the quotes are passed), or -1.
func closingQuote(data []byte, masks []blockMasks, k int, quote byte) int {
	word := (k + 1) >> 6
	if word >= len(masks) {
		return -1
	}
	ends := masks[word].ends &^ (1<<((k+1)&63) - 1)
	for {
		for ends == 0 {
			if word++; word >= len(masks) {
				return -1
			}
			ends = masks[word].ends
		}
		j := word<<6 | mbits.TrailingZeros64(ends)
		if data[j] == quote {
			return j
		}
		ends &= ends - 1
	}
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
