// Package uniq counts the distinct values of large CSV or text inputs
// exactly, on every core, in bounded memory.
//
// A plain file is cut into chunks that the workers (one per core) read in
// parallel (or slice from its mapping, when that takes huge pages); a
// quote-parity chain (each chunk's quotes counted, the parity
// passed on) tells where records start inside a chunk, so quoted newlines
// are never mistaken for record ends. Streams (stdin, gzip, zstd) are read
// in large blocks cut after their last complete record. Each worker hashes
// values (xxh3; a bijective mix for values of up to 8 bytes, which are then
// kept in the table slot itself) and stages each hash, with where the value
// is, in the buffer of its hash partition (radix partitioning, as in
// DuckDB's and Umbra's aggregation). The partitions are then shared out
// among the workers, each inserting all workers' entries of a partition
// into one open-addressing table small enough for the core's cache: no
// value is held twice and nothing is merged. Longer values live in arenas,
// or, for whole lines and records of a memory-mapped file, stay where they
// are in the page cache; a hash match is always confirmed by comparing the
// bytes (for two values of a mapped file, once the partitions are counted,
// region by region of the file, which turns waits on memory one at a time
// into a stream the CPU overlaps). When the stages fill (a share of the
// memory budget, or four times the distinct values they hold) they are drained
// into per-partition sets between rounds; when the sets outgrow the memory
// budget they spill to hash-partitioned runs in a temp directory and the
// partitions are counted one by one from there, still exactly. With --top
// the workers keep sets of their own, merged partition by partition at the
// end.
package uniq

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotpath/hotpath"
)

// ErrUnknownColumn is the cause of the ENOTFOUND error for a column that the
// header does not name, so that callers can tell it from a missing file.
var ErrUnknownColumn = errors.New("unknown column")

// Options says what to count and how.
type Options struct {
	// Columns are column names or 1-based indexes; each is counted on its
	// own, all in one pass. A header name wins over an index that reads the
	// same ("1"); "#N" is always the Nth column. Empty (and Records false): distinct lines,
	// stripped of surrounding whitespace, as Python's "for line in open(f)"
	// reads them.
	Columns []string
	// Records counts distinct whole records (parsed, so quoting does not matter).
	Records bool
	// Keys are columns counted together: the distinct combinations of
	// their values, as one composite key (Columns must then be empty, or
	// By set). With Dedup and DistinctValues, the key that makes records
	// duplicates; empty there means the whole record.
	Keys []string
	// By are the group columns of a per-group count: the distinct values
	// of the one column in Columns (or of the composite Keys) within each
	// group, most distinct first; Top then limits the groups.
	By []string
	// NoHeader says the first record is data; columns are then indexes only.
	NoHeader bool
	// Delimiter separates fields; 0 means ','.
	Delimiter byte
	// Quote is the byte that quotes fields (RFC 4180); 0 means '"'.
	Quote byte
	// NoQuote reads every quote byte as data: fields end at delimiters and
	// records at line ends, whatever they hold (plain TSV).
	NoQuote bool
	// Trim strips surrounding whitespace from every field.
	Trim bool
	// IgnoreCase counts values that differ only in case as one, by Unicode
	// simple case folding (see appendFolded; bytes that are not UTF-8 are
	// compared as they are), in every mode.
	IgnoreCase bool
	// SkipEmpty leaves empty values of columns and lines uncounted (by
	// default an empty field is a value like any other), reported in
	// ColumnResult.Nulls.
	SkipEmpty bool
	// Nulls are values of columns and lines not counted (compared after
	// Trim and IgnoreCase apply to both), reported in ColumnResult.Nulls.
	Nulls []string
	// Top asks for the Top most frequent values of each column with their counts.
	Top int
	// Approx estimates with HyperLogLog in fixed memory instead of counting exactly.
	Approx bool
	// Precision is the HyperLogLog precision, 4..18; 0 means DefaultPrecision.
	Precision uint8
	// MemoryLimit bounds the bytes of the exact sets; past it they spill to
	// TempDir. 0 means half of the machine's RAM.
	MemoryLimit int64
	// TempDir holds spill runs; "" means os.TempDir().
	TempDir string
	// Lenient skips malformed rows (counted in Result.Skipped) instead of failing.
	Lenient bool
	// Workers is the number of goroutines scanning; 0 means GOMAXPROCS.
	Workers int
	// ChunkSize is the bytes of input a worker takes at a time; 0 means
	// 512 KiB for plain files and 8 MiB for streams.
	// Tests force tiny chunks to put record boundaries everywhere.
	ChunkSize int
	// Progress, if set, is called (never concurrently) with the bytes done
	// and the total (-1 when unknown).
	Progress func(done, total int64)
}

