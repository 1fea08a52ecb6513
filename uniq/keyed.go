package uniq

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotpath/hotpath"
)

// Keyed counts: composite keys (Options.Keys), distinct values per group
// (Options.By), and the distinct keys' first records (Dedup,
// DistinctValues). The workers parse every record in full and insert its
// key, encoded as the length-prefixed bytes of its fields (so that no two
// field lists share an encoding), into tables of their own, one per hash
// partition; an entry remembers where the key's first record is in the
// input, how long that record is and how many records had the key. When a
// worker's tables reach its share of the memory budget they are written to
// a spill run, partition by partition, and emptied. At the end the
// partitions are shared out among the workers: each builds the union of a
// partition's tables and spilled entries (a partition is a 256th of the
// keys, so the union fits where the whole did not) and hands it to the
// mode, which counts it, counts it by group, or keeps each key's first
// record. For per-group counts the partition is chosen by the group's hash
// alone, so every group is whole in one partition.

// keyMode says what a keyed count does with the distinct keys.
type keyMode int

const (
	keyCount  keyMode = iota // count the distinct keys (and the most frequent with Top)
	keyGroups                // count the distinct keys of each group
	keyKeep                  // keep each distinct key's first record
)

const (
	keyPartitionBits = 8
	keyPartitions    = 1 << keyPartitionBits
	keyEntryHeader   = 20 // first record's ordinal (8), its length (4), records (8)
	// ordinalInputShift places the input's index above the byte offset of
	// a record in an ordinal: inputs up to 256 TB, 65536 of them.
	ordinalInputShift = 48
)

// keyed is the state of a keyed count shared by its workers.
type keyed struct {
	mode  keyMode
	nBy   int   // the first nBy resolved columns are the group's
	limit int64 // bytes of tables a worker holds before it spills
	// stageLimit is the bytes of staged entries a worker holds before it
	// drains them into its tables.
	stageLimit int64
	tempDir    string
	input      int     // index of the input being scanned
	quote      byte    // the engine's quote ('\n' without quoting)
	cols       [][]int // per input: the fields of the resolved columns
	names      []string
	nulls      int64 // records not counted for a null in their key

	spillMu sync.Mutex
	spills  []*keySpill
	workers []*keyedWorker
}

// keyedWorker is one worker's tables.
type keyedWorker struct {
	parts [keyPartitions]keyTable
	mem   int64 // bytes of the tables
	// stage holds each partition's entries as the records give them,
	// until drain inserts them; staged is their bytes.
	stage  [keyPartitions][][]byte
	staged int64
	free   [][]byte // drained stage blocks
	folded []byte
	nulls  int64 // records not counted: a field of their key was null
	key    []byte
	group  []byte
	err    error // a failed spill, reported after the chunk
}

// keyTable is an open-addressing table of keys whose entries live in an
// arena of blocks, back to back: the entry header and then the uvarint
// length and bytes of the key. An arena's layout is also the spill format.
// Blocks, not one growing slice: a growing slice copies all it holds each
// time it grows (by a quarter, once large), which cost a third of the
// time of a composite-key count.
type keyTable struct {
	slots []keySlot
	n     int
	arena [][]byte
}

type keySlot struct {
	hash uint64
	off  uint64 // block<<32 | offset, plus one, of the entry in the arena; 0: empty
}

const maxKeyBlock = 256 << 10

// keyEntry is one decoded entry of an arena.
type keyEntry struct {
	ord   uint64 // input<<ordinalInputShift | offset of the first record with the key
	raw   uint32 // bytes of that record, its line end included
	count uint64 // records with the key
	key   []byte
}

// readEntry decodes the entry at the start of b and returns its size.
func readEntry(b []byte) (keyEntry, int) {
	en := keyEntry{
		ord:   binary.LittleEndian.Uint64(b),
		raw:   binary.LittleEndian.Uint32(b[8:]),
		count: binary.LittleEndian.Uint64(b[12:]),
	}
	l, n := binary.Uvarint(b[keyEntryHeader:])
	start := keyEntryHeader + n
	en.key = b[start : start+int(l)]
	return en, start + int(l)
}

// eachEntry calls fn with every entry of the blocks of an arena.
func eachEntry(arena [][]byte, fn func(en keyEntry)) {
	for _, b := range arena {
		for pos := 0; pos < len(b); {
			en, n := readEntry(b[pos:])
			fn(en)
			pos += n
		}
	}
}

