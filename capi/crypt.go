package main

import (
	"bytes"
	"context"
	"unsafe"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
)

// fixedWriter writes into a buffer of known size: the C memory the result
// is returned in, so that the result is written once, not copied.
type fixedWriter struct {
	buf []byte
	n   int
}

func (w *fixedWriter) Write(p []byte) (int, error) {
	if len(p) > len(w.buf)-w.n {
		return 0, hotpath.Errorf(hotpath.EINTERNAL, "internal error: output beyond its computed size")
	}
	w.n += copy(w.buf[w.n:], p)
	return len(p), nil
}

// sealBytes encrypts (seal) or decrypts data under key into C memory of the
// output's exact size and returns it with its length; the caller frees it.
func sealBytes(ctx context.Context, data, key []byte, seal bool) (unsafe.Pointer, int64, error) {
	if len(key) != crypt.KeySize {
		return nil, 0, hotpath.Errorf(hotpath.EINVALID, "a key is %d bytes, not %d", crypt.KeySize, len(key))
	}
	var size int64
	var err error
	run := crypt.Decrypt
	if seal {
		run = crypt.Encrypt
		size, err = crypt.EncryptedSize(int64(len(data)))
	} else if len(data) < crypt.HeaderSize || !crypt.IsEncrypted(data) {
		// Decrypt reports what it is: not hotpath's format, or cut short.
		_, err = crypt.Decrypt(ctx, &fixedWriter{}, bytes.NewReader(data), key, crypt.Options{})
		return nil, 0, err
	} else {
		size, err = crypt.DecryptedSize(int64(len(data)))
	}
	if err != nil {
		return nil, 0, err
	}
	mem := cMalloc(size)
	w := &fixedWriter{buf: unsafe.Slice((*byte)(mem), size)}
	if _, err := run(ctx, w, bytes.NewReader(data), key, crypt.Options{}); err != nil {
		cFree(mem)
		return nil, 0, err
	}
	if int64(w.n) != size {
		cFree(mem)
		return nil, 0, hotpath.Errorf(hotpath.EINTEGRITY, "encrypted data failed authentication: %d bytes out, %d expected", w.n, size)
	}
	return mem, size, nil
}
