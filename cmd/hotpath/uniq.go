package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath/uniq"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func init() {
	register(command{Name: "uniq", Summary: "count the distinct lines, columns or records of CSV files", Run: runUniq})
}

const uniqDescription = `
Counts distinct values exactly, on every core, in bounded memory.

With no column: distinct lines, each stripped of surrounding whitespace,
exactly as Python's "for line in open(f): s.add(line.strip())" counts them
("\n", "\r\n" and a lone "\r" end a line). With -c: distinct values of each
named column (RFC 4180: quoted fields, doubled quotes, record ends inside
quotes), all in one pass. With --records: distinct whole records,
compared field by field so quoting does not matter. Several files count
together, as one; "-" reads stdin; gzip and zstd input is decompressed on
the fly. A UTF-8 byte order mark is ignored; blank lines are not CSV rows.

Records end at "\n", "\r\n" or a lone "\r" (classic Mac files), as in
Python's csv module and Excel. A column is a header name or a 1-based
index; when a header cell reads like an index ("1"), the name wins, and
"#N" always means the Nth column. An empty field is a value like any other
(DuckDB reads it as NULL, so its counts can be one lower). A malformed
record (a quote inside an unquoted field, a character after a closing
quote, a quote never closed, too few fields) is an error naming its line
and field; with --lenient it is skipped and counted, and the next record
starts at the first line end after the fault, so a skipped record costs
that record only (a quote never closed runs to the end of the input).

--approx estimates with HyperLogLog (64-bit xxh3 hashes, Ertl's improved
estimator) in 2^precision bytes per column: standard error
1.04/sqrt(2^precision), 0.81% at the default precision 14 (<= 1%); about
99% of estimates fall within 3 standard errors (2.4%).

Exit status: 0 on success, 1 on an error (bad input names its line), 2 on
a usage error.`

// columnList collects -c values, repeated or comma-separated.
type columnList []string

func (c *columnList) String() string { return strings.Join(*c, ",") }
func (c *columnList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*c = append(*c, s)
		}
	}
	return nil
}

// stringList collects a repeatable flag's values as given.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// byteSize is a size flag that accepts K, M, G and T suffixes (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }
func (b *byteSize) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M, 2G)", v)
	}
	return int64(f * float64(mult)), nil
}

