package uniq

import "bytes"

// The grammar of a record, in one place. A record ends at "\n", "\r\n" or
// a lone "\r" outside quotes (as Python's csv module and Excel read them).
// A field that starts with the quote is quoted: it runs to the next single
// quote (a doubled quote stands for one), may hold delimiters and record
// ends, and must be followed by a delimiter or the record's end. A quote
// anywhere else is an error. A malformed record ends at the first record
// end at or after its fault, quotes or not: the next record starts there,
// so that a skipped record (--lenient) costs that record and no other.
// A quote left open runs to the end of the input (one bad record).
//
// Without quoting the quote byte is '\n', which never reaches a field.

// fault says what is wrong with a record and where: msg, at data[at], in
// its 1-based field. A zero fault (msg "") means the record is good.
type fault struct {
	msg   string
	at    int
	field int
}

// The faults, each named for the construct, wherever it is.
const (
	faultUnterminated = "unterminated quote (opened here, never closed)"
	faultBareQuote    = "bare quote in an unquoted field"
	faultAfterQuote   = "extraneous character after a closing quote"
)

// parseRecordAt parses the record starting at data[pos] and returns its
// fields, where the next record starts, and its fault. Only the first
// want fields are kept (all when want is 0, none when it is negative).
// Unescaped values are appended to scratch; a field that points into
// scratch stays valid when a later one grows it.
func parseRecordAt(data []byte, pos int, delim, quote byte, want int, fields [][]byte, scratch []byte) ([][]byte, []byte, int, fault) {
	scratch = scratch[:0]
	quoting := quote != '\n'
	for n := 1; ; n++ {
		keep := want == 0 || n <= want
		if quoting && pos < len(data) && data[pos] == quote {
			open := pos
			j, escaped := pos+1, false
			for {
				k := bytes.IndexByte(data[j:], quote)
				if k < 0 {
					return fields, scratch, len(data), fault{faultUnterminated, open, n}
				}
				j += k
				if j+1 < len(data) && data[j+1] == quote {
					escaped = true
					j += 2
					continue
				}
				break
			}
			if keep {
				v := data[open+1 : j]
				if escaped {
					s0 := len(scratch)
					for i := 0; i < len(v); i++ {
						scratch = append(scratch, v[i])
						if v[i] == quote {
							i++
						}
					}
					v = scratch[s0:]
				}
				fields = append(fields, v)
			}
			pos = j + 1
		} else {
			start := pos
			for pos < len(data) {
				if c := data[pos]; c == delim || c == '\n' || c == '\r' || c == quote {
					break
				}
				pos++
			}
			if pos < len(data) && data[pos] == quote && quoting {
				return fields, scratch, skipRecord(data, pos), fault{faultBareQuote, pos, n}
			}
			if keep {
				fields = append(fields, data[start:pos])
			}
		}
		if pos == len(data) {
			return fields, scratch, pos, fault{}
		}
		switch data[pos] {
		case delim:
			pos++
			continue
		case '\n':
			return fields, scratch, pos + 1, fault{}
		case '\r':
			return fields, scratch, afterCR(data, pos), fault{}
		}
		return fields, scratch, skipRecord(data, pos), fault{faultAfterQuote, pos, n}
	}
}

// afterCR returns where the record ended by the CR at data[pos] is
// followed: past a "\r\n", or past the lone "\r".
func afterCR(data []byte, pos int) int {
	if pos+1 < len(data) && data[pos+1] == '\n' {
		return pos + 2
	}
	return pos + 1
}

// skipRecord returns where the record after a fault at pos starts: past
// the first record end at or after pos, quotes or not, or len(data).
func skipRecord(data []byte, pos int) int {
	t := terminator(data[pos:])
	if t < 0 {
		return len(data)
	}
	if data[pos+t] == '\r' {
		return afterCR(data, pos+t)
	}
	return pos + t + 1
}

// terminator returns the index of the first "\n" or "\r" in b, or -1.
func terminator(b []byte) int {
	nl := bytes.IndexByte(b, '\n')
	lim := nl
	if nl < 0 {
		lim = len(b)
	}
	if cr := bytes.IndexByte(b[:lim], '\r'); cr >= 0 {
		return cr
	}
	return nl
}