// SetQuote sets Quote and NoQuote from the text of a --quote option: one
// byte, "none", or "" for the default, which is '"', except for
// tab-separated input (Delimiter '\t', set first), which is none as in
// plain TSV.
func (o *Options) SetQuote(s string) error {
	switch {
	case s == "" && o.Delimiter == '\t', s == "none":
		o.Quote, o.NoQuote = 0, true
	case s == "":
		o.Quote, o.NoQuote = 0, false
	case len(s) == 1:
		o.Quote, o.NoQuote = s[0], false
	default:
		return hotpath.Errorf(hotpath.EINVALID, "quote must be one byte or none, got %q", s)
	}
	return nil
}

// Result is the outcome of a count.
type Result struct {
	Columns []ColumnResult `json:"columns"`
	Rows    int64          `json:"rows"`
	Bytes   int64          `json:"bytes"`
	Seconds float64        `json:"seconds"`
	Skipped int64          `json:"skipped,omitempty"`
}

// ColumnResult is the count of one column (or "lines", or "records").
type ColumnResult struct {
	Name     string       `json:"name"`
	Distinct int64        `json:"distinct"`
	Approx   bool         `json:"approx,omitempty"`
	Top      []ValueCount `json:"top,omitempty"`
	// By names the group columns of a per-group count, whose groups are
	// in Groups (Distinct is then the distinct group and value pairs).
	By     string       `json:"by,omitempty"`
	Groups []GroupCount `json:"groups,omitempty"`
	// Nulls are the values not counted: empty with SkipEmpty, or one of Nulls.
	Nulls int64 `json:"nulls,omitempty"`
}

// ValueCount is a value and how many times it occurs.
type ValueCount struct {
	Value   string  `json:"value"`
	Count   int64   `json:"count"`
	Percent float64 `json:"percent"` // of the counted rows
}

const defaultChunkSize = 8 << 20

// readChunkSize is the chunk size of a plain file: half the L2 cache of
// current cores, so that a chunk read once from memory is counted and
// parsed from the cache.
const readChunkSize = 512 << 10

// engine holds one count's settings and shared state.
type engine struct {
	opts     Options
	lines    bool     // whole-line mode
	records  bool     // target 0 is the whole record
	names    []string // per target
	cols     []int    // 0-based field of each column target (after the records target)
	maxField int
	// fieldTarget[f] is the target of field f, up to maxField, or -1; nil
	// when a field is asked twice (scanColumns then does not apply).
	fieldTarget []int
	delim       byte
	// quote is the quoting byte; without quoting it is '\n', which the
	// parsers meet only as a record end (see record.go).
	quote   byte
	quoting bool
	// normalize: values of columns and lines go through worker.normalize
	// (IgnoreCase, SkipEmpty or Nulls); nullSet holds Nulls as normalized.
	normalize bool
	nullSet   map[string]bool
	precision uint8
	workers   int
	chunkSize int
	setCfg    setConfig
	mem       atomic.Int64
	files     *fileSpace // mapped inputs the sets point into
	mapped    [][]byte   // the mappings, unmapped when the count ends

	workerSet []*worker
	// radix: workers stage hashed values by partition (see radix.go)
	// instead of filling sets of their own; global holds the sets the
	// stages are drained into between rounds.
	radix      bool
	global     []*set
	stageLimit int
	// roundOver is set by the first worker whose stages are full: the
	// others stop at their next chunk too, instead of scanning on while it
	// waits for them (each estimates its own stages' repeats, an eighth of
	// a round apart: a sixth of the scan time idle on columns of few
	// distinct values).
	roundOver atomic.Bool
	blocks    *blockPool
	bytes     int64 // input bytes scanned, after decompression
	resolved  bool  // columns resolved from the first input's header
	// rerunnable and compareNow: see countInputs.
	rerunnable, compareNow bool

	spillMu sync.Mutex
	spills  []*spillRun
	keyed   *keyed // set for composite keys, groups and first records (keyed.go)

	progressMu    sync.Mutex
	done          int64
	total         int64
	exactProgress bool // chunk bytes are input bytes: the engine reports progress
}