func runUniq(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "uniq", "[flags] FILE... (- for stdin)", uniqDescription)
	var cols columnList
	fs.Var(&cols, "c", "shorthand for --column")
	fs.Var(&cols, "column", "column `NAME|INDEX|#N` to count (1-based index; a header name wins, #N is always the Nth; repeatable or comma-separated)")
	records := fs.Bool("records", false, "count distinct whole records")
	var keys, by columnList
	fs.Var(&keys, "k", "shorthand for --key")
	fs.Var(&keys, "key", "count distinct combinations of the `COLUMNS` (comma-separated), as one composite key")
	fs.Var(&by, "by", "per group of the `COLUMNS`: distinct values of the one -c column (or -k key) in each group, most first")
	values := fs.Bool("values", false, "write the distinct values of the one -c column (or -k key) instead of counting them, first occurrence first")
	format := fs.String("format", "text", "output `FORMAT`: text, json or csv (--values: text is one value a line, csv quotes)")
	noHeader := fs.Bool("no-header", false, "the first row is data; columns are 1-based indexes")
	delim := fs.String("delimiter", ",", "field delimiter (one byte; \\t for tab)")
	tab := fs.Bool("tab", false, "fields are tab-separated (same as --delimiter '\\t'; quoting is then off unless --quote says)")
	quoteChar := fs.String("quote", "", "`CHAR` that quotes fields, or none: quotes are data, fields end at delimiters (default \" for CSV, none for tab-separated)")
	trim := fs.Bool("trim", false, "strip surrounding whitespace from every field (Python's str.strip)")
	ignoreCase := fs.Bool("ignore-case", false, "count values that differ only in case as one (Unicode simple case folding; bytes that are not UTF-8 compare as they are)")
	skipEmpty := fs.Bool("skip-empty", false, "do not count empty values of columns or lines (reported as nulls); by default an empty field is a value")
	var nulls stringList
	fs.Var(&nulls, "null", "`VALUE` of columns or lines not counted, reported as nulls (repeatable; compared after --trim and --ignore-case)")
	top := fs.Int("top", 0, "also print the `K` most frequent values of each column with their counts and percent of rows; with --by, the K first groups")
	approx := fs.Bool("approx", false, "estimate with HyperLogLog in fixed memory (error: see above)")
	precision := fs.Uint("precision", uniq.DefaultPrecision, "HyperLogLog precision `P`, 4..18: 2^P registers, standard error 1.04/sqrt(2^P)")
	var memory byteSize
	fs.Var(&memory, "memory", "memory `SIZE` for the exact sets (e.g. 512M, 2G); past it they spill to --temp-dir and the count stays exact (default half of RAM)")
	tempDir := fs.String("temp-dir", "", "`DIR` for spill runs (default $TMPDIR or /tmp)")
	lenient := fs.Bool("lenient", false, "skip malformed records (stray or unclosed quote, too few fields), each alone, and report how many")
	asJSON := fs.Bool("json", false, "same as --format json: per column the distinct count, top values, groups; rows, bytes, seconds")
	workers := fs.Int("workers", 0, "scanning goroutines (default: one per core)")
	chunk := byteSize(0)
	fs.Var(&chunk, "chunk-size", "input `SIZE` a worker takes at a time (default 512K for files, 8M for streams)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
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
	if *precision < 4 || *precision > 18 {
		return Usagef("--precision must be 4..18, got %d", *precision)
	}
	if *top < 0 {
		return Usagef("--top must not be negative")
	}
	if *asJSON {
		*format = "json"
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return Usagef("--format must be text, json or csv, got %q", *format)
	}
	opts := uniq.Options{
		Columns: cols, Records: *records, NoHeader: *noHeader, Delimiter: d, Trim: *trim,
		Top: *top, Approx: *approx, Precision: uint8(*precision), MemoryLimit: int64(memory),
		TempDir: *tempDir, Lenient: *lenient, Workers: *workers, ChunkSize: int(chunk),
		Keys: keys, By: by,
		IgnoreCase: *ignoreCase, SkipEmpty: *skipEmpty, Nulls: nulls,
	}
	if err := opts.SetQuote(*quoteChar); err != nil {
		return Usagef("--quote: %v", err)
	}
	if env.Getenv != nil && opts.TempDir == "" {
		opts.TempDir = env.Getenv("TMPDIR")
	}
	var bar *progressbar.ProgressBar
	if showProgress(env, *progress) {
		// The rate and time left are computed here, from the count's own
		// start: progressbar's would divide the bytes done by the time since
		// its first frame, which is microseconds at that frame (445 GB/s).
		start := time.Now()
		bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false),
			progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("uniq"))
		opts.Progress = progressAfter(start, progressDelay, func(done, total int64) {
			if total > 0 && bar.GetMax64() != total {
				bar.ChangeMax64(total)
			}
			bar.Describe(progressDescription(done, total, time.Since(start)))
			_ = bar.Set64(done)
		})
	}
	inputs := inputsOf(env, files)
	var res *uniq.Result
	if *values {
		if *format == "json" {
			return Usagef("--values writes text or csv")
		}
		res, err = uniq.DistinctValues(ctx, inputs, opts, env.Stdout, *format == "csv")
	} else {
		res, err = uniq.CountInputs(ctx, inputs, opts)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	switch {
	case *values:
	case *format == "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	case *format == "csv":
		if err := printResultCSV(env.Stdout, res); err != nil {
			return err
		}
	default:
		printResult(env.Stdout, res)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(env.Stderr, "hotpath uniq: skipped %d malformed rows\n", res.Skipped)
	}
	for _, c := range res.Columns {
		if c.Nulls > 0 {
			fmt.Fprintf(env.Stderr, "hotpath uniq: %s: %d nulls not counted\n", c.Name, c.Nulls)
		}
	}
	return nil
}

// progressDelay is how long a count runs before its progress bar shows: a
// rate over its first milliseconds (a chunk or two read from the page cache)
// says little, and a count that ends sooner draws no bar at all.
const progressDelay = 500 * time.Millisecond

// progressDescription is the bar's text: the rate since the count started
// and, when the total is known, the time left at that rate.
func progressDescription(done, total int64, elapsed time.Duration) string {
	rate := float64(done) / max(elapsed.Seconds(), 1e-3)
	text := "uniq " + humanBytes(rate) + "/s"
	if total > done && rate > 0 {
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		text += ", " + left.Round(time.Second).String() + " left"
	}
	return text
}

// humanBytes writes n bytes with a decimal unit: 412 MB.
func humanBytes(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return strconv.FormatFloat(n, 'f', 0, 64) + " " + units[i]
}

// progressAfter returns a progress callback that passes reports to set
// only once delay has passed since start.
func progressAfter(start time.Time, delay time.Duration, set func(done, total int64)) func(done, total int64) {
	return func(done, total int64) {
		if time.Since(start) >= delay {
			set(done, total)
		}
	}
}

// showProgress decides whether to draw the progress bar.
func showProgress(env *Env, mode string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := env.Stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printResult prints one number for one column, or a name and a count per
// line (with the top values indented: count, percent of rows, value) for
// several; per group, a line per group (see printGroups).
func printResult(w io.Writer, res *uniq.Result) {
	for _, c := range res.Columns {
		approx := ""
		if c.Approx {
			approx = "~"
		}
		if c.By != "" {
			printGroups(w, c)
			continue
		}
		if len(res.Columns) == 1 && len(c.Top) == 0 {
			fmt.Fprintf(w, "%s%d\n", approx, c.Distinct)
			return
		}
		fmt.Fprintf(w, "%s\t%s%d\n", c.Name, approx, c.Distinct)
		for _, vc := range c.Top {
			fmt.Fprintf(w, "  %d\t%.2f%%\t%s\n", vc.Count, vc.Percent, strconv.Quote(vc.Value))
		}
	}
}