// lastTerminator returns the index of the last "\n" or "\r" in b, or -1.
func lastTerminator(b []byte) int {
	nl := bytes.LastIndexByte(b, '\n')
	if cr := bytes.LastIndexByte(b[nl+1:], '\r'); cr >= 0 {
		return nl + 1 + cr
	}
	return nl
}

// parityBoundary returns where the first record starting after pos
// begins, given whether pos is inside quotes (open), by quote parity: the
// record ends outside quotes are those after an even number of quotes, as
// long as the records before are well formed. It returns -1 when data
// ends first (or with a CR whose next byte is not known).
func parityBoundary(data []byte, pos int, open bool, quote byte) int {
	for {
		if open {
			q := bytes.IndexByte(data[pos:], quote)
			if q < 0 {
				return -1
			}
			pos += q + 1
			open = false
			continue
		}
		rest := data[pos:]
		t := terminator(rest)
		lim := t
		if t < 0 {
			lim = len(rest)
		}
		if quote == '\n' || bytes.IndexByte(rest[:lim], quote) < 0 {
			switch {
			case t < 0, rest[t] == '\r' && t+1 == len(rest):
				return -1
			case rest[t] == '\r':
				return afterCR(data, pos+t)
			}
			return pos + t + 1
		}
		pos += bytes.IndexByte(rest[:lim], quote) + 1
		open = true
	}
}

// exactBoundary returns where the first record starting at or after hi
// begins, walking records by the grammar from from, a record start: the
// boundaries that hold whatever records before were malformed (--lenient),
// where the quote parity may be thrown off. Stretches without quotes are
// crossed by their record ends. It returns -1 when data ends first.
func exactBoundary(data []byte, from, hi int, delim, quote byte) int {
	p := from
	for p < hi {
		q := hi
		if quote != '\n' {
			q = indexFrom(data[:hi], p, quote)
		}
		if q == hi { // no quote before hi: the record holding hi-1 starts after the last record end before it
			t := lastTerminator(data[p:hi])
			if t >= 0 {
				p += t + 1
				if data[p-1] == '\r' && p < len(data) && data[p] == '\n' {
					p++
				}
			}
			if p >= hi {
				return p
			}
		} else if t := lastTerminator(data[p:q]); t >= 0 { // to the record holding the quote
			p += t + 1
			if data[p-1] == '\r' && data[p] == '\n' {
				p++
			}
			continue
		}
		_, _, next, _ := parseRecordAt(data, p, delim, quote, -1, nil, nil)
		if next >= len(data) {
			return -1 // the record may go on past data
		}
		p = next
	}
	return p
}

// lastExactBoundary returns where the last record of buf that ends in it
// ends, walking records by the grammar from buf's start (a record start),
// or 0 when none does (see exactBoundary).
func lastExactBoundary(buf []byte, delim, quote byte) int {
	p, last := 0, 0
	for {
		q := len(buf)
		if quote != '\n' {
			q = indexFrom(buf, p, quote)
		}
		if q == len(buf) {
			t := lastTerminator(buf[p:])
			if t >= 0 && buf[p+t] == '\r' && p+t+1 == len(buf) { // maybe half a CRLF
				t = lastTerminator(buf[p : p+t])
			}
			if t < 0 {
				return last
			}
			return p + t + 1
		}
		if t := lastTerminator(buf[p:q]); t >= 0 {
			p += t + 1
			if buf[p-1] == '\r' && buf[p] == '\n' {
				p++
			}
			last = p
		}
		_, _, next, _ := parseRecordAt(buf, p, delim, quote, -1, nil, nil)
		if next >= len(buf) {
			return last
		}
		p, last = next, next
	}
}

// lineBreaks counts the line ends of b: "\n", "\r\n" and lone "\r" (one
// at the very end of b counts as lone).
func lineBreaks(b []byte) int64 {
	n := int64(bytes.Count(b, []byte{'\n'}))
	if bytes.IndexByte(b, '\r') < 0 {
		return n
	}
	return n + int64(bytes.Count(b, []byte{'\r'})-bytes.Count(b, []byte("\r\n")))
}
