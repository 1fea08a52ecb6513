package uniq

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// partitionBits is how many of a hash's top bits choose its partition. The
// partitions of two sets built with the same hash merge one pair at a time,
// each pair small enough to stay in cache, and never need rehashing.
const partitionBits = 8

// partitionCount is the number of partitions of every set.
const partitionCount = 1 << partitionBits

// slot is one entry of a partition's open-addressing table: the value's
// 64-bit hash and where its bytes are in the partition's arena.
type slot struct {
	hash uint64
	ref  uint64 // 0: empty; else refUsed | block<<refBlockShift | offset
}

const (
	refUsed       = uint64(1) << 63
	refBlockShift = 40
	refOffsetMask = uint64(1)<<refBlockShift - 1
)

const (
	minTableSlots  = 256 // 4 KiB, the smallest slab piece
	firstBlockSize = 16 << 10
	maxBlockSize   = 1 << 20
)

// setConfig is what every partition of a set shares.
type setConfig struct {
	counting bool          // entries carry an 8-byte occurrence count (for --top)
	mem      *atomic.Int64 // bytes held by all sets of one count, for the memory budget
	slab     *slab         // where tables and arena blocks come from
}

// set is an exact distinct set of byte strings, split by hash into
// partitionCount partitions.
type set struct {
	cfg   *setConfig
	parts [partitionCount]partition
	sink  uint64 // keeps insertBatch's prefetching loads alive
}

func newSet(cfg *setConfig) *set {
	s := &set{cfg: cfg}
	for i := range s.parts {
		s.parts[i].cfg = cfg
	}
	return s
}

// insert adds v, whose hash is h, with count n.
func (s *set) insert(h uint64, v []byte, n uint64) {
	s.parts[h>>(64-partitionBits)].insert(h, v, n)
}

// batchSize is how many values a worker hashes before inserting them: the
// batch's table slots, then the arena entries its hashes match, are loaded
// first with independent reads that the CPU overlaps, so the inserts that
// follow mostly hit the cache instead of waiting for memory one at a time.
const batchSize = 32

// batch is values waiting to be inserted into one set.
type batch struct {
	n int
	h [batchSize]uint64
	v [batchSize][]byte
}

// insertBatch inserts the batch's values (count 1 each) and empties it.
func (s *set) insertBatch(b *batch) {
	var sink uint64
	for i := range b.n {
		h := b.h[i]
		p := &s.parts[h>>(64-partitionBits)]
		if len(p.slots) > 0 {
			sink += p.slots[h&uint64(len(p.slots)-1)].ref
		}
	}
	for i := range b.n {
		h := b.h[i]
		p := &s.parts[h>>(64-partitionBits)]
		if len(p.slots) == 0 {
			continue
		}
		mask := uint64(len(p.slots) - 1)
		for j := h & mask; ; j = (j + 1) & mask {
			sl := p.slots[j]
			if sl.ref == 0 {
				break
			}
			if sl.hash == h {
				sink += uint64(p.entry(sl.ref)[0])
				break
			}
		}
	}
	for i := range b.n {
		s.insert(b.h[i], b.v[i], 1)
		b.v[i] = nil
	}
	b.n = 0
	s.sink += sink
}

// len returns the number of distinct values held.
func (s *set) len() int64 {
	var n int64
	for i := range s.parts {
		n += int64(s.parts[i].n)
	}
	return n
}

// free releases every partition's memory.
func (s *set) free() {
	for i := range s.parts {
		s.parts[i].free()
	}
}

// partition is one open-addressing table (linear probing) with the bytes of
// its values in an arena of blocks. An arena entry is an optional 8-byte
// count, the value's length as a uvarint, then the value.
type partition struct {
	cfg    *setConfig
	slots  []slot
	n      int
	blocks [][]byte
	used   int // bytes used in the last block
}

