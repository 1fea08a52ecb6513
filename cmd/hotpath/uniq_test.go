package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath/uniq"
	"github.com/klauspost/compress/gzip"
)

// runUniqCmd runs "hotpath uniq args..." in-process.
func runUniqCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmd(t, stdin, append([]string{"uniq"}, args...)...)
}

// runCmd runs "hotpath args..." in-process with stdin.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code = run(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const uniqSample = "id,user_id,note\n1,u1,\"a,b\"\n2,\"u1\",x\n3,u2,\"multi\nline\"\n4,u3,x\n"

func TestUniqCommand(t *testing.T) {
	csvPath := writeFile(t, "s.csv", uniqSample)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(uniqSample))
	zw.Close()
	gzPath := writeFile(t, "s.csv.gz", gz.String())
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
		err   string
	}{
		{"lines", "", []string{csvPath}, 0, "6\n", ""},
		{"column", "", []string{csvPath, "-c", "user_id"}, 0, "3\n", ""},
		{"column by index after the file", "", []string{csvPath, "--column", "2"}, 0, "3\n", ""},
		{"two columns", "", []string{"-c", "user_id,note", csvPath}, 0, "user_id\t3\nnote\t3\n", ""},
		{"records", "", []string{"--records", csvPath}, 0, "4\n", ""},
		{"stdin", uniqSample, []string{"-c", "user_id", "-"}, 0, "3\n", ""},
		{"gzip", "", []string{"-c", "user_id", gzPath}, 0, "3\n", ""},
		{"two files count together", "", []string{"-c", "user_id", csvPath, gzPath}, 0, "3\n", ""},
		{"tab", "a\tb\nx\t1\ny\t1\n", []string{"--tab", "-c", "b", "-"}, 0, "1\n", ""},
		{"tab reads quotes as data", "a\tb\nx\t\"1\ny\t1\"\nz\t\"1\n", []string{"--tab", "-c", "b", "-"}, 0, "2\n", ""},
		{"tab with quoting", "a\tb\nx\t\"1\"\ny\t1\n", []string{"--tab", "--quote", "\"", "-c", "b", "-"}, 0, "1\n", ""},
		{"quote none", "a,b\nx,\"1\ny,1\"\n", []string{"--quote", "none", "-c", "b", "-"}, 0, "2\n", ""},
		{"bad quote", "", []string{"--quote", "ab", csvPath}, 2, "", "one byte or none"},
		{"lone CR ends records", "a,b\r1,2\r3,4\r", []string{"--records", "-"}, 0, "2\n", ""},
		{"lone CR column", "a,b\r1,2\r3,4\r", []string{"-c", "b", "-"}, 0, "2\n", ""},
		{"index form", "1,2\nx,a\ny,a\n", []string{"-c", "#1", "-"}, 0, "2\n", ""},
		{"header name wins", "2,1\nx,a\ny,a\n", []string{"-c", "1", "-"}, 0, "1\n", ""},
		{"lenient resyncs", "h1,h2\n\"1,x\",a\n\"2,\"y\",b\n3,c\n4,\"d\"\n5,e\n", []string{"-c", "h1", "--lenient", "-"}, 0, "4\n", "skipped 1 malformed rows"},
		{"ignore case", "a\nX\nx\nÉ\né\n", []string{"-c", "a", "--ignore-case", "-"}, 0, "2\n", ""},
		{"skip empty and nulls", "a,b\n,1\nNA,2\nn/a,3\nv,4\n", []string{"-c", "a", "--skip-empty", "--null", "NA", "--null", "n/a", "-"}, 0, "1\n", "a: 3 nulls not counted"},
		{"fault names line and field", "a,b\n1,x\"y\n", []string{"-c", "a", "-"}, 1, "", "line 2, field 2: bare quote in an unquoted field"},
		{"top", "", []string{"-c", "user_id", "--top", "1", csvPath}, 0, "user_id\t3\n  2\t50.00%\t\"u1\"\n", ""},
		{"top csv", "", []string{"-c", "user_id", "--top", "1", "--format", "csv", csvPath}, 0, "column,distinct,value,count,percent\nuser_id,3,u1,2,50.0000\n", ""},
		{"csv", "", []string{"-c", "user_id,note", "--format", "csv", csvPath}, 0, "column,distinct\nuser_id,3\nnote,3\n", ""},
		{"composite key", "", []string{"-k", "user_id,note", csvPath}, 0, "4\n", ""},
		{"composite key stdin", uniqSample, []string{"-k", "note,user_id", "-"}, 0, "4\n", ""},
		{"composite key gzip", "", []string{"-k", "user_id,note", gzPath}, 0, "4\n", ""},
		{"per group", "", []string{"--by", "note", "-c", "user_id", csvPath}, 0, "x\t2\t2\t50.00%\na,b\t1\t1\t25.00%\n\"multi\\nline\"\t1\t1\t25.00%\n", ""},
		{"per group top", "", []string{"--by", "note", "-c", "user_id", "--top", "1", "--format", "csv", csvPath}, 0, "note,distinct,rows,percent\nx,2,2,50.0000\n", ""},
		{"per group spill", uniqSample, []string{"--by", "user_id", "-c", "note", "--memory", "1", "--top", "1", "-"}, 0, "u1\t2\t2\t50.00%\n", ""},
		{"values", "", []string{"--values", "-c", "user_id", csvPath}, 0, "u1\nu2\nu3\n", ""},
		{"values csv", "", []string{"--values", "-c", "note", "--format", "csv", gzPath}, 0, "note\n\"a,b\"\nx\n\"multi\nline\"\n", ""},
		{"values composite", uniqSample, []string{"--values", "-k", "user_id,note", "-"}, 0, "user_id,note\nu1,\"a,b\"\nu1,x\nu2,\"multi\nline\"\nu3,x\n", ""},
		{"values of two columns", "", []string{"--values", "-c", "user_id,note", csvPath}, 1, "", "one column"},
		{"values json", "", []string{"--values", "-c", "user_id", "--format", "json", csvPath}, 2, "", "text or csv"},
		{"bad format", "", []string{"--format", "xml", csvPath}, 2, "", "--format must be"},
		{"by without column", "", []string{"--by", "note", csvPath}, 1, "", "needs the column"},
		{"approx", "", []string{"--approx", "-c", "user_id", csvPath}, 0, "~3\n", ""},
		{"spill", "", []string{"--memory", "1", "-c", "user_id", csvPath}, 0, "3\n", ""},
		{"missing file", "", []string{"/nonexistent/x.csv"}, 1, "", "hotpath uniq: /nonexistent/x.csv: no such file"},
		{"unknown column", "", []string{"-c", "nope", csvPath}, 1, "", `column "nope" not found`},
		{"bad row names its line", "a,b\n1\n", []string{"-c", "b", "-"}, 1, "", "line 2: row has 1 fields"},
		{"lenient", "a,b\n1\n2,x\n", []string{"-c", "b", "--lenient", "-"}, 0, "1\n", "skipped 1 malformed rows"},
		{"no file", "", nil, 2, "", "no input file"},
		{"bad flag", "", []string{"--bogus", csvPath}, 2, "", "flag provided but not defined"},
		{"bad delimiter", "", []string{"--delimiter", "ab", csvPath}, 2, "", "one byte"},
		{"bad memory", "", []string{"--memory", "lots", csvPath}, 2, "", "bad size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runUniqCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if tt.code == 0 && out != tt.out {
				t.Errorf("stdout %q, want %q", out, tt.out)
			}
			if !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.err)
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 && tt.code == 1 {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
}

