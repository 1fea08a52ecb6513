package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func runDedupCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmd(t, stdin, append([]string{"dedup"}, args...)...)
}

const dedupSample = "id,user_id,note\r\n1,u1,x\r\n1,\"u1\",x\r\n2,u1,\"a,b\"\r\n3,u2,\"multi\nline\"\r\n3,u2,\"multi\nline\"\r\n4,u3,x"

func TestDedupCommand(t *testing.T) {
	csvPath := writeFile(t, "d.csv", dedupSample)
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(dedupSample))
	zw.Close()
	zstPath := writeFile(t, "d.csv.zst", zs.String())
	all := "id,user_id,note\r\n1,u1,x\r\n2,u1,\"a,b\"\r\n3,u2,\"multi\nline\"\r\n4,u3,x\n"
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
		err   string
	}{
		{"records", "", []string{csvPath}, 0, all, "kept 4 of 6 records"},
		{"stdin", dedupSample, []string{"-"}, 0, all, ""},
		{"zstd", "", []string{zstPath}, 0, all, ""},
		{"key", "", []string{"-k", "user_id", csvPath}, 0, "id,user_id,note\r\n1,u1,x\r\n3,u2,\"multi\nline\"\r\n4,u3,x\n", "kept 3 of 6"},
		{"key by index spilled", dedupSample, []string{"-k", "3", "--memory", "1", "-"}, 0, "id,user_id,note\r\n1,u1,x\r\n2,u1,\"a,b\"\r\n3,u2,\"multi\nline\"\r\n", ""},
		{"two files together", "", []string{"-k", "user_id", csvPath, zstPath}, 0, "id,user_id,note\r\n1,u1,x\r\n3,u2,\"multi\nline\"\r\n4,u3,x\n", "kept 3 of 12"},
		{"unknown key", "", []string{"-k", "nope", csvPath}, 1, "", `column "nope" not found`},
		{"bad row", "a,b\n1\n", []string{"-k", "b", "-"}, 1, "", "line 2"},
		{"no file", "", nil, 2, "", "no input file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runDedupCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if tt.code == 0 && out != tt.out {
				t.Errorf("stdout %q, want %q", out, tt.out)
			}
			if !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.err)
			}
		})
	}
}

func TestDedupOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	if code, _, errOut := runDedupCmd(t, "", "-o", out, writeFile(t, "d.csv", dedupSample)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(got), "id,user_id,note\r\n1,u1,x\r\n2,u1") {
		t.Fatalf("%q, %v", got, err)
	}
	// A failed run leaves neither the output nor a temp file.
	bad := filepath.Join(dir, "bad.csv")
	if code, _, _ := runDedupCmd(t, "a,b\n1\n", "-k", "b", "-o", bad, "-"); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the output directory, want only out.csv", len(entries))
	}
}