func newEngine(opts Options) (*engine, error) {
	e := &engine{opts: opts, delim: opts.Delimiter, workers: opts.Workers, chunkSize: opts.ChunkSize, precision: opts.Precision}
	if e.delim == 0 {
		e.delim = ','
	}
	e.quote, e.quoting = opts.Quote, !opts.NoQuote
	if e.quote == 0 {
		e.quote = '"'
	}
	if !e.quoting {
		e.quote = '\n'
	}
	if e.delim == '\n' || e.delim == '\r' || e.quoting && e.delim == e.quote {
		return nil, hotpath.Errorf(hotpath.EINVALID, "delimiter %q cannot be used", e.delim)
	}
	if e.quoting && (e.quote == '\n' || e.quote == '\r') {
		return nil, hotpath.Errorf(hotpath.EINVALID, "quote %q cannot be used", e.quote)
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.normalize = opts.IgnoreCase || opts.SkipEmpty || len(opts.Nulls) > 0
	if len(opts.Nulls) > 0 {
		e.nullSet = map[string]bool{}
		for _, v := range opts.Nulls {
			b := []byte(v)
			if opts.Trim {
				b = pyStrip(b)
			}
			if opts.IgnoreCase {
				b = appendFolded(nil, b)
			}
			e.nullSet[string(b)] = true
		}
	}
	if e.chunkSize <= 0 {
		e.chunkSize = defaultChunkSize
	}
	if e.precision == 0 {
		e.precision = DefaultPrecision
	}
	if e.precision < 4 || e.precision > 18 {
		return nil, hotpath.Errorf(hotpath.EINVALID, "precision %d out of range 4..18", e.precision)
	}
	if opts.Top < 0 {
		return nil, hotpath.Errorf(hotpath.EINVALID, "top %d is negative", opts.Top)
	}
	if opts.Top > 0 && opts.Approx {
		return nil, hotpath.Errorf(hotpath.EINVALID, "top values need exact counting, not approx")
	}
	if e.opts.MemoryLimit <= 0 {
		e.opts.MemoryLimit = defaultMemoryLimit()
	}
	e.lines = len(opts.Columns) == 0 && !opts.Records
	e.records = opts.Records
	e.files = &fileSpace{}
	e.setCfg = setConfig{counting: opts.Top > 0, mem: &e.mem, slab: &slab{}, files: e.files}
	e.radix = !opts.Approx && opts.Top == 0
	e.stageLimit = stageLimit(e.opts.MemoryLimit, e.workers)
	e.blocks = &blockPool{slab: e.setCfg.slab}
	switch {
	case e.lines:
		e.names = []string{"lines"}
	case e.records:
		e.names = []string{"records"}
	}
	return e, nil
}

// defaultMemoryLimit is half of the machine's RAM.
func defaultMemoryLimit() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 4 << 30
	}
	return int64(si.Totalram) * int64(si.Unit) / 2
}

