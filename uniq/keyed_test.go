package uniq

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// pyRef is what testdata/csvref.py, CPython's csv module, says of a file.
type pyRef struct {
	Distinct int64               `json:"distinct"`
	Groups   map[string][2]int64 `json:"groups"`
	Firsts   [][]string          `json:"firsts"`
	Values   [][]string          `json:"values"`
}

func pythonRef(t *testing.T, path string, opts map[string]any) pyRef {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the csv module reference cannot run")
	}
	doc, _ := json.Marshal(opts)
	out, err := exec.Command(py, filepath.Join("testdata", "csvref.py"), path, string(doc)).Output()
	if err != nil {
		t.Fatalf("csvref.py: %v", err)
	}
	var ref pyRef
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// keyedInputs writes in as a plain, a gzip and a zstd file and returns
// them, with a stdin-like reader of the plain bytes, as inputs to count.
func keyedInputs(t *testing.T, in string) (plain string, inputs map[string]Input) {
	t.Helper()
	dir := t.TempDir()
	plain = filepath.Join(dir, "in.csv")
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(in))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(in))
	zw.Close()
	for name, data := range map[string][]byte{plain: []byte(in), plain + ".gz": gz.Bytes(), plain + ".zst": zs.Bytes()} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return plain, map[string]Input{
		"file": {Path: plain}, "gzip": {Path: plain + ".gz"}, "zstd": {Path: plain + ".zst"},
		"stdin": {Path: "-", Reader: strings.NewReader(in)},
	}
}

// keyedVariants are the settings every keyed mode is checked under: the
// default, tiny chunks on three workers, and a tiny memory budget that
// makes every worker spill after a few keys.
func keyedVariants(t *testing.T) map[string]Options {
	dir := t.TempDir()
	return map[string]Options{
		"default": {},
		"chunks":  {ChunkSize: 61, Workers: 3},
		"spill":   {MemoryLimit: 1, TempDir: dir, ChunkSize: 300, Workers: 2},
	}
}

func reader(in Input) Input {
	if r, ok := in.Reader.(*strings.Reader); ok {
		r.Seek(0, io.SeekStart)
	}
	return in
}

