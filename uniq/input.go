package uniq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

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
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		e.total = st.Size()
		return e.countStream(ctx, f)
	}
	defer syscall.Munmap(data)
	e.total = st.Size()
	e.exactProgress = true
	return e.countMapped(ctx, data)
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
	end, open := recordEnd(data, 0)
	if end < 0 && more {
		return 0, false, nil
	}
	if open {
		return 0, true, hotpath.Errorf(hotpath.EINVALID, "line 1: unterminated quote")
	}
	body = end + 1
	if end < 0 {
		end, body = len(data), len(data)
	}
	fields, _, msg := parseRecord(trimCR(data[:end]), e.delim, nil, nil)
	if msg != "" {
		return 0, true, hotpath.Errorf(hotpath.EINVALID, "line 1: %s", msg)
	}
	if e.opts.Trim {
		for i := range fields {
			fields[i] = pyStrip(fields[i])
		}
	}
	return body, true, e.resolveColumns(fields, false)
}

// countMapped counts a memory-mapped file.
func (e *engine) countMapped(ctx context.Context, data []byte) error {
	data = bytes.TrimPrefix(data, bom)
	body, _, err := e.header(data, false)
	if err != nil {
		return err
	}
	m := &mappedInput{data: data, start: body, size: e.chunkSize, quotes: !e.lines}
	m.n = (len(data) - body + m.size - 1) / m.size
	m.odd = make([]bool, m.n+1)
	m.known = 1
	m.cond = sync.NewCond(&m.mu)
	if err := e.scan(ctx, m); err != nil {
		return err
	}
	e.bytes += int64(len(data))
	return nil
}

// mappedInput cuts a mapped file into chunks. Each chunk's quote parity
// (whether its first byte is inside quotes) is the parity of all quotes
// before it: a worker counts its chunk's quotes, waits for the previous
// chunk's parity, publishes its own and only then parses, so the chain
// costs one fast count per chunk and the parses run in parallel.
type mappedInput struct {
	data   []byte
	start  int
	size   int
	n      int
	quotes bool
	next_  atomic.Int64

	mu    sync.Mutex
	cond  *sync.Cond
	known int    // parities odd[0:known] are published
	odd   []bool // odd[i]: an odd number of quotes precede chunk i's nominal start
}

func (m *mappedInput) next(ctx context.Context) (*chunk, error) {
	i := int(m.next_.Add(1) - 1)
	if i >= m.n {
		return nil, nil
	}
	lo := m.start + i*m.size
	hi := min(lo+m.size, len(m.data))
	var oddLo, oddHi bool
	if m.quotes {
		c := bytes.Count(m.data[lo:hi], []byte{'"'})&1 == 1
		m.mu.Lock()
		for m.known <= i {
			m.cond.Wait()
		}
		oddLo = m.odd[i]
		oddHi = oddLo != c
		m.odd[i+1] = oddHi
		m.known = i + 2
		m.cond.Broadcast()
		m.mu.Unlock()
	}
	from, to := m.start, len(m.data)
	if i > 0 {
		from = m.boundary(lo, oddLo)
	}
	if i < m.n-1 {
		to = m.boundary(hi, oddHi)
	}
	if from > to {
		from = to
	}
	data := m.data
	return &chunk{data: data[from:to], start: from, lineOf: func(pos int) int64 {
		return 1 + int64(bytes.Count(data[:from+pos], []byte{'\n'}))
	}}, nil
}

// boundary returns where the first record starting at or after pos begins,
// given whether pos is inside quotes.
func (m *mappedInput) boundary(pos int, odd bool) int {
	if pos >= len(m.data) {
		return len(m.data)
	}
	if !odd && m.data[pos-1] == '\n' {
		return pos
	}
	if !m.quotes {
		if k := bytes.IndexByte(m.data[pos:], '\n'); k >= 0 {
			return pos + k + 1
		}
		return len(m.data)
	}
	end, _ := recordEndFrom(m.data, pos, odd)
	if end < 0 {
		return len(m.data)
	}
	return end + 1
}

// release drops the scanned pages from the process's mapping (they stay in
// the page cache), so that resident memory does not grow with the file.
func (m *mappedInput) release(c *chunk) {
	lo := (c.start + pageSize - 1) &^ (pageSize - 1)
	hi := (c.start + len(c.data)) &^ (pageSize - 1)
	if hi > lo {
		_ = syscall.Madvise(m.data[lo:hi], syscall.MADV_DONTNEED)
	}
}

// countStream counts a stream, decompressing it when it is gzip or zstd.
func (e *engine) countStream(ctx context.Context, r io.Reader) error {
	counted := &countingReader{r: r, e: e}
	br := bufio.NewReaderSize(counted, 1<<20)
	magic, _ := br.Peek(4)
	var src io.Reader = br
	switch compression(magic) {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "bad gzip stream")
		}
		defer zr.Close()
		src = zr
	case "zstd":
		zr, err := zstd.NewReader(br)
		if err != nil {
			return hotpath.WrapError(hotpath.EINVALID, err, "bad zstd stream")
		}
		defer zr.Close()
		src = zr
	default:
		e.exactProgress = true
	}
	s := &streamInput{r: src, quotes: !e.lines, size: e.chunkSize, line: 1}
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
			s.line += int64(bytes.Count(s.buf[:body], []byte{'\n'}))
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
// last complete record (tracking quote parity) and carries the rest over.
type streamInput struct {
	r      io.Reader
	quotes bool
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
			cut = lastBoundary(s.buf, s.quotes)
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
		c := &chunk{data: data, buf: s.buf, lineOf: func(pos int) int64 {
			return line + int64(bytes.Count(data[:pos], []byte{'\n'}))
		}}
		s.line += int64(bytes.Count(data, []byte{'\n'}))
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
// starts at a record boundary, or 0 when there is none.
func lastBoundary(buf []byte, quotes bool) int {
	if !quotes {
		return bytes.LastIndexByte(buf, '\n') + 1
	}
	odd := bytes.Count(buf, []byte{'"'})&1 == 1 // parity of the quotes in buf[:pos]
	pos := len(buf)
	for {
		k := bytes.LastIndexByte(buf[:pos], '\n')
		if k < 0 {
			return 0
		}
		if bytes.Count(buf[k+1:pos], []byte{'"'})&1 == 1 {
			odd = !odd
		}
		if !odd {
			return k + 1
		}
		pos = k
	}
}
