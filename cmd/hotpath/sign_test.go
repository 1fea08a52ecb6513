package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
)

// runCommand runs one hotpath command line in-process with env vars and
// returns its exit status, stdout and stderr.
func runSignCommand(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestSign(t *testing.T) {
	const key1, key2 = "first-signing-key-0123", "second-signing-key-456"
	verify := func(t *testing.T, keys []string, allowUnsigned bool, printed, base string) {
		t.Helper()
		path := strings.TrimPrefix(strings.TrimSpace(printed), base)
		u, err := hotpath.ParseTransformURL(path)
		if err != nil {
			t.Fatalf("printed %q does not parse: %v", printed, err)
		}
		s, err := hotpath.NewTransformSigner(keys, allowUnsigned)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(u.Signature, u.SignedPart()); err != nil {
			t.Errorf("printed %q does not verify: %v", printed, err)
		}
	}
	tests := []struct {
		name       string
		vars       map[string]string
		args       []string
		wantCode   int
		wantPrefix string // of stdout, on success
		verifyKeys []string
		unsigned   bool
		wantErr    string // in stderr, on failure
	}{
		{name: "key flag", args: []string{"sign", "--key", key1, "w:400,f:webp", "0123abcd"},
			wantPrefix: "/t/", verifyKeys: []string{key1}},
		{name: "flags after positionals and canonical syntax", args: []string{"sign", "width:400,format:jpg", "0123abcd.jpg", "--key", key1},
			wantPrefix: "/t/", verifyKeys: []string{key1}},
		{name: "first env key signs", vars: map[string]string{"HOTPATH_SIGNING_KEYS": key2 + "," + key1}, args: []string{"sign", "preset:thumb", "0123abcd"},
			wantPrefix: "/t/", verifyKeys: []string{key2}},
		{name: "base URL", args: []string{"sign", "--key", key1, "--base", "https://img.example.com/", "-", "0123abcd"},
			wantPrefix: "https://img.example.com/t/", verifyKeys: []string{key1}},
		{name: "unsafe", args: []string{"sign", "--unsafe", "w:10", "0123abcd"},
			wantPrefix: "/t/unsafe/w:10/0123abcd", unsigned: true},
		{name: "no key", args: []string{"sign", "w:10", "0123abcd"}, wantCode: 2, wantErr: "no signing key"},
		{name: "short key", args: []string{"sign", "--key", "short", "w:10", "0123abcd"}, wantCode: 1, wantErr: "shorter than 16 bytes"},
		{name: "bad option", args: []string{"sign", "--key", key1, "w:huge", "0123abcd"}, wantCode: 1, wantErr: `option "w"`},
		{name: "format conflict", args: []string{"sign", "--key", key1, "f:png", "0123abcd.webp"}, wantCode: 1, wantErr: `option "f"`},
		{name: "bad image id", args: []string{"sign", "--key", key1, "w:10", "a/b"}, wantCode: 1, wantErr: "transform path"},
		{name: "one argument", args: []string{"sign", "--key", key1, "w:10"}, wantCode: 2, wantErr: "want OPTIONS and IMAGE_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runSignCommand(t, tt.vars, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit = %d, want %d (stdout %q, stderr %q)", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode != 0 {
				if !strings.Contains(stderr, tt.wantErr) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantErr)
				}
				return
			}
			if !strings.HasPrefix(stdout, tt.wantPrefix) {
				t.Errorf("stdout = %q, want prefix %q", stdout, tt.wantPrefix)
			}
			base := strings.TrimSuffix(tt.wantPrefix, "/t/")
			if strings.HasPrefix(tt.wantPrefix, "/t/") {
				base = ""
			}
			verify(t, tt.verifyKeys, tt.unsigned, stdout, base)
		})
	}
}

func TestSignCanonicalSyntax(t *testing.T) {
	_, a, _ := runSignCommand(t, nil, "sign", "--key", "first-signing-key-0123", "format:webp,width:400", "0123abcd")
	_, b, _ := runSignCommand(t, nil, "sign", "--key", "first-signing-key-0123", "w:400,f:webp", "0123abcd")
	if a != b || !strings.Contains(a, "/w:400,f:webp/") {
		t.Errorf("equivalent options signed as %q and %q, want the same canonical path", a, b)
	}
}

func TestTransformFlags(t *testing.T) {
	c := hphttp.DefaultTransformConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	transformFlags(fs, &c)
	err := fs.Parse([]string{"--signing-keys", " new-signing-key-0123, old-signing-key-4567 ", "--presets-only", "--transform-max-width", "2000"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"new-signing-key-0123", "old-signing-key-4567"}; !reflect.DeepEqual(c.SigningKeys, want) {
		t.Errorf("SigningKeys = %q, want %q", c.SigningKeys, want)
	}
	if !c.PresetsOnly || c.AllowUnsigned || c.MaxWidth != 2000 {
		t.Errorf("config = %+v, want presets only, signed, max width 2000", c)
	}
	if got := fs.Lookup("signing-keys").Value.String(); strings.Contains(got, "signing-key") {
		t.Errorf("the flag prints its keys: %q", got)
	}
}
