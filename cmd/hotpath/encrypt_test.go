package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// newKeyFile writes a new key from 'hotpath keys encryption-key' to a file.
func newKeyFile(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(runCommand(t, "keys", "encryption-key")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEncryptDecryptCommands(t *testing.T) {
	dir := t.TempDir()
	key := newKeyFile(t, dir, "file.key")
	plain := make([]byte, 5<<20+123)
	rand.NewChaCha8([32]byte{1}).Read(plain)
	in := filepath.Join(dir, "in.bin")
	os.WriteFile(in, plain, 0o600)

	sealed, back := filepath.Join(dir, "in.bin.hpe"), filepath.Join(dir, "back.bin")
	runCommand(t, "encrypt", in, sealed, "--key-file", key)
	runCommand(t, "decrypt", sealed, back, "--key-file", key, "--workers", "3")
	if got, _ := os.ReadFile(back); !bytes.Equal(got, plain) {
		t.Fatalf("file round trip: %d bytes back, want the %d written", len(got), len(plain))
	}
	raw, _ := os.ReadFile(sealed)
	if !crypt.IsEncrypted(raw) || bytes.Contains(raw, plain[1000:1032]) {
		t.Errorf("encrypted file is not in hotpath's format or holds plaintext")
	}

	// Streams: stdin to stdout both ways.
	code, streamSealed, stderr := runCmd(t, string(plain), "encrypt", "-", "-", "--key-file", key)
	if code != 0 {
		t.Fatalf("encrypt - -: exit %d: %s", code, stderr)
	}
	code, streamPlain, stderr := runCmd(t, streamSealed, "decrypt", "-", "-", "--key-file", key)
	if code != 0 || streamPlain != string(plain) {
		t.Fatalf("decrypt - -: exit %d, %d bytes: %s", code, len(streamPlain), stderr)
	}

	// Failures: one line, exit 1, no output file left behind.
	other := newKeyFile(t, dir, "other.key")
	bad := filepath.Join(dir, "bad.bin")
	code, _, stderr = runCmd(t, "", "decrypt", sealed, bad, "--key-file", other)
	if code != 1 || !strings.Contains(stderr, "encrypted under key") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("decrypt with another key: exit %d, stderr %q; want 1 and one line naming the key", code, stderr)
	}
	raw[len(raw)/2] ^= 1
	tampered := filepath.Join(dir, "tampered.hpe")
	os.WriteFile(tampered, raw, 0o600)
	code, _, stderr = runCmd(t, "", "decrypt", tampered, bad, "--key-file", key)
	if code != 1 || !strings.Contains(stderr, "failed authentication") {
		t.Errorf("decrypt of a modified file: exit %d, stderr %q; want 1 and an authentication failure", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("failed decrypt left %s: %v", bad, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".bad.bin.*")); len(left) > 0 {
		t.Errorf("failed decrypt left temp files %v", left)
	}
	if code, _, _ := runCmd(t, "", "encrypt", in, "--key-file", key); code != 2 {
		t.Errorf("encrypt with one argument: exit %d, want 2", code)
	}
}

// TestEncryptionAtRest runs the service with a master key file: uploads read
// back whole and by range, nothing of the image is found under the data
// directory, a modified blob answers 502 integrity, a rotation keeps reads
// working, and shredding a tenant makes its blobs unreadable and gone.
func TestEncryptionAtRest(t *testing.T) {
	cfg := testConfig(t)
	keyDir := t.TempDir()
	cfg.EncryptionKeyFile = newKeyFile(t, keyDir, "master.key")
	m, _ := startMain(t, cfg)
	key := m.AdminKey
	jpeg := imagetest.Image(t, hotpath.FormatJPEG, 640, 480)
	img := uploadImage(t, m, key, 640, 480)

	r := request(t, "GET", m.URL()+img.URL+"/original", key, nil, nil)
	r.wantStatus(t, http.StatusOK)
	if !bytes.Equal(r.body, jpeg) || r.Header.Get("Content-Length") != strconv.Itoa(len(jpeg)) {
		t.Fatalf("original read back: %d bytes (Content-Length %s), want the %d uploaded", len(r.body), r.Header.Get("Content-Length"), len(jpeg))
	}
	etag := r.Header.Get("ETag")
	r = request(t, "GET", m.URL()+img.URL+"/original", key, nil, map[string]string{"Range": "bytes=100-199"})
	r.wantStatus(t, http.StatusPartialContent)
	if !bytes.Equal(r.body, jpeg[100:200]) {
		t.Errorf("range 100-199 = %d bytes, not the original's", len(r.body))
	}

	// No plaintext of the image anywhere under the data directory.
	needles := [][]byte{jpeg[:3], jpeg[len(jpeg)/2 : len(jpeg)/2+16], jpeg[len(jpeg)-16:]}
	var blobs []string
	filepath.WalkDir(cfg.DataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		for _, n := range needles {
			if bytes.Contains(raw, n) {
				t.Errorf("%s holds plaintext of the uploaded image (%x)", p, n)
			}
		}
		if strings.Contains(p, img.ID) {
			blobs = append(blobs, p)
			if !crypt.IsEncrypted(raw) {
				t.Errorf("blob %s is not encrypted", p)
			}
		}
		return nil
	})
	if len(blobs) != 4 {
		t.Fatalf("found blobs %v, want the original and 3 variants", blobs)
	}

	// Rotation while the server runs: reads keep working, ETag unchanged.
	newKey := newKeyFile(t, keyDir, "new.key")
	runCommand(t, "keys", "rotate-master", "--db", cfg.withDefaults().DB, "--encryption-key-file", cfg.EncryptionKeyFile, "--new-key-file", newKey)
	time.Sleep(crypt.DefaultKeyTTL + 100*time.Millisecond)
	r = request(t, "GET", m.URL()+img.URL+"/original", key, nil, nil)
	r.wantStatus(t, http.StatusOK)
	if !bytes.Equal(r.body, jpeg) || r.Header.Get("ETag") != etag {
		t.Errorf("after rotation: %d bytes, ETag %s (was %s)", len(r.body), r.Header.Get("ETag"), etag)
	}
	if got, _ := crypt.ReadKeyFile(cfg.EncryptionKeyFile); len(got) != 1 {
		t.Errorf("key file holds %d keys after rotation, want 1", len(got))
	}

	// A modified byte: 502 integrity, never other bytes.
	original := ""
	for _, p := range blobs {
		if strings.HasSuffix(p, "/original") {
			original = p
		}
	}
	f, err := os.OpenFile(original, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0x42}, crypt.HeaderSize+200)
	f.Close()
	r = request(t, "GET", m.URL()+img.URL+"/original", key, nil, nil)
	r.wantError(t, http.StatusBadGateway, hotpath.EINTEGRITY)

	// Shredding: the tenant's blobs unreadable, then gone with its images.
	tenant := strings.Split(strings.TrimPrefix(original, filepath.Join(cfg.DataDir, "blobs")+"/"), "/")[0]
	runCommand(t, "keys", "shred-tenant", tenant, "--db", cfg.withDefaults().DB, "--store", cfg.withDefaults().Store)
	r = request(t, "GET", m.URL()+img.URL+"/v/thumb", key, nil, nil)
	if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("variant after shredding: status %d, want 404 or 503", r.StatusCode)
	}
	for _, p := range blobs {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("blob %s after shredding: %v, want gone", p, err)
		}
	}
}