func TestUniqJSON(t *testing.T) {
	path := writeFile(t, "s.csv", uniqSample)
	code, out, errOut := runUniqCmd(t, "", "--json", "-c", "user_id", "--top", "2", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res uniq.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(res.Columns) != 1 || res.Columns[0].Name != "user_id" || res.Columns[0].Distinct != 3 {
		t.Errorf("columns %+v, want user_id with 3", res.Columns)
	}
	if got, want := res.Columns[0].Top, []uniq.ValueCount{{Value: "u1", Count: 2, Percent: 50}, {Value: "u2", Count: 1, Percent: 25}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("top %v, want %v", got, want)
	}
	if res.Rows != 4 || res.Bytes != int64(len(uniqSample)) {
		t.Errorf("rows %d bytes %d, want 4 and %d", res.Rows, res.Bytes, len(uniqSample))
	}
}

func TestUniqHelp(t *testing.T) {
	code, out, errOut := runUniqCmd(t, "", "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"--column", "--records", "--no-header", "--delimiter", "--tab", "--trim", "--top",
		"--approx", "--precision", "--memory", "--temp-dir", "--lenient", "--json", "--key", "--by", "--values", "--format", "0.81%", "1.04/sqrt(2^precision)"} {
		if !strings.Contains(out, strings.TrimPrefix(want, "-")) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{{"1", 1}, {"512M", 512 << 20}, {"2G", 2 << 30}, {"1.5k", 1536}, {"3GiB", 3 << 30}, {"10mb", 10 << 20}}
	for _, tt := range tests {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseSize("-1"); err == nil {
		t.Error("negative size accepted")
	}
}

// TestHelpListsEachFlagOnce checks that every command's --help exits 0 and
// lists each of its flags exactly once.
func TestHelpListsEachFlagOnce(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
			if code := run(context.Background(), env, []string{name, "--help"}); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			seen := map[string]int{}
			for _, line := range strings.Split(stdout.String(), "\n") {
				if strings.HasPrefix(line, "  -") {
					seen[strings.Fields(line)[0]]++
				}
			}
			for flag, n := range seen {
				if n != 1 {
					t.Errorf("%s is listed %d times", flag, n)
				}
			}
		})
	}
}

