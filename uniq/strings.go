package uniq

import (
	"bytes"
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
	return countParallel(workers, func(g int, s *set) {
		lo, hi := starts[g], starts[g+1]
		if lo >= hi {
			return
		}
		part := buf[lo : hi-1] // without the separator that ends the last value
		for {
			k := bytes.IndexByte(part, sep)
			v := part
			if k >= 0 {
				v = part[:k]
			}
			if trim {
				v = pyStrip(v)
			}
			s.insert(hashValue(v), v, 1)
			if k < 0 {
				return
			}
			part = part[k+1:]
		}
	})
}

// countParallel runs fill(g, set) for g in [0, workers) in parallel, each
// into its own set, and returns the size of their union.
func countParallel(workers int, fill func(g int, s *set)) int64 {
	var mem atomic.Int64
	cfg := &setConfig{mem: &mem, slab: &slab{}}
	defer cfg.slab.close()
	sets := make([]*set, workers)
	var wg sync.WaitGroup
	for g := range workers {
		sets[g] = newSet(cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fill(g, sets[g])
		}()
	}
	wg.Wait()
	n, _ := mergeSets(sets, 0, workers)
	return n
}
