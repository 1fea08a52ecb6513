package crypt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/minio/sio"

	"github.com/hotpath/hotpath"
)

// testKey returns a fixed key-encryption key for tests.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// engineSizes cross every boundary: empty, one byte, package edges, segment
// edges and a few segments.
var engineSizes = []int{0, 1, PackageSize - 1, PackageSize, PackageSize + 1,
	segmentPackages*PackageSize - 1, segmentPackages * PackageSize, segmentPackages*PackageSize + 1,
	3*segmentPackages*PackageSize + 12345}

func encryptBytes(t *testing.T, plain, kek []byte, workers int) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := Encrypt(context.Background(), &out, bytes.NewReader(plain), kek, Options{Workers: workers})
	if err != nil || n != int64(len(plain)) {
		t.Fatalf("Encrypt(%d bytes) = %d, %v", len(plain), n, err)
	}
	return out.Bytes()
}

func TestEngineRoundTrip(t *testing.T) {
	kek := testKey(1)
	for _, size := range engineSizes {
		plain := randomBytes(size, byte(size))
		for _, workers := range []int{1, 3} {
			sealed := encryptBytes(t, plain, kek, workers)
			if want, _ := EncryptedSize(int64(size)); int64(len(sealed)) != want {
				t.Errorf("size %d: encrypted to %d bytes, EncryptedSize says %d", size, len(sealed), want)
			}
			if got, _ := DecryptedSize(int64(len(sealed))); got != int64(size) {
				t.Errorf("size %d: DecryptedSize(%d) = %d", size, len(sealed), got)
			}
			var out bytes.Buffer
			var progress int64
			n, err := Decrypt(context.Background(), &out, bytes.NewReader(sealed), kek, Options{Workers: workers, Progress: func(n int64) { progress += n }})
			if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), plain) {
				t.Fatalf("size %d, %d workers: Decrypt = %d bytes, %v; want the %d bytes encrypted", size, workers, n, err, size)
			}
			if progress != int64(size) {
				t.Errorf("size %d: progress reported %d bytes", size, progress)
			}
		}
	}
}

// TestEngineIsDARE checks the parallel engine against sio's own sequential
// reader and writer: the stream after the header is plain DARE 2.0.
func TestEngineIsDARE(t *testing.T) {
	kek := testKey(2)
	plain := randomBytes(5*segmentPackages*PackageSize/2, 9)
	sealed := encryptBytes(t, plain, kek, 4)
	dataKey, _, err := openHeader(sealed[:HeaderSize], kek)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := sio.Decrypt(&got, bytes.NewReader(sealed[HeaderSize:]), dareConfig(dataKey, 0)); err != nil || !bytes.Equal(got.Bytes(), plain) {
		t.Fatalf("sio.Decrypt of the engine's stream: %v (equal %v)", err, bytes.Equal(got.Bytes(), plain))
	}
	// And the reverse: sio's sequential writer behind a header, read by the engine.
	header, dataKey, err := sealHeader(kek, false)
	if err != nil {
		t.Fatal(err)
	}
	seq := bytes.NewBuffer(header)
	if _, err := sio.Encrypt(seq, bytes.NewReader(plain), dareConfig(dataKey, 0)); err != nil {
		t.Fatal(err)
	}
	got.Reset()
	if _, err := Decrypt(context.Background(), &got, seq, kek, Options{Workers: 3}); err != nil || !bytes.Equal(got.Bytes(), plain) {
		t.Fatalf("engine Decrypt of sio's stream: %v", err)
	}
}

