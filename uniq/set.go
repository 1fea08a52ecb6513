package uniq

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// partitionBits is how many of a hash's top bits choose its partition. The
// partitions of two sets built with the same hash merge one pair at a time,
// each pair small enough to stay in cache, and never need rehashing.
const partitionBits = 8

// partitionCount is the number of partitions of every set.
const partitionCount = 1 << partitionBits

// slot is one entry of a partition's open-addressing table: the value's
// 64-bit hash and where its bytes are: in the partition's arena, in a
// mapped input file (refFile), or, for a value of at most 8 bytes, nowhere:
// such a value's hash is a bijection of its bytes (see hashValue), so hash
// and length identify it exactly and it needs no second memory access.
type slot struct {
	hash uint64
	ref  uint64 // 0: empty; refUsed | block<<refBlockShift | offset; refUsed | refInline | len<<inlineLenShift | count; or a refFile
}

const (
	refUsed         = uint64(1) << 63
	refInline       = uint64(1) << 62
	refFile         = uint64(1) << 61 // refUsed | refFile | len<<refFileLenShift | offset in the mapped files
	refFileLenShift = 40
	maxFileRefLen   = 1<<21 - 1
	refBlockShift   = 40 // block indexes stay below 2^21
	refOffsetMask   = uint64(1)<<refBlockShift - 1
	inlineLenShift  = 57 // bits 57-60: below refFile
	inlineCountMask = uint64(1)<<inlineLenShift - 1
	maxInline       = 8
)

// hashValue is the hash every set uses: for values of at most 8 bytes the
// murmur3 finalizer of the bytes, a bijection so that equal hashes of
// values of equal length mean equal values; for longer ones xxh3.
func hashValue(v []byte) uint64 {
	if len(v) > maxInline {
		return xxh3.Hash(v)
	}
	return hashShort(v)
}

// hashShort is hashValue of a value of at most maxInline bytes; it is
// inlined where the scan loops hash.
func hashShort(v []byte) uint64 { return fmix64(load64(v)) }

// load64 reads a value of at most 8 bytes as a little-endian word, padded
// with zeros. With 8 bytes of capacity it is one load, masked: copying into
// a padded word would stall on store forwarding for every value.
func load64(v []byte) uint64 {
	if cap(v) >= 8 {
		return binary.LittleEndian.Uint64(v[:8]) & (1<<(8*len(v)) - 1)
	}
	var b [8]byte
	copy(b[:], v)
	return binary.LittleEndian.Uint64(b[:])
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// The inverses of fmix64's multipliers, for unfmix64.
var (
	fmixInverse1 = inverse64(0xff51afd7ed558ccd)
	fmixInverse2 = inverse64(0xc4ceb9fe1a85ec53)
)

// unfmix64 inverts fmix64.
func unfmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= fmixInverse2
	k ^= k >> 33
	k *= fmixInverse1
	k ^= k >> 33
	return k
}

// inverse64 returns the inverse of odd a modulo 2^64 (Newton's iteration).
func inverse64(a uint64) uint64 {
	x := a
	for range 5 {
		x *= 2 - a*x
	}
	return x
}

const (
	minTableSlots  = 256 // 4 KiB, the smallest slab piece
	firstBlockSize = 4 << 10
	maxBlockSize   = 1 << 20
)

// setConfig is what every partition of a set shares.
type setConfig struct {
	counting bool          // entries carry an 8-byte occurrence count (for --top)
	mem      *atomic.Int64 // bytes held by all sets of one count, for the memory budget
	slab     *slab         // where tables and arena blocks come from
	files    *fileSpace    // mapped inputs that values may point into instead of being copied
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
	s.parts[h>>(64-partitionBits)].insert(h, v, n, -1)
}

// batchSize is how many values a worker hashes before inserting them: the
// batch's table slots, then the arena entries its hashes match, are loaded
// first with independent reads that the CPU overlaps, so the inserts that
// follow mostly hit the cache instead of waiting for memory one at a time.
const batchSize = 32

