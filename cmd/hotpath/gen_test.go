package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "data.csv")
	code, _, errOut := runCLI(t, "gen", "csv", "--rows", "1000", "--distinct-records", "800", "--distinct-users", "50", out)
	want := "records=800 user_id=50 lines=802 physical_lines_total=1002 rows=1000" // record 1 spans two lines
	if code != 0 || strings.TrimSpace(errOut) != want {
		t.Fatalf("gen csv: exit %d, stderr %q; want %q", code, errOut, want)
	}
	if b, err := os.ReadFile(out + ".expected"); err != nil || strings.TrimSpace(string(b)) != want {
		t.Errorf("%s.expected: %q, %v", out, b, err)
	}
	if code, stdout, _ := runCLI(t, "uniq", "-c", "user_id", out); code != 0 || strings.TrimSpace(stdout) != "50" {
		t.Errorf("uniq -c user_id of the generated file: exit %d, %q; want 50", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "gen", "csv", "--rows", "10", "--distinct-records", "10", "--distinct-users", "10", "-"); code != 0 || !strings.HasPrefix(stdout, "id,user_id,") {
		t.Errorf("gen csv -: exit %d, stdout %.40q", code, stdout)
	}
	photos := filepath.Join(dir, "photos")
	if code, _, errOut := runCLI(t, "gen", "photos", "--count", "2", "--width", "64", "--height", "48", photos); code != 0 {
		t.Fatalf("gen photos: exit %d: %s", code, errOut)
	}
	if got, _ := filepath.Glob(filepath.Join(photos, "*")); len(got) != 2 {
		t.Errorf("gen photos --count 2 made %v", got)
	}
	for _, args := range [][]string{
		{"gen"},
		{"gen", "tables", out},
		{"gen", "csv"},
		{"gen", "csv", "--rows", "5", "--distinct-records", "10", out},
		{"gen", "photos", "--quality", "0", photos},
	} {
		if code, stdout, errOut := runCLI(t, args...); code != 2 || stdout != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line on stderr, exit 2", args, code, stdout, errOut)
		}
	}
}