func (p *partition) insert(h uint64, v []byte, n uint64) {
	if p.n >= len(p.slots)-len(p.slots)>>2 { // keep the load under 3/4
		p.grow()
	}
	mask := uint64(len(p.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.ref == 0 {
			s.hash = h
			s.ref = p.store(v, n)
			p.n++
			return
		}
		if s.hash == h {
			e := p.entry(s.ref)
			if p.cfg.counting {
				if got := p.valueAt(e[8:]); bytes.Equal(got, v) {
					binary.LittleEndian.PutUint64(e, binary.LittleEndian.Uint64(e)+n)
					return
				}
				continue
			}
			if bytes.Equal(p.valueAt(e), v) {
				return
			}
		}
	}
}

// entry returns the arena bytes from ref on.
func (p *partition) entry(ref uint64) []byte {
	b := p.blocks[(ref&^refUsed)>>refBlockShift]
	return b[ref&refOffsetMask:]
}

// valueAt decodes a length-prefixed value at the start of e.
func (p *partition) valueAt(e []byte) []byte {
	l, k := binary.Uvarint(e)
	return e[k : k+int(l)]
}

// value returns the value and count stored at ref.
func (p *partition) value(ref uint64) ([]byte, uint64) {
	e := p.entry(ref)
	var n uint64 = 1
	if p.cfg.counting {
		n = binary.LittleEndian.Uint64(e)
		e = e[8:]
	}
	return p.valueAt(e), n
}

// store appends v (and its count) to the arena and returns its ref.
func (p *partition) store(v []byte, n uint64) uint64 {
	need := len(v) + binary.MaxVarintLen64
	if p.cfg.counting {
		need += 8
	}
	if len(p.blocks) == 0 || p.used+need > len(p.blocks[len(p.blocks)-1]) {
		size := firstBlockSize
		if k := len(p.blocks); k > 0 {
			size = min(2*len(p.blocks[k-1]), maxBlockSize)
		}
		size = max(size, need)
		p.blocks = append(p.blocks, p.cfg.slab.alloc(size))
		p.used = 0
		p.cfg.mem.Add(int64(size))
	}
	bi := len(p.blocks) - 1
	b := p.blocks[bi][p.used:]
	off := 0
	if p.cfg.counting {
		binary.LittleEndian.PutUint64(b, n)
		off = 8
	}
	off += binary.PutUvarint(b[off:], uint64(len(v)))
	off += copy(b[off:], v)
	ref := refUsed | uint64(bi)<<refBlockShift | uint64(p.used)
	p.used += off
	return ref
}

// grow doubles the table (or creates it) and re-places the entries by their
// stored hashes.
func (p *partition) grow() {
	size := max(2*len(p.slots), minTableSlots)
	old := p.slots
	p.slots = p.cfg.slab.allocSlots(size)
	p.cfg.mem.Add(int64(size * int(unsafe.Sizeof(slot{}))))
	mask := uint64(size - 1)
	for _, s := range old {
		if s.ref == 0 {
			continue
		}
		i := s.hash & mask
		for p.slots[i].ref != 0 {
			i = (i + 1) & mask
		}
		p.slots[i] = s
	}
	if old != nil {
		p.cfg.mem.Add(-int64(len(old) * int(unsafe.Sizeof(slot{}))))
		p.cfg.slab.releaseSlots(old)
	}
}

// merge moves every entry of o into p, adding counts, and frees o. The
// stored hashes are reused: nothing is hashed again.
func (p *partition) merge(o *partition) {
	for _, s := range o.slots {
		if s.ref != 0 {
			v, n := o.value(s.ref)
			p.insert(s.hash, v, n)
		}
	}
	o.free()
}

// each calls fn for every entry.
func (p *partition) each(fn func(h uint64, v []byte, n uint64)) {
	for _, s := range p.slots {
		if s.ref != 0 {
			v, n := p.value(s.ref)
			fn(s.hash, v, n)
		}
	}
}

// free releases the table and the arena.
func (p *partition) free() {
	if p.slots != nil {
		p.cfg.mem.Add(-int64(len(p.slots) * int(unsafe.Sizeof(slot{}))))
		p.cfg.slab.releaseSlots(p.slots)
		p.slots = nil
	}
	for _, b := range p.blocks {
		p.cfg.mem.Add(-int64(len(b)))
		p.cfg.slab.release(b)
	}
	p.blocks = nil
	p.used = 0
	p.n = 0
}
