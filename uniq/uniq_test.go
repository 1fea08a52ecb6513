package uniq

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// countString counts in over a temp file (the mapped path), a reader (the
// streamed path) and chunks sliced from its bytes (as from a mapping with
// huge pages) with the given chunk size and workers, checks all agree, and
// returns the result.
func countString(t *testing.T, in string, opts Options) (*Result, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	mapped, errMapped := CountFile(context.Background(), path, opts)
	streamed, errStreamed := CountReader(context.Background(), strings.NewReader(in), opts)
	// A test file is too small for huge pages: the chunks sliced from the
	// mapping are taken here.
	sliced, errSliced := countMappedBytes([]byte(in), opts, true)
	if (errMapped == nil) != (errStreamed == nil) || (errMapped == nil) != (errSliced == nil) {
		t.Fatalf("mapped error %v, streamed error %v, sliced error %v", errMapped, errStreamed, errSliced)
	}
	if errMapped != nil {
		if errSliced.Error() != errMapped.Error() {
			t.Fatalf("sliced error %q, mapped %q", errSliced, errMapped)
		}
		return nil, errMapped
	}
	for name, other := range map[string]*Result{"streamed": streamed, "sliced": sliced} {
		if got, want := distincts(other), distincts(mapped); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s %v, mapped %v", name, got, want)
		}
		if other.Rows != mapped.Rows || other.Skipped != mapped.Skipped {
			t.Fatalf("%s rows/skipped %d/%d, mapped %d/%d", name, other.Rows, other.Skipped, mapped.Rows, mapped.Skipped)
		}
	}
	return mapped, nil
}

func nullsOf(r *Result) []int64 {
	var n []int64
	for _, c := range r.Columns {
		n = append(n, c.Nulls)
	}
	return n
}

func distincts(r *Result) []int64 {
	var out []int64
	for _, c := range r.Columns {
		out = append(out, c.Distinct)
	}
	return out
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"empty file", "", 0},
		{"one line no newline", "a", 1},
		{"no trailing newline", "a\nb\na", 2},
		{"trailing newline", "a\nb\na\n", 2},
		{"blank lines count once", "a\n\n\nb\n", 3},
		{"strip both ends", "  a \t\na\n\ta\n", 1},
		{"CRLF", "a\r\nb\r\na\r\n", 2},
		{"lone CR ends a line", "a\rb\ra\r", 2},
		{"CR CR LF", "a\r\r\nb", 3},
		{"unicode whitespace", "\u00a0a\u3000\na\u2028\n\u0085a\n", 1},
		{"non-breaking is not stripped inside", "a\u00a0b\nab\n", 2},
		{"BOM ignored", "\ufeffa\na\n", 1},
		{"not UTF-8", "\xff\xfe\n\xff\xfe\n\xc3\n", 2},
		{"quotes are plain text", "\"a\nb\"\n", 2},
		{"inline and referenced values side by side", "12345678\nabcdefghij\n12345678\nabcdefghij\n1234567\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 3, 7, 0} {
				res, err := countString(t, tt.in, Options{ChunkSize: chunk, Workers: 3})
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Columns[0].Distinct; got != tt.want {
					t.Errorf("chunk %d: got %d distinct, want %d", chunk, got, tt.want)
				}
				if ref, rows := refLines(tt.in); ref != tt.want || rows != res.Rows {
					t.Errorf("reference %d distinct %d rows, engine %d rows, want %d", ref, rows, res.Rows, tt.want)
				}
			}
		})
	}
}

