package uniq

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Radix-partitioned counting (as DuckDB's and Umbra's aggregation): a
// worker does not insert the values it parses into sets of its own; it
// stages each value's hash and whereabouts in the buffer of the value's
// hash partition. Between rounds, and at the end, the partitions are shared
// out among the workers, and each inserts every worker's staged entries of
// the partitions it took into one table per partition. No value is held
// twice, no union pass is needed, and the inserts of a partition run back to
// back, against a table small enough to stay in the core's cache. When the
// whole input fits in one round, which is the usual case, the partitions are
// counted one after another in a table each worker reuses, so tables never
// take fresh memory. Exact sets with --top keep the per-worker sets.

// stagedEntry is a value waiting for its partition's table: its hash and a
// ref saying where its bytes are (see stage.add).
type stagedEntry struct{ hash, ref uint64 }

const (
	stageBlockLen  = 1024              // entries per staging block (16 KiB)
	wordBlockLen   = 2 * stageBlockLen // packed short-value entries per staging block
	stagedKind     = uint64(3) << 62   // the kind bits of a staged ref
	stagedFile     = uint64(2) << 62   // | len<<refFileLenShift | offset in the engine's fileSpace
	stagedCopy     = uint64(3) << 62   // | block<<copyBlockShift | offset in stage.copies of a uvarint length and the bytes
	copyBlockShift = 32
	copyBlockSize  = 1 << 20
)

// stage is one worker's staged entries of one target, by partition.
type stage struct {
	entries entryBuckets // of values longer than 8 bytes, by partition
	// words hold the entries of values of at most 8 bytes in one word
	// each, h<<partitionBits | len: such a value is the inverse of its hash
	// and the partition gives the hash's top bits. Half the bytes to write
	// and read back. The blocks are entries' blocks seen as words;
	// openWords[p] is partition p's last one, fillWords[p] how many words
	// it holds (wordBlockLen when a new block is needed): adding a word is
	// one store and one count.
	words     [partitionCount][][]stagedEntry
	openWords [partitionCount]*[wordBlockLen]uint64
	fillWords [partitionCount]uint32
	// cacheLines[p] holds partition p's words until there are eight, a
	// cache line, which storeLine then writes to the open block without reading
	// it first (software write-combining, as in radix partitioning on
	// CPUs): stored one by one, the words of 256 partitions miss the cache
	// at every new line, and each miss first reads the line from memory.
	// The lines of all partitions together stay in the core's L1 cache.
	cacheLines *[partitionCount][8]uint64
	n          int // entries, words included
	nWords     int
	copies     [][]byte // values that are neither inline nor in a mapped file; blocks, reused
	copyAt     int      // the block being filled
	bytes      int      // staged bytes of copies (entries are n*16 more)
	pool       *blockPool
	sketch     *hll // the distinct staged hashes of partition 0, a sample of the hash space
}

// newStage returns an empty stage taking its blocks from pool.
func newStage(pool *blockPool) *stage {
	st := &stage{pool: pool, sketch: newHLL(stageSketchPrecision)}
	lines := pool.slab.alloc(int(unsafe.Sizeof(*st.cacheLines))) // page-aligned: each is a cache line
	st.cacheLines = (*[partitionCount][8]uint64)(unsafe.Pointer(unsafe.SliceData(lines)))
	st.entries.init(pool)
	for p := range st.fillWords {
		st.fillWords[p] = wordBlockLen
	}
	return st
}

// entryBuckets holds staged entries appended by bucket: a hash partition,
// or a region of the mapped files.
type entryBuckets struct {
	blocks [partitionCount][][]stagedEntry // of stageBlockLen; the last holds fill[b] entries
	// open[b] is bucket b's last block, fill[b] how many entries it
	// holds (stageBlockLen when a new block is needed): adding an entry
	// is one store and one count, where appending to the last block of
	// blocks[b] first loads that slice's header from a line of its own.
	open [partitionCount]*[stageBlockLen]stagedEntry
	fill [partitionCount]uint32
	// lines[b] holds bucket b's entries until there are four, a cache
	// line, which storeLine writes to the open block without reading it
	// first, as stage.cacheLines does for words.
	lines *[partitionCount][entriesPerLine]stagedEntry
	pool  *blockPool
}

