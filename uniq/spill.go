package uniq

import (
	"bufio"
	"context"
	"encoding/binary"
	"os"
	"sync"
	"sync/atomic"

	"github.com/hotpath/hotpath"
)

// spillRun is one worker's sets written out when the memory budget was
// reached: for each target and each partition, the entries (hash, count when
// counting, uvarint length, value) one after another. Partition p of every
// run holds only hashes of partition p, so the partitions are counted one at
// a time at the end, each small, and the answer stays exact.
type spillRun struct {
	f    *os.File
	offs [][partitionCount + 1]int64 // per target: where each partition starts and ends
}

// spill writes w's sets to a new run and empties them.
func (e *engine) spill(w *worker) error {
	return e.spillSets(w.sets)
}

// spillSets writes sets (one per target) to a new run and empties them.
func (e *engine) spillSets(sets []*set) error {
	empty := true
	for _, s := range sets {
		if s.len() > 0 {
			empty = false
		}
	}
	if empty {
		return nil
	}
	f, err := os.CreateTemp(e.opts.TempDir, "hotpath-uniq-*.run")
	if err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot create a spill file")
	}
	run := &spillRun{f: f, offs: make([][partitionCount + 1]int64, len(sets))}
	e.spillMu.Lock()
	e.spills = append(e.spills, run)
	e.spillMu.Unlock()
	bw := bufio.NewWriterSize(f, 1<<20)
	var off int64
	var hdr [8 + 8 + binary.MaxVarintLen64]byte
	for t, s := range sets {
		for p := range s.parts {
			run.offs[t][p] = off
			part := &s.parts[p]
			part.each(func(h uint64, v []byte, n uint64) {
				binary.LittleEndian.PutUint64(hdr[:], h)
				k := 8
				if e.setCfg.counting {
					binary.LittleEndian.PutUint64(hdr[k:], n)
					k += 8
				}
				k += binary.PutUvarint(hdr[k:], uint64(len(v)))
				bw.Write(hdr[:k])
				bw.Write(v)
				off += int64(k + len(v))
			})
			part.free()
		}
		run.offs[t][partitionCount] = off
	}
	if err := bw.Flush(); err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot write a spill file")
	}
	return nil
}

// countSpilled counts target t from the runs, one partition at a time per
// worker goroutine.
func (e *engine) countSpilled(ctx context.Context, t int) (int64, []ValueCount, error) {
	var total, next atomic.Int64
	tops := make([]*topK, e.workers)
	errs := make([]error, e.workers)
	var wg sync.WaitGroup
	for g := range e.workers {
		tops[g] = newTopK(e.opts.Top)
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := partition{cfg: &e.setCfg}
			var buf []byte
			for ctx.Err() == nil {
				p := int(next.Add(1) - 1)
				if p >= partitionCount {
					return
				}
				for _, run := range e.spills {
					lo, hi := run.offs[t][p], run.offs[t][p+1]
					if cap(buf) < int(hi-lo) {
						buf = make([]byte, hi-lo)
					}
					buf = buf[:hi-lo]
					b := buf
					if _, err := run.f.ReadAt(b, lo); err != nil {
						errs[g] = hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot read a spill file")
						return
					}
					for len(b) > 0 {
						h := binary.LittleEndian.Uint64(b)
						b = b[8:]
						var n uint64 = 1
						if e.setCfg.counting {
							n = binary.LittleEndian.Uint64(b)
							b = b[8:]
						}
						l, k := binary.Uvarint(b)
						part.insert(h, b[k:k+int(l)], n, -1)
						b = b[k+int(l):]
					}
				}
				total.Add(int64(part.n))
				if e.opts.Top > 0 {
					part.each(func(_ uint64, v []byte, n uint64) { tops[g].offer(v, n) })
				}
				part.free()
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return 0, nil, err
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	return total.Load(), mergeTops(tops, e.opts.Top), nil
}

// removeSpills deletes the runs.
func (e *engine) removeSpills() {
	for _, run := range e.spills {
		run.f.Close()
		os.Remove(run.f.Name())
	}
	e.spills = nil
}