// resolveColumns maps the asked columns to fields, using the header when
// there is one. An empty input (empty true) has no header to check names
// against: its columns keep their names and count nothing.
func (e *engine) resolveColumns(header [][]byte, empty bool) error {
	var cols []int
	var names []string
	maxField := 0
	for _, c := range e.opts.Columns {
		idx := -1
		index, byIndex := strings.CutPrefix(c, "#")
		for i, h := range header {
			if string(h) == c && !byIndex {
				idx = i
				break
			}
		}
		name := c
		if idx < 0 {
			n, err := strconv.Atoi(index)
			switch {
			case empty:
				n = 1
			case err != nil && byIndex:
				return hotpath.Errorf(hotpath.EINVALID, "column %q: after # comes a 1-based index", c)
			case err != nil && e.opts.NoHeader:
				return hotpath.Errorf(hotpath.EINVALID, "column %q: without a header, columns are 1-based indexes", c)
			case err != nil:
				return hotpath.WrapError(hotpath.ENOTFOUND, ErrUnknownColumn, "column %q not found in the header", c)
			case n < 1:
				return hotpath.Errorf(hotpath.EINVALID, "column index %d: indexes start at 1", n)
			}
			idx = n - 1
			if idx < len(header) && len(header[idx]) > 0 {
				name = string(header[idx])
			}
		}
		cols = append(cols, idx)
		names = append(names, name)
		maxField = max(maxField, idx)
	}
	e.cols, e.maxField = cols, maxField
	e.fieldTarget = make([]int, maxField+1)
	for f := range e.fieldTarget {
		e.fieldTarget[f] = -1
	}
	for i, f := range cols {
		if e.fieldTarget[f] >= 0 {
			e.fieldTarget = nil
			break
		}
		e.fieldTarget[f] = i
	}
	if !e.resolved {
		e.names = append(e.names, names...)
		e.resolved = true
	}
	return nil
}

// input hands out chunks to workers.
type input interface {
	// next returns the next chunk, or nil when the input is exhausted.
	next(ctx context.Context) (*chunk, error)
	// release is called once a chunk has been scanned.
	release(c *chunk)
}

// scan runs the engine's workers over one input.
func (e *engine) scan(ctx context.Context, in input) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if e.workerSet == nil {
		for range e.workers {
			e.workerSet = append(e.workerSet, newWorker(e))
		}
	}
	for {
		errs := make([]error, e.workers)
		full := make([]bool, e.workers)
		e.roundOver.Store(false)
		var wg sync.WaitGroup
		for i, w := range e.workerSet {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if full[i], errs[i] = e.guardedWork(ctx, w, in); errs[i] != nil {
					cancel()
				}
			}()
		}
		wg.Wait()
		if err := firstError(errs); err != nil {
			return err
		}
		if !slices.Contains(full, true) {
			return nil // the stages wait for the next input or the result
		}
		if err := e.drain(); err != nil {
			return err
		}
	}
}

// result merges the workers' sets (or sketches, or spill runs) into the
// result and frees them, with each column's nulls.
func (e *engine) result(ctx context.Context) (*Result, error) {
	nulls := make([]int64, len(e.names))
	for _, w := range e.workerSet {
		for t, n := range w.nulls {
			nulls[t] += n
		}
	}
	res, err := e.counts(ctx)
	if err != nil {
		return nil, err
	}
	for t := range res.Columns {
		res.Columns[t].Nulls = nulls[t]
	}
	return res, nil
}

