package uniq

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/hotpath/hotpath"
)

// TestLoneCR checks that a lone CR ends a record in every mode, as Python's
// csv module and Excel read classic Mac files, also next to CRLF and LF, in
// chunks of every size (record ends at chunk boundaries), and that a CR
// inside quotes stays in the value.
func TestLoneCR(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []int64
		rows int64
	}{
		{"records", "a,b\r1,2\r3,4\r", Options{Records: true}, []int64{2}, 2},
		{"column", "a,b\r1,2\r3,4\r3,5", Options{Columns: []string{"b"}}, []int64{3}, 3},
		{"columns", "a,b\r1,2\r3,4\r3,5", Options{Columns: []string{"a", "b"}}, []int64{2, 3}, 3},
		{"lines", "a\rb\rb\r", Options{}, []int64{2}, 3},
		{"mixed ends", "a,b\r\n1,2\r3,4\n5,6\r\n\r\r\n7,8", Options{Columns: []string{"b"}}, []int64{4}, 4},
		{"CR in quotes", "a,b\r1,\"x\ry\"\r2,\"x\ny\"\r3,\"x\r\ny\"\r", Options{Columns: []string{"b"}}, []int64{3}, 3},
		{"CR after a closing quote", "a,b\r1,\"x\"\r2,\"x\"\r\n3,\"y\"", Options{Columns: []string{"b"}}, []int64{2}, 3},
		{"header ends at CR", "a\rb\r", Options{Columns: []string{"a"}}, []int64{1}, 1},
		{"records trimmed", "a,b\r 1,2\r1 ,2 \r", Options{Records: true, Trim: true}, []int64{1}, 2},
		{"column past the last counted", "a,b,c\r1,2,3\r4,5,\"6\r\"\r", Options{Columns: []string{"a"}}, []int64{2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 3, 5, 0} {
				opts := tt.opts
				opts.ChunkSize = chunk
				res, err := countString(t, tt.in, opts)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(tt.want) || res.Rows != tt.rows {
					t.Fatalf("chunk %d: got %v rows %d, want %v rows %d", chunk, got, res.Rows, tt.want, tt.rows)
				}
				if tt.name != "lines" {
					ref := refCSV(tt.in, opts)
					if fmt.Sprint(ref.distinct) != fmt.Sprint(tt.want) {
						t.Fatalf("reference %v, want %v", ref.distinct, tt.want)
					}
				}
			}
		})
	}
}

// TestLenientResync checks that a skipped record costs that record and no
// other: the next record starts at the first record end at or after the
// fault, whatever quotes follow, and skipped counts the rows lost.
func TestLenientResync(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		opts          Options
		want          []int64
		rows, skipped int64
	}{
		// The file: the stray quote of row 3 used to swallow rows 4-6.
		{"stray quote", "h1,h2\n\"1,x\",a\n\"2,\"y\",b\n3,c\n4,\"d\"\n5,e\n", Options{Columns: []string{"h1"}}, []int64{4}, 5, 1},
		{"bare quotes", "h\na\"b\nc\n\"d\"\"e\"\nf\"\ng\n", Options{Columns: []string{"h"}}, []int64{3}, 5, 2},
		{"records", "h1,h2\n1,\"a\"x,\"\n2,b\n3,\"c\n4\"\n", Options{Records: true}, []int64{2}, 3, 1},
		{"after a CR", "h\r\"a\"x\"\r\"b\"\rc", Options{Columns: []string{"h"}}, []int64{2}, 3, 1},
		{"short and bad", "a,b\n1\n2,\"x\"y\n3,y\n", Options{Columns: []string{"b"}}, []int64{1}, 3, 2},
		{"open to the end", "a,b\n1,x\n2,\"y\n3,z\n", Options{Columns: []string{"b"}}, []int64{1}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Lenient = true
			ref := refCSV(tt.in, opts)
			if fmt.Sprint(ref.distinct) != fmt.Sprint(tt.want) || ref.rows != tt.rows || ref.skipped != tt.skipped {
				t.Fatalf("reference %v rows %d skipped %d, want %v rows %d skipped %d", ref.distinct, ref.rows, ref.skipped, tt.want, tt.rows, tt.skipped)
			}
			for _, chunk := range []int{1, 2, 3, 7, 0} {
				for _, workers := range []int{1, 3} {
					opts.ChunkSize, opts.Workers = chunk, workers
					res, err := countString(t, tt.in, opts)
					if err != nil {
						t.Fatalf("chunk %d: %v", chunk, err)
					}
					if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(tt.want) || res.Rows != tt.rows || res.Skipped != tt.skipped {
						t.Fatalf("chunk %d workers %d: got %v rows %d skipped %d, want %v rows %d skipped %d",
							chunk, workers, got, res.Rows, res.Skipped, tt.want, tt.rows, tt.skipped)
					}
				}
			}
		})
	}
}

