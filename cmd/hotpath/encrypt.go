package main

import (
	"bufio"
	"context"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
	"github.com/hotpath/hotpath/uniq"
)

func init() {
	register(command{Name: "encrypt", Summary: "encrypt a file or stream (AES-256-GCM, DARE packages, all cores)", Run: func(ctx context.Context, env *Env, args []string) error {
		return runCrypt(ctx, env, args, true)
	}})
	register(command{Name: "decrypt", Summary: "decrypt what 'hotpath encrypt', the Python binding or the service encrypted", Run: func(ctx context.Context, env *Env, args []string) error {
		return runCrypt(ctx, env, args, false)
	}})
}

const cryptDescription = `
encrypt: seals IN under a new random data key, itself sealed by the key in
--key-file, and writes OUT in hotpath's format: an 88-byte header, then
DARE 2.0 packages of 64 KiB, each AES-256-GCM (docs/encryption.md). The
packages are sealed on every core. decrypt: the reverse; any modified or
missing byte fails with an error and exit status 1, and never yields
different bytes. The same format is written by hotpath.encrypt in Python
and by the service for blobs at rest, so each reads what the others wrote.

IN and OUT are files, or "-" for stdin and stdout. A file OUT is written
beside itself and renamed into place only when complete, so a failure
leaves no partial output; on stdout what was written before a failure is
authentic but the stream is cut short.

The key file holds 32 random bytes in base64 ('hotpath keys
encryption-key > file.key' makes one).`

// runCrypt runs 'hotpath encrypt' (seal) or 'hotpath decrypt'.
func runCrypt(ctx context.Context, env *Env, args []string, seal bool) error {
	name := map[bool]string{true: "encrypt", false: "decrypt"}[seal]
	fs := newFlagSet(env, name, "IN OUT --key-file K", cryptDescription)
	keyFile := fs.String("key-file", "", "file holding the key, base64 (required)")
	workers := fs.Int("workers", 0, "packages sealed or opened at once, in 2 MiB segments (0: one per CPU)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when a terminal), always or never")
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 {
		return Usagef("want IN and OUT (files, or - for stdin/stdout), got %d arguments", len(positional))
	}
	if *keyFile == "" {
		return Usagef("--key-file is required")
	}
	keys, err := crypt.ReadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	in, out := positional[0], positional[1]

	var src io.Reader = env.Stdin
	var total int64 = -1
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "open %s", in)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			total = st.Size()
		}
		src = f
	}
	opts := crypt.Options{Workers: *workers}
	if showProgress(env, *progress) {
		if !seal && total > 0 {
			total, _ = crypt.DecryptedSize(total)
		}
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(env.Stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription(name))
		defer bar.Finish()
		opts.Progress = func(n int64) { _ = bar.Add64(n) }
	}
	run := crypt.Decrypt
	if seal {
		run = crypt.Encrypt
	}
	if out == "-" {
		w := bufio.NewWriterSize(env.Stdout, 1<<20)
		if _, err := run(ctx, w, src, keys[0], opts); err != nil {
			return err
		}
		return w.Flush()
	}
	_, err = writeAtomically(out, func(f io.Writer) (*uniq.Result, error) {
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := run(ctx, w, src, keys[0], opts); err != nil {
			return nil, err
		}
		return nil, w.Flush()
	})
	return err
}
