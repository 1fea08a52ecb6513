package crypt

import (
	"context"
	"crypto/rand"
	"io"
	"runtime"
	"sync"

	"github.com/minio/sio"

	"github.com/hotpath/hotpath"
)

// segmentPackages is how many packages one worker seals or opens at a time:
// 2 MiB of plaintext, large enough that handing work around costs nothing
// next to AES-GCM, small enough that all cores get work on a few MiB.
const segmentPackages = 32

// Options tunes Encrypt and Decrypt.
type Options struct {
	// Workers is how many segments are sealed or opened at once; 0 means
	// one per CPU. Memory is about 4 segments (8 MiB) per worker.
	Workers int
	// Progress, when set, is called from the calling goroutine with the
	// plaintext bytes done since its last call.
	Progress func(n int64)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// segment is one piece of work: the plaintext or ciphertext of segmentPackages
// packages starting at package seq, and what a worker made of it.
type segment struct {
	seq  uint32
	in   []byte
	last bool
	out  []byte
	buf  *[]byte // out's buffer, from outBuffers
	err  error
	done chan struct{}
}

// outBuffers holds the buffers segments are sealed or opened into: fresh 2
// MiB buffers per segment cost more (zeroing, GC) than AES-GCM itself.
var outBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, segmentPackages*sealedPackageSize+1)
	return &b
}}

// appendWriter appends to a buffer with room enough: a bytes.Buffer without
// the growth.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Encrypt writes src encrypted under kek to dst and returns the plaintext
// bytes read. Segments of packages are sealed on all cores and written in
// order; the result is the same format a sequential writer produces.
func Encrypt(ctx context.Context, dst io.Writer, src io.Reader, kek []byte, opt Options) (int64, error) {
	first := make([]byte, segmentPackages*PackageSize)
	n, err := io.ReadFull(src, first)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	header, dataKey, err := sealHeader(kek, n == 0)
	if err != nil {
		return 0, err
	}
	if _, err := dst.Write(header); err != nil {
		return 0, err
	}
	// One stream nonce for every worker: each seals its packages with it
	// and its sequence numbers, as one sequential writer would.
	var nonce [12]byte
	rand.Read(nonce[:])
	seal := func(s *segment) {
		s.buf = outBuffers.Get().(*[]byte)
		out := &appendWriter{b: (*s.buf)[:0]}
		cfg := dareConfig(dataKey, s.seq)
		cfg.Nonce = &nonce
		w, err := sio.EncryptWriter(out, cfg)
		if err == nil {
			_, err = w.Write(s.in)
		}
		if err == nil && s.last {
			err = w.Close()
		} else if err == nil {
			// The writer holds the last package back until it knows more
			// follows: one more byte makes it seal that package as not the
			// final one. The extra byte itself is never sealed or written.
			_, err = w.Write([]byte{0})
		}
		s.out, s.err = out.b, err
	}
	read := func(buf []byte) (int, bool, error) {
		n, err := io.ReadFull(src, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, true, nil
		}
		return n, false, err
	}
	pending := first[:n]
	atEOF := n < len(first)
	return run(ctx, dst, opt, seal, func(buf []byte) (*segment, int64, error) {
		if pending == nil {
			return nil, 0, nil
		}
		s := &segment{in: pending}
		if atEOF {
			s.last = true
			pending = nil
			return s, int64(len(s.in)), nil
		}
		// Read the next segment before handing this one out, to know
		// whether this one holds the final package.
		next := buf[:segmentPackages*PackageSize]
		n, eof, err := read(next)
		if err != nil {
			return nil, 0, err
		}
		s.last = n == 0
		pending, atEOF = next[:n], eof
		if n == 0 {
			pending = nil
		}
		return s, int64(len(s.in)), nil
	}, len(first))
}