// TestFaultMessages checks that a fault is named for what it is, at its own
// line and field, whatever quotes the rest of the file holds (which used to
// turn a bare quote into an "unterminated quote" on some chunkings), and
// that of several faults the first in the file is reported.
func TestFaultMessages(t *testing.T) {
	bare := "a,b\n1,x\"y\n2,z\n"
	for _, around := range []struct{ before, after string }{
		{"", ""}, {"0,\"q\"\n", ""}, {"", "3,\"q\"\n"}, {"0,\"q\n\"\n", "3,\"\n\"\n4,\"\n"}, {"0,\"\"\"\"\n", "3,w\"\n"},
	} {
		in := strings.Replace(bare, "1,", around.before+"1,", 1) + around.after
		want := fmt.Sprintf("line %d, field 2: bare quote in an unquoted field", 2+strings.Count(around.before, "\n"))
		for _, chunk := range []int{1, 2, 4, 9, 0} {
			for _, mode := range []Options{{Columns: []string{"b"}}, {Columns: []string{"a"}}, {Records: true}} {
				mode.ChunkSize, mode.Workers = chunk, 3
				_, err := countString(t, in, mode)
				if hotpath.ErrorCode(err) != hotpath.EINVALID || err.Error() != want {
					t.Fatalf("%q chunk %d %+v: error %v, want %q", in, chunk, mode, err, want)
				}
			}
		}
	}
}

// TestQuoteOption checks --quote: another quote byte, and none (TSV),
// where quotes are data and fields end at delimiters only.
func TestQuoteOption(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []int64
	}{
		{"none", "a\tb\n1\t\"x\n2\tx\"\n3\t\"x\n4\t\"x\"\"\n", Options{Delimiter: '\t', NoQuote: true, Columns: []string{"b"}}, []int64{3}},
		{"none records", "a\tb\n\"1\t2\"\n\"1\t2\"\n1\t2\n", Options{Delimiter: '\t', NoQuote: true, Records: true}, []int64{2}},
		{"none records trimmed", "a\tb\n\"1 \t2\"\n\"1\t 2\"\n", Options{Delimiter: '\t', NoQuote: true, Records: true, Trim: true}, []int64{1}},
		{"single quote", "a,b\n1,'x,y'\n2,'x,y'\n3,\"x\n4,'it''s'\n", Options{Quote: '\'', Columns: []string{"b"}}, []int64{3}},
		{"single quote records", "a,b\n'1',x\n1,'x'\n", Options{Quote: '\'', Records: true}, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 5, 0} {
				opts := tt.opts
				opts.ChunkSize = chunk
				ref := refCSV(tt.in, opts)
				if fmt.Sprint(ref.distinct) != fmt.Sprint(tt.want) {
					t.Fatalf("reference %v, want %v", ref.distinct, tt.want)
				}
				res, err := countString(t, tt.in, opts)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("chunk %d: got %v, want %v", chunk, got, tt.want)
				}
			}
		})
	}
	if _, err := CountReader(t.Context(), strings.NewReader("a\n"), Options{Quote: ','}); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("quote equal to the delimiter: %v", err)
	}
}

