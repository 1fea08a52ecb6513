package uniq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRadixRounds forces many staging rounds (a tiny stage limit), so the
// stages are drained into the engine's sets between rounds and at the end,
// with and without spilling, over the mapped and the streamed input, and
// checks the counts against the sequential reference.
func TestRadixRounds(t *testing.T) {
	data := genCSV(20000, 3000, 500)
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"lines", Options{}},
		{"columns", Options{Columns: []string{"user_id", "note", "id"}}},
		{"records", Options{Records: true}},
		{"records spilled", Options{Records: true, MemoryLimit: 1}},
		{"columns spilled", Options{Columns: []string{"user_id", "note"}, MemoryLimit: 1}},
	} {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", tt.name, streamed), func(t *testing.T) {
				opts := tt.opts
				opts.ChunkSize, opts.Workers, opts.TempDir = 4096, 3, t.TempDir()
				var want []int64
				var rows int64
				if len(opts.Columns) == 0 && !opts.Records {
					n, r := refLines(data)
					want, rows = []int64{n}, r
				} else {
					ref := refCSV(data, opts)
					want, rows = ref.distinct, ref.rows
				}
				res, err := countInRounds(t, []byte(data), opts, 1<<10, streamed)
				if err != nil {
					t.Fatal(err)
				}
				if got := distincts(res); fmt.Sprint(got) != fmt.Sprint(want) || res.Rows != rows {
					t.Errorf("got %v rows %d, want %v rows %d", got, res.Rows, want, rows)
				}
			})
		}
	}
}

// countInRounds counts data with the engine's stage limit set to limit bytes.
func countInRounds(t *testing.T, data []byte, opts Options, limit int, streamed bool) (*Result, error) {
	t.Helper()
	e, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	e.stageLimit = limit
	defer e.removeSpills()
	defer e.setCfg.slab.close()
	if streamed {
		err = e.countStream(context.Background(), bytes.NewReader(data))
	} else {
		var mapped []byte
		if e.mapValues() {
			mapped = data
		}
		err = e.countAt(context.Background(), bytes.NewReader(data), int64(len(data)), mapped, false)
	}
	if err != nil {
		e.freeWorkers()
		return nil, err
	}
	if e.global == nil {
		t.Fatal("no round was drained")
	}
	if opts.MemoryLimit == 1 && len(e.spills) == 0 {
		t.Fatal("nothing was spilled")
	}
	return e.result(context.Background())
}

// TestDeferredCompareCollision stages values of a mapped file under one
// forced hash, as 64-bit collisions would put them: countStaged defers
// their comparisons and must find the pairs that differ. Over inputs that
// cannot be read again it counts their partition again comparing every
// match, so the count stays exact; over files it has given the staged
// entries back and reports the collision, and counts exactly when asked
// to compare at once (what CountInputs then runs).
func TestDeferredCompareCollision(t *testing.T) {
	lines := []string{"value-0001", "value-0002", "value-0001", "value-0003", "value-0002", "longer value-1", "value-0001"}
	data := []byte(strings.Join(lines, "\n"))
	stage := func(rerunnable, compareNow bool) (int64, error) {
		e, err := newEngine(Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer e.setCfg.slab.close()
		e.rerunnable, e.compareNow = rerunnable, compareNow
		base := e.files.add(data)
		stages := []*stage{newStage(e.blocks), newStage(e.blocks)}
		const h = uint64(7)<<(64-partitionBits) | 12345 // one partition, one hash
		off := 0
		for i, l := range lines {
			stages[i%2].add(h, data[off:off+len(l)], base+int64(off))
			off += len(l) + 1
		}
		for _, st := range stages {
			e.workerSet = append(e.workerSet, &worker{e: e, stages: []*stage{st}})
		}
		return e.countStaged(0)
	}
	if got, err := stage(false, false); err != nil || got != 4 {
		t.Errorf("recounted in place: %d distinct values, %v; want 4", got, err)
	}
	if _, err := stage(true, false); !errors.Is(err, errHashCollision) {
		t.Errorf("over files: %v, want errHashCollision", err)
	}
	if got, err := stage(true, true); err != nil || got != 4 {
		t.Errorf("compared at once: %d distinct values, %v; want 4", got, err)
	}
}
