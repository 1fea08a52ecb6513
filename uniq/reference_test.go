package uniq

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reference counters below are deliberately plain: one byte at a time,
// one map, no chunks, no hashing of our own. The engine must agree with them.

// pySpace is Python's str.isspace() set.
var pySpace = map[rune]bool{' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, 0x85: true, 0xa0: true, 0x1680: true,
	0x2000: true, 0x2001: true, 0x2002: true, 0x2003: true, 0x2004: true, 0x2005: true, 0x2006: true,
	0x2007: true, 0x2008: true, 0x2009: true, 0x200a: true, 0x2028: true, 0x2029: true, 0x202f: true,
	0x205f: true, 0x3000: true}

func refStrip(s string) string {
	for s != "" {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError || !pySpace[r] {
			break
		}
		s = s[n:]
	}
	for s != "" {
		r, n := utf8.DecodeLastRuneInString(s)
		if r == utf8.RuneError || !pySpace[r] {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// refFold returns a key equal for two strings exactly when they are equal
// under Unicode simple case folding, rune by rune (each rune replaced by
// the least member of its unicode.SimpleFold cycle), bytes that are not
// UTF-8 kept apart (escaped, so that no rune can match them).
func refFold(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError && len(s[i:]) > 0 {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				b.WriteString("\\x" + strconv.Itoa(int(s[i])) + ";")
				continue
			}
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		if least == '\\' {
			b.WriteString("\\\\")
			continue
		}
		b.WriteRune(least)
	}
	return b.String()
}

// refValue applies IgnoreCase, SkipEmpty and Nulls to a (trimmed) value:
// the key to count, or false for a null.
func refValue(v string, opts Options) (string, bool) {
	key := v
	if opts.IgnoreCase {
		key = refFold(v)
	}
	if opts.SkipEmpty && v == "" {
		return "", false
	}
	for _, n := range opts.Nulls {
		if opts.Trim {
			n = refStrip(n)
		}
		if n == v || opts.IgnoreCase && refFold(n) == key {
			return "", false
		}
	}
	return key, true
}

// refLines counts distinct stripped lines under universal newlines.
func refLines(in string) (distinct, rows int64) {
	res := refLinesOpts(in, Options{})
	return res.distinct[0], res.rows
}

// refLinesOpts is refLines with the value options.
func refLinesOpts(in string, opts Options) refResult {
	in = strings.TrimPrefix(in, "\ufeff")
	set := map[string]bool{}
	res := refResult{nulls: []int64{0}}
	add := func(line string) {
		res.rows++
		if key, ok := refValue(refStrip(line), opts); ok {
			set[key] = true
		} else {
			res.nulls[0]++
		}
	}
	var line []byte
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\n':
		case c == '\r':
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
		default:
			line = append(line, c)
			continue
		}
		add(string(line))
		line = line[:0]
	}
	if len(line) > 0 {
		add(string(line))
	}
	res.distinct = []int64{int64(len(set))}
	return res
}

type refResult struct {
	distinct []int64
	nulls    []int64
	rows     int64
	skipped  int64
	err      bool
}

// refCSV counts with a byte-at-a-time state machine over the whole input.
// A record ends at "\n", "\r\n" or a lone "\r" outside quotes; a quote
// opens a field only at its start; a record with a fault (a quote inside
// an unquoted field, a character after a closing quote) ends at the first
// record end at or after the fault, whatever follows; a quote left open
// runs to the end of the input.
func refCSV(in string, opts Options) refResult {
	in = strings.TrimPrefix(in, "\ufeff")
	delim := opts.Delimiter
	if delim == 0 {
		delim = ','
	}
	quote := opts.Quote
	if quote == 0 {
		quote = '"'
	}
	quoting := !opts.NoQuote
	type record struct {
		fields []string
		ok     bool
		empty  bool // an empty line: a header, but no data row
	}
	var records []record
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted
		broken // a fault: skip to the record's end
	)
	var fields []string
	var f []byte
	state, ok, empty := fieldStart, true, true
	endRecord := func() {
		if state != broken {
			fields = append(fields, string(f))
		}
		records = append(records, record{fields, ok, empty && state == fieldStart})
		fields, f, state, ok, empty = nil, nil, fieldStart, true, true
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		if (c == '\n' || c == '\r') && state != quoted {
			endRecord()
			if c == '\r' && i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
			continue
		}
		empty = false
		switch state {
		case fieldStart, unquoted:
			switch {
			case c == delim:
				fields = append(fields, string(f))
				f = nil
				state = fieldStart
			case quoting && c == quote && state == fieldStart:
				state = quoted
			case quoting && c == quote:
				state, ok = broken, false
			default:
				f = append(f, c)
				state = unquoted
			}
		case quoted:
			if c == quote {
				state = quoteInQuoted
			} else {
				f = append(f, c)
			}
		case quoteInQuoted:
			switch c {
			case quote:
				f = append(f, quote)
				state = quoted
			case delim:
				fields = append(fields, string(f))
				f = nil
				state = fieldStart
			default:
				state, ok = broken, false
			}
		}
	}
	if state == quoted {
		ok = false
	}
	if !empty || state != fieldStart {
		endRecord()
	}
	var res refResult
	var cols []int
	targets := 0
	if opts.Records {
		targets++
	}
	sets := make([]map[string]bool, targets+len(opts.Columns))
	res.nulls = make([]int64, len(sets))
	for i := range sets {
		sets[i] = map[string]bool{}
	}
	index := func(c string) int {
		var n int
		for _, d := range strings.TrimPrefix(c, "#") {
			n = n*10 + int(d-'0')
		}
		return n - 1
	}
	for ri, rec := range records {
		if ri == 0 && !opts.NoHeader {
			if !rec.ok {
				res.err = true
				return res
			}
			for _, c := range opts.Columns {
				idx := -1
				for i, h := range rec.fields {
					if opts.Trim {
						h = refStrip(h)
					}
					if h == c && !strings.HasPrefix(c, "#") {
						idx = i
						break
					}
				}
				if idx < 0 {
					idx = index(c)
				}
				cols = append(cols, idx)
			}
			continue
		}
		if ri == 0 {
			for _, c := range opts.Columns {
				cols = append(cols, index(c))
			}
		}
		if rec.empty {
			continue
		}
		res.rows++
		ok := rec.ok
		for _, c := range cols {
			if c >= len(rec.fields) {
				ok = false
			}
		}
		if !ok {
			if !opts.Lenient {
				res.err = true
				return res
			}
			res.skipped++
			continue
		}
		t := 0
		if opts.Records {
			var key strings.Builder
			for _, f := range rec.fields {
				if opts.Trim {
					f = refStrip(f)
				}
				if opts.IgnoreCase {
					f = refFold(f)
				}
				key.WriteString(strconv.Itoa(len(f)) + ":" + f)
			}
			sets[0][key.String()] = true
			t = 1
		}
		for i, c := range cols {
			f := rec.fields[c]
			if opts.Trim {
				f = refStrip(f)
			}
			if key, ok := refValue(f, opts); ok {
				sets[t+i][key] = true
			} else {
				res.nulls[t+i]++
			}
		}
	}
	for _, s := range sets {
		res.distinct = append(res.distinct, int64(len(s)))
	}
	return res
}