// TestLinesMatchSeedPython runs the Python loop `hotpath uniq` replaces on
// tricky input: the baseline's own script when $HOTPATH_BASELINES (default
// ../shared/baselines, as for bench/) holds it, else the same loop inline, so
// that a clone without the baselines checks the same rule.
func TestLinesMatchSeedPython(t *testing.T) {
	dir := os.Getenv("HOTPATH_BASELINES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "baselines")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the baseline cannot run")
	}
	args := []string{filepath.Join(dir, "seed_uniq_lines.py")}
	if _, err := os.Stat(args[0]); err != nil {
		args = []string{"-c", "import sys\ndata = set()\nfor line in open(sys.argv[1]):\n    data.add(line.strip())\nprint(len(data))"}
	}
	in := "a\r\nb\rc\n  a  \n\u3000b\n\n\r\n\t\nx\u00a0y\nlast"
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append(args, path)...)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8", "LC_ALL=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed script: %v", err)
	}
	res, err := CountFile(context.Background(), path, Options{ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res.Columns[0].Distinct), strings.TrimSpace(string(out)); got != want {
		t.Errorf("got %s distinct lines, the seed's Python says %s", got, want)
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []int64
	}{
		{"empty file", "", Options{Columns: []string{"a"}}, []int64{0}},
		{"header only", "a,b\n", Options{Columns: []string{"a", "b"}}, []int64{0, 0}},
		{"header only no newline", "a,b", Options{Columns: []string{"b"}}, []int64{0}},
		{"no trailing newline", "a,b\n1,x\n2,x", Options{Columns: []string{"a", "b"}}, []int64{2, 1}},
		{"CRLF", "a,b\r\n1,x\r\n1,y\r\n", Options{Columns: []string{"b"}}, []int64{2}},
		{"quoted equals bare", "a,b\n\"1\",x\n1,y\n", Options{Columns: []string{"a"}}, []int64{1}},
		{"quoted comma", "a,b\n\"1,2\",x\n1,y\n2,z\n", Options{Columns: []string{"a"}}, []int64{3}},
		{"doubled quotes", "a\n\"say \"\"hi\"\"\"\n\"say \"\"hi\"\"\"\nsay hi\n", Options{Columns: []string{"a"}}, []int64{2}},
		{"quoted newline", "a,b\n\"x\ny\",1\n\"x\ny\",2\nx,3\n", Options{Columns: []string{"a", "b"}}, []int64{2, 3}},
		{"quoted CRLF kept", "a\n\"x\r\ny\"\n\"x\ny\"\n", Options{Columns: []string{"a"}}, []int64{2}},
		{"BOM", "\ufeffa,b\n1,2\n", Options{Columns: []string{"a"}}, []int64{1}},
		{"empty fields", "a,b,c\n,,\n,,x\n1,,\n", Options{Columns: []string{"a", "b", "c"}}, []int64{2, 1, 2}},
		{"blank lines are not rows", "a\n1\n\n2\n\r\n1\n", Options{Columns: []string{"a"}}, []int64{2}},
		{"not UTF-8", "a\n\xff\n\xfe\n\xff\n", Options{Columns: []string{"a"}}, []int64{2}},
		{"index", "a,b\n1,x\n2,x\n", Options{Columns: []string{"2"}}, []int64{1}},
		{"no header", "1,x\n2,x\n", Options{Columns: []string{"1", "2"}, NoHeader: true}, []int64{2, 1}},
		{"tab", "a\tb\n1\tx,y\n2\tx,y\n", Options{Columns: []string{"b"}, Delimiter: '\t'}, []int64{1}},
		{"trim", "a\n x\nx \n\"x\"\n", Options{Columns: []string{"a"}, Trim: true}, []int64{1}},
		{"records", "a,b\n1,x\n\"1\",x\n1,\"x\"\n2,x\n", Options{Records: true}, []int64{2}},
		{"records quoted newline", "a,b\n\"1\n2\",x\n\"1\n2\",x\n1,x\n", Options{Records: true}, []int64{2}},
		{"records and column", "a,b\n1,x\n2,x\n2,x\n", Options{Records: true, Columns: []string{"b"}}, []int64{2, 1}},
		{"records trim", "a,b\n1, x\n1,x \n", Options{Records: true, Trim: true}, []int64{1}},
		{"records quoting needed", "a,b\n\"1,x\",y\n1,\"x,y\"\n", Options{Records: true}, []int64{2}},
		{"quoted asked field then CRLF", "a,b,c\r\n1,\"x\"\r\n2,x\r\n3,\"y\",\"z\"\r\n", Options{Columns: []string{"b"}}, []int64{2}},
		{"quoted last field at the end", "a,b\n1,x\n2,\"x\"", Options{Columns: []string{"b"}}, []int64{1}},
		{"quoted last field CR at the end", "a,b\n1,x\n2,\"y\"\r", Options{Columns: []string{"b"}}, []int64{2}},
		{"quoted rest with newline and more fields", "a,b,c,d\n1,x,\"p\nq\",r\n2,y,\"p,q\",\"r\"\r\n3,x,s,\n", Options{Columns: []string{"b"}}, []int64{2}},
		{"quoted rest at the end", "a,b,c\n1,x,\"p\"", Options{Columns: []string{"b"}}, []int64{1}},
		{"quoted fields before the asked one", "a,b,c\n\"1,2\",\"\",x\n\"\",\"3\",x\n", Options{Columns: []string{"c", "a"}}, []int64{1, 2}},
		{"field asked twice", "a,b\n1,x\n2,\"x\"\n", Options{Columns: []string{"b", "2"}}, []int64{1, 1}},
		{"lenient short row", "a,b\n1,x\n2\n3,y\n", Options{Columns: []string{"b"}, Lenient: true}, []int64{2}},
		{"lenient short quoted row", "a,b,c\n1,x\n\"2\"\n3,y\n", Options{Columns: []string{"b"}, Lenient: true}, []int64{2}},
		{"lenient bare quote in the rest", "a,b,c\n1,x,p\"q\"\n3,y,\"p\"\"\"\n", Options{Columns: []string{"b"}, Lenient: true}, []int64{1}},
		{"lenient bare quote", "a,b\n1,x\"y\"\n3,y\n", Options{Columns: []string{"b"}, Lenient: true}, []int64{1}},
		{"lenient unterminated", "a,b\n1,x\n2,\"y\n3,z\n", Options{Columns: []string{"b"}, Lenient: true}, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := refCSV(tt.in, tt.opts)
			if ref.err || fmt.Sprint(ref.distinct) != fmt.Sprint(tt.want) {
				t.Fatalf("reference: %+v, want %v", ref, tt.want)
			}
			for _, chunk := range []int{1, 2, 5, 0} {
				opts := tt.opts
				opts.ChunkSize, opts.Workers = chunk, 3
				res, err := countString(t, tt.in, opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("chunk %d: got %v, want %v", chunk, got, tt.want)
				}
				if res.Rows != ref.rows || res.Skipped != ref.skipped {
					t.Errorf("chunk %d: rows/skipped %d/%d, reference %d/%d", chunk, res.Rows, res.Skipped, ref.rows, ref.skipped)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		code string
		msg  string
	}{
		{"unterminated quote", "a,b\n1,x\n2,\"y\n3,z\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 3, field 2: unterminated quote"},
		{"short row", "a,b\n1,x\n2\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 3: row has 1 fields, column b is field 2"},
		{"bare quote", "a,b\n1,x\"y\"\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 2, field 2: bare quote"},
		{"after closing quote", "a,b\n1,\"x\"y\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 2, field 2: extraneous character"},
		{"after closing quote in the rest", "a,b,c\n1,x,\"p\"q\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 2, field 3: extraneous character"},
		{"bare quote in the rest", "a,b,c\n1,x,\"p\"\n1,x,p\"q\"\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 3, field 3: bare quote"},
		{"line counts quoted newlines", "a,b\n\"1\n2\",x\n3\n", Options{Columns: []string{"b"}}, hotpath.EINVALID, "line 4:"},
		{"unknown column", "a,b\n1,2\n", Options{Columns: []string{"c"}}, hotpath.ENOTFOUND, `column "c" not found`},
		{"name without header", "a,b\n", Options{Columns: []string{"a"}, NoHeader: true}, hotpath.EINVALID, "1-based indexes"},
		{"index zero", "a,b\n", Options{Columns: []string{"0"}}, hotpath.EINVALID, "indexes start at 1"},
		{"header unterminated", "\"a,b\n", Options{Columns: []string{"a"}}, hotpath.EINVALID, "line 1, field 1: unterminated quote"},
		{"top with approx", "a\n", Options{Top: 1, Approx: true}, hotpath.EINVALID, "exact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 0} {
				opts := tt.opts
				opts.ChunkSize = chunk
				_, err := countString(t, tt.in, opts)
				if got := hotpath.ErrorCode(err); got != tt.code {
					t.Fatalf("chunk %d: error %v has code %q, want %q", chunk, err, got, tt.code)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("chunk %d: error %q, want it to contain %q", chunk, err, tt.msg)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := CountFile(context.Background(), filepath.Join(t.TempDir(), "nope.csv"), Options{})
	if !hotpath.IsNotFound(err) {
		t.Fatalf("got %v, want a not-found error", err)
	}
}

// genCSV writes rows like `hotpath gen csv`'s: quoted user ids, quoted commas and
// quoted newlines, so that record boundaries fall everywhere in tiny chunks.
func genCSV(rows, records, users int) string {
	var b strings.Builder
	b.WriteString("id,user_id,note\n")
	for i := range rows {
		k := (i * 7919) % records
		u := (k * 31) % users
		uid := fmt.Sprintf("u%05d", u)
		switch {
		case u%7 == 0:
			uid = fmt.Sprintf("\"u%05d, ext\"", u)
		case k%5 == 0:
			uid = "\"" + uid + "\""
		}
		note := ""
		switch {
		case k%11 == 1:
			note = fmt.Sprintf("\"first %d\nsecond %d\"", k%3, k%5)
		case k%13 == 2:
			note = "\"she said \"\"hi\"\"\""
		case k%3 == 0:
			note = "\"hello, world\""
		}
		eol := "\n"
		if k%17 == 0 {
			eol = "\r\n"
		}
		fmt.Fprintf(&b, "%d,%s,%s%s", k, uid, note, eol)
	}
	return b.String()
}

func TestChunkBoundaries(t *testing.T) {
	in := genCSV(3000, 1000, 100)
	for _, opts := range []Options{
		{Columns: []string{"user_id", "note", "id"}},
		{Records: true},
		{},
	} {
		var want []int64
		if opts.Records || len(opts.Columns) > 0 {
			ref := refCSV(in, opts)
			if ref.err {
				t.Fatal("reference failed")
			}
			want = ref.distinct
		} else {
			n, _ := refLines(in)
			want = []int64{n}
		}
		for _, chunk := range []int{1, 2, 3, 5, 8, 13, 64, 1000, 4096} {
			for _, workers := range []int{1, 2, 4} {
				opts.ChunkSize, opts.Workers = chunk, workers
				res, err := countString(t, in, opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%+v: got %v, want %v", opts, got, want)
				}
			}
		}
	}
	if want := refCSV(in, Options{Columns: []string{"user_id"}}).distinct[0]; want != 100 {
		t.Fatalf("generator: %d users, want 100", want)
	}
}

func TestLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20+17)
	in := "a,b\n1," + long + "\n2," + long + "\n3,\"" + long + "\"\n4,\"" + long + "\n" + long + "\"\n"
	res, err := countString(t, in, Options{Columns: []string{"b"}, ChunkSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Columns[0].Distinct; got != 2 {
		t.Errorf("got %d, want 2", got)
	}
	res, err = countString(t, long+"\n"+long+"\nx\n", Options{ChunkSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Columns[0].Distinct; got != 2 {
		t.Errorf("lines: got %d, want 2", got)
	}
}

func TestManyColumns(t *testing.T) {
	var b strings.Builder
	var cols []string
	for c := range 100 {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", c)
		cols = append(cols, fmt.Sprintf("c%d", c))
	}
	b.WriteByte('\n')
	for r := range 500 {
		for c := range 100 {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", r%(c+1))
		}
		b.WriteByte('\n')
	}
	res, err := countString(t, b.String(), Options{Columns: cols, ChunkSize: 999})
	if err != nil {
		t.Fatal(err)
	}
	for c := range 100 {
		if got, want := res.Columns[c].Distinct, int64(c+1); got != want {
			t.Errorf("column %d: got %d, want %d", c, got, want)
		}
		if got, want := res.Columns[c].Name, cols[c]; got != want {
			t.Errorf("column %d: name %q, want %q", c, got, want)
		}
	}
}

func TestCompressed(t *testing.T) {
	in := genCSV(5000, 2000, 300)
	want := refCSV(in, Options{Columns: []string{"user_id"}}).distinct[0]
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(in))
	gw.Close()
	zw, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte(in))
	zw.Close()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"in.csv.gz": gz.Bytes(), "in.csv.zst": zs.Bytes(), "plain.csv": []byte(in)} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{100, 0} {
			opts := Options{Columns: []string{"user_id"}, ChunkSize: chunk}
			res, err := CountFile(context.Background(), path, opts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := res.Columns[0].Distinct; got != want {
				t.Errorf("%s file: got %d, want %d", name, got, want)
			}
			if res.Bytes != int64(len(in)) {
				t.Errorf("%s: %d bytes, want %d (uncompressed)", name, res.Bytes, len(in))
			}
			res, err = CountReader(context.Background(), bytes.NewReader(data), opts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := res.Columns[0].Distinct; got != want {
				t.Errorf("%s reader: got %d, want %d", name, got, want)
			}
		}
	}
}

func TestSpill(t *testing.T) {
	in := genCSV(20000, 8000, 700)
	ref := refCSV(in, Options{Records: true, Columns: []string{"user_id"}})
	dir := t.TempDir()
	for _, chunk := range []int{512, 4096} {
		res, err := countString(t, in, Options{Records: true, Columns: []string{"user_id"}, Top: 3,
			MemoryLimit: 1, TempDir: dir, ChunkSize: chunk, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(ref.distinct) {
			t.Errorf("chunk %d: got %v, want %v", chunk, got, ref.distinct)
		}
		exact, err := countString(t, in, Options{Columns: []string{"user_id"}, Top: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(res.Columns[1].Top), fmt.Sprint(exact.Columns[0].Top); got != want {
			t.Errorf("spilled top %s, in-memory top %s", got, want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d spill files left behind", len(left))
	}
}

func TestTop(t *testing.T) {
	in := "v\nb\na\nb\nc\nc\nb\nd\n"
	res, err := countString(t, in, Options{Columns: []string{"v"}, Top: 2, ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []ValueCount{{"b", 3, 300.0 / 7}, {"c", 2, 200.0 / 7}} // percent of the 7 rows
	if got := res.Columns[0].Top; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if res.Columns[0].Distinct != 4 {
		t.Errorf("got %d distinct, want 4", res.Columns[0].Distinct)
	}
}

// TestApprox checks the HyperLogLog estimate on known sets against what
// --help states: a standard error of 1.04/sqrt(2^p) (0.81% at the default
// precision, so the root mean square error over the sets stays under 1%),
// and every estimate within 3 standard errors.
func TestApprox(t *testing.T) {
	for _, p := range []uint8{10, 14, 16} {
		se := 1.04 / math.Sqrt(float64(int(1)<<p))
		var sum2 float64
		sizes := []int{1, 100, 5000, 40000, 70000, 300000, 1000000}
		for _, n := range sizes {
			var b bytes.Buffer
			for i := range n {
				fmt.Fprintf(&b, "value-%d\n", i)
				if i%3 == 0 {
					fmt.Fprintf(&b, "value-%d\n", i) // duplicates change nothing
				}
			}
			res, err := CountReader(context.Background(), bytes.NewReader(b.Bytes()), Options{Approx: true, Precision: p, ChunkSize: 1 << 16})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Columns[0].Approx {
				t.Error("result not marked approx")
			}
			rel := (float64(res.Columns[0].Distinct) - float64(n)) / float64(n)
			sum2 += rel * rel
			if math.Abs(rel) > 3*se {
				t.Errorf("n=%d p=%d: estimate %d, error %.4f > 3 standard errors %.4f", n, p, res.Columns[0].Distinct, rel, 3*se)
			}
		}
		rms := math.Sqrt(sum2 / float64(len(sizes)))
		if rms > 1.25*se || (p == DefaultPrecision && rms > 0.01) {
			t.Errorf("p=%d: rms error %.4f, stated standard error %.4f", p, rms, se)
		}
	}
	empty, err := CountReader(context.Background(), strings.NewReader(""), Options{Approx: true})
	if err != nil || empty.Columns[0].Distinct != 0 {
		t.Errorf("empty input: %v, %v; want 0", empty, err)
	}
}

func TestCountStrings(t *testing.T) {
	items := []string{"a", " a", "b", "a", "", "", "b\u3000", "a\x00", "\x00", "12345678", "123456789", "12345678"}
	if got := CountStrings(items, false); got != 9 {
		t.Errorf("got %d, want 9", got)
	}
	if got := CountStrings(items, true); got != 7 {
		t.Errorf("trim: got %d, want 7", got)
	}
	for _, k := range []uint64{0, 1, 42, 1 << 63, ^uint64(0)} {
		if got := unfmix64(fmix64(k)); got != k {
			t.Errorf("unfmix64(fmix64(%d)) = %d", k, got)
		}
	}
	var many []string
	for i := range 300000 {
		many = append(many, fmt.Sprint(i%123457))
	}
	if got := CountStrings(many, false); got != 123457 {
		t.Errorf("many: got %d, want 123457", got)
	}
}

func TestCountDelimited(t *testing.T) {
	tests := []struct {
		buf  string
		trim bool
		want int64
	}{
		{"", false, 0},
		{"a", false, 1},
		{"a\n", false, 2},
		{"a\nb\na", false, 2},
		{"\n\n", false, 1},
		{"a\n a\n", false, 3},
		{"a\n a\n", true, 2},
	}
	for _, tt := range tests {
		if got := CountDelimited([]byte(tt.buf), '\n', tt.trim); got != tt.want {
			t.Errorf("%q trim=%v: got %d, want %d", tt.buf, tt.trim, got, tt.want)
		}
	}
	var b bytes.Buffer
	for i := range 1000000 {
		if i > 0 {
			b.WriteByte(0)
		}
		fmt.Fprint(&b, i%77777)
	}
	if got := CountDelimited(b.Bytes(), 0, false); got != 77777 {
		t.Errorf("big: got %d, want 77777", got)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := CountReader(ctx, strings.NewReader(genCSV(1000, 100, 10)), Options{ChunkSize: 64})
	if err == nil {
		t.Fatal("a cancelled count succeeded")
	}
}

// TestParseRecordWant checks that parsing only the first fields of a record
// (or none, as the boundary walks do) reports the same fault and the same
// next record as parsing it all.
func TestParseRecordWant(t *testing.T) {
	for _, rec := range []string{
		`a,b,c`, `a,"b,c",d`, `"a""b",c,"d"`, `a,b,c"d`, `a,b,"c"d`, `a,b,"c`, `a,b,,"c""",`,
		`a,"b"x,c`, `a,b,"",x"`, `"a",b,"c""d"",e`, `a,b,c,"d,e",f"g`, `a,b,`, `a`,
		"a,\"b\nc\"\rd,e", "a,b\"c\r\nd", "\"a\"x\"\n\"b\"",
	} {
		data := []byte(rec + "\nnext")
		_, _, allNext, all := parseRecordAt(data, 0, ',', '"', 0, nil, nil)
		for want := -1; want <= 3; want++ {
			fields, _, next, got := parseRecordAt(data, 0, ',', '"', want, nil, nil)
			if got != all || next != allNext {
				t.Errorf("%q want %d: fault %v next %d, all fields give %v next %d", rec, want, got, next, all, allNext)
			}
			if got.msg == "" && len(fields) > max(want, 0) && want != 0 {
				t.Errorf("%q want %d: %d fields", rec, want, len(fields))
			}
		}
	}
}