// TestColumnIndexForm checks that "#N" is always the Nth column, while a
// bare "1" names a header cell "1" when there is one.
func TestColumnIndexForm(t *testing.T) {
	in := "2,1\nx,a\ny,a\n"
	for _, tt := range []struct {
		col  string
		want int64
	}{{"1", 1}, {"#1", 2}, {"2", 2}, {"#2", 1}} {
		res, err := countString(t, in, Options{Columns: []string{tt.col}})
		if err != nil {
			t.Fatal(err)
		}
		if got := distincts(res)[0]; got != tt.want {
			t.Errorf("-c %s: %d distinct, want %d", tt.col, got, tt.want)
		}
		if ref := refCSV(in, Options{Columns: []string{tt.col}}); ref.distinct[0] != tt.want {
			t.Errorf("-c %s: reference %d, want %d", tt.col, ref.distinct[0], tt.want)
		}
	}
	if _, err := countString(t, in, Options{Columns: []string{"#x"}}); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("-c #x: %v", err)
	}
}

// TestValueOptions checks IgnoreCase, Trim, SkipEmpty and Nulls against the
// reference, on every path, with tiny chunks and a spilling memory limit,
// and the folding cases that tell simple case folding from its
// look-alikes: no full folding ("ß" is not "ss"), U+0130 stays apart from
// "i", the Kelvin sign is "k", and bytes that are not UTF-8 are compared as
// they are.
func TestValueOptions(t *testing.T) {
	in := "name,city\n" +
		"Ann,Paris\nANN,paris\nann , PARIS\n,Berlin\nNA,berlin\n na,Köln\nx,KÖLN\n" +
		"Straße,STRASSE\nstrasse,straße\nİ,i\nI,ı\n\u212a,k\nK,\xff\n\xfe,\xffA\n\xffa,\xc3\n"
	tests := []struct {
		name  string
		opts  Options
		want  []int64
		nulls []int64
	}{
		{"ignore case", Options{Columns: []string{"name", "city"}, IgnoreCase: true}, []int64{13, 12}, []int64{0, 0}},
		{"trim and ignore case", Options{Columns: []string{"name", "city"}, IgnoreCase: true, Trim: true}, []int64{11, 11}, []int64{0, 0}},
		{"skip empty", Options{Columns: []string{"name"}, SkipEmpty: true}, []int64{14}, []int64{1}},
		{"nulls", Options{Columns: []string{"name"}, Nulls: []string{"NA", ""}}, []int64{13}, []int64{2}},
		{"nulls trimmed and folded", Options{Columns: []string{"name"}, Nulls: []string{"na "}, Trim: true, IgnoreCase: true}, []int64{10}, []int64{2}},
		{"records ignore case", Options{Records: true, IgnoreCase: true, Trim: true}, []int64{13}, nil},
		{"lines", Options{IgnoreCase: true, SkipEmpty: true, Nulls: []string{"na,köln"}}, []int64{14}, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ref refResult
			if len(tt.opts.Columns) == 0 && !tt.opts.Records {
				ref = refLinesOpts(in, tt.opts)
			} else {
				ref = refCSV(in, tt.opts)
			}
			if fmt.Sprint(ref.distinct) != fmt.Sprint(tt.want) {
				t.Fatalf("reference %v nulls %v, want %v", ref.distinct, ref.nulls, tt.want)
			}
			for _, opts := range []Options{tt.opts, {ChunkSize: 3, Workers: 3}, {ChunkSize: 7, MemoryLimit: 1, Workers: 2}, {Top: 2}} {
				o := tt.opts
				o.ChunkSize, o.Workers, o.MemoryLimit, o.Top, o.TempDir = opts.ChunkSize, opts.Workers, opts.MemoryLimit, opts.Top, t.TempDir()
				res, err := countString(t, in, o)
				if err != nil {
					t.Fatal(err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("%+v: got %v, want %v", opts, got, tt.want)
				}
				if tt.nulls != nil && fmt.Sprint(nullsOf(res)) != fmt.Sprint(tt.nulls) {
					t.Fatalf("%+v: nulls %v, want %v", opts, nullsOf(res), tt.nulls)
				}
			}
		})
	}
}

// TestFoldRune checks the fold against unicode.SimpleFold over the whole
// range: two runes fold alike exactly when they are in one SimpleFold cycle.
func TestFoldRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		f := foldRune(r)
		if g := foldRune(f); g != f {
			t.Fatalf("%U folds to %U, which folds to %U", r, f, g)
		}
		same := f == r
		for c := unicode.SimpleFold(r); c != r && !same; c = unicode.SimpleFold(c) {
			same = c == f
		}
		if !same {
			t.Fatalf("%U folds to %U, outside its class", r, f)
		}
	}
}