const entriesPerLine = 4 // 64 bytes

func (eb *entryBuckets) init(pool *blockPool) {
	eb.pool = pool
	for b := range eb.fill {
		eb.fill[b] = stageBlockLen
	}
	lines := pool.slab.alloc(int(unsafe.Sizeof(*eb.lines))) // page-aligned: each is a cache line
	eb.lines = (*[partitionCount][entriesPerLine]stagedEntry)(unsafe.Pointer(unsafe.SliceData(lines)))
}

// add appends en to bucket b. The last fill[b]%entriesPerLine entries are
// in lines[b] until their line is full; a goroutine that reads the
// buckets after another added to them needs that one's storeFence first.
func (eb *entryBuckets) add(b uint64, en stagedEntry) {
	i := eb.fill[b]
	if i == stageBlockLen {
		block := eb.pool.get()[:stageBlockLen]
		eb.blocks[b] = append(eb.blocks[b], block)
		eb.open[b] = (*[stageBlockLen]stagedEntry)(block)
		i = 0
	}
	eb.lines[b][i%entriesPerLine] = en
	if i%entriesPerLine == entriesPerLine-1 {
		// unsafe.Add: &open[b][i-3] would compile to a nil check
		// loading the block's first line.
		storeLine(unsafe.Add(unsafe.Pointer(eb.open[b]), uintptr(i-(entriesPerLine-1))*unsafe.Sizeof(stagedEntry{})), unsafe.Pointer(&eb.lines[b]))
	}
	eb.fill[b] = i + 1
}

// each calls fn with every block of bucket b, the last one cut to its
// fill, and then with the entries still in lines[b].
func (eb *entryBuckets) each(b int, fn func([]stagedEntry)) {
	blocks := eb.blocks[b]
	for k, block := range blocks {
		if k == len(blocks)-1 {
			fill := eb.fill[b]
			fn(block[:fill-fill%entriesPerLine])
			fn(eb.lines[b][:fill%entriesPerLine])
			break
		}
		fn(block)
	}
}

// release empties bucket b, giving its blocks back to the pool.
func (eb *entryBuckets) release(b int) {
	eb.pool.putAll(&eb.blocks[b])
	eb.open[b], eb.fill[b] = nil, stageBlockLen
}

// reset empties every bucket.
func (eb *entryBuckets) reset() {
	for b := range eb.blocks {
		eb.release(b)
	}
}

// stageSketchPrecision is the precision of a stage's sketch: 4 KiB, a few
// percent of error on the sample, enough to tell repeats from new values.
const stageSketchPrecision = 12

// addShort stages a value of l <= maxInline bytes whose hash is h when
// that is one store: it returns false, staging nothing, when the value
// needs add (its partition's block is full, or it is in partition 0, which
// the sketch samples). Small enough to be inlined into the scan loops.
func (st *stage) addShort(h uint64, l int) bool {
	p := h >> (64 - partitionBits)
	i := st.fillWords[p]
	if i&7 == 7 || i == wordBlockLen || p == 0 {
		return false
	}
	st.cacheLines[p][i&7] = h<<partitionBits | uint64(l)
	st.fillWords[p] = i + 1
	st.n++
	st.nWords++
	return true
}

// wordAt is &block[i] for i < wordBlockLen, which the caller's fill
// count guarantees, without the nil check block[i] compiles to (a load of
// the block's first line).
func wordAt(block *[wordBlockLen]uint64, i uint32) *uint64 {
	return (*uint64)(unsafe.Add(unsafe.Pointer(block), uintptr(i)*8))
}