// Decrypt writes the plaintext of src, encrypted under kek, to dst and
// returns the plaintext bytes written. Errors: EINVALID when src is not in
// hotpath's format, EUNAVAILABLE when it was encrypted under another key,
// EINTEGRITY when any byte was modified or the stream cut short; what was
// written before a package failed is authentic.
func Decrypt(ctx context.Context, dst io.Writer, src io.Reader, kek []byte, opt Options) (int64, error) {
	header := make([]byte, HeaderSize)
	if n, err := io.ReadFull(src, header); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if IsEncrypted(header[:n]) {
				return 0, integrityError("it is cut short inside its header")
			}
			return 0, hotpath.Errorf(hotpath.EINVALID, "not encrypted by hotpath (too short)")
		}
		return 0, err
	}
	if !IsEncrypted(header) {
		return 0, hotpath.Errorf(hotpath.EINVALID, "not encrypted by hotpath (no hotpath header)")
	}
	dataKey, empty, err := openHeader(header, kek)
	if err != nil {
		return 0, err
	}
	const segmentSize = segmentPackages * sealedPackageSize
	open := func(s *segment) {
		s.buf = outBuffers.Get().(*[]byte)
		out := &appendWriter{b: (*s.buf)[:0]}
		w, err := sio.DecryptWriter(out, dareConfig(dataKey, s.seq))
		if err == nil {
			_, err = w.Write(s.in)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			s.err = packageError(err, uint64(s.seq)+uint64(len(out.b)/PackageSize))
			return
		}
		// The final flag sits in each package's authenticated nonce: the
		// stream's last package must carry it and no other may, or the
		// stream was cut at a package boundary.
		lastPackage := (len(s.in) - 1) / sealedPackageSize * sealedPackageSize
		if final := s.in[lastPackage+4]&0x80 != 0; final != s.last {
			if s.last {
				s.err = integrityError("the stream ends without its final package (cut short)")
			} else {
				s.err = integrityError("data follows the final package")
			}
			return
		}
		s.out = out.b
	}
	first := make([]byte, segmentSize)
	n, err := io.ReadFull(src, first)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	switch {
	case empty && n > 0:
		return 0, integrityError("data follows a header that says the plaintext is empty")
	case !empty && n == 0:
		return 0, integrityError("the stream holds no package (cut short)")
	case empty:
		return 0, nil
	}
	pending, atEOF := first[:n], n < segmentSize
	return run(ctx, dst, opt, open, func(buf []byte) (*segment, int64, error) {
		if pending == nil {
			return nil, 0, nil
		}
		s := &segment{in: pending, last: atEOF}
		plain := int64(len(s.in)) - int64((len(s.in)+sealedPackageSize-1)/sealedPackageSize*packageOverhead)
		if atEOF {
			pending = nil
			return s, plain, nil
		}
		next := buf[:segmentSize]
		n, err := io.ReadFull(src, next)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, 0, err
		}
		s.last = n == 0
		pending, atEOF = next[:n], n < segmentSize
		if n == 0 {
			pending = nil
		}
		return s, plain, nil
	}, segmentSize)
}

// run hands the segments next returns to opt.workers() goroutines that apply
// work, and writes their results to dst in order. next gets a free buffer of
// bufSize bytes to read the following segment into and returns nil at the
// end; it runs on its own goroutine. run returns the plaintext bytes done.
func run(ctx context.Context, dst io.Writer, opt Options, work func(*segment), next func(buf []byte) (*segment, int64, error), bufSize int) (int64, error) {
	workers := opt.workers()
	jobs := make(chan *segment, workers)
	order := make(chan *segment, 2*workers)
	free := make(chan []byte, 3*workers+2)
	for range cap(free) {
		free <- make([]byte, bufSize)
	}
	stop := make(chan struct{})
	var readErr error
	sizes := make(map[*segment]int64)
	var mu sync.Mutex
	go func() {
		defer close(order)
		defer close(jobs)
		for seq := uint64(0); ; seq += segmentPackages {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			s, plain, err := next(buf)
			if err != nil {
				readErr = err
				return
			}
			if s == nil {
				return
			}
			if seq+segmentPackages > 1<<32 {
				readErr = hotpath.Errorf(hotpath.ETOOLARGE, "beyond what one encrypted stream holds (256 TiB)")
				return
			}
			s.seq, s.done = uint32(seq), make(chan struct{})
			mu.Lock()
			sizes[s] = plain
			mu.Unlock()
			select {
			case order <- s:
			case <-stop:
				return
			}
			jobs <- s
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				work(s)
				close(s.done)
			}
		}()
	}
	var total int64
	var err error
	for s := range order {
		<-s.done
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = s.err
		}
		if err == nil {
			_, err = dst.Write(s.out)
		}
		if err != nil {
			select {
			case <-stop:
			default:
				close(stop)
			}
			continue
		}
		mu.Lock()
		plain := sizes[s]
		delete(sizes, s)
		mu.Unlock()
		total += plain
		if opt.Progress != nil {
			opt.Progress(plain)
		}
		*s.buf = s.out[:0]
		outBuffers.Put(s.buf)
		// The segment's input buffer goes back for the next read.
		select {
		case free <- s.in[:cap(s.in)]:
		default:
		}
	}
	wg.Wait()
	if err == nil {
		err = readErr
	}
	return total, err
}