// entryAt returns the bytes from the entry at off (a slot's, minus one) on.
func (t *keyTable) entryAt(off uint64) []byte {
	return t.arena[off>>32][off&(1<<32-1):]
}

// appendEntry appends en to an arena and returns where it is
// (block<<32 | offset) and the bytes the arena grew by.
func appendEntry(arena *[][]byte, en keyEntry, free *[][]byte) (off uint64, grew int64) {
	var hdr [keyEntryHeader + binary.MaxVarintLen64]byte
	binary.LittleEndian.PutUint64(hdr[:], en.ord)
	binary.LittleEndian.PutUint32(hdr[8:], en.raw)
	binary.LittleEndian.PutUint64(hdr[12:], en.count)
	n := keyEntryHeader + binary.PutUvarint(hdr[keyEntryHeader:], uint64(len(en.key)))
	a := *arena
	last := len(a) - 1
	if last < 0 || len(a[last])+n+len(en.key) > cap(a[last]) {
		size := 4 << 10
		if last >= 0 {
			size = min(2*cap(a[last]), maxKeyBlock)
		}
		size = max(size, n+len(en.key))
		var b []byte
		if free != nil { // a stage: blocks of maxKeyBlock, reused
			size = max(maxKeyBlock, n+len(en.key))
			if k := len(*free) - 1; k >= 0 && cap((*free)[k]) >= size {
				b, *free = (*free)[k][:0], (*free)[:k]
			}
		}
		if b == nil {
			b = make([]byte, 0, size)
		}
		a = append(a, b)
		grew = int64(cap(b))
		last++
	}
	b := a[last]
	off = uint64(last)<<32 | uint64(len(b))
	a[last] = append(append(b, hdr[:n]...), en.key...)
	*arena = a
	return off, grew
}

// insert adds en, whose key hashes to h, or merges it into the entry of
// an equal key (the earlier record is kept). It returns the bytes the
// table grew by.
func (t *keyTable) insert(h uint64, en keyEntry) int64 {
	var grew int64
	if (t.n+1)*4 > len(t.slots)*3 {
		grew = t.resize(max(16, 2*len(t.slots)))
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.off == 0 {
			off, g := appendEntry(&t.arena, en, nil)
			sl.hash, sl.off = h, off+1
			t.n++
			return grew + g
		}
		if sl.hash != h {
			continue
		}
		at := t.entryAt(sl.off - 1)
		old, _ := readEntry(at)
		if !bytes.Equal(old.key, en.key) {
			continue
		}
		binary.LittleEndian.PutUint64(at[12:], old.count+en.count)
		if en.ord < old.ord {
			binary.LittleEndian.PutUint64(at, en.ord)
			binary.LittleEndian.PutUint32(at[8:], en.raw)
		}
		return grew
	}
}

// resize rehashes the table into size slots and returns the bytes it grew by.
func (t *keyTable) resize(size int) int64 {
	old := t.slots
	t.slots = make([]keySlot, size)
	mask := uint64(size - 1)
	for _, sl := range old {
		if sl.off == 0 {
			continue
		}
		i := sl.hash & mask
		for t.slots[i].off != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = sl
	}
	return int64(size-len(old)) * 16
}

// keySpill is one spill run: every partition's arena, one after another.
type keySpill struct {
	f   *os.File
	off [keyPartitions + 1]int64
}

// spill writes the worker's tables to a new run and empties them.
func (k *keyed) spill(kw *keyedWorker) error {
	kw.drain()
	f, err := os.CreateTemp(k.tempDir, "hotpath-keys-*")
	if err != nil {
		return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot create a spill file in %q", k.tempDir)
	}
	_ = os.Remove(f.Name()) // the open file stays readable; nothing is left behind
	run := &keySpill{f: f}
	var pos int64
	for p := range kw.parts {
		t := &kw.parts[p]
		run.off[p] = pos
		for _, b := range t.arena {
			if _, err := f.Write(b); err != nil {
				f.Close()
				return hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot write a spill file in %q", k.tempDir)
			}
			pos += int64(len(b))
		}
		*t = keyTable{}
	}
	run.off[keyPartitions] = pos
	kw.mem = 0
	k.spillMu.Lock()
	k.spills = append(k.spills, run)
	k.spillMu.Unlock()
	return nil
}

