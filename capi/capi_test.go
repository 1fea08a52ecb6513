package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/hotpath/hotpath"
)

func TestCallRecoversPanics(t *testing.T) {
	tests := []struct {
		name     string
		fn       func() error
		wantCode string
		wantMsg  string
	}{
		{"success", func() error { return nil }, "", ""},
		{"coded error", func() error { return hotpath.Errorf(hotpath.ETOOLARGE, "too big") }, hotpath.ETOOLARGE, "too big"},
		{"plain error", func() error { return errors.New("disk on fire") }, hotpath.EINTERNAL, "internal error: disk on fire"},
		{"panic", func() error { panic("boom") }, hotpath.EINTERNAL, "internal error: panic: boom"},
		{"nil map write", func() error { var m map[string]int; m["x"] = 1; return nil }, hotpath.EINTERNAL, "internal error: panic: assignment to entry in nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := call(tt.fn)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("call() = %v, want nil", err)
				}
				return
			}
			code, msg := errorParts(err)
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("errorParts = %q, %q; want %q, %q", code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestViewPacked(t *testing.T) {
	buf := []byte("abcab\x00c")
	tests := []struct {
		name    string
		lengths []int64
		want    []string
		wantErr bool
	}{
		{"split", []int64{3, 2, 2}, []string{"abc", "ab", "\x00c"}, false},
		{"empty values", []int64{0, 7, 0}, []string{"", "abcab\x00c", ""}, false},
		{"too long", []int64{3, 5}, nil, true},
		{"too short", []int64{3, 2}, nil, true},
		{"negative", []int64{8, -1}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := viewPacked(buf, unsafe.Pointer(&tt.lengths[0]), len(tt.lengths))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if hotpath.ErrorCode(err) != hotpath.EINVALID {
					t.Errorf("code = %q, want invalid", hotpath.ErrorCode(err))
				}
				return
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestViewStrings(t *testing.T) {
	a, b := []byte("hello"), []byte("wo\x00rld")
	ptrs := []*byte{&a[0], nil, &b[0]}
	lens := []int64{5, 0, 6}
	got, err := viewStrings(unsafe.Pointer(&ptrs[0]), unsafe.Pointer(&lens[0]), 3)
	if err != nil || len(got) != 3 || got[0] != "hello" || got[1] != "" || got[2] != "wo\x00rld" {
		t.Fatalf("viewStrings = %q, %v", got, err)
	}
	lens[1] = 3 // a NULL pointer with a length is refused, not dereferenced
	if _, err := viewStrings(unsafe.Pointer(&ptrs[0]), unsafe.Pointer(&lens[0]), 3); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("NULL item: err = %v, want invalid", err)
	}
}

func TestDelimitedValues(t *testing.T) {
	for _, tt := range []struct {
		buf  string
		want int64
	}{{"", 0}, {"a", 1}, {"\n", 2}, {"a\nb\n", 3}} {
		if got := delimitedValues([]byte(tt.buf), '\n'); got != tt.want {
			t.Errorf("delimitedValues(%q) = %d, want %d", tt.buf, got, tt.want)
		}
	}
}

func TestParseFileOptions(t *testing.T) {
	opts, err := parseFileOptions(`{"columns":["user_id","2"],"top":5,"memory":1048576,"delimiter":";","no_header":true,"lenient":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Columns) != 2 || opts.Top != 5 || opts.MemoryLimit != 1<<20 || opts.Delimiter != ';' || !opts.NoHeader || !opts.Lenient {
		t.Errorf("parseFileOptions = %+v", opts)
	}
	for _, bad := range []string{`{"colums":["x"]}`, `{"delimiter":";;"}`, `[1]`, `{"top":"5"}`} {
		if _, err := parseFileOptions(bad); hotpath.ErrorCode(err) != hotpath.EINVALID {
			t.Errorf("parseFileOptions(%s) err = %v, want invalid", bad, err)
		}
	}
}

func TestCountFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("id,user\n1,a\n2,b\n3,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := countFile(context.Background(), path, `{"columns":["user"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Columns []struct {
			Name     string `json:"name"`
			Distinct int64  `json:"distinct"`
		} `json:"columns"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Columns) != 1 || res.Columns[0].Distinct != 2 {
		t.Errorf("countFile = %s, %v; want user: 2", out, err)
	}
	if _, err := countFile(context.Background(), filepath.Join(t.TempDir(), "missing.csv"), ""); hotpath.ErrorCode(err) != hotpath.ENOTFOUND {
		t.Errorf("missing file: err = %v, want not_found", err)
	}
}

func TestCancelTokenAndErrorCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("id,user\n1,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := hotpath_cancel_token_new()
	defer hotpath_cancel_token_free(tok)
	if _, err := countFile(contextOf(tok), path, ""); err != nil {
		t.Fatalf("count with a live token: %v", err)
	}
	hotpath_cancel(tok)
	_, err := countFile(contextOf(tok), path, "")
	if code, _ := errorParts(err); code != "cancelled" {
		t.Errorf("count with a cancelled token: err = %v (code %q), want code cancelled", err, code)
	}
	hotpath_cancel_token_free(tok)
	if contextOf(tok).Err() == nil {
		t.Error("a released token's context is live; want cancelled")
	}
	_, err = countFile(context.Background(), path, `{"columns":["nope"]}`)
	if code, msg := errorParts(err); code != "column_not_found" || !strings.Contains(msg, "nope") {
		t.Errorf("unknown column: code %q message %q, want column_not_found naming it", code, msg)
	}
}

func TestTransformOptions(t *testing.T) {
	if _, err := parseTransformOptions(`{"width":10,"fit":"fill","wdth":3}`); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("unknown key: err = %v, want invalid", err)
	}
	if _, err := transform(context.Background(), nil, `{"width":10}`); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("empty image: err = %v, want invalid", err)
	}
}
