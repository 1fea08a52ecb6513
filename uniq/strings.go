package uniq

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// CountStrings returns the number of distinct items, as Python's
// len(set(items)) does (with trim, of the items stripped as str.strip()
// strips them), counted in parallel.
func CountStrings(items []string, trim bool) int64 {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(items)/50000))
	return countParallel(workers, func(g int, s *set) {
		lo, hi := g*len(items)/workers, (g+1)*len(items)/workers
		for _, it := range items[lo:hi] {
			v := unsafe.Slice(unsafe.StringData(it), len(it)) // read only; the set copies what it keeps
			if trim {
				v = pyStrip(v)
			}
			s.insert(hashValue(v), v, 1)
		}
	})
}

// CountDelimited returns the number of distinct values in buf, the values
// joined by sep as Python's sep.join(values) writes them (so "a,b," holds
// three values, the last one empty; an empty buf holds none). It is the
// Python bridge's fast path: one buffer crosses the C boundary, not a
// string per value.
//
// buf is counted as the file engine counts a mapped file (radix.go): each
// worker stages every value's hash and offset in buf by hash partition,
// then the partitions are counted one at a time, in parallel, each in a
// cache-sized table that points into buf instead of copying values.
func CountDelimited(buf []byte, sep byte, trim bool) int64 {
	if len(buf) == 0 {
		return 0
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(buf)/(1<<20)))
	// Part g holds the values that start in [starts[g], starts[g+1]).
	starts := make([]int, workers+1)
	starts[workers] = len(buf) + 1
	for g := 1; g < workers; g++ {
		pos := max(g*len(buf)/workers, starts[g-1])
		if k := bytes.IndexByte(buf[pos:], sep); k >= 0 {
			starts[g] = pos + k + 1
		} else {
			starts[g] = len(buf) + 1
		}
	}
	if mostlyRepeats(buf, sep, trim) {
		return countParallel(workers, func(g int, s *set) {
			eachDelimited(buf, starts[g], starts[g+1], sep, trim, func(h uint64, v []byte, _ int) {
				if len(v) <= maxInline {
					s.parts[h>>(64-partitionBits)].insertInline(h, len(v), 1)
				} else {
					s.insert(h, v, 1)
				}
			})
		})
	}
	files := &fileSpace{}
	files.add(buf) // at offset 0: a value's offset in buf is its file offset
	var mem atomic.Int64
	cfg := &setConfig{mem: &mem, slab: &slab{}, files: files}
	defer cfg.slab.close()
	pool := &blockPool{slab: cfg.slab}
	stages := make([]*stage, workers)
	for g := range stages {
		stages[g] = newStage(pool)
	}
	runWorkers(workers, func(g int) {
		defer storeFence() // the stages' lines, for the cores that insert them
		stageDelimited(stages[g], buf, starts[g], starts[g+1], sep, trim)
	})

	var total atomic.Int64
	scratch := make([]partition, workers)
	for g := range scratch {
		scratch[g].cfg = cfg
	}
	err := forPartitions(workers, func(g, p int) {
		part := &scratch[g]
		for _, st := range stages {
			st.insertInto(part, p, files)
		}
		total.Add(int64(part.n))
		part.reset()
	})
	if err != nil {
		panic(err) // buf is memory, not a mapped file: a fault is a bug
	}
	for g := range scratch {
		scratch[g].free()
	}
	return total.Load()
}

// stageDelimited stages into st the values of buf that start in [lo, hi).
func stageDelimited(st *stage, buf []byte, lo, hi int, sep byte, trim bool) {
	eachDelimited(buf, lo, hi, sep, trim, func(h uint64, v []byte, off int) {
		st.add(h, v, int64(off))
	})
}