// TestUniqNullsJSON checks that the values left out by --skip-empty and
// --null are reported per column in JSON.
func TestUniqNullsJSON(t *testing.T) {
	code, out, errOut := runUniqCmd(t, "a,b\nx,\n\"\",1\nNA,2\n", "--json", "-c", "a,b", "--skip-empty", "--null", "na", "--ignore-case", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res uniq.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(res.Columns) != 2 || res.Columns[0].Nulls != 2 || res.Columns[0].Distinct != 1 || res.Columns[1].Nulls != 1 || res.Columns[1].Distinct != 2 {
		t.Errorf("got %+v, want a: 1 distinct, 2 nulls; b: 2 distinct, 1 null", res.Columns)
	}
}

// TestProgressWaitsForAMeaningfulRate: the bar gets no report before the
// delay (its rate would be a chunk over a few milliseconds), every one after.
func TestProgressWaitsForAMeaningfulRate(t *testing.T) {
	var got []int64
	report := progressAfter(time.Now(), 50*time.Millisecond, func(done, total int64) { got = append(got, done) })
	report(1<<30, 2<<30)
	if len(got) != 0 {
		t.Fatalf("a report %v reached the bar before the delay", got)
	}
	time.Sleep(60 * time.Millisecond)
	report(3<<29, 2<<30)
	if len(got) != 1 || got[0] != 3<<29 {
		t.Fatalf("reports after the delay: %v, want [%d]", got, 3<<29)
	}
}

func TestProgressDescription(t *testing.T) {
	for _, tt := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{1_000_000_000, 3_000_000_000, 2 * time.Second, "uniq 500 MB/s, 4s left"},
		{4 << 20, -1, 500 * time.Millisecond, "uniq 8 MB/s"},
		{1 << 30, 1 << 30, time.Second, "uniq 1 GB/s"},
	} {
		if got := progressDescription(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("progressDescription(%d, %d, %s) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

// TestShortCountDrawsNoBar: a count that ends before the delay draws no
// frame, where it drew one with a rate from its first milliseconds.
func TestShortCountDrawsNoBar(t *testing.T) {
	path := writeFile(t, "small.csv", uniqSample)
	code, out, errOut := runUniqCmd(t, "", "--progress", "always", path)
	if code != 0 || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want no bar on stderr", code, out, errOut)
	}
}
