package crypt

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/hotpath/hotpath"
)

// EncryptFile encrypts the file src under key into dst; see TransformFile.
func EncryptFile(ctx context.Context, src, dst string, key []byte, opt Options) (int64, error) {
	return TransformFile(ctx, src, dst, key, opt, Encrypt)
}

// DecryptFile decrypts the file src under key into dst; see TransformFile.
func DecryptFile(ctx context.Context, src, dst string, key []byte, opt Options) (int64, error) {
	return TransformFile(ctx, src, dst, key, opt, Decrypt)
}

// TransformFile runs Encrypt or Decrypt from the file src into dst, written
// beside itself and renamed into place only when complete: a failure (a
// modified byte met halfway) leaves no partial output.
func TransformFile(ctx context.Context, src, dst string, key []byte, opt Options,
	run func(context.Context, io.Writer, io.Reader, []byte, Options) (int64, error)) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, hotpath.WrapError(hotpath.ENOTFOUND, err, "%s does not exist", src)
		}
		return 0, hotpath.WrapError(hotpath.EINVALID, err, "cannot read %s", src)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return 0, hotpath.WrapError(hotpath.EINVALID, err, "cannot write %s", dst)
	}
	defer os.Remove(tmp.Name()) // gone already after the rename
	w := bufio.NewWriterSize(tmp, 1<<20)
	n, err := run(ctx, w, bufio.NewReaderSize(in, 1<<20), key, opt)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
