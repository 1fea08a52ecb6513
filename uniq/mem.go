package uniq

import (
	"math/bits"
	"sync"
	"syscall"
	"unsafe"
)

// Tables and arena blocks come from a slab: 64 MiB regions mapped outside
// the Go heap with transparent huge pages, so that random probes into many
// small partition tables cost few TLB misses, cut into power-of-two pieces
// that are recycled when a table grows or a set is spilled or merged. Peak
// RSS then follows the live data, not the garbage collector, and everything
// goes back to the OS when the count ends.

const (
	firstRegion = 1 << 20  // small counts stay small
	regionSize  = 64 << 20 // regions double up to this size
	minPiece    = 4 << 10
)

// slab hands out zeroed power-of-two pieces; it is safe for concurrent use.
type slab struct {
	mu      sync.Mutex
	regions [][]byte
	rest    []byte           // unused tail of the last region
	free    [48][][]byte     // by size class (log2)
	large   map[*byte][]byte // pieces bigger than a region, mapped on their own
}

func pieceClass(n int) int { return bits.Len(uint(max(n, minPiece) - 1)) }

// alloc returns n zeroed bytes (the piece may be larger; only n are returned).
func (s *slab) alloc(n int) []byte {
	c := pieceClass(n)
	size := 1 << c
	if size > regionSize/4 {
		b := mmap(size)
		populate(b)
		s.mu.Lock()
		if s.large == nil {
			s.large = map[*byte][]byte{}
		}
		s.large[unsafe.SliceData(b)] = b
		s.mu.Unlock()
		return b[:n]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := len(s.free[c]); k > 0 {
		b := s.free[c][k-1]
		s.free[c] = s.free[c][:k-1]
		clear(b)
		return b[:n]
	}
	if len(s.rest) < size {
		for len(s.rest) >= minPiece { // keep the tail for smaller pieces
			tc := bits.Len(uint(len(s.rest))) - 1
			s.free[tc] = append(s.free[tc], s.rest[:1<<tc:1<<tc])
			s.rest = s.rest[1<<tc:]
		}
		grown := firstRegion
		if k := len(s.regions); k > 0 {
			grown = min(2*len(s.regions[k-1]), regionSize)
		}
		for grown < size {
			grown *= 2
		}
		r := mmap(grown)
		s.regions = append(s.regions, r)
		s.rest = r
	}
	b := s.rest[:size:size]
	s.rest = s.rest[size:]
	populate(b) // only what is handed out: the rest of the region stays unbacked
	return b[:n]
}

// release gives a piece from alloc back.
func (s *slab) release(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:cap(b)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.large[unsafe.SliceData(b)]; ok {
		delete(s.large, unsafe.SliceData(b))
		_ = syscall.Munmap(l)
		return
	}
	// The piece keeps its pages: giving them back with MADV_DONTNEED
	// flushed every core's TLB, and the piece's next user paid for fresh
	// zeroed pages again, which cost several times clearing it in place
	// (on virtual machines a fresh page is a fault in the host as well).
	// What stays resident is at most what was live at the peak.
	c := bits.Len(uint(len(b))) - 1
	s.free[c] = append(s.free[c], b)
}

// close unmaps everything; no piece may be used afterwards.
func (s *slab) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.regions {
		_ = syscall.Munmap(r)
	}
	for _, l := range s.large {
		_ = syscall.Munmap(l)
	}
	s.regions, s.rest, s.free, s.large = nil, nil, [48][][]byte{}, nil
}

func mmap(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic("uniq: out of memory: " + err.Error())
	}
	if n >= 32<<20 {
		_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	}
	return b
}

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// populate faults b in, writable, with one call: page by page, the workers'
// first writes would each fault, contend on the page-table lock and (after
// a read of the shared zero page) flush TLBs across cores. Older kernels
// refuse the advice and fault lazily as before.
func populate(b []byte) {
	_ = syscall.Madvise(b, madvPopulateWrite)
}

func (s *slab) allocSlots(n int) []slot {
	b := s.alloc(n * int(unsafe.Sizeof(slot{})))
	return unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func (s *slab) releaseSlots(sl []slot) {
	s.release(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(sl))), cap(sl)*int(unsafe.Sizeof(slot{}))))
}
