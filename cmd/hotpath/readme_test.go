package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	Lang    string // the word after the opening fence: sh, json, ...
	Section string // the heading it is under
	Text    string
}

// readmeBlocks returns the README's fenced code blocks, in order.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &readmeBlock{Lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), Section: section}
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Text += line + "\n"
		case strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	return blocks
}

// readmeBlockIn returns the one block of lang under section, failing the
// test when there is not exactly one: the README and this test must move together.
func readmeBlockIn(t *testing.T, section, lang string) string {
	t.Helper()
	var found []string
	for _, b := range readmeBlocks(t) {
		if b.Section == section && b.Lang == lang {
			found = append(found, b.Text)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README: %d %q blocks under %q, want 1", len(found), lang, section)
	}
	return found[0]
}

// TestMain lets the test binary stand in for the hotpath binary: run with
// HOTPATH_TEST_MAIN=1 it is `hotpath`, so that the README test runs the
// README's `build/hotpath …` lines, and a server, without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("HOTPATH_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// readmeRun says what the README test does with each sh block: run it, or
// why not. A new sh block fails the test until it is listed here.
var readmeRun = map[string]string{
	"Two commands":                 "skip: make run and make test are what CI itself runs",
	"Walkthrough: the image API":   "run", // two blocks: make run (skipped below) and the curl walkthrough
	"Walkthrough: distinct counts": "run",
	"Scale out":                    "skip: needs S3, PostgreSQL, Redis and NATS (covered by e2e and bench/scaleout)",
	"Encryption at rest":           "skip: writes /etc/hotpath and shreds a tenant; the same commands run in TestEncryptionAtRest and TestEncryptDecryptCommands",
}

// readmeSubstitutions are the README's placeholders and what the test puts
// in their place; each must occur, so that the README and the test move together.
func readmeSubstitutions(serverURL, adminKey string) [][2]string {
	return [][2]string{
		{"hp_3q2Vb0…", adminKey},
		{"http://127.0.0.1:8080", serverURL},
		{"build/hotpath keys revoke KEY_ID", `build/hotpath keys revoke "$(build/hotpath keys list --tenant acme | awk 'NR == 2 {print $1}')"`},
		{"/tmp/data.csv", "data.csv"},
	}
}

// TestREADME runs the README's walkthroughs as a newcomer would, on
// loopback: a server started as `make run` starts it (on a free port, in
// a fresh directory, with HOTPATH_SIGNING_KEYS set), then every command
// line of the image walkthrough (curl, sign, keys) and of the distinct-count
// walkthrough (gen csv, uniq), through bash with curl failing on any HTTP
// error. The README cannot drift from the code without failing this test.
func TestREADME(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "python3", "zstd", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's commands need %s (scripts/deps.sh --test installs it): %v", tool, err)
		}
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "build", "hotpath")); err != nil {
		t.Fatal(err)
	}
	signingKey := "readme-test-signing-key-0123456789"
	environ := []string{"HOTPATH_TEST_MAIN=1", "HOTPATH_SIGNING_KEYS=" + signingKey, "MALLOC_ARENA_MAX=2"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOTPATH_") {
			environ = append(environ, kv)
		}
	}

	// The server, as the Makefile's run target starts it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server := exec.CommandContext(ctx, filepath.Join("build", "hotpath"), "serve", "--addr", "127.0.0.1:0", "--data", "./data")
	server.Dir, server.Env = dir, environ
	server.Cancel = func() error { return server.Process.Signal(syscall.SIGTERM) }
	server.WaitDelay = 30 * time.Second
	stderr, err := server.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	defer func() {
		cancel()
		server.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	}()
	serverURL, adminKey := readServerStart(t, stderr, &log)

	blocks := map[string][]string{}
	for _, b := range readmeBlocks(t) {
		if b.Lang != "sh" {
			continue
		}
		how, ok := readmeRun[b.Section]
		switch {
		case !ok:
			t.Errorf("README: an sh block under %q: add the section to readmeRun (run it, or say why not)", b.Section)
		case how == "run" && strings.Contains(b.Text, "make run"):
			// The server started above is this block.
		case how == "run":
			blocks[b.Section] = append(blocks[b.Section], b.Text)
		}
	}
	script := "set -euo pipefail\n" +
		"trap 'echo \"README line failed: $BASH_COMMAND\" >&2' ERR\n" +
		"curl() { command curl --fail-with-body --max-time 60 \"$@\"; }\n" + // an HTTP error fails the script
		strings.Join(blocks["Walkthrough: the image API"], "\n") + "\n" +
		strings.Join(blocks["Walkthrough: distinct counts"], "\n")
	for _, sub := range readmeSubstitutions(serverURL, adminKey) {
		if !strings.Contains(script, sub[0]) {
			t.Errorf("README: %q is gone from the walkthroughs; update readmeSubstitutions", sub[0])
		}
		script = strings.ReplaceAll(script, sub[0], sub[1])
	}
	if t.Failed() {
		t.FailNow()
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, environ
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's walkthroughs failed: %v\nstderr:\n%s\nstdout:\n%s", err, errOut.String(), out.String())
	}

	// What the walkthroughs say they did.
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read("original.jpg"), read("photo.jpg")) {
		t.Error("original.jpg is not the uploaded photo.jpg")
	}
	if w, h, f := imageSize(t, read("thumb.jpg")); f != hotpath.FormatJPEG || max(w, h) != 200 {
		t.Errorf("thumb.jpg is a %d×%d %s, want a JPEG of 200 px on its longest side", w, h, f)
	}
	if w, h, f := imageSize(t, read("crop.webp")); f != hotpath.FormatWebP || w != 400 || h != 300 {
		t.Errorf("crop.webp is a %d×%d %s, want a 400×300 WebP", w, h, f)
	}
	stdout := out.String()
	for _, want := range []string{"\n204\n", "HTTP/1.1 200 OK", "web front end", "Usage: hotpath uniq"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the walkthroughs' output has no %q", want)
		}
	}
	if !strings.Contains(errOut.String(), "revoked key ") {
		t.Errorf("keys revoke did not say it revoked the key: %s", errOut.String())
	}
	// The counts the distinct walkthrough printed are the generator's.
	expected := map[string]string{}
	for _, kv := range strings.Fields(string(read("data.csv.expected"))) {
		k, v, _ := strings.Cut(kv, "=")
		expected[k] = v
	}
	for _, want := range []string{"\n" + expected["lines"] + "\n", "user_id\t" + expected["user_id"] + "\n", `"distinct": ` + expected["records"], "\n" + expected["user_id"] + "\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the distinct-count walkthrough printed no %q (expected %v)", want, expected)
		}
	}
}