// batch is values waiting to be inserted into one set.
type batch struct {
	n   int
	h   [batchSize]uint64
	v   [batchSize][]byte
	off [batchSize]int64 // where v is in the mapped files, or -1
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
		if len(p.slots) == 0 || len(b.v[i]) <= maxInline { // inline values need no second load
			continue
		}
		mask := uint64(len(p.slots) - 1)
		for j := h & mask; ; j = (j + 1) & mask {
			sl := p.slots[j]
			if sl.ref == 0 {
				break
			}
			if sl.hash == h {
				switch {
				case sl.ref&refFile != 0:
					sink += uint64(p.cfg.files.at(sl.ref)[0])
				case sl.ref&refInline == 0:
					sink += uint64(p.entry(sl.ref)[0])
				}
				break
			}
		}
	}
	for i := range b.n {
		h := b.h[i]
		s.parts[h>>(64-partitionBits)].insert(h, b.v[i], 1, b.off[i])
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

// partition is one open-addressing table (linear probing) with the bytes of
// its values in an arena of blocks. An arena entry is an optional 8-byte
// count, the value's length as a uvarint, then the value.
type partition struct {
	cfg *setConfig
	// pairs, when set, takes the comparisons of values of the mapped
	// files whose hashes match, for later (see countStaged).
	pairs  *pairSink
	slots  []slot
	n      int
	blocks [][]byte
	used   int // bytes used in the last block
}

// off is where v is in the mapped files (-1: not there): a new value is
// then referenced there instead of copied into the arena.
func (p *partition) insert(h uint64, v []byte, n uint64, off int64) {
	if len(v) <= maxInline {
		p.insertInline(h, len(v), n)
		return
	}
	if p.n >= len(p.slots)-len(p.slots)>>2 { // keep the load under 3/4
		p.grow()
	}
	mask := uint64(len(p.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.ref == 0 {
			s.hash = h
			if off >= 0 && len(v) <= maxFileRefLen && !p.cfg.counting {
				s.ref = refUsed | refFile | uint64(len(v))<<refFileLenShift | uint64(off)
			} else {
				s.ref = p.store(v, n)
			}
			p.n++
			return
		}
		if s.hash != h || s.ref&refInline != 0 {
			continue
		}
		if s.ref&refFile != 0 {
			if p.pairs != nil && off >= 0 { // both in the mapped files: compared later
				if s.ref>>refFileLenShift&maxFileRefLen == uint64(len(v)) {
					p.pairs.add(s.ref, off)
					return
				}
				continue
			}
			if bytes.Equal(p.cfg.files.at(s.ref), v) {
				return
			}
			continue
		}
		e := p.entry(s.ref)
		if p.cfg.counting {
			if bytes.Equal(p.valueAt(e[8:]), v) {
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

// prefetchSlot starts loading the table slot where a probe for hash h begins.
func (p *partition) prefetchSlot(h uint64) {
	if len(p.slots) > 0 {
		prefetch(uintptr(unsafe.Pointer(&p.slots[h&uint64(len(p.slots)-1)])))
	}
}

// warmTable reads the whole table in order, one word a cache line, when n
// inserts are about to hit it and they outnumber its lines: between rounds
// a table has left the cache, and the inserts would otherwise miss at
// random, one cold line at a time, where reading it in order streams it in
// (a column of a million distinct values drains six times over the 1 GB
// file: user_id CPU time 1.25 -> 1.20 s). Software prefetches of the lines
// instead gained a third of that.
func (p *partition) warmTable(n int) {
	const slotsPerLine = 64 / int(unsafe.Sizeof(slot{}))
	if n < len(p.slots)/slotsPerLine {
		return
	}
	var sum uint64
	for i := 0; i < len(p.slots); i += slotsPerLine {
		sum += p.slots[i].ref
	}
	warmSink.Store(sum) // the loads must not be optimised away
}

var warmSink atomic.Uint64

// prefetchMatch starts loading the bytes of the entry with hash h that an
// insert of a value with that hash will compare against, and reports
// whether there is one (the value's own bytes are then worth loading too).
// Only a hint: the table may change before the insert.
func (p *partition) prefetchMatch(h uint64) bool {
	if len(p.slots) == 0 {
		return false
	}
	mask := uint64(len(p.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := p.slots[i]
		if s.ref == 0 {
			return false
		}
		if s.hash != h || s.ref&refInline != 0 {
			continue
		}
		var old []byte
		if s.ref&refFile != 0 {
			old = p.cfg.files.at(s.ref)
		} else {
			old = p.entry(s.ref)
		}
		prefetch(uintptr(unsafe.Pointer(unsafe.SliceData(old))))
		return true
	}
}

// insertInline adds the value of l <= maxInline bytes whose hash is h,
// with count n; such a value is known by its hash and length alone.
func (p *partition) insertInline(h uint64, l int, n uint64) {
	if p.n >= len(p.slots)-len(p.slots)>>2 {
		p.grow()
	}
	mask := uint64(len(p.slots) - 1)
	tag := refUsed | refInline | uint64(l)<<inlineLenShift
	for i := h & mask; ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.ref == 0 {
			s.hash, s.ref = h, tag|n
			p.n++
			return
		}
		if s.hash == h && s.ref&^inlineCountMask == tag {
			s.ref += n
			return
		}
	}
}

// insertWords adds the staged words of this partition (see stage.words),
// top being the partition's hash bits: insertInline, once per value, with
// the table's bounds kept in registers across the block.
func (p *partition) insertWords(top uint64, words []uint64) {
	slots, n := p.slots, p.n
	mask, limit := uint64(len(slots)-1), len(slots)-len(slots)>>2
	for _, w := range words {
		if n >= limit {
			p.n = n
			p.grow()
			slots = p.slots
			mask, limit = uint64(len(slots)-1), len(slots)-len(slots)>>2
		}
		h := top | w>>partitionBits
		tag := refUsed | refInline | (w&(1<<partitionBits-1))<<inlineLenShift
		for i := h & mask; ; i = (i + 1) & mask {
			s := &slots[i]
			if s.ref == 0 {
				s.hash, s.ref = h, tag|1
				n++
				break
			}
			if s.hash == h && s.ref&^inlineCountMask == tag {
				break // staged sets keep no counts (--top does not stage)
			}
		}
	}
	p.n = n
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

// value returns the value and count of the slot (h, ref); an inline value
// is decoded into buf.
func (p *partition) value(h, ref uint64, buf *[8]byte) ([]byte, uint64) {
	if ref&refInline != 0 {
		binary.LittleEndian.PutUint64(buf[:], unfmix64(h))
		return buf[:(ref&^refUsed&^refInline)>>inlineLenShift], ref & inlineCountMask
	}
	if ref&refFile != 0 {
		return p.cfg.files.at(ref), 1
	}
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
	p.resize(max(2*len(p.slots), minTableSlots))
}

// reserve makes room for n entries without growing.
func (p *partition) reserve(n int) {
	size := minTableSlots
	for size-size>>2 <= n {
		size *= 2
	}
	if size > len(p.slots) {
		p.resize(size)
	}
}

// resize moves the entries into a table of size slots, a power of two.
func (p *partition) resize(size int) {
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

// absorb moves every entry of o into p, adding counts, and frees o. Nothing
// is hashed again and no value is copied: o's arena blocks join p's and o's
// refs are rebased onto them; the probes stay inside one partition, small
// enough for the cache.
func (p *partition) absorb(o *partition) {
	if o.n == 0 {
		o.free()
		return
	}
	base := uint64(len(p.blocks)) << refBlockShift
	p.blocks = append(p.blocks, o.blocks...)
	if len(o.blocks) > 0 {
		p.used = o.used // new values go on filling o's last block
	}
	o.blocks, o.used = nil, 0
	var buf, obuf [8]byte
	for _, s := range o.slots {
		if s.ref == 0 {
			continue
		}
		ref := s.ref
		if ref&(refInline|refFile) == 0 {
			ref += base
		}
		v, n := p.value(s.hash, ref, &obuf)
		p.place(s.hash, ref, v, n, &buf)
	}
	o.free()
}

// place inserts the entry (h, ref) whose value v is already stored (in p's
// arena, in a mapped file, or inline), or adds its count n to an equal entry.
func (p *partition) place(h, ref uint64, v []byte, n uint64, buf *[8]byte) {
	if p.n >= len(p.slots)-len(p.slots)>>2 {
		p.grow()
	}
	mask := uint64(len(p.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.ref == 0 {
			s.hash, s.ref = h, ref
			p.n++
			return
		}
		if s.hash != h || (s.ref&refInline) != (ref&refInline) {
			continue
		}
		if ref&refInline != 0 {
			if s.ref&^inlineCountMask == ref&^inlineCountMask {
				s.ref += n
				return
			}
			continue
		}
		if got, _ := p.value(h, s.ref, buf); bytes.Equal(got, v) {
			if p.cfg.counting { // counting sets hold no file refs
				e := p.entry(s.ref)
				binary.LittleEndian.PutUint64(e, binary.LittleEndian.Uint64(e)+n)
			}
			return
		}
	}
}

// contains reports whether p holds the value v of the entry (h, ref) of
// another partition.
func (p *partition) contains(h, ref uint64, v []byte) bool {
	if len(p.slots) == 0 {
		return false
	}
	var buf [8]byte
	mask := uint64(len(p.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := p.slots[i]
		if s.ref == 0 {
			return false
		}
		if s.hash != h || (s.ref&refInline) != (ref&refInline) {
			continue
		}
		if ref&refInline != 0 {
			if s.ref&^inlineCountMask == ref&^inlineCountMask {
				return true
			}
			continue
		}
		if got, _ := p.value(h, s.ref, &buf); bytes.Equal(got, v) {
			return true
		}
	}
}

// each calls fn for every entry; v is valid only during the call.
func (p *partition) each(fn func(h uint64, v []byte, n uint64)) {
	var buf [8]byte
	for _, s := range p.slots {
		if s.ref != 0 {
			v, n := p.value(s.hash, s.ref, &buf)
			fn(s.hash, v, n)
		}
	}
}

// reset empties p for reuse: the table is cleared and kept unless it is
// far larger than what it held, the arena goes back to the slab.
func (p *partition) reset() {
	if len(p.slots) > minTableSlots && p.n < len(p.slots)/8 {
		p.releaseTable()
	} else {
		clear(p.slots)
	}
	p.releaseArena()
}

// free releases the table and the arena.
func (p *partition) free() {
	p.releaseTable()
	p.releaseArena()
}

func (p *partition) releaseTable() {
	if p.slots != nil {
		p.cfg.mem.Add(-int64(len(p.slots) * int(unsafe.Sizeof(slot{}))))
		p.cfg.slab.releaseSlots(p.slots)
		p.slots = nil
	}
}

// releaseArena gives the arena back to the slab and empties p.
func (p *partition) releaseArena() {
	for _, b := range p.blocks {
		p.cfg.mem.Add(-int64(len(b)))
		p.cfg.slab.release(b)
	}
	p.blocks = nil
	p.used = 0
	p.n = 0
}

// fileSpace is the memory-mapped inputs of one count, one after another in
// a single offset space, so that a set can point at a value where it lies
// in the page cache instead of copying it.
type fileSpace struct {
	maps []mappedFile
	size int64
}

type mappedFile struct {
	base int64
	data []byte
}

// add appends a mapping and returns its base offset.
func (fs *fileSpace) add(data []byte) int64 {
	base := fs.size
	fs.maps = append(fs.maps, mappedFile{base: base, data: data})
	fs.size += int64(len(data))
	return base
}

// at returns the bytes a refFile points at.
func (fs *fileSpace) at(ref uint64) []byte {
	off := int64(ref & refOffsetMask)
	n := int64(ref>>refFileLenShift) & maxFileRefLen
	m := fs.maps[len(fs.maps)-1]
	for i := len(fs.maps) - 2; off < m.base; i-- {
		m = fs.maps[i]
	}
	return m.data[off-m.base : off-m.base+n]
}
