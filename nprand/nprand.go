// Package nprand is numpy's legacy random number generator,
// numpy.random.RandomState (MT19937), in Go: for the same seed it produces
// the same stream as numpy, value for value, for any interleaving of the
// supported calls, so a Go training run can sample the very mini-batches
// and initial weights a numpy reference run does.
//
//	rng := nprand.New(0)        // np.random.seed(0)
//	u := rng.RandomSample()     // np.random.random_sample()
//	z := rng.StandardNormal()   // np.random.randn()
//	idx := rng.Choice(50000, 200, true) // np.random.choice(50000, 200)
//	perm := rng.Permutation(10) // np.random.permutation(10)
//
// The algorithms are numpy's legacy ones (numpy/random/mtrand.pyx and
// numpy/random/src/legacy, distributions): 53-bit doubles from two 32-bit
// draws, the polar Box–Muller gaussian with its cached second value, masked
// rejection sampling for bounded integers (32-bit draws when the range fits
// in 32 bits), Fisher–Yates shuffling from the end.
//
// The gaussian takes a natural logarithm, which numpy gets from the
// platform's C library, and C libraries round it differently in rare
// cases. nprand carries a pure-Go port of glibc's log (glibc 2.28 and
// later, in the variant glibc runs on x86-64 CPUs with FMA and AVX2), so
// on such Linux systems StandardNormal is numpy's stream bit for bit
// (checked against glibc 2.36 on 2.5 million arguments and against numpy
// on 200000 gaussians; glibc on arm64 compiles the same FMA code path and
// is expected, not verified, to match). Against a numpy whose C library
// log differs, a small fraction of gaussians differ in the last bit or two
// (glibc's non-FMA x86-64 variant: 89 of 10⁶ polar-method arguments, by
// one ulp; a correctly rounded log: about 0.05%). The uniform, integer,
// choice and permutation streams are exact everywhere, and a gaussian
// difference never desynchronises the stream.
//
// A RandomState is not safe for concurrent use.
package nprand

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/nnkern/nnkern/kernels"
)

// RandomState is numpy's legacy RandomState: the MT19937 state plus the
// cached second gaussian of the polar method.
type RandomState struct {
	mt       mt19937
	hasGauss bool
	gauss    float64
}

// New returns a RandomState seeded like np.random.seed(seed).
func New(seed uint32) *RandomState {
	r := &RandomState{}
	r.Seed(seed)
	return r
}

// Seed reseeds r like np.random.seed(seed) (an integer seed in [0, 2³²)
// goes through MT19937's init_genrand) and drops any cached gaussian.
func (r *RandomState) Seed(seed uint32) {
	r.mt.seed(seed)
	r.hasGauss = false
	r.gauss = 0
}

// Uint32 returns the next raw 32-bit MT19937 output (numpy's
// RandomState.tomaxint on 32 bits, or randint(0, 2**32, dtype=np.uint32)).
func (r *RandomState) Uint32() uint32 { return r.mt.next32() }

// RandomSample returns a uniform float64 in [0, 1) with 53 random bits, as
// np.random.random_sample() does: (a>>5·2²⁶ + b>>6) / 2⁵³ for two 32-bit
// draws a, b.
func (r *RandomState) RandomSample() float64 { return r.mt.nextDouble() }

// Uniform returns low + (high-low)·RandomSample(), as
// np.random.uniform(low, high) does. It panics if high-low is not finite.
func (r *RandomState) Uniform(low, high float64) float64 {
	rng := high - low
	if math.IsInf(rng, 0) || math.IsNaN(rng) {
		panic(fmt.Sprintf("nprand.Uniform: high-low is not finite (low=%v, high=%v)", low, high))
	}
	// float64(...) forbids fusing into an FMA: numpy rounds the product.
	return low + float64(rng*r.mt.nextDouble())
}

// StandardNormal returns a standard normal deviate like np.random.randn()
// (numpy's legacy_gauss): the polar Box–Muller method, which produces two
// deviates per accepted pair and caches the second for the next call.
func (r *RandomState) StandardNormal() float64 {
	if r.hasGauss {
		g := r.gauss
		r.hasGauss = false
		r.gauss = 0
		return g
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*r.mt.nextDouble() - 1
		x2 = 2*r.mt.nextDouble() - 1
		// Explicit conversions keep each product rounded (no FMA), as in C.
		r2 = float64(x1*x1) + float64(x2*x2)
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * logFunc(r2) / r2)
	r.gauss = f * x1
	r.hasGauss = true
	return f * x2
}

// logFunc is the logarithm the gaussian uses (tests wrap it to count
// calls).
var logFunc = glibcLog

// Randn returns n StandardNormal draws (np.random.randn(n)).
func (r *RandomState) Randn(n int) []float64 {
	if n < 0 {
		panic(fmt.Sprintf("nprand.Randn: negative n=%d", n))
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.StandardNormal()
	}
	return out
}

