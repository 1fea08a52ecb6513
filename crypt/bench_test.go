package crypt

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"testing"
)

// BenchmarkEncrypt and BenchmarkDecrypt measure the engine on 64 MiB in
// memory; BenchmarkRawGCM is AES-256-GCM alone on the same bytes in 64 KiB
// seals, one core: what the engine adds is the difference.
func BenchmarkEncrypt(b *testing.B) {
	plain := randomBytes(64<<20, 1)
	kek := testKey(1)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := Encrypt(context.Background(), io.Discard, bytes.NewReader(plain), kek, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	plain := randomBytes(64<<20, 1)
	kek := testKey(1)
	var sealed bytes.Buffer
	Encrypt(context.Background(), &sealed, bytes.NewReader(plain), kek, Options{})
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := Decrypt(context.Background(), io.Discard, bytes.NewReader(sealed.Bytes()), kek, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawGCM(b *testing.B) {
	plain := randomBytes(64<<20, 1)
	block, _ := aes.NewCipher(testKey(1))
	gcm, _ := cipher.NewGCM(block)
	out := make([]byte, 0, PackageSize+16)
	nonce := make([]byte, 12)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		for i := 0; i < len(plain); i += PackageSize {
			out = gcm.Seal(out[:0], nonce, plain[i:i+PackageSize], nil)
		}
	}
}
