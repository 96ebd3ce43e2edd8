package identity

import (
	"hash/fnv"
	"math"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// Inputs are generated from integers only: splitmix64 bits are assembled
// into IEEE bit patterns (sign, exponent, full random mantissa) and
// converted with math.Float32frombits / Float64frombits. No floating-point
// arithmetic is involved, so no compiler (any GOARCH, GOAMD64, purego or
// not) can fuse or reorder anything, and every build sees the same inputs.
// Full mantissas matter: inputs that are small integers would make most
// sums exact, and every summation order would then agree.

// gen is a splitmix64 generator.
type gen struct{ s uint64 }

// newGen seeds a generator from a name, so each case has its own stream
// and adding a case does not change the others' inputs.
func newGen(name string) *gen {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &gen{s: h.Sum64()}
}

func (g *gen) u64() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns an integer in [0, n) (n > 0; the modulo bias is irrelevant).
func (g *gen) intn(n int) int { return int(g.u64() % uint64(n)) }

// fromBits converts an IEEE bit pattern of T's width to T.
func fromBits[T kernels.Float](b uint64) T {
	if dtype.Is32[T]() {
		return T(math.Float32frombits(uint32(b)))
	}
	return T(math.Float64frombits(b))
}

// bitsOf returns the IEEE bits of v.
func bitsOf[T kernels.Float](v T) uint64 {
	if dtype.Is32[T]() {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(float64(v))
}

// val returns a value with a uniformly random exponent in [lo, hi] (a
// magnitude in [2^lo, 2^(hi+1))), a full random mantissa and a sign that is
// negative with probability neg/8 (0: always positive, 8: always negative).
func val[T kernels.Float](g *gen, lo, hi, neg int) T {
	r := g.u64()
	e := lo + int(r%uint64(hi-lo+1))
	sign := uint64(0)
	if int(r>>8&7) < neg {
		sign = 1
	}
	if dtype.Is32[T]() {
		m := r >> 41 // 23 bits
		return fromBits[T](sign<<31 | uint64(e+127)<<23 | m)
	}
	m := g.u64() >> 12 // 52 bits
	return fromBits[T](sign<<63 | uint64(e+1023)<<52 | m)
}

// fill sets x to val(lo, hi, neg) values.
func fill[T kernels.Float](g *gen, x []T, lo, hi, neg int) {
	for i := range x {
		x[i] = val[T](g, lo, hi, neg)
	}
}

// small returns k·2^e for an integer k in [-n, n]: exact, for inputs that
// should tie (Max, ArgMax) or stay small.
func small[T kernels.Float](g *gen, n, e int) T {
	k := g.intn(2*n+1) - n
	if k == 0 {
		if g.intn(2) == 0 {
			return fromBits[T](signBit[T]()) // −0
		}
		return 0
	}
	return T(k) * pow2[T](e) // exact: |k| is tiny and pow2 is a power of two
}

func signBit[T kernels.Float]() uint64 {
	if dtype.Is32[T]() {
		return 1 << 31
	}
	return 1 << 63
}

// pow2 returns 2^e (a normal number) built from its bits.
func pow2[T kernels.Float](e int) T {
	if dtype.Is32[T]() {
		return fromBits[T](uint64(e+127) << 23)
	}
	return fromBits[T](uint64(e+1023) << 52)
}

// specials returns the special values sprinkled into the "special" cases:
// ±0, the smallest and largest subnormals, the smallest normal, huge
// values, ±MaxFloat, ±Inf and NaN (finite=false), or only the finite ones.
func specials[T kernels.Float](finite bool) []T {
	var bits []uint64
	if dtype.Is32[T]() {
		bits = []uint64{
			0, 1 << 31, // ±0
			1, 1<<31 | 1, // ±smallest subnormal
			0x007fffff, 1<<31 | 0x007fffff, // ±largest subnormal
			0x00800000,             // smallest normal
			0x71800000, 0xf1000001, // ±2^100-ish
			0x7f7fffff, 0xff7fffff, // ±MaxFloat32
		}
		if !finite {
			bits = append(bits, 0x7f800000, 0xff800000, 0x7fc00000) // +Inf, −Inf, NaN
		}
	} else {
		bits = []uint64{
			0, 1 << 63,
			1, 1<<63 | 1,
			0x000fffffffffffff, 1<<63 | 0x000fffffffffffff,
			0x0010000000000000,
			0x7e30000000000000, 0xfe30000000000001, // ±2^996-ish
			0x7fefffffffffffff, 0xffefffffffffffff,
		}
		if !finite {
			bits = append(bits, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000)
		}
	}
	v := make([]T, len(bits))
	for i, b := range bits {
		v[i] = fromBits[T](b)
	}
	return v
}

// sprinkle replaces about one element in every `every` with a special value.
func sprinkle[T kernels.Float](g *gen, x []T, sp []T, every int) {
	for i := range x {
		if g.intn(every) == 0 {
			x[i] = sp[g.intn(len(sp))]
		}
	}
}

// sentinel is the value of guard elements around every output: a NaN with
// a payload no computation produces, so a stray write or read shows.
func sentinel[T kernels.Float]() T {
	if dtype.Is32[T]() {
		return fromBits[T](0x7fa5a5a5)
	}
	return fromBits[T](0x7ff4a5a5a5a5a5a5)
}

// guard is the number of sentinel elements on each side of an output.
const guard = 4

// guarded returns a buffer of off+n+2·guard elements, all set to the
// sentinel, and its window x of length n starting guard+off elements in.
func guarded[T kernels.Float](n, off int) (buf, x []T) {
	buf = make([]T, 2*guard+off+n)
	s := sentinel[T]()
	for i := range buf {
		buf[i] = s
	}
	return buf, buf[guard+off : guard+off+n]
}

// clone returns a guarded copy of x at offset off.
func clone[T kernels.Float](x []T, off int) (buf, y []T) {
	buf, y = guarded[T](len(x), off)
	copy(y, x)
	return buf, y
}

// ints returns n integers in [0, k).
func ints(g *gen, n, k int) []int {
	y := make([]int, n)
	for i := range y {
		y[i] = g.intn(k)
	}
	return y
}

// tname is the dtype suffix of component names.
func tname[T kernels.Float]() string {
	if dtype.Is32[T]() {
		return "f32"
	}
	return "f64"
}

// nanOf returns the quiet NaN used in the inputs (also the last of
// specials(false)).
func nanOf[T kernels.Float]() T {
	if dtype.Is32[T]() {
		return fromBits[T](0x7fc00000)
	}
	return fromBits[T](0x7ff8000000000000)
}
