package uniq

import (
	"strconv"
	"strings"
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

// refLines counts distinct stripped lines under universal newlines.
func refLines(in string) (distinct, rows int64) {
	in = strings.TrimPrefix(in, "\ufeff")
	set := map[string]bool{}
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
		set[refStrip(string(line))] = true
		rows++
		line = line[:0]
	}
	if len(line) > 0 {
		set[refStrip(string(line))] = true
		rows++
	}
	return int64(len(set)), rows
}

type refResult struct {
	distinct []int64
	rows     int64
	skipped  int64
	err      bool
}

// refCSV counts with a byte-at-a-time parser. Records end at a newline
// outside quotes, where a quote toggles "inside" wherever it is (so the
// record boundaries of malformed input are well defined); each record is
// then parsed strictly.
func refCSV(in string, opts Options) refResult {
	in = strings.TrimPrefix(in, "\ufeff")
	delim := opts.Delimiter
	if delim == 0 {
		delim = ','
	}
	var records []string
	var opens []bool
	start, inq := 0, false
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '"':
			inq = !inq
		case '\n':
			if !inq {
				records = append(records, in[start:i])
				opens = append(opens, false)
				start = i + 1
			}
		}
	}
	if start < len(in) {
		records = append(records, in[start:])
		opens = append(opens, inq)
	}
	var res refResult
	var cols []int
	targets := 0
	if opts.Records {
		targets++
	}
	sets := make([]map[string]bool, targets+len(opts.Columns))
	for i := range sets {
		sets[i] = map[string]bool{}
	}
	first := true
	for ri, rec := range records {
		rec = strings.TrimSuffix(rec, "\r")
		if first && !opts.NoHeader {
			first = false
			if opens[ri] {
				res.err = true
				return res
			}
			hdr, ok := refFields(rec, delim)
			if !ok {
				res.err = true
				return res
			}
			for _, c := range opts.Columns {
				idx := -1
				for i, h := range hdr {
					if opts.Trim {
						h = refStrip(h)
					}
					if h == c {
						idx = i
						break
					}
				}
				if idx < 0 {
					var n int
					for _, d := range c {
						n = n*10 + int(d-'0')
					}
					idx = n - 1
				}
				cols = append(cols, idx)
			}
			continue
		}
		if first {
			first = false
			for _, c := range opts.Columns {
				var n int
				for _, d := range c {
					n = n*10 + int(d-'0')
				}
				cols = append(cols, n-1)
			}
		}
		if rec == "" && !opens[ri] {
			continue
		}
		res.rows++
		fields, ok := refFields(rec, delim)
		if ok && opens[ri] {
			ok = false
		}
		for _, c := range cols {
			if c >= len(fields) {
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
			for _, f := range fields {
				if opts.Trim {
					f = refStrip(f)
				}
				key.WriteString(strconv.Itoa(len(f)) + ":" + f)
			}
			sets[0][key.String()] = true
			t = 1
		}
		for i, c := range cols {
			f := fields[c]
			if opts.Trim {
				f = refStrip(f)
			}
			sets[t+i][f] = true
		}
	}
	for _, s := range sets {
		res.distinct = append(res.distinct, int64(len(s)))
	}
	return res
}

// refFields parses one record strictly, byte by byte.
func refFields(rec string, delim byte) ([]string, bool) {
	var fields []string
	var f []byte
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted
	)
	state := fieldStart
	for i := 0; i < len(rec); i++ {
		c := rec[i]
		switch state {
		case fieldStart, unquoted:
			switch {
			case c == delim:
				fields = append(fields, string(f))
				f = f[:0]
				state = fieldStart
			case c == '"' && state == fieldStart:
				state = quoted
			case c == '"':
				return nil, false
			default:
				f = append(f, c)
				state = unquoted
			}
		case quoted:
			if c == '"' {
				state = quoteInQuoted
			} else {
				f = append(f, c)
			}
		case quoteInQuoted:
			switch c {
			case '"':
				f = append(f, '"')
				state = quoted
			case delim:
				fields = append(fields, string(f))
				f = f[:0]
				state = fieldStart
			default:
				return nil, false
			}
		}
	}
	if state == quoted {
		return nil, false
	}
	return append(fields, string(f)), true
}
