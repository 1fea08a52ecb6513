package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/uniq"
)

func init() {
	register(command{Name: "dedup", Summary: "write CSV files without their duplicate records (or duplicate keys)", Run: runDedup})
}

const dedupDescription = `
Writes the records of the CSV input(s) without duplicates: a record is
dropped when an earlier one had the same fields (compared parsed, so
quoting does not matter), or, with -k, the same values in the key columns.
The first occurrence is kept, byte for byte, in input order, after the
first input's header. Several files are deduplicated together, as one;
"-" reads stdin; gzip and zstd input is decompressed on the fly.

The keys are counted as "hotpath uniq" counts them, on every core, and
spill to --temp-dir past --memory; the kept records are then copied from
the input (a stream or a compressed file is kept decompressed in an
unlinked temp file for that). With -o the output appears only once it is
complete.

Exit status: 0 on success, 1 on an error (bad input names its line), 2 on
a usage error.`

func runDedup(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "dedup", "[flags] FILE... (- for stdin)", dedupDescription)
	var keys columnList
	fs.Var(&keys, "k", "shorthand for --key")
	fs.Var(&keys, "key", "records are duplicates when these `COLUMNS` (names or 1-based indexes, comma-separated) are equal (default: every field)")
	noHeader := fs.Bool("no-header", false, "the first row is data; key columns are 1-based indexes")
	delim := fs.String("delimiter", ",", "field delimiter (one byte; \\t for tab)")
	tab := fs.Bool("tab", false, "fields are tab-separated (same as --delimiter '\\t')")
	trim := fs.Bool("trim", false, "compare fields stripped of surrounding whitespace (records are written as they are)")
	output := fs.String("o", "", "write to `FILE` (complete or not at all) instead of stdout")
	var memory byteSize
	fs.Var(&memory, "memory", "memory `SIZE` for the key tables (e.g. 512M, 2G); past it they spill to --temp-dir (default half of RAM)")
	tempDir := fs.String("temp-dir", "", "`DIR` for spill runs and temp copies (default $TMPDIR or /tmp)")
	lenient := fs.Bool("lenient", false, "drop malformed rows (reported on stderr) instead of failing")
	workers := fs.Int("workers", 0, "scanning goroutines (default: one per core)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return Usagef("no input file (use - for stdin)")
	}
	d, err := delimiterFlag(*delim, *tab)
	if err != nil {
		return err
	}
	opts := uniq.Options{Keys: keys, NoHeader: *noHeader, Delimiter: d, Trim: *trim, MemoryLimit: int64(memory),
		TempDir: *tempDir, Lenient: *lenient, Workers: *workers}
	if env.Getenv != nil && opts.TempDir == "" {
		opts.TempDir = env.Getenv("TMPDIR")
	}
	inputs := inputsOf(env, files)
	var res *uniq.Result
	if *output == "" {
		res, err = uniq.Dedup(ctx, inputs, opts, env.Stdout)
	} else {
		res, err = writeAtomically(*output, func(w io.Writer) (*uniq.Result, error) { return uniq.Dedup(ctx, inputs, opts, w) })
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "hotpath dedup: kept %d of %d records\n", res.Columns[0].Distinct, res.Rows-res.Skipped)
	if res.Skipped > 0 {
		fmt.Fprintf(env.Stderr, "hotpath dedup: dropped %d malformed rows\n", res.Skipped)
	}
	return nil
}

// delimiterFlag returns the delimiter of the --delimiter and --tab flags.
func delimiterFlag(delim string, tab bool) (byte, error) {
	d := delim
	if tab || d == `\t` || d == "tab" {
		d = "\t"
	}
	if len(d) != 1 {
		return 0, Usagef("--delimiter must be one byte, got %q", delim)
	}
	return d[0], nil
}

// inputsOf returns the inputs named on the command line, "-" being stdin.
func inputsOf(env *Env, files []string) []uniq.Input {
	inputs := make([]uniq.Input, len(files))
	for i, f := range files {
		inputs[i] = uniq.Input{Path: f}
		if f == "-" {
			inputs[i].Reader = env.Stdin
		}
	}
	return inputs
}

// writeAtomically runs write into a temp file beside path and renames it
// to path when write succeeds; on failure nothing is left.
func writeAtomically(path string, write func(io.Writer) (*uniq.Result, error)) (*uniq.Result, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINVALID, err, "cannot write %s", path)
	}
	res, err := write(tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = hotpath.WrapError(hotpath.EUNAVAILABLE, cerr, "cannot write %s", path)
	}
	if err == nil {
		if rerr := os.Rename(tmp.Name(), path); rerr != nil {
			err = hotpath.WrapError(hotpath.EUNAVAILABLE, rerr, "cannot write %s", path)
		}
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	return res, nil
}