// counts is result without the nulls.
func (e *engine) counts(ctx context.Context) (*Result, error) {
	workers := e.workerSet
	defer e.freeWorkers()
	res := &Result{Bytes: e.bytes}
	for _, w := range workers {
		res.Rows += w.rows
		res.Skipped += w.skipped
	}
	if e.radix {
		return e.resultStaged(ctx, res)
	}
	if e.opts.Approx {
		for t, name := range e.names {
			sk := workers[0].hlls[t]
			for _, w := range workers[1:] {
				sk.merge(w.hlls[t])
			}
			res.Columns = append(res.Columns, ColumnResult{Name: name, Distinct: sk.estimate(), Approx: true})
		}
		return res, nil
	}
	if len(e.spills) > 0 {
		for _, w := range workers {
			if err := e.spill(w); err != nil {
				return nil, err
			}
		}
	}
	for t, name := range e.names {
		var n int64
		var top []ValueCount
		var err error
		if len(e.spills) > 0 {
			n, top, err = e.countSpilled(ctx, t)
			if err != nil {
				return nil, err
			}
		} else {
			sets := make([]*set, len(workers))
			for i, w := range workers {
				sets[i] = w.sets[t]
			}
			n, top = mergeSets(sets, e.opts.Top, e.workers)
		}
		res.Columns = append(res.Columns, ColumnResult{Name: name, Distinct: n, Top: top})
	}
	return res, nil
}

// guardedWork is work with a fault reading a mapped input turned into an
// error (see catchFault).
func (e *engine) guardedWork(ctx context.Context, w *worker, in input) (full bool, err error) {
	defer catchFault(&err)()
	return e.work(ctx, w, in)
}

// work is one worker's loop; it returns early, with full true, when the
// worker's stages are full and must be drained.
func (e *engine) work(ctx context.Context, w *worker, in input) (full bool, err error) {
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if w.stages != nil && (e.roundOver.Load() || w.stageFull(e.stageLimit)) {
			e.roundOver.Store(true)
			return true, nil
		}
		c, err := in.next(ctx)
		if err != nil || c == nil {
			return false, err
		}
		err = w.scan(c)
		in.release(c)
		if err != nil {
			return false, err
		}
		e.progress(int64(len(c.data)))
		if w.sets != nil && e.mem.Load() > e.opts.MemoryLimit {
			if err := e.spill(w); err != nil {
				return false, err
			}
		}
	}
}

func (e *engine) progress(n int64) {
	if !e.exactProgress || e.opts.Progress == nil {
		return
	}
	e.progressMu.Lock()
	defer e.progressMu.Unlock()
	e.done += n
	e.opts.Progress(e.done, e.total)
}

// firstError returns the error to report of the workers' errors: the
// malformed record first in the input (a chunk after it may start in the
// wrong place, and fail otherwise), else the first that is not a
// cancellation.
func firstError(errs []error) error {
	var first error
	var rec *recordError
	for _, err := range errs {
		var r *recordError
		if errors.As(err, &r) && (rec == nil || r.at < rec.at) {
			rec = r
		}
		if err == nil {
			continue
		}
		if first == nil || (first == context.Canceled && err != context.Canceled) {
			first = err
		}
	}
	if rec != nil {
		return rec.err
	}
	return first
}

// mergeSets merges the sets partition by partition (in parallel, each pair
// small enough for the cache), frees them, and returns the distinct count
// and the top values.
func mergeSets(sets []*set, top, workers int) (int64, []ValueCount) {
	var total atomic.Int64
	tops := make([]*topK, workers)
	for g := range tops {
		tops[g] = newTopK(top)
	}
	err := forPartitions(workers, func(g, p int) {
		if top == 0 {
			total.Add(unionSize(sets, p))
			return
		}
		base := &sets[0].parts[p]
		for _, s := range sets[1:] {
			base.absorb(&s.parts[p])
		}
		total.Add(int64(base.n))
		base.each(func(_ uint64, v []byte, n uint64) { tops[g].offer(v, n) })
		base.free()
	})
	if err != nil {
		panic(err) // these sets hold no values of mapped files: a fault is a bug
	}
	return total.Load(), mergeTops(tops, top)
}

// unionSize returns the size of the union of partition p of every set,
// and frees them: an entry counts unless an earlier set holds it. Only
// lookups, in tables small enough for the cache: no merged table is built.
func unionSize(sets []*set, p int) int64 {
	n := int64(sets[0].parts[p].n)
	var buf [8]byte
	for k := 1; k < len(sets); k++ {
		part := &sets[k].parts[p]
		for _, sl := range part.slots {
			if sl.ref == 0 {
				continue
			}
			v, _ := part.value(sl.hash, sl.ref, &buf)
			seen := false
			for j := 0; j < k && !seen; j++ {
				seen = sets[j].parts[p].contains(sl.hash, sl.ref, v)
			}
			if !seen {
				n++
			}
		}
	}
	for _, s := range sets {
		s.parts[p].free()
	}
	return n
}