func TestEngineDetectsTampering(t *testing.T) {
	kek := testKey(3)
	plain := randomBytes(segmentPackages*PackageSize+3*PackageSize+100, 4)
	sealed := encryptBytes(t, plain, kek, 2)
	decrypt := func(b []byte) ([]byte, error) {
		var out bytes.Buffer
		_, err := Decrypt(context.Background(), &out, bytes.NewReader(b), kek, Options{Workers: 2})
		return out.Bytes(), err
	}
	last := len(sealed) - 1
	// Every header byte, and package header, body and tag bytes at edges.
	var offsets []int
	for i := range HeaderSize {
		offsets = append(offsets, i)
	}
	for _, pkg := range []int{0, 1, segmentPackages - 1, segmentPackages, segmentPackages + 3} {
		start := HeaderSize + pkg*sealedPackageSize
		offsets = append(offsets, start, start+4, start+15, start+16, start+16+PackageSize/2)
		if end := start + sealedPackageSize - 1; end <= last {
			offsets = append(offsets, end-15, end)
		}
	}
	offsets = append(offsets, last)
	for _, off := range offsets {
		if off > last {
			continue
		}
		bad := bytes.Clone(sealed)
		bad[off] ^= 0x10
		got, err := decrypt(bad)
		code := hotpath.ErrorCode(err)
		wantCode := hotpath.EINTEGRITY
		if off >= offKeyID && off < offNonce {
			wantCode = hotpath.EUNAVAILABLE // a changed key id reads as another key's object
		}
		if off < len(magic) {
			wantCode = hotpath.EINVALID // no longer in hotpath's format at all
		}
		if code != wantCode {
			t.Errorf("byte %d flipped: error %v (code %q), want code %q", off, err, code, wantCode)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Errorf("byte %d flipped: wrote %d bytes that are not the plaintext's", off, len(got))
		}
	}
	// Cut at package boundaries and inside packages.
	for _, cut := range []int{10, HeaderSize, HeaderSize + 1, HeaderSize + sealedPackageSize, HeaderSize + segmentPackages*sealedPackageSize,
		HeaderSize + (segmentPackages+3)*sealedPackageSize, len(sealed) - 1} {
		got, err := decrypt(sealed[:cut])
		if code := hotpath.ErrorCode(err); code != hotpath.EINTEGRITY {
			t.Errorf("cut to %d bytes: error %v (code %q), want %q", cut, err, code, hotpath.EINTEGRITY)
		}
		if !bytes.HasPrefix(plain, got) {
			t.Errorf("cut to %d bytes: wrote bytes that are not the plaintext's", cut)
		}
	}
	if _, err := decrypt(nil); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("nothing at all: %v, want %q", err, hotpath.EINVALID)
	}
	// Appended bytes and appended copies of packages.
	for _, tail := range [][]byte{{0}, sealed[HeaderSize : HeaderSize+sealedPackageSize]} {
		if _, err := decrypt(append(bytes.Clone(sealed), tail...)); hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
			t.Errorf("%d bytes appended: error %v, want %q", len(tail), err, hotpath.EINTEGRITY)
		}
	}
	// An empty plaintext's header promises no packages.
	empty := encryptBytes(t, nil, kek, 1)
	if _, err := decrypt(append(empty, sealed[HeaderSize:]...)); hotpath.ErrorCode(err) != hotpath.EINTEGRITY {
		t.Errorf("packages after an empty header: %v, want %q", err, hotpath.EINTEGRITY)
	}
}

func TestEngineWrongKey(t *testing.T) {
	sealed := encryptBytes(t, []byte("secret"), testKey(4), 1)
	_, err := Decrypt(context.Background(), io.Discard, bytes.NewReader(sealed), testKey(5), Options{})
	if hotpath.ErrorCode(err) != hotpath.EUNAVAILABLE || !errors.Is(err, errWrongKey) {
		t.Errorf("Decrypt with another key: %v, want EUNAVAILABLE naming the key", err)
	}
	_, err = Decrypt(context.Background(), io.Discard, bytes.NewReader([]byte("plain text, never encrypted, longer than a header .............................................")), testKey(4), Options{})
	if hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("Decrypt of plaintext: %v, want EINVALID", err)
	}
}