// add stages value v, whose hash is h; off is where v is in the mapped
// files, or -1.
func (st *stage) add(h uint64, v []byte, off int64) {
	p := h >> (64 - partitionBits)
	if p == 0 {
		st.sketch.add(bits.RotateLeft64(h, partitionBits))
	}
	st.n++
	if len(v) <= maxInline {
		i := st.fillWords[p]
		if i == wordBlockLen {
			b := st.pool.get()
			st.words[p] = append(st.words[p], b)
			st.openWords[p] = (*[wordBlockLen]uint64)(unsafe.Pointer(unsafe.SliceData(b)))
			i = 0
		}
		st.cacheLines[p][i&7] = h<<partitionBits | uint64(len(v))
		if i&7 == 7 {
			storeLine(unsafe.Pointer(wordAt(st.openWords[p], i-7)), unsafe.Pointer(&st.cacheLines[p]))
		}
		st.fillWords[p] = i + 1
		st.nWords++
		return
	}
	var ref uint64
	switch {
	case off >= 0 && len(v) <= maxFileRefLen && uint64(off) <= refOffsetMask:
		ref = stagedFile | uint64(len(v))<<refFileLenShift | uint64(off)
	default:
		ref = stagedCopy | st.copy(v)
	}
	st.entries.add(p, stagedEntry{h, ref})
}

// copy appends v, after its length, to the copy blocks and returns where.
func (st *stage) copy(v []byte) uint64 {
	need := binary.MaxVarintLen64 + len(v)
	for st.copyAt < len(st.copies) && cap(st.copies[st.copyAt])-len(st.copies[st.copyAt]) < need {
		st.copyAt++
	}
	if st.copyAt == len(st.copies) {
		st.copies = append(st.copies, make([]byte, 0, max(copyBlockSize, need)))
	}
	b := st.copies[st.copyAt]
	ref := uint64(st.copyAt)<<copyBlockShift | uint64(len(b))
	n := len(b)
	b = binary.AppendUvarint(b, uint64(len(v)))
	b = append(b, v...)
	st.bytes += len(b) - n
	st.copies[st.copyAt] = b
	return ref
}

// insertInto inserts the staged entries of partition p into part.
func (st *stage) insertInto(part *partition, p int, files *fileSpace) {
	top := uint64(p) << (64 - partitionBits)
	for k, block := range st.words[p] {
		words := (*[wordBlockLen]uint64)(unsafe.Pointer(unsafe.SliceData(block)))[:]
		if k == len(st.words[p])-1 { // its last words are still in cacheLines[p]
			fill := st.fillWords[p]
			words = words[:fill&^7]
			part.insertWords(top, st.cacheLines[p][:fill&7])
		}
		part.insertWords(top, words)
	}
	st.entries.each(p, func(block []stagedEntry) {
		for i, en := range block {
			if j := i + 2*prefetchDistance; j < len(block) {
				part.prefetchSlot(block[j].hash)
			}
			// A deferred comparison needs nothing of the values now.
			if j := i + prefetchDistance; j < len(block) && (part.pairs == nil || block[j].fileOffset() < 0) {
				if part.prefetchMatch(block[j].hash) {
					prefetch(uintptr(unsafe.Pointer(unsafe.SliceData(st.value(block[j], files)))))
				}
			}
			part.insert(en.hash, st.value(en, files), 1, en.fileOffset())
		}
	})
}

// staged returns about how many entries of partition p the stage holds (by
// whole blocks).
func (st *stage) staged(p int) int {
	return len(st.words[p])*wordBlockLen + len(st.entries.blocks[p])*stageBlockLen
}

// prefetchDistance is how many staged entries ahead insertInto prefetches
// what an insert will touch: a table slot two distances ahead, then, one
// distance ahead, when that slot already holds the same hash and the
// comparison is made on the spot (not deferred, see countStaged), the
// bytes of both values; and how many pairs ahead verifyPairs prefetches.
const prefetchDistance = 8

// value returns the bytes of a staged entry that is not a packed word.
func (st *stage) value(en stagedEntry, files *fileSpace) []byte {
	if en.ref&stagedKind == stagedFile {
		return files.at(en.ref)
	}
	c := st.copies[(en.ref&^stagedKind)>>copyBlockShift][en.ref&(1<<copyBlockShift-1):]
	l, k := binary.Uvarint(c)
	return c[k : k+int(l)]
}