// Input is one input of CountInputs: a file path, or a reader when Reader is set.
type Input struct {
	Path   string    // shown in errors; opened when Reader is nil
	Reader io.Reader // read instead of opening Path
}

// CountInputs counts the distinct values of all inputs together, as if
// they were one file; a CSV header is read from each. The columns are
// resolved against each input's own header.
func CountInputs(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	if len(opts.Keys) > 0 || len(opts.By) > 0 {
		res, err := countKeys(ctx, inputs, opts)
		if err != nil {
			return nil, err
		}
		setPercents(res)
		return res, nil
	}
	start := time.Now()
	rerunnable := !slices.ContainsFunc(inputs, func(in Input) bool { return in.Reader != nil })
	res, err := countInputs(ctx, inputs, opts, rerunnable, false)
	if errors.Is(err, errHashCollision) {
		res, err = countInputs(ctx, inputs, opts, false, true)
	}
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	setPercents(res)
	return res, nil
}

// setPercents sets the share of the counted rows of each top value.
func setPercents(res *Result) {
	for c := range res.Columns {
		for i := range res.Columns[c].Top {
			res.Columns[c].Top[i].Percent = percent(res.Columns[c].Top[i].Count, res.Rows)
		}
	}
}

// defaultWorkers is the number of workers when Options.Workers is 0.
func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// countInputs is CountInputs. rerunnable says the inputs can be read
// again, so that deferred comparisons may give up the staged entries
// early and report a collision with errHashCollision instead (see
// countStaged); compareNow turns the deferral off.
func countInputs(ctx context.Context, inputs []Input, opts Options, rerunnable, compareNow bool) (res *Result, err error) {
	defer catchFault(&err)()
	e, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	e.rerunnable, e.compareNow = rerunnable, compareNow
	defer e.removeSpills()
	defer e.setCfg.slab.close()
	defer func() {
		for _, m := range e.mapped {
			_ = syscall.Munmap(m)
		}
	}()
	for _, in := range inputs {
		if in.Reader != nil {
			e.total = -1
			err = e.countStream(ctx, in.Reader)
		} else {
			err = e.countFile(ctx, in.Path)
		}
		if err != nil {
			if len(inputs) > 1 && in.Path != "" && hotpath.ErrorCode(err) == hotpath.EINVALID {
				err = hotpath.WrapError(hotpath.EINVALID, err, "%s", in.Path)
			}
			e.freeWorkers()
			return nil, err
		}
	}
	return e.result(ctx)
}

// CountFile counts the distinct values of the file at path. Plain files are
// memory-mapped; gzip and zstd files (recognised by their magic bytes, so
// .gz and .zst work whatever their names) are decompressed on the fly.
func CountFile(ctx context.Context, path string, opts Options) (*Result, error) {
	return CountInputs(ctx, []Input{{Path: path}}, opts)
}

// CountReader counts the distinct values read from r; gzip and zstd
// streams are recognised by their magic bytes and decompressed.
func CountReader(ctx context.Context, r io.Reader, opts Options) (*Result, error) {
	return CountInputs(ctx, []Input{{Path: "-", Reader: r}}, opts)
}

// freeWorkers drops the workers' sets and stages, and the sets they were
// drained into, once the count is over. Their tables and arenas are not
// released piece by piece: CountInputs closes the slab they came from,
// which unmaps everything at once (a release gives its pages back with a
// madvise, and each of those flushes the TLBs of every core).
func (e *engine) freeWorkers() {
	for _, w := range e.workerSet {
		w.sets, w.stages = nil, nil
	}
	e.global = nil
}