func TestCompositeKeys(t *testing.T) {
	in := genCSV(1500, 700, 90)
	plain, inputs := keyedInputs(t, in)
	for _, keys := range [][]string{{"user_id", "note"}, {"note", "2"}, {"user_id"}} {
		ref := pythonRef(t, plain, map[string]any{"keys": keys})
		for vname, v := range keyedVariants(t) {
			for iname, input := range inputs {
				opts := v
				opts.Keys = keys
				res, err := CountInputs(context.Background(), []Input{reader(input)}, opts)
				if err != nil {
					t.Fatalf("%v %s %s: %v", keys, vname, iname, err)
				}
				if got := res.Columns[0].Distinct; got != ref.Distinct {
					t.Errorf("%v %s %s: %d distinct, Python's csv %d", keys, vname, iname, got, ref.Distinct)
				}
				if res.Rows != int64(len(ref.Firsts)) && res.Rows != 1500 {
					t.Errorf("%v %s %s: %d rows", keys, vname, iname, res.Rows)
				}
			}
		}
	}
	// One key column counts as that column does.
	plainRes, err := CountFile(context.Background(), plain, Options{Columns: []string{"user_id"}})
	if err != nil {
		t.Fatal(err)
	}
	keyRes, err := CountFile(context.Background(), plain, Options{Keys: []string{"user_id"}, Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	if plainRes.Columns[0].Distinct != keyRes.Columns[0].Distinct {
		t.Errorf("-k user_id %d, -c user_id %d", keyRes.Columns[0].Distinct, plainRes.Columns[0].Distinct)
	}
	top, err := CountFile(context.Background(), plain, Options{Columns: []string{"user_id"}, Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(keyRes.Columns[0].Top), fmt.Sprint(top.Columns[0].Top); got != want {
		t.Errorf("-k top %s, -c top %s", got, want)
	}
}

func TestPerGroup(t *testing.T) {
	in := genCSV(1500, 700, 90)
	// A group column of few values: the last digit of id.
	var b strings.Builder
	for i, line := range strings.SplitAfter(in, "\n") {
		if line == "" {
			continue
		}
		if i == 0 {
			b.WriteString("grp," + line)
			continue
		}
		fmt.Fprintf(&b, "g%d,%s", (i*7)%13, line)
	}
	in = b.String()
	plain, inputs := keyedInputs(t, in)
	for _, tt := range []struct {
		by, cols, keys []string
	}{
		{[]string{"grp"}, []string{"user_id"}, nil},
		{[]string{"grp"}, nil, []string{"user_id", "note"}},
		{[]string{"note"}, []string{"grp"}, nil}, // groups with quoted newlines and commas
	} {
		value := tt.cols
		if tt.keys != nil {
			value = tt.keys
		}
		ref := pythonRef(t, plain, map[string]any{"by": tt.by, "keys": value})
		for vname, v := range keyedVariants(t) {
			for iname, input := range inputs {
				opts := v
				opts.By, opts.Columns, opts.Keys = tt.by, tt.cols, tt.keys
				res, err := CountInputs(context.Background(), []Input{reader(input)}, opts)
				if err != nil {
					t.Fatalf("%v %s %s: %v", tt.by, vname, iname, err)
				}
				col := res.Columns[0]
				if col.Distinct != ref.Distinct || len(col.Groups) != len(ref.Groups) {
					t.Fatalf("%v %s %s: %d pairs in %d groups, Python's csv %d in %d", tt.by, vname, iname, col.Distinct, len(col.Groups), ref.Distinct, len(ref.Groups))
				}
				for i, g := range col.Groups {
					want, ok := ref.Groups[g.Group]
					if !ok || g.Distinct != want[0] || g.Rows != want[1] {
						t.Errorf("%v %s %s: group %q %d distinct %d rows, Python's csv %v", tt.by, vname, iname, g.Group, g.Distinct, g.Rows, want)
					}
					if i > 0 && groupBefore(col.Groups[i-1], g) > 0 {
						t.Errorf("groups out of order at %d: %+v then %+v", i, col.Groups[i-1], g)
					}
				}
			}
		}
		// Top limits the groups to the first ones.
		opts := Options{By: tt.by, Columns: tt.cols, Keys: tt.keys}
		all, err := CountFile(context.Background(), plain, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Top = 2
		top, err := CountFile(context.Background(), plain, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(top.Columns[0].Groups), fmt.Sprint(all.Columns[0].Groups[:2]); got != want {
			t.Errorf("top 2 groups %s, want %s", got, want)
		}
	}
}

func parseCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%v in %q", err, s)
	}
	return recs
}

func TestDedup(t *testing.T) {
	in := "\ufeff" + genCSV(1500, 700, 90) + "9,u9,last" // no final newline
	plain, inputs := keyedInputs(t, in)
	for _, keys := range [][]string{nil, {"user_id"}, {"note", "user_id"}} {
		ref := pythonRef(t, plain, map[string]any{"keys": keys})
		for vname, v := range keyedVariants(t) {
			for iname, input := range inputs {
				opts := v
				opts.Keys = keys
				var out bytes.Buffer
				res, err := Dedup(context.Background(), []Input{reader(input)}, opts, &out)
				if err != nil {
					t.Fatalf("%v %s %s: %v", keys, vname, iname, err)
				}
				got := parseCSV(t, out.String())
				if !slices.Equal(got[0], []string{"id", "user_id", "note"}) {
					t.Fatalf("%v %s %s: header %q", keys, vname, iname, got[0])
				}
				if fmt.Sprint(got[1:]) != fmt.Sprint(ref.Firsts) {
					t.Fatalf("%v %s %s: %d records, Python's csv keeps %d", keys, vname, iname, len(got)-1, len(ref.Firsts))
				}
				if res.Columns[0].Distinct != int64(len(ref.Firsts)) {
					t.Errorf("%v %s %s: result says %d distinct, %d written", keys, vname, iname, res.Columns[0].Distinct, len(ref.Firsts))
				}
			}
		}
	}
	// The records are copied byte for byte.
	var out bytes.Buffer
	if _, err := Dedup(context.Background(), []Input{{Path: "-", Reader: strings.NewReader("a,b\r\n\"1\",x\r\n1,x\r\n1,\"y\"\r\n")}}, Options{}, &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "a,b\r\n\"1\",x\r\n1,\"y\"\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDistinctValues(t *testing.T) {
	in := genCSV(1500, 700, 90)
	plain, inputs := keyedInputs(t, in)
	for _, tt := range []struct {
		cols, keys []string
		csv        bool
	}{
		{[]string{"user_id"}, nil, false},
		{[]string{"note"}, nil, true}, // values with newlines, quotes and commas
		{nil, []string{"user_id", "note"}, false},
	} {
		ref := pythonRef(t, plain, map[string]any{"keys": append(tt.cols, tt.keys...)})
		for vname, v := range keyedVariants(t) {
			for iname, input := range inputs {
				opts := v
				opts.Columns, opts.Keys = tt.cols, tt.keys
				var out bytes.Buffer
				if _, err := DistinctValues(context.Background(), []Input{reader(input)}, opts, &out, tt.csv); err != nil {
					t.Fatalf("%s %s: %v", vname, iname, err)
				}
				var got [][]string
				if tt.csv || len(tt.keys) > 1 {
					got = parseCSV(t, out.String())[1:]
				} else {
					for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
						got = append(got, []string{l})
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(ref.Values) {
					t.Fatalf("%v %s %s: %d values, Python's csv %d:\n%q\n%q", tt, vname, iname, len(got), len(ref.Values), got[:min(5, len(got))], ref.Values[:5])
				}
			}
		}
	}
}

func TestKeyedSpillFilesGone(t *testing.T) {
	dir := t.TempDir()
	in := genCSV(2000, 1000, 100)
	var out bytes.Buffer
	if _, err := Dedup(context.Background(), []Input{{Path: "-", Reader: strings.NewReader(in)}}, Options{MemoryLimit: 1, TempDir: dir, Workers: 2, ChunkSize: 100}, &out); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d temp files left behind", len(left))
	}
}

// TestKeyedNormalize: IgnoreCase, Trim, SkipEmpty and Nulls apply to every
// field of a key; a record with a null in its key is not counted.
func TestKeyedNormalize(t *testing.T) {
	in := "c,u\nUS,a\nus, A\nFR,\nFR,NA\nUS,b\n"
	opts := Options{IgnoreCase: true, Trim: true, SkipEmpty: true, Nulls: []string{"na"}, Keys: []string{"c", "u"}}
	res, err := CountReader(context.Background(), strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Columns[0]; c.Distinct != 2 || c.Nulls != 2 {
		t.Errorf("got %d distinct, %d nulls; want 2 and 2", c.Distinct, c.Nulls)
	}
	opts.Keys, opts.By, opts.Columns = nil, []string{"c"}, []string{"u"}
	res, err = CountReader(context.Background(), strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	if g := res.Columns[0].Groups; len(g) != 1 || g[0] != (GroupCount{"us", 2, 3, 60}) {
		t.Errorf("groups %+v, want us with 2 distinct in 3 rows", g)
	}
}