// fileOffset is where a staged entry's value is in the mapped files, or -1.
func (en stagedEntry) fileOffset() int64 {
	if en.ref&stagedKind == stagedFile {
		return int64(en.ref & refOffsetMask)
	}
	return -1
}

// reset empties the stage, giving its blocks back to the pool.
func (st *stage) reset() {
	for p := range st.words {
		st.release(p)
	}
	st.n, st.nWords, st.bytes = 0, 0, 0
	for i := range st.copies {
		st.copies[i] = st.copies[i][:0]
	}
	st.copyAt = 0
	clear(st.sketch.reg)
}

// blockPool hands out staging blocks, carved from slab pieces of
// blockPiece bytes, and recycles them between rounds; it is safe for
// concurrent use. The slab's regions take transparent huge pages and a
// piece is faulted in with one call: from the Go heap, every 4 KiB of
// fresh staging cost a page fault of its own (a sixth of the CPU time of
// whole-line counts, whose 16 M distinct lines stage 320 MB). The blocks
// live as long as the slab.
type blockPool struct {
	mu   sync.Mutex
	slab *slab
	free [][]stagedEntry
}

// blockPiece is how many bytes of staging blocks are taken from the slab at a time.
const blockPiece = 1 << 20

func (bp *blockPool) get() []stagedEntry {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if len(bp.free) == 0 {
		piece := bp.slab.alloc(blockPiece)
		entries := unsafe.Slice((*stagedEntry)(unsafe.Pointer(unsafe.SliceData(piece))), blockPiece/unsafe.Sizeof(stagedEntry{}))
		for len(entries) > 0 {
			bp.free = append(bp.free, entries[:0:stageBlockLen])
			entries = entries[stageBlockLen:]
		}
	}
	b := bp.free[len(bp.free)-1]
	bp.free = bp.free[:len(bp.free)-1]
	return b[:0]
}

// putAll gives back every block of *blocks and empties it, keeping its array.
func (bp *blockPool) putAll(blocks *[][]stagedEntry) {
	bp.mu.Lock()
	bp.free = append(bp.free, *blocks...)
	bp.mu.Unlock()
	clear(*blocks)
	*blocks = (*blocks)[:0]
}

// stageFull tells whether w's stages should be drained before it scans
// more: they hold limit bytes, or, past minRound entries, more than
// repeatsPerRound times as many entries as distinct values, which the sets
// would then hold in less memory.
func (w *worker) stageFull(limit int) bool {
	n, size := 0, 0
	for _, st := range w.stages {
		n += st.n
		size += (st.n-st.nWords)*int(unsafe.Sizeof(stagedEntry{})) + st.nWords*8 + st.bytes
	}
	if size >= limit {
		return true
	}
	if n < minRound || n < w.nextCheck {
		return false
	}
	var distinct int64
	for _, st := range w.stages {
		distinct += st.sketch.estimate() * partitionCount
	}
	w.nextCheck = n + n/8 // an estimate reads the whole sketch: not after every chunk
	return int64(n) > repeatsPerRound*distinct
}

// repeatsPerRound is how many times over a round stages its distinct
// values before it drains. Every drain reads every table back into the
// cache, so rounds that hold more repeats cost less time, and more staging
// memory: user_id on the 1 GB file (a million distinct values), 2: 0.65 s,
// 116 MB; 4: 0.62 s, 150 MB; 8: no faster, 215 MB.
const repeatsPerRound = 4

// minRound is how many entries a worker stages at least before a round
// ends for holding repeats. Small (a few MiB of entries and copies, about
// a core's cache): a column of few distinct values then drains often into
// tables that stay small, instead of streaming its copies through memory.
const minRound = 1 << 16

// stageLimit is how many bytes a worker stages before a round ends: a
// quarter of the memory budget shared by the workers, within bounds (at
// least 1 MiB, so that a tiny budget does not end every round with a spill
// run of its own).
func stageLimit(memoryLimit int64, workers int) int {
	n := memoryLimit / 4 / int64(workers)
	return int(min(max(n, 1<<20), 512<<20))
}

