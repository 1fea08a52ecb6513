package uniq

import (
	"math"
	"math/bits"
)

// DefaultPrecision is the HyperLogLog precision used when Options.Precision
// is 0: 2^14 one-byte registers (16 KiB per column), standard error
// 1.04/sqrt(2^14) = 0.81%.
const DefaultPrecision = 14

// hll is a HyperLogLog sketch over 64-bit hashes. The estimate uses Ertl's
// improved estimator ("New cardinality estimation algorithms for
// HyperLogLog sketches", 2017), which is unbiased from 0 to beyond 2^64
// without HLL++'s empirical bias tables, so the error stays near
// 1.04/sqrt(m) over the whole range.
type hll struct {
	p   uint8
	reg []uint8
}

func newHLL(p uint8) *hll { return &hll{p: p, reg: make([]uint8, 1<<p)} }

// add records a hash.
func (s *hll) add(h uint64) {
	i := h >> (64 - s.p)
	w := h<<s.p | 1<<(s.p-1) // the sentinel bit caps the rank at 64-p+1
	r := uint8(bits.LeadingZeros64(w)) + 1
	if r > s.reg[i] {
		s.reg[i] = r
	}
}

// merge folds o (same precision) into s.
func (s *hll) merge(o *hll) {
	for i, r := range o.reg {
		if r > s.reg[i] {
			s.reg[i] = r
		}
	}
}

// estimate returns the cardinality estimate.
func (s *hll) estimate() int64 {
	q := 64 - int(s.p)
	m := float64(len(s.reg))
	c := make([]float64, q+2)
	for _, r := range s.reg {
		c[r]++
	}
	z := m * hllTau(1-c[q+1]/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + c[k])
	}
	z += m * hllSigma(c[0]/m)
	return int64(math.Round(m * m / (2 * math.Ln2) / z))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zOld := z
		z += x * y
		y += y
		if z == zOld {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zOld := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == zOld {
			return z / 3
		}
	}
}
