package uniq

import (
	"container/heap"
	"slices"
	"strings"
)

// topK keeps the k most frequent values offered to it. Ties go to the
// smaller value, so results do not depend on scheduling.
type topK struct {
	k int
	h topHeap
}

func newTopK(k int) *topK { return &topK{k: k} }

// offer considers value v seen n times; v is copied only when kept.
func (t *topK) offer(v []byte, n uint64) {
	if t.k <= 0 {
		return
	}
	c := int64(n)
	if len(t.h) == t.k {
		w := t.h[0]
		if c < w.Count || (c == w.Count && string(v) >= w.Value) {
			return
		}
		t.h[0] = ValueCount{Value: string(v), Count: c}
		heap.Fix(&t.h, 0)
		return
	}
	heap.Push(&t.h, ValueCount{Value: string(v), Count: c})
}

// mergeTops combines partial top lists into the k best, most frequent first.
func mergeTops(tops []*topK, k int) []ValueCount {
	if k <= 0 {
		return nil
	}
	all := newTopK(k)
	for _, t := range tops {
		for _, vc := range t.h {
			all.offer([]byte(vc.Value), uint64(vc.Count))
		}
	}
	out := slices.Clone([]ValueCount(all.h))
	slices.SortFunc(out, func(a, b ValueCount) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// topHeap is a min-heap whose root is the weakest kept value.
type topHeap []ValueCount

func (h topHeap) Len() int { return len(h) }
func (h topHeap) Less(i, j int) bool {
	if h[i].Count != h[j].Count {
		return h[i].Count < h[j].Count
	}
	return h[i].Value > h[j].Value
}
func (h topHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)   { *h = append(*h, x.(ValueCount)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