// interval returns a uniform integer in [0, max] by masked rejection
// sampling: 32-bit draws when max fits in 32 bits, 64-bit draws (two 32-bit
// outputs, the first one high) otherwise. It is numpy's random_interval
// (used by shuffle) and, for max < 2³²-1, also what
// random_bounded_uint64_fill does for randint with use_masked.
func (r *RandomState) interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	mask |= mask >> 32
	if max <= math.MaxUint32 {
		m32 := uint32(mask)
		for {
			if v := uint64(r.mt.next32() & m32); v <= max {
				return v
			}
		}
	}
	for {
		if v := r.mt.next64() & mask; v <= max {
			return v
		}
	}
}

// Randint returns a uniform integer in [low, high), like
// np.random.randint(low, high) (legacy masked rejection sampling on the
// range high-1-low; 32-bit draws when it fits in 32 bits). It panics if
// low >= high.
func (r *RandomState) Randint(low, high int) int {
	if low >= high {
		panic(fmt.Sprintf("nprand.Randint: low >= high (low=%d, high=%d)", low, high))
	}
	rng := uint64(high) - uint64(low) - 1
	// numpy's random_bounded_uint64_fill: rng == 2³²-1 takes a raw 32-bit
	// draw, which interval's masked loop also returns on its first try.
	return int(uint64(low) + r.interval(rng))
}

// Choice returns size indices drawn from [0, n), like
// np.random.choice(n, size, replace): with replacement it is
// randint(0, n, size); without, the first size entries of permutation(n).
// It panics if n <= 0 while size > 0, if size < 0, or if size > n without
// replacement.
func (r *RandomState) Choice(n, size int, replace bool) []int {
	switch {
	case size < 0:
		panic(fmt.Sprintf("nprand.Choice: negative size=%d", size))
	case n < 0 || (n == 0 && size > 0):
		panic(fmt.Sprintf("nprand.Choice: n=%d must be greater than 0 unless no samples are taken (size=%d)", n, size))
	case !replace && size > n:
		panic(fmt.Sprintf("nprand.Choice: cannot take a larger sample (size=%d) than population (n=%d) without replacement", size, n))
	}
	if replace {
		out := make([]int, size)
		for i := range out {
			out[i] = r.Randint(0, n)
		}
		return out
	}
	return r.Permutation(n)[:size:size]
}

// Permutation returns a random permutation of 0..n-1, like
// np.random.permutation(n): arange(n) shuffled in place by Fisher–Yates
// from the last element down, element i swapped with interval(i).
func (r *RandomState) Permutation(n int) []int {
	if n < 0 {
		panic(fmt.Sprintf("nprand.Permutation: negative n=%d", n))
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(p)
	return p
}

// Shuffle permutes x in place like np.random.shuffle on a 1-d array.
func (r *RandomState) Shuffle(x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := int(r.interval(uint64(i)))
		x[i], x[j] = x[j], x[i]
	}
}

// State serialisation: magic, version, the 624 key words, the position,
// the cached-gaussian flag and value, all little-endian.
const (
	stateMagic   = "NPRS"
	stateVersion = 1
	stateLen     = 4 + 1 + 4*mtN + 2 + 1 + 8
)

// MarshalBinary encodes the complete state (including the cached
// gaussian), so that a restored RandomState continues the same stream.
func (r *RandomState) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, stateLen)
	b = append(b, stateMagic...)
	b = append(b, stateVersion)
	for _, k := range r.mt.key {
		b = binary.LittleEndian.AppendUint32(b, k)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(r.mt.pos))
	g := byte(0)
	if r.hasGauss {
		g = 1
	}
	b = append(b, g)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.gauss))
	return b, nil
}

// UnmarshalBinary restores a state written by MarshalBinary. It checks the
// magic, version, length and ranges and leaves r unchanged on error.
func (r *RandomState) UnmarshalBinary(b []byte) error {
	if len(b) < 5 || string(b[:4]) != stateMagic {
		return errors.New("nprand: state: bad magic (not a RandomState encoding)")
	}
	if b[4] != stateVersion {
		return fmt.Errorf("nprand: state: unsupported version %d (want %d)", b[4], stateVersion)
	}
	if len(b) != stateLen {
		return fmt.Errorf("nprand: state: length %d, want %d", len(b), stateLen)
	}
	var s RandomState
	p := 5
	for i := range s.mt.key {
		s.mt.key[i] = binary.LittleEndian.Uint32(b[p:])
		p += 4
	}
	pos := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	if pos > mtN {
		return fmt.Errorf("nprand: state: position %d out of range [0, %d]", pos, mtN)
	}
	s.mt.pos = pos
	switch b[p] {
	case 0:
	case 1:
		s.hasGauss = true
	default:
		return fmt.Errorf("nprand: state: bad cached-gaussian flag %d", b[p])
	}
	p++
	s.gauss = math.Float64frombits(binary.LittleEndian.Uint64(b[p:]))
	if !s.hasGauss && s.gauss != 0 {
		return errors.New("nprand: state: cached gaussian set without its flag")
	}
	*r = s
	return nil
}

// glibcLog is the logarithm the normal deviates use: glibc's log
// (kernels.Log), so that the streams equal numpy's linked against glibc,
// on every platform.
var glibcLog = kernels.Log
