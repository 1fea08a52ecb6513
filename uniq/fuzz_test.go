package uniq

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// FuzzChunked checks the parallel chunked parser, over the input read in
// chunks, sliced from its mapping and streamed, against the plain
// sequential reference: same distinct counts, rows and skipped rows, and an
// error exactly when the reference fails.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n2,\"y\nz\"\n"), uint8(1), uint8(2), uint8(1))
	f.Add([]byte("a,b\r\n\"1\"\"\",x\r\n\n2,\"\"\r\n"), uint8(3), uint8(3), uint8(2))
	f.Add([]byte("x\ry\r\n  x\n\xff\n"), uint8(2), uint8(2), uint8(0))
	f.Add([]byte(genCSV(40, 20, 5)), uint8(7), uint8(4), uint8(3))
	f.Add([]byte("a,b\n1,x\"y\"\n\"2\n,z\n"), uint8(5), uint8(2), uint8(5))
	f.Add([]byte("a,b\r1,\"x\ry\"\r\n2,y\r\"3\"x,\"\r4,z"), uint8(3), uint8(3), uint8(3))
	f.Add([]byte("h1,h2\n\"1,x\",a\n\"2,\"y\",b\n3,c\n4,\"d\"\n5,e\n"), uint8(4), uint8(2), uint8(7))
	f.Add([]byte("a\tb\n1\t\"x\n2\tx\"\r3\t'y''\n"), uint8(2), uint8(2), uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, chunk, workers, mode uint8) {
		in := string(data)
		opts := Options{ChunkSize: int(chunk%64) + 1, Workers: int(workers%4) + 1, TempDir: t.TempDir()}
		switch mode % 12 {
		case 1:
			opts.Columns = []string{"1", "2"}
		case 2:
			opts.Records = true
		case 3:
			opts.Columns, opts.Lenient = []string{"2"}, true
		case 4:
			opts.Records, opts.Columns, opts.Lenient, opts.Trim = true, []string{"1"}, true, true
		case 5:
			opts.Columns, opts.Lenient, opts.NoHeader, opts.MemoryLimit = []string{"1"}, true, true, 1
		case 6:
			opts.Columns, opts.Delimiter, opts.NoQuote, opts.Lenient = []string{"2", "1"}, '\t', true, true
		case 7:
			opts.Columns, opts.Lenient, opts.Workers = []string{"1"}, true, int(workers%4)+2
		case 8:
			opts.Records, opts.Quote, opts.Lenient, opts.NoHeader = true, '\'', true, true
		case 9:
			opts.Columns, opts.Lenient, opts.IgnoreCase, opts.SkipEmpty, opts.Trim = []string{"1", "2"}, true, true, true, true
			opts.Nulls = []string{"NA", "\xc3\x89"}
		case 10:
			opts.IgnoreCase, opts.SkipEmpty, opts.Nulls = true, true, []string{"x"}
		case 11:
			opts.Records, opts.Columns, opts.IgnoreCase, opts.Lenient, opts.Nulls = true, []string{"1"}, true, true, []string{"a"}
		}
		var ref refResult
		if len(opts.Columns) == 0 && !opts.Records {
			ref = refLinesOpts(in, opts)
		} else {
			ref = refCSV(in, opts)
		}
		want, rows, skipped, failed := ref.distinct, ref.rows, ref.skipped, ref.err
		for _, path := range []string{"read", "mapped", "streamed"} {
			var res *Result
			var err error
			if path == "streamed" {
				res, err = CountReader(context.Background(), bytes.NewReader(data), opts)
			} else {
				res, err = countMappedBytes(data, opts, path == "mapped")
			}
			if failed {
				if err == nil {
					t.Fatalf("%s: no error, the reference fails", path)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v; reference %v", path, err, want)
			}
			if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(want) || res.Rows != rows || res.Skipped != skipped {
				t.Fatalf("%s: got %v rows %d skipped %d, reference %v rows %d skipped %d",
					path, got, res.Rows, res.Skipped, want, rows, skipped)
			}
			if got := nullsOf(res); fmt.Sprint(got) != fmt.Sprint(ref.nulls) {
				t.Fatalf("%s: nulls %v, reference %v", path, got, ref.nulls)
			}
		}
	})
}

// countMappedBytes runs the parallel file path on data without a file,
// with the values referenced in data (as in a mapped file) when
// e.mapValues, and the chunks sliced from data instead of read (as from a
// mapping with huge pages) when readMapped.
func countMappedBytes(data []byte, opts Options, readMapped bool) (*Result, error) {
	e, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	defer e.removeSpills()
	defer e.setCfg.slab.close()
	var mapped []byte
	if e.mapValues() && len(data) > 0 {
		mapped = data
	}
	if err := e.countAt(context.Background(), bytes.NewReader(data), int64(len(data)), mapped, readMapped && mapped != nil); err != nil {
		e.freeWorkers()
		return nil, err
	}
	return e.result(context.Background())
}