// readServerStart reads the server's stderr until it has printed its first
// admin key and the URL it listens on, and keeps reading it into log.
func readServerStart(t *testing.T, r io.Reader, log *syncBuffer) (serverURL, adminKey string) {
	t.Helper()
	type start struct{ url, key string }
	started := make(chan start, 1)
	go func() {
		sc := bufio.NewScanner(r)
		var s start
		for sc.Scan() {
			line := sc.Text()
			log.Write([]byte(line + "\n"))
			if k := strings.TrimSpace(line); strings.HasPrefix(k, "hp_") {
				s.key = k
			}
			var entry struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				s.url = entry.URL
			}
			if s.key != "" && s.url != "" {
				started <- s
				s = start{url: "sent"}
			}
		}
	}()
	select {
	case s := <-started:
		return s.url, s.key
	case <-time.After(60 * time.Second):
		t.Fatalf("the server printed no admin key and URL within 60 s:\n%s", log.String())
	}
	return "", ""
}

// TestREADMEConfigTable keeps the README's configuration table equal to the
// flags: every configuration flag of serve has a row, every row names a
// flag, its environment variable is the flag's, and its JSON field is a
// field of the configuration file.
func TestREADMEConfigTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configFlags(fs, &cfg)
	documented := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(line, "|")
		flags, envCell, jsonCell := cells[1], cells[2], cells[3]
		for _, f := range strings.Split(flags, ",") {
			name := strings.TrimPrefix(strings.Trim(strings.TrimSpace(f), "`"), "--")
			documented[name] = true
			if fs.Lookup(name) == nil {
				t.Errorf("README: --%s is not a configuration flag", name)
			}
			if env := envName(name); !strings.Contains(envCell, env) && !strings.Contains(envCell, strings.TrimRight(env, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ")+"_*") {
				t.Errorf("README: --%s: environment %q, want %s", name, strings.TrimSpace(envCell), env)
			}
		}
		for _, field := range strings.Split(jsonCell, ",") {
			if field = strings.Trim(strings.TrimSpace(field), "`"); field != "" && !jsonFieldExists(reflect.TypeOf(cfg), strings.Split(field, ".")) {
				t.Errorf("README: JSON field %q of %s is not in the configuration file's schema", field, strings.TrimSpace(flags))
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !documented[f.Name] {
			t.Errorf("README: the configuration table has no row for --%s", f.Name)
		}
	})
}

// jsonFieldExists reports whether the JSON path names a field of typ.
func jsonFieldExists(typ reflect.Type, path []string) bool {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if len(path) == 0 {
		return true
	}
	if typ.Kind() != reflect.Struct {
		return false
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == path[0] {
			return jsonFieldExists(f.Type, path[1:])
		}
	}
	return false
}
