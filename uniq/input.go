package uniq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/hotpath/hotpath"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var bom = []byte{0xef, 0xbb, 0xbf}

// countFile memory-maps a plain file, or streams a compressed one.
func (e *engine) countFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return hotpath.WrapError(hotpath.ENOTFOUND, err, "%s: no such file", path)
	} else if err != nil {
		return hotpath.WrapError(hotpath.EINVALID, err, "%s: cannot open", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return hotpath.WrapError(hotpath.EINVALID, err, "%s: cannot stat", path)
	}
	if st.IsDir() {
		return hotpath.Errorf(hotpath.EINVALID, "%s is a directory", path)
	}
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	if !st.Mode().IsRegular() || compression(magic[:n]) != "" || st.Size() == 0 {
		e.total = st.Size()
		if !st.Mode().IsRegular() {
			e.total = -1
		}
		return e.countStream(ctx, f)
	}
	e.total = st.Size()
	e.exactProgress = true
	if !e.mapValues() {
		return e.countAt(ctx, f, st.Size(), nil, false)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return e.countAt(ctx, f, st.Size(), nil, false)
	}
	e.mapped = append(e.mapped, data)
	_ = syscall.Madvise(data, madvPopulateRead)
	huge := filePmdMapped(data) >= st.Size()/2
	return e.countAt(ctx, f, st.Size(), data, huge)
}

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): map the whole file
// in one call instead of one page fault per 64 KiB.
const madvPopulateRead = 22