// forPartitions runs fn(g, p) for every partition p, on workers
// goroutines (g is the goroutine's index), each partition once. Values may
// be read from mapped inputs: a memory fault there stops the goroutine and
// is returned as errFileChanged.
func forPartitions(workers int, fn func(g, p int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer catchFault(&errs[g])()
			for {
				p := int(next.Add(1) - 1)
				if p >= partitionCount {
					return
				}
				fn(g, p)
			}
		}()
	}
	wg.Wait()
	return firstError(errs)
}

// drain inserts every worker's staged entries into the engine's sets
// (created on first use), empties the stages, and spills the sets when they
// have outgrown the memory budget.
func (e *engine) drain() error {
	// reserve[t] is how many values each new table of target t is sized
	// for: the distinct values of this first round, at once, rather than
	// doubling each table from the smallest. The goroutines that fill the
	// tables make them, so that their fresh memory is faulted in on every
	// core.
	var reserve []int
	if e.global == nil {
		reserve = make([]int, len(e.names))
		for t := range e.names {
			e.global = append(e.global, newSet(&e.setCfg))
			sketch := newHLL(stageSketchPrecision)
			for _, w := range e.workerSet {
				sketch.merge(w.stages[t].sketch)
			}
			perPart := int(sketch.estimate())
			if int64(perPart)*partitionCount*int64(unsafe.Sizeof(slot{}))*2 < e.opts.MemoryLimit/2 {
				reserve[t] = perPart
			}
		}
	}
	err := forPartitions(e.workers, func(_, p int) {
		for t, s := range e.global {
			part := &s.parts[p]
			if reserve != nil && reserve[t] > 0 {
				part.reserve(reserve[t])
			}
			staged := 0
			for _, w := range e.workerSet {
				staged += w.stages[t].staged(p)
			}
			part.warmTable(staged)
			for _, w := range e.workerSet {
				w.stages[t].insertInto(part, p, e.files)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, w := range e.workerSet {
		for _, st := range w.stages {
			st.reset()
		}
		w.nextCheck = 0
	}
	if e.mem.Load() > e.opts.MemoryLimit {
		return e.spillSets(e.global)
	}
	return nil
}

// countStaged counts target t straight from the stages when nothing was
// drained before: each partition is counted in a table its goroutine
// reuses, then forgotten.
//
// Values of a mapped file are not compared when their hashes match: the
// pair is put aside (pairSink) and counted as a repeat, and once every
// partition is counted the pairs are compared region by region of the
// file (verifyPairs). Compared on the spot, each repeat cost two waits on
// memory far apart in the file, one at a time, with a TLB miss each: half
// the time of whole-line counts. Should a pair differ (two values with
// one 64-bit hash), its partition is counted again comparing every match,
// so the count stays exact. When the inputs can be read again, the staged
// entries of a counted partition are given back at once instead, for the
// pairs to reuse (fresh memory is what this costs most on virtual
// machines), and a collision is reported with errHashCollision: the count
// is then run again comparing every match.
func (e *engine) countStaged(t int) (int64, error) {
	scratch := make([]partition, e.workers)
	var sinks []*pairSink
	for g := range scratch {
		scratch[g].cfg = &e.setCfg
		if e.files.size > 0 && !e.compareNow {
			ps := &pairSink{shift: max(bits.Len64(uint64(e.files.size))-partitionBits, 0)}
			ps.buckets.init(e.blocks)
			scratch[g].pairs = ps
			sinks = append(sinks, ps)
		}
	}
	var counts [partitionCount]int64
	countPartition := func(g, p int) {
		part := &scratch[g]
		if part.pairs != nil {
			part.pairs.part = uint64(p)
		}
		for _, w := range e.workerSet {
			w.stages[t].insertInto(part, p, e.files)
			if part.pairs != nil && e.rerunnable {
				w.stages[t].release(p)
			}
		}
		if part.pairs != nil {
			storeFence() // the pairs' lines, for verifyPairs on other cores
		}
		counts[p] = int64(part.n)
		part.reset()
	}
	defer func() {
		for g := range scratch {
			scratch[g].free()
		}
	}()
	if err := forPartitions(e.workers, countPartition); err != nil {
		return 0, err
	}
	if sinks != nil {
		differ, err := e.verifyPairs(sinks)
		if err != nil {
			return 0, err
		}
		for g := range scratch {
			sinks[g].buckets.reset()
			scratch[g].pairs = nil
		}
		collided := false
		for p := range differ {
			collided = collided || differ[p].Load()
		}
		if collided && e.rerunnable {
			return 0, errHashCollision
		}
		err = forPartitions(e.workers, func(g, p int) {
			if differ[p].Load() {
				countPartition(g, p)
			}
		})
		if err != nil {
			return 0, err
		}
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	return total, nil
}

// errHashCollision says two different values of a mapped file have one
// 64-bit hash and the staged entries were already given up: the count must
// run again comparing every match.
var errHashCollision = errors.New("uniq: 64-bit hash collision; counting again")

// release gives partition p's staged blocks back to the pool once it is
// counted.
func (st *stage) release(p int) {
	st.entries.release(p)
	st.pool.putAll(&st.words[p])
	st.openWords[p], st.fillWords[p] = nil, wordBlockLen
}

// pairSink holds the deferred comparisons of one goroutine's partitions:
// for each value of a mapped file whose hash and length matched an entry
// of the table, the entry's ref (as hash) and the value's offset, with the
// partition above it (as ref). The pairs are bucketed by the region of the
// file the entry's value is in, so that verifyPairs reads each region's
// values together.
type pairSink struct {
	buckets entryBuckets
	shift   int    // a pair's bucket is its entry's file offset >> shift
	part    uint64 // the partition being counted
}

// add defers the comparison of the value at file offset off with the one
// of the table entry ref, of the same length.
func (ps *pairSink) add(ref uint64, off int64) {
	ps.buckets.add((ref&refOffsetMask)>>ps.shift, stagedEntry{ref, ps.part<<refBlockShift | uint64(off)})
}

// verifyPairs compares the two values of every deferred pair, bucket by
// bucket (each a region of the mapped files small enough for the TLB to
// cover), prefetching a few pairs ahead, and returns the partitions where
// two of them differ.
func (e *engine) verifyPairs(sinks []*pairSink) (*[partitionCount]atomic.Bool, error) {
	var differ [partitionCount]atomic.Bool
	other := func(en stagedEntry) uint64 { return en.hash&^refOffsetMask | en.ref&refOffsetMask }
	err := forPartitions(e.workers, func(_, b int) {
		for _, ps := range sinks {
			ps.buckets.each(b, func(block []stagedEntry) {
				for i, en := range block {
					if j := i + prefetchDistance; j < len(block) {
						prefetch(uintptr(unsafe.Pointer(unsafe.SliceData(e.files.at(block[j].hash)))))
						prefetch(uintptr(unsafe.Pointer(unsafe.SliceData(e.files.at(other(block[j]))))))
					}
					if !bytes.Equal(e.files.at(en.hash), e.files.at(other(en))) {
						differ[en.ref>>refBlockShift].Store(true)
					}
				}
			})
		}
	})
	return &differ, err
}

// resultStaged is result for radix-partitioned counting.
func (e *engine) resultStaged(ctx context.Context, res *Result) (*Result, error) {
	if e.global == nil && len(e.spills) == 0 {
		for t, name := range e.names {
			n, err := e.countStaged(t)
			if err != nil {
				return nil, err
			}
			res.Columns = append(res.Columns, ColumnResult{Name: name, Distinct: n})
		}
		return res, nil
	}
	if err := e.drain(); err != nil {
		return nil, err
	}
	if len(e.spills) > 0 {
		if err := e.spillSets(e.global); err != nil {
			return nil, err
		}
	}
	for t, name := range e.names {
		var n int64
		if len(e.spills) > 0 {
			var err error
			if n, _, err = e.countSpilled(ctx, t); err != nil {
				return nil, err
			}
		} else {
			n = e.global[t].len()
		}
		res.Columns = append(res.Columns, ColumnResult{Name: name, Distinct: n})
	}
	return res, nil
}