// eachDelimited calls fn with every value of buf that starts in [lo, hi),
// hi-1 being the separator after the last of them (or the end of buf), with
// its hash (hashValue) and its offset in buf; with trim, values are stripped first.
func eachDelimited(buf []byte, lo, hi int, sep byte, trim bool, fn func(h uint64, v []byte, off int)) {
	if lo >= hi {
		return
	}
	part := buf[lo : hi-1] // without the separator that ends the last value
	off := lo
	for {
		k := indexShort(part, sep)
		v := part
		if k >= 0 {
			v = part[:k]
		}
		vo := off
		if trim && len(v) > 0 && (isSpaceByte(v[0]) || isSpaceByte(v[len(v)-1])) {
			t := pyStrip(v)
			if len(t) > 0 {
				vo += int(uintptr(unsafe.Pointer(unsafe.SliceData(t))) - uintptr(unsafe.Pointer(unsafe.SliceData(v))))
			}
			v = t
		}
		fn(hashAt(buf, v, vo), v, vo)
		if k < 0 {
			return
		}
		part = part[k+1:]
		off += k + 1
	}
}

// indexShort is bytes.IndexByte for data whose sep is usually near: a
// plain loop over the first bytes, which for short values beats the setup
// of the vector search.
func indexShort(b []byte, sep byte) int {
	n := min(len(b), 24)
	for i, c := range b[:n] {
		if c == sep {
			return i
		}
	}
	if k := bytes.IndexByte(b[n:], sep); k >= 0 {
		return n + k
	}
	return -1
}

// hashAt returns hashValue(v) for v, which is at off in buf. A short value
// followed by enough of buf is read with one 8-byte load, masked, instead
// of being copied into a padded word (a store-forwarding stall per value).
func hashAt(buf, v []byte, off int) uint64 {
	if len(v) <= maxInline && off+8 <= len(buf) {
		return fmix64(binary.LittleEndian.Uint64(buf[off:]) & (1<<(8*len(v)) - 1))
	}
	return hashValue(v)
}

// isSpaceByte tells whether c may begin or end what pyStrip removes: ASCII
// whitespace and separators (all at most ' ') or a byte of a multi-byte
// UTF-8 character. It lets the common value, with neither, skip pyStrip.
func isSpaceByte(c byte) bool { return c <= ' ' || c >= 0x80 }

// sampleValues is how many leading values mostlyRepeats looks at.
const sampleValues = 1 << 14

// mostlyRepeats tells from the first values of buf whether its values
// mostly repeat (under one distinct in four): per-worker sets, which then
// stay small and in cache, count those faster than staging every value for
// the radix partitions. Either way the answer is the same.
func mostlyRepeats(buf []byte, sep byte, trim bool) bool {
	end := len(buf) + 1
	for i, pos := 0, 0; i < sampleValues; i++ {
		k := bytes.IndexByte(buf[pos:], sep)
		if k < 0 {
			end = len(buf) + 1
			break
		}
		pos += k + 1
		end = pos
	}
	var mem atomic.Int64
	cfg := &setConfig{mem: &mem, slab: &slab{}}
	defer cfg.slab.close()
	s := newSet(cfg)
	n := 0
	eachDelimited(buf, 0, end, sep, trim, func(h uint64, v []byte, _ int) {
		s.insert(h, v, 1)
		n++
	})
	return s.len()*4 < int64(n)
}

// countParallel runs fill(g, set) for g in [0, workers) in parallel, each
// into its own set, and returns the size of their union.
func countParallel(workers int, fill func(g int, s *set)) int64 {
	var mem atomic.Int64
	cfg := &setConfig{mem: &mem, slab: &slab{}}
	defer cfg.slab.close()
	sets := make([]*set, workers)
	for g := range sets {
		sets[g] = newSet(cfg)
	}
	runWorkers(workers, func(g int) { fill(g, sets[g]) })
	n, _ := mergeSets(sets, 0, workers)
	return n
}

// runWorkers runs fn(g) for g in [0, workers), each in its own goroutine,
// and waits for them all.
func runWorkers(workers int, fn func(g int)) {
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(g)
		}()
	}
	wg.Wait()
}