// filePmdMapped returns how many bytes of the mapping that starts at
// data's first byte are mapped with huge pages (its FilePmdMapped in
// /proc/self/smaps), or 0 when that is not known. A file the page cache
// holds in 2 MB folios, as it does a file that was read, is mapped so; one
// left by a writer, in small folios, is not.
func filePmdMapped(data []byte) int64 {
	if len(data) == 0 {
		return 0
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	return pmdMappedIn(smaps, uintptr(unsafe.Pointer(unsafe.SliceData(data))))
}

// pmdMappedIn returns the FilePmdMapped bytes of the mapping starting at
// addr in smaps, the text of /proc/PID/smaps, or 0.
func pmdMappedIn(smaps []byte, addr uintptr) int64 {
	// The mapping's entry: its "start-end ..." line, then its "Name: value"
	// fields up to the next mapping's line.
	start := []byte(fmt.Sprintf("%08x-", addr))
	found := false
	for line := range bytes.Lines(smaps) {
		if !found {
			found = bytes.HasPrefix(line, start)
			continue
		}
		name, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || bytes.ContainsAny(name, " -") {
			return 0 // the next mapping: no FilePmdMapped field
		}
		if string(name) == "FilePmdMapped" { // "FilePmdMapped:    991232 kB"
			kb, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// mapValues tells whether a plain file is memory-mapped so that the sets
// point at values in the page cache instead of copying them: for whole
// lines and records, where the distinct values are large and many (the
// mapping costs resident memory the size of the file, which column counts,
// with their small values, do not repay). Otherwise the file is read in
// pieces small enough to stay in the core's cache (readChunkSize): the
// kernel's copy reads each byte from memory once, and the quote count and
// the parse that follow it hit the cache. Mapping the pieces in and out
// instead cost a quarter more time in page-table work and second reads
// from memory (user_id on the 1 GB file: 1.30 -> 1.00 s).
func (e *engine) mapValues() bool {
	return (e.lines || e.records) && !e.opts.Approx && !e.setCfg.counting
}

// compression names the compression whose magic bytes start b, or "".
func compression(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return "gzip"
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return "zstd"
	}
	return ""
}

// header finds the header record at the start of data and resolves the
// columns; it returns where the data records start. more is false when
// data holds the whole input.
func (e *engine) header(data []byte, more bool) (body int, ok bool, err error) {
	if e.lines || (e.opts.NoHeader && len(e.opts.Columns) == 0) {
		return 0, true, nil
	}
	if e.opts.NoHeader || (len(data) == 0 && !more) {
		return 0, true, e.resolveColumns(nil, len(data) == 0)
	}
	fields, _, body, f := parseRecordAt(data, 0, e.delim, e.quote, 0, nil, nil)
	if body >= len(data) && more { // the header may go on
		return 0, false, nil
	}
	if f.msg != "" {
		return 0, true, hotpath.Errorf(hotpath.EINVALID, "line %d, field %d: %s", 1+lineBreaks(data[:f.at]), f.field, f.msg)
	}
	if e.opts.Trim {
		for i := range fields {
			fields[i] = pyStrip(fields[i])
		}
	}
	return body, true, e.resolveColumns(fields, false)
}

// countAt counts size bytes read with ReadAt, by every worker in parallel,
// each chunk into a buffer small enough to stay in the core's cache; when
// the file is also mapped (mapped), values point into the mapping. When
// the mapping takes huge pages (readMapped), the chunks are slices of it
// instead: with 2 MB pages the parse reads the page cache directly for less
// than the kernel's copy costs (whole lines of the 1 GB file, medians of
// alternating runs: CPU time 1.84 -> 1.63 s, 1.56 -> 1.38 s in a faster
// hour), where with 4 KiB pages the copy was cheaper (2.21 against 2.28 s).
func (e *engine) countAt(ctx context.Context, r io.ReaderAt, size int64, mapped []byte, readMapped bool) error {
	var first [3]byte
	n, _ := r.ReadAt(first[:], 0)
	var start int64
	if bytes.Equal(first[:n], bom) {
		start = 3
	}
	// The header: read until its record ends.
	for want := int64(64 << 10); ; want *= 2 {
		head := make([]byte, min(want, size-start))
		if _, err := r.ReadAt(head, start); err != nil && err != io.EOF {
			return hotpath.WrapError(hotpath.EINVALID, err, "read error")
		}
		more := start+int64(len(head)) < size
		body, ok, err := e.header(head, more)
		if err != nil {
			return err
		}
		if ok {
			start += int64(body)
			break
		}
	}
	in := &readAtInput{r: r, size: size, start: start, chunk: int64(e.chunkSize), fileBase: -1,
		quotes: e.quoting && !e.lines, exact: e.opts.Lenient && e.quoting && !e.lines, delim: e.delim, quote: e.quote}
	if !in.quotes {
		in.quote = '\n'
	}
	if mapped != nil {
		in.fileBase = e.files.add(mapped)
		if readMapped {
			in.mapped = mapped
		}
	}
	if e.opts.ChunkSize == 0 {
		in.chunk = readChunkSize
	}
	in.n = int((size - start + in.chunk - 1) / in.chunk)
	in.odd = make([]bool, in.n+1)
	if in.exact {
		in.ends = make([]int64, in.n+1)
		in.ends[0] = start
	}
	in.known = 1
	in.cond = sync.NewCond(&in.mu)
	in.bufs = make(chan []byte, e.workers)
	if err := e.scan(ctx, in); err != nil {
		return err
	}
	e.bytes += size
	return nil
}

// readAtInput cuts a file into chunks that workers read in parallel. Each
// chunk's quote parity (whether its first byte is inside quotes) is the
// parity of all quotes before it: a worker counts its chunk's quotes, waits
// for the previous chunk's parity, publishes its own and only then parses,
// so the chain costs one fast count per chunk and the parses run in
// parallel. A chunk's records start at the first record boundary at or
// after its nominal start and run to the first one at or after its end.
//
// With --lenient (exact) a malformed record can throw the parity off, so
// the chain passes each chunk's exact end instead: a worker reads its
// chunk, waits for the previous chunk's end, walks the records from there
// by the grammar to its own end (crossing stretches without quotes at
// once), publishes it and then parses in parallel with the others.
type readAtInput struct {
	r      io.ReaderAt
	size   int64
	start  int64
	chunk  int64
	n      int
	quotes bool
	exact  bool
	delim  byte
	quote  byte // '\n' without quoting
	taken  atomic.Int64
	bufs   chan []byte
	// fileBase >= 0 says the file is also memory-mapped: values are then
	// referenced at fileBase+offset in the engine's fileSpace.
	fileBase int64
	// mapped, when set, is the file's mapping, which chunks are sliced
	// from instead of being read (see countAt).
	mapped []byte

	mu    sync.Mutex
	cond  *sync.Cond
	known int     // parities odd[0:known] (or starts[0:known]) are published
	odd   []bool  // odd[i]: an odd number of quotes precede chunk i's nominal start
	ends  []int64 // exact: ends[i] is where chunk i's records start
}

// window is a buffer holding the file from base on, extended on demand.
type window struct {
	in   *readAtInput
	base int64
	buf  []byte
}

// extend reads up to end (at least, when the file has it) into the window.
func (w *window) extend(end int64) error {
	end = min(end, w.in.size)
	have := w.base + int64(len(w.buf))
	if end <= have {
		return nil
	}
	if w.in.mapped != nil {
		w.buf = w.in.mapped[w.base:end]
		return nil
	}
	n := int(end - have)
	w.buf = slices.Grow(w.buf, n)
	got, err := w.in.r.ReadAt(w.buf[len(w.buf):len(w.buf)+n], have)
	w.buf = w.buf[:len(w.buf)+got]
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		return hotpath.WrapError(hotpath.EINVALID, err, "read error")
	}
	return nil
}

// boundary returns where the first record starting at or after pos begins,
// given whether pos is inside quotes, reading on as far as needed.
func (w *window) boundary(pos int64, odd bool) (int64, error) {
	if pos >= w.in.size {
		return w.in.size, nil
	}
	if err := w.extend(pos + 1); err != nil {
		return 0, err
	}
	if !odd {
		switch w.buf[pos-1-w.base] {
		case '\n':
			return pos, nil
		case '\r':
			if w.buf[pos-w.base] != '\n' {
				return pos, nil
			}
		}
	}
	for step := int64(64 << 10); ; step *= 2 {
		if err := w.extend(pos + step); err != nil {
			return 0, err
		}
		if b := parityBoundary(w.buf, int(pos-w.base), odd, w.in.quote); b >= 0 {
			return w.base + int64(b), nil
		}
		if w.base+int64(len(w.buf)) >= w.in.size {
			return w.in.size, nil
		}
	}
}

// exactBoundary returns where the first record starting at or after hi
// begins, walking the records from from, a record start, by the grammar.
func (w *window) exactBoundary(from, hi int64) (int64, error) {
	if hi >= w.in.size {
		return w.in.size, nil
	}
	for step := int64(64 << 10); ; step *= 2 {
		if err := w.extend(max(hi, from) + step); err != nil {
			return 0, err
		}
		if b := exactBoundary(w.buf, int(from-w.base), int(hi-w.base), w.in.delim, w.in.quote); b >= 0 {
			return w.base + int64(b), nil
		}
		if w.base+int64(len(w.buf)) >= w.in.size {
			return w.in.size, nil
		}
	}
}

func (in *readAtInput) next(ctx context.Context) (*chunk, error) {
	i := int(in.taken.Add(1) - 1)
	if i >= in.n {
		return nil, nil
	}
	lo := in.start + int64(i)*in.chunk
	hi := min(lo+in.chunk, in.size)
	var buf []byte
	select {
	case buf = <-in.bufs:
	default:
	}
	w := &window{in: in, base: max(lo-1, 0), buf: buf[:0]} // one byte before lo tells whether lo starts a line
	err := w.extend(hi)
	if in.exact {
		return in.nextExact(i, lo, hi, w, err)
	}
	var oddLo, oddHi bool
	if in.quotes {
		var odd bool
		if err == nil {
			odd, err = quoteParity(w.buf[lo-w.base:], in.quote)
		}
		in.mu.Lock() // publish even after an error, so that no later chunk waits for ever
		for in.known <= i {
			in.cond.Wait()
		}
		oddLo = in.odd[i]
		oddHi = oddLo != odd
		in.odd[i+1] = oddHi
		in.known = i + 2
		in.cond.Broadcast()
		in.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	from, to := in.start, in.size
	if i > 0 {
		if from, err = w.boundary(lo, oddLo); err != nil {
			return nil, err
		}
	}
	if i < in.n-1 {
		if to, err = w.boundary(hi, oddHi); err != nil {
			return nil, err
		}
	}
	return in.chunkOf(w, from, to)
}

// nextExact is next with --lenient: chunk i (nominally lo to hi, read into
// w, or failed with err) starts where the previous one ended, as the
// grammar walks records, and ends at the first record boundary at or
// after hi (see readAtInput).
func (in *readAtInput) nextExact(i int, lo, hi int64, w *window, err error) (*chunk, error) {
	in.mu.Lock()
	for in.known <= i {
		in.cond.Wait()
	}
	from := in.ends[i]
	in.mu.Unlock()
	to := in.size
	if err == nil && i < in.n-1 {
		to, err = w.guardedExactBoundary(from, hi)
	}
	if err != nil {
		to = in.size // the chunks after an error are empty
	}
	in.mu.Lock() // publish even after an error, so that no later chunk waits for ever
	in.ends[i+1] = max(to, from)
	in.known = i + 2
	in.cond.Broadcast()
	in.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return in.chunkOf(w, from, to)
}

// guardedExactBoundary is exactBoundary with a fault reading a mapped file
// returned as an error (see quoteParity).
func (w *window) guardedExactBoundary(from, hi int64) (b int64, err error) {
	defer catchFault(&err)()
	return w.exactBoundary(from, hi)
}

// chunkOf returns the chunk of the records from from to to, read into w.
func (in *readAtInput) chunkOf(w *window, from, to int64) (*chunk, error) {
	if from > to {
		from = to
	}
	if err := w.extend(to); err != nil {
		return nil, err
	}
	data := w.buf[from-w.base : to-w.base]
	buf := w.buf
	if in.mapped != nil {
		buf = nil // not a buffer to reuse
	}
	c := &chunk{data: data, buf: buf, fileBase: -1, offset: from, lineOf: func(pos int) int64 { return in.lineOf(from + int64(pos)) }}
	if in.fileBase >= 0 {
		c.fileBase = in.fileBase + from
	}
	return c, nil
}

// quoteParity reports whether b holds an odd number of quotes. A fault
// reading a mapped file is returned as errFileChanged rather than unwinding
// next, which must publish its chunk's parity whatever happens: the next
// chunk's worker waits for it.
func quoteParity(b []byte, quote byte) (odd bool, err error) {
	defer catchFault(&err)()
	return bytes.Count(b, []byte{quote})&1 == 1, nil
}

// lineOf returns the 1-based line of offset off, reading the file up to
// it; only errors need it.
func (in *readAtInput) lineOf(off int64) int64 {
	line := int64(1)
	buf := make([]byte, 1<<20)
	prevCR := false
	for pos := int64(0); pos < off; {
		n, _ := in.r.ReadAt(buf[:min(int64(len(buf)), off-pos)], pos)
		if n == 0 {
			break
		}
		line += lineBreaks(buf[:n])
		if prevCR && buf[0] == '\n' { // a CRLF across two reads, counted twice
			line--
		}
		prevCR = buf[n-1] == '\r'
		pos += int64(n)
	}
	return line
}

func (in *readAtInput) release(c *chunk) {
	if c.buf == nil {
		return
	}
	select {
	case in.bufs <- c.buf:
	default:
	}
}

// countStream counts a stream, decompressing it when it is gzip or zstd.
func (e *engine) countStream(ctx context.Context, r io.Reader) error {
	counted := &countingReader{r: r, e: e}
	src, closeSrc, compressed, err := decompress(bufio.NewReaderSize(counted, 1<<20))
	if err != nil {
		return err
	}
	defer closeSrc()
	if !compressed {
		e.exactProgress = true
	}
	s := &streamInput{r: src, size: e.chunkSize, line: 1, delim: e.delim, quote: e.quote,
		quotes: e.quoting && !e.lines, exact: e.opts.Lenient && e.quoting && !e.lines}
	s.buf = make([]byte, 0, s.size)
	// The header, and the BOM, come from the first read.
	bomChecked := false
	for {
		if err := s.fill(); err != nil {
			return err
		}
		if !bomChecked && (len(s.buf) >= 3 || s.eof) {
			if bytes.HasPrefix(s.buf, bom) {
				s.buf = append(s.buf[:0], s.buf[3:]...)
				s.off = 3
			}
			bomChecked = true
		}
		if !bomChecked {
			continue
		}
		body, ok, err := e.header(s.buf, !s.eof)
		if err != nil {
			return err
		}
		if ok {
			s.line += lineBreaks(s.buf[:body])
			s.off += int64(body)
			s.buf = append(s.buf[:0], s.buf[body:]...)
			break
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.chunks = make(chan streamItem, e.workers)
	s.free = make(chan []byte, e.workers+2)
	go s.run(ctx)
	if err := e.scan(ctx, s); err != nil {
		return err
	}
	e.bytes += s.bytes
	return nil
}

// decompress returns a reader of br's content decompressed when it starts
// with the magic bytes of gzip or zstd (compressed), and a function that
// frees the decoder; src is br itself otherwise.
func decompress(br *bufio.Reader) (src io.Reader, closeSrc func(), compressed bool, err error) {
	magic, _ := br.Peek(4)
	switch compression(magic) {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, false, hotpath.WrapError(hotpath.EINVALID, err, "bad gzip stream")
		}
		return zr, func() { zr.Close() }, true, nil
	case "zstd":
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, false, hotpath.WrapError(hotpath.EINVALID, err, "bad zstd stream")
		}
		return zr, zr.Close, true, nil
	}
	return br, func() {}, false, nil
}

// countingReader reports the bytes read from the source as progress when
// the engine cannot count them itself.
type countingReader struct {
	r    io.Reader
	e    *engine
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if n > 0 && !c.e.exactProgress && c.e.opts.Progress != nil {
		c.e.progressMu.Lock()
		c.e.opts.Progress(c.read, c.e.total)
		c.e.progressMu.Unlock()
	}
	return n, err
}

type streamItem struct {
	c   *chunk
	err error
}

// streamInput reads a stream in large blocks, cuts each block after its
// last complete record (tracking quote parity, or with --lenient walking
// the records by the grammar, see readAtInput) and carries the rest over.
type streamInput struct {
	r      io.Reader
	quotes bool
	exact  bool
	delim  byte
	quote  byte
	off    int64 // input offset of buf[0]
	size   int
	buf    []byte
	eof    bool
	line   int64 // input line of buf[0]
	bytes  int64
	chunks chan streamItem
	free   chan []byte
}

// fill reads until buf is full or the stream ends; a full buffer is grown first.
func (s *streamInput) fill() error {
	if len(s.buf) == cap(s.buf) {
		nb := make([]byte, len(s.buf), 2*cap(s.buf)+4096)
		copy(nb, s.buf)
		s.buf = nb
	}
	for len(s.buf) < cap(s.buf) && !s.eof {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		s.bytes += int64(n)
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "read error")
		}
	}
	return nil
}

func (s *streamInput) run(ctx context.Context) {
	defer close(s.chunks)
	for {
		if err := s.fill(); err != nil {
			s.send(ctx, streamItem{err: err})
			return
		}
		if len(s.buf) == 0 {
			return
		}
		cut := len(s.buf)
		if !s.eof {
			if s.exact {
				cut = lastExactBoundary(s.buf, s.delim, s.quote)
			} else {
				cut = lastBoundary(s.buf, s.quotes, s.quote)
			}
			if cut == 0 { // one record longer than the buffer: read on
				continue
			}
		}
		var nb []byte
		select {
		case nb = <-s.free:
		default:
			nb = make([]byte, 0, s.size)
		}
		nb = append(nb[:0], s.buf[cut:]...)
		data, line := s.buf[:cut], s.line
		c := &chunk{data: data, buf: s.buf, fileBase: -1, offset: s.off, lineOf: func(pos int) int64 {
			return line + lineBreaks(data[:pos])
		}}
		s.line += lineBreaks(data)
		s.off += int64(cut)
		if !s.send(ctx, streamItem{c: c}) {
			return
		}
		s.buf = nb
		if s.eof && len(s.buf) == 0 {
			return
		}
	}
}

func (s *streamInput) send(ctx context.Context, it streamItem) bool {
	select {
	case s.chunks <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *streamInput) next(ctx context.Context) (*chunk, error) {
	select {
	case it, ok := <-s.chunks:
		if !ok {
			return nil, nil
		}
		return it.c, it.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *streamInput) release(c *chunk) {
	select {
	case s.free <- c.buf[:0]:
	default:
	}
}

// lastBoundary returns the end of the last complete record in buf, which
// starts at a record boundary, or 0 when there is none: the last record
// end after an even number of quotes (any record end without quotes). A CR
// at the end of buf may be half a CRLF and is not taken.
func lastBoundary(buf []byte, quotes bool, quote byte) int {
	odd := quotes && bytes.Count(buf, []byte{quote})&1 == 1 // parity of the quotes in buf[:pos]
	pos := len(buf)
	for {
		k := lastTerminator(buf[:pos])
		if k < 0 {
			return 0
		}
		if quotes && bytes.Count(buf[k+1:pos], []byte{quote})&1 == 1 {
			odd = !odd
		}
		if !odd && (buf[k] == '\n' || k+1 < len(buf)) {
			return k + 1
		}
		pos = k
	}
}