// appendField appends field v to an encoded key.
func appendField(dst, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// decodeFields splits an encoded key into its fields.
func decodeFields(key []byte, fields [][]byte) [][]byte {
	for len(key) > 0 {
		l, n := binary.Uvarint(key)
		fields = append(fields, key[n:n+int(l)])
		key = key[n+int(l):]
	}
	return fields
}

// keyedRecord adds the key of a parsed record, c.data[pos:next] with its
// record end.
func (w *worker) keyedRecord(c *chunk, pos, next int, fields [][]byte) {
	e, k := w.e, w.e.keyed
	kw := w.keyed
	if kw.err != nil {
		return
	}
	cols := e.cols
	null := false
	// add appends field f to dst as Trim, IgnoreCase, SkipEmpty and Nulls
	// say; a null field leaves the record uncounted.
	add := func(dst, f []byte) []byte {
		if e.opts.Trim {
			f = pyStrip(f)
		}
		if e.opts.IgnoreCase && needsFold(f) {
			kw.folded = appendFolded(kw.folded[:0], f)
			f = kw.folded
		}
		if len(f) == 0 && e.opts.SkipEmpty || e.nullSet != nil && e.nullSet[string(f)] {
			null = true
		}
		return appendField(dst, f)
	}
	key := kw.key[:0]
	var part uint64
	if k.mode == keyGroups {
		g := kw.group[:0]
		for _, f := range cols[:k.nBy] {
			g = add(g, fields[f])
		}
		kw.group = g
		part = hashValue(g) >> (64 - keyPartitionBits)
		key = appendField(key, g)
		cols = cols[k.nBy:]
	}
	if len(cols) == 0 { // the whole record
		for _, f := range fields {
			key = add(key, f)
		}
	} else {
		for _, f := range cols {
			key = add(key, fields[f])
		}
	}
	kw.key = key
	if null {
		kw.nulls++
		return
	}
	h := hashValue(key)
	if k.mode != keyGroups {
		part = h >> (64 - keyPartitionBits)
	}
	next = min(next, len(c.data))
	en := keyEntry{ord: uint64(k.input)<<ordinalInputShift | uint64(c.offset+int64(pos)), raw: uint32(next - pos), count: 1, key: key}
	_, grew := appendEntry(&kw.stage[part], en, &kw.free)
	kw.staged += grew
	if kw.staged > k.stageLimit {
		kw.drain()
		if kw.mem > k.limit {
			kw.err = k.spill(kw)
		}
	}
}

// drain inserts the staged entries into the tables, partition by
// partition: a partition's table is small enough for the core's cache,
// where inserting each record's key as it came missed the cache at every
// one (radix partitioning, as the plain counts do: a composite-key count's
// CPU time 1.5x lower).
func (kw *keyedWorker) drain() {
	for p := range kw.stage {
		t := &kw.parts[p]
		eachEntry(kw.stage[p], func(en keyEntry) { kw.mem += t.insert(hashValue(en.key), en) })
		kw.free = append(kw.free, kw.stage[p]...)
		clear(kw.stage[p])
		kw.stage[p] = kw.stage[p][:0]
	}
	kw.staged = 0
}

// countKeyed runs a keyed count over inputs; each partition's union of
// distinct keys goes to fn(g, table), g being the goroutine (of
// opts.Workers) that built it. The result carries rows, bytes and skipped
// rows; the names of the resolved columns are returned too.
func countKeyed(ctx context.Context, inputs []Input, opts Options, k *keyed, fn func(g int, t *keyTable)) (res *Result, names []string, err error) {
	defer catchFault(&err)()
	if opts.Approx {
		return nil, nil, hotpath.Errorf(hotpath.EINVALID, "composite keys, groups and distinct values are counted exactly, not approx")
	}
	if opts.Records {
		return nil, nil, hotpath.Errorf(hotpath.EINVALID, "records cannot be combined with keys or groups (a key of every column is the record)")
	}
	if len(inputs) >= 1<<(64-ordinalInputShift) {
		return nil, nil, hotpath.Errorf(hotpath.EINVALID, "too many inputs (%d)", len(inputs))
	}
	e, err := newEngine(opts)
	if err != nil {
		return nil, nil, err
	}
	defer e.setCfg.slab.close()
	e.radix, e.lines, e.names = false, false, nil
	e.keyed = k
	k.quote = e.quote
	k.tempDir = e.opts.TempDir
	// Half the budget for the workers' tables; the other half for the
	// union of a partition, its spilled runs and the mode's results.
	k.limit = max(e.opts.MemoryLimit/2/int64(e.workers), 64<<10)
	k.stageLimit = min(k.limit/4, 32<<20)
	defer func() {
		for _, s := range k.spills {
			s.f.Close()
		}
	}()
	for i, in := range inputs {
		k.input = i
		if in.Reader != nil {
			e.total = -1
			err = e.countStream(ctx, in.Reader)
		} else {
			err = e.countFile(ctx, in.Path)
		}
		if err == nil {
			for _, kw := range k.workers {
				if err = kw.err; err != nil {
					break
				}
			}
		}
		if err != nil {
			if len(inputs) > 1 && in.Path != "" && hotpath.ErrorCode(err) == hotpath.EINVALID {
				err = hotpath.WrapError(hotpath.EINVALID, err, "%s", in.Path)
			}
			return nil, nil, err
		}
		k.cols = append(k.cols, slices.Clone(e.cols))
	}
	res = &Result{Bytes: e.bytes}
	for _, w := range e.workerSet {
		res.Rows += w.rows
		res.Skipped += w.skipped
	}
	for _, kw := range k.workers {
		k.nulls += kw.nulls
	}
	runWorkers(len(k.workers), func(g int) { k.workers[g].drain() })
	if err := k.unions(ctx, e.workers, fn); err != nil {
		return nil, nil, err
	}
	return res, e.names, nil
}

// unions builds each partition's union of the workers' tables and the
// spilled runs, in parallel, and hands it to fn.
func (k *keyed) unions(ctx context.Context, workers int, fn func(g int, t *keyTable)) error {
	var next atomic.Int64
	errs := make([]error, workers)
	runWorkers(workers, func(g int) {
		var buf []byte
		for {
			p := int(next.Add(1) - 1)
			if p >= keyPartitions || ctx.Err() != nil {
				return
			}
			n := 0
			for _, kw := range k.workers {
				n += kw.parts[p].n
			}
			u := &keyTable{}
			add := func(arena [][]byte) {
				eachEntry(arena, func(en keyEntry) { u.insert(hashValue(en.key), en) })
			}
			if len(k.workers) == 1 && len(k.spills) == 0 {
				*u = k.workers[0].parts[p] // already distinct
			} else {
				u.resize(max(16, ceilPow2(n*4/3+1)))
				for _, kw := range k.workers {
					add(kw.parts[p].arena)
					kw.parts[p] = keyTable{}
				}
			}
			k.workers[0].parts[p] = keyTable{}
			for _, s := range k.spills {
				size := s.off[p+1] - s.off[p]
				if int64(cap(buf)) < size {
					buf = make([]byte, size)
				}
				if _, err := s.f.ReadAt(buf[:size], s.off[p]); err != nil {
					errs[g] = hotpath.WrapError(hotpath.EUNAVAILABLE, err, "cannot read a spill file")
					return
				}
				add([][]byte{buf[:size]})
			}
			fn(g, u)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// GroupCount is one group of a per-group count: the group's value, how
// many distinct values (or keys) it holds and how many rows it has.
type GroupCount struct {
	Group    string  `json:"group"`
	Distinct int64   `json:"distinct"`
	Rows     int64   `json:"rows"`
	Percent  float64 `json:"percent"` // of all counted rows
}

// displayKey writes an encoded key as text: one field as is, several as a
// CSV record (quoted where needed).
func displayKey(dst, key []byte, delim byte, fields [][]byte) []byte {
	fields = decodeFields(key, fields[:0])
	if len(fields) == 1 {
		return append(dst, fields[0]...)
	}
	return appendCSV(dst, fields, delim)
}

// countKeys is CountInputs for composite keys and per-group counts.
func countKeys(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	start := time.Now()
	workers := opts.Workers
	if workers <= 0 {
		workers = defaultWorkers()
	}
	opts.Workers = workers
	delim := cmp.Or(opts.Delimiter, ',')
	var total atomic.Int64
	k := &keyed{mode: keyCount}
	resolve := opts.Keys
	if len(opts.By) > 0 {
		k.mode, k.nBy = keyGroups, len(opts.By)
		value := opts.Keys
		if len(value) == 0 {
			value = opts.Columns
		}
		if len(value) == 0 {
			return nil, hotpath.Errorf(hotpath.EINVALID, "a per-group count needs the column (or -k key) to count in each group")
		}
		if len(opts.Keys) > 0 && len(opts.Columns) > 0 {
			return nil, hotpath.Errorf(hotpath.EINVALID, "per group, count either one column or one composite key, not both")
		}
		if len(opts.Keys) == 0 && len(opts.Columns) > 1 {
			return nil, hotpath.Errorf(hotpath.EINVALID, "per group, count one column (or a composite key with -k a,b)")
		}
		resolve = append(slices.Clone(opts.By), value...)
	} else if len(opts.Columns) > 0 {
		return nil, hotpath.Errorf(hotpath.EINVALID, "count columns (-c) and a composite key (-k) in separate runs")
	}
	opts.Columns, opts.Keys, opts.By = resolve, nil, nil
	tops := make([]*topK, workers)
	groupTops := make([]*groupHeap, workers)
	for g := range tops {
		tops[g] = newTopK(opts.Top)
		groupTops[g] = &groupHeap{k: opts.Top}
	}
	res, names, err := countKeyed(ctx, inputs, opts, k, func(g int, t *keyTable) {
		total.Add(int64(t.n))
		var fields [][]byte
		switch {
		case k.mode == keyGroups:
			groups := map[string]*GroupCount{}
			eachEntry(t.arena, func(en keyEntry) {
				l, n := binary.Uvarint(en.key)
				gk := en.key[n : n+int(l)]
				gc := groups[string(gk)]
				if gc == nil {
					gc = &GroupCount{}
					groups[string(gk)] = gc
				}
				gc.Distinct++
				gc.Rows += int64(en.count)
			})
			var buf []byte
			for gk, gc := range groups {
				buf = displayKey(buf[:0], []byte(gk), delim, fields)
				gc.Group = string(buf)
				groupTops[g].offer(*gc)
			}
		case opts.Top > 0:
			var buf []byte
			eachEntry(t.arena, func(en keyEntry) {
				buf = displayKey(buf[:0], en.key, delim, fields)
				tops[g].offer(buf, en.count)
			})
		}
	})
	if err != nil {
		return nil, err
	}
	col := ColumnResult{Distinct: total.Load(), Nulls: k.nulls}
	if k.mode == keyGroups {
		col.Name = joinNames(names[k.nBy:])
		col.By = joinNames(names[:k.nBy])
		col.Groups = mergeGroups(groupTops, opts.Top)
		for i := range col.Groups {
			col.Groups[i].Percent = percent(col.Groups[i].Rows, res.Rows)
		}
	} else {
		col.Name = joinNames(names)
		col.Top = mergeTops(tops, opts.Top)
	}
	res.Columns = []ColumnResult{col}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func joinNames(names []string) string {
	var b []byte
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	return string(b)
}

func percent(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}

// groupHeap keeps the k groups with the most distinct values, or every
// group when k is 0.
type groupHeap struct {
	k   int
	all []GroupCount
}

// groupBefore orders groups: more distinct values first, then more rows,
// then by value, so that results do not depend on scheduling.
func groupBefore(a, b GroupCount) int {
	if c := cmp.Compare(b.Distinct, a.Distinct); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Rows, a.Rows); c != 0 {
		return c
	}
	return cmp.Compare(a.Group, b.Group)
}

func (h *groupHeap) offer(gc GroupCount) {
	h.all = append(h.all, gc)
	if h.k > 0 && len(h.all) >= 2*h.k+64 { // trim now and then: k of them are kept
		slices.SortFunc(h.all, groupBefore)
		h.all = h.all[:h.k]
	}
}

func mergeGroups(hs []*groupHeap, k int) []GroupCount {
	var all []GroupCount
	for _, h := range hs {
		all = append(all, h.all...)
	}
	slices.SortFunc(all, groupBefore)
	if k > 0 && len(all) > k {
		all = all[:k]
	}
	return all
}

// firstRecord is where a distinct key's first record is.
type firstRecord struct {
	ord uint64
	raw uint32
}

// keepFirst runs a keyed count that keeps each distinct key's first
// record, and returns them in input order.
func keepFirst(ctx context.Context, inputs []Input, opts Options, k *keyed) (*Result, []firstRecord, error) {
	workers := cmp.Or(opts.Workers, defaultWorkers())
	opts.Workers = workers
	kept := make([][]firstRecord, workers)
	res, names, err := countKeyed(ctx, inputs, opts, k, func(g int, t *keyTable) {
		eachEntry(t.arena, func(en keyEntry) { kept[g] = append(kept[g], firstRecord{en.ord, en.raw}) })
	})
	if err != nil {
		return nil, nil, err
	}
	k.names = names
	all := slices.Concat(kept...)
	slices.SortFunc(all, func(a, b firstRecord) int { return cmp.Compare(a.ord, b.ord) })
	res.Columns = []ColumnResult{{Name: joinNames(names), Distinct: int64(len(all)), Nulls: k.nulls}}
	if len(names) == 0 {
		res.Columns[0].Name = "records"
	}
	return res, all, nil
}
