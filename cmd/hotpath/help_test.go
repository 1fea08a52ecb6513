package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs one hotpath command line in-process and returns its exit
// status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := run(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

// TestHelpOnStdoutUsageErrorsOnStderr: help that was asked for goes to
// stdout with exit 0 (so that `hotpath uniq --help | less` shows it); a
// usage error is one line on stderr with exit 2 and nothing on stdout.
func TestHelpOnStdoutUsageErrorsOnStderr(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "uniq"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage: hotpath") {
			t.Errorf("hotpath %s: exit %d, stdout %q, stderr %q; want the usage on stdout, exit 0", strings.Join(args, " "), code, out, errOut)
		}
	}
	if code, out, errOut := runCLI(t); code != 2 || out != "" || !strings.Contains(errOut, "Usage: hotpath") {
		t.Errorf("hotpath without a command: exit %d, stdout %q; want the usage on stderr, exit 2", code, out)
	}
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			for _, help := range []string{"--help", "-h"} {
				code, out, errOut := runCLI(t, name, help)
				if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: hotpath "+name) {
					t.Errorf("%s %s: exit %d, stderr %q, stdout starts %.40q; want the help on stdout, exit 0", name, help, code, errOut, out)
				}
			}
			code, out, errOut := runCLI(t, name, "--no-such-flag")
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no-such-flag") {
				t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want one line on stderr, exit 2", name, code, out, errOut)
			}
		})
	}
}

// TestServeHelpNamesEveryBackend: serve --help names every scheme of every
// backend kind, the scale-out ones too.
func TestServeHelpNamesEveryBackend(t *testing.T) {
	_, out, _ := runCLI(t, "serve", "--help")
	for _, scheme := range []string{"file://", "s3://", "sqlite://", "postgres://", "mem://", "redis://", "embedded", "nats://"} {
		if !strings.Contains(out, scheme) {
			t.Errorf("serve --help does not mention %s", scheme)
		}
	}
}

// TestKeysHelpListsOnlyKeysFlags: keys reads where the keys live, not the
// image settings, and its help says only that.
func TestKeysHelpListsOnlyKeysFlags(t *testing.T) {
	_, out, _ := runCLI(t, "keys", "--help")
	for _, want := range []string{"-tenant", "-scope", "-name", "-db", "-data", "-config", "-cache"} {
		if !strings.Contains(out, "  "+want) {
			t.Errorf("keys --help does not list %s", want)
		}
	}
	for _, unwanted := range []string{"-presets", "-max-bytes", "-addr", "-workers", "-signing-keys", "-queue"} {
		if strings.Contains(out, "  "+unwanted) {
			t.Errorf("keys --help lists serve's %s", unwanted)
		}
	}
}

func TestKeysRevokeMessages(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "hotpath.db")
	if code, _, errOut := runCLI(t, "keys", "revoke", "--db", db); code != 2 || !strings.Contains(errOut, "revoke needs the ID") {
		t.Errorf("revoke without an id: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "keys", "revoke", "--db", db, "a", "b"); code != 2 || !strings.Contains(errOut, `"b"`) {
		t.Errorf("revoke with two ids: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "keys", "revoke", "--db", db, "nope"); code != 1 || !strings.Contains(errOut, `no API key has the ID "nope"`) {
		t.Errorf("revoke of an unknown id: exit %d, stderr %q", code, errOut)
	}
	runCommand(t, "keys", "create", "--tenant", "acme", "--scope", "read", "--db", db)
	list := runCommand(t, "keys", "list", "--db", db)
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if code, _, errOut := runCLI(t, "keys", "revoke", "--db", db, id); code != 0 || !strings.Contains(errOut, "revoked key "+id) {
		t.Errorf("first revoke: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "keys", "revoke", "--db", db, id); code != 0 || !strings.Contains(errOut, "already revoked") {
		t.Errorf("second revoke: exit %d, stderr %q; want it to say the key was already revoked", code, errOut)
	}
}
