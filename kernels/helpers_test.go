package kernels

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/internal/skiplog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The canonical reductions work in blocks of 64 float32 (32 float64)
// elements, a ladder of whole vectors and one masked tail: lengths
// 0 … 2·64+3 reach every path of every kernel (block, each ladder step,
// every tail length) for every vector width.
const maxShortLen = 2*64 + 3

// testLens are the lengths every conformance test covers.
var testLens = func() []int {
	var l []int
	for n := 0; n <= maxShortLen; n++ {
		l = append(l, n)
	}
	return append(l, 100, 257, 1023, 3071, 3073)
}()

// offsets are the misalignments (in elements) of the subslices tested.
const maxOffset = 7

// guard is the number of guard elements on each side of an output.
const guard = 16

// guardBits is the NaN payload the guard bands hold; a kernel that writes
// outside its slice changes it.
const guardBits32 = 0x7fc0dead
const guardBits64 = 0x7ff8_0000_dead_beef

func guardVal[T Float]() T {
	if dtype.Is32[T]() {
		return T(math.Float32frombits(guardBits32))
	}
	return T(math.Float64frombits(guardBits64))
}

func bitsOf[T Float](v T) uint64 {
	if dtype.Is32[T]() {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(float64(v))
}

func sameBits[T Float](a, b T) bool { return bitsOf(a) == bitsOf(b) }

// gv is a vector of n elements at misalignment off inside a buffer whose
// other elements hold the guard NaN.
type gv[T Float] struct {
	buf []T
	at  int
	S   []T
}

func guarded[T Float](n, off int) gv[T] {
	buf := make([]T, n+2*guard+off)
	g := guardVal[T]()
	for i := range buf {
		buf[i] = g
	}
	at := guard + off
	return gv[T]{buf: buf, at: at, S: buf[at : at+n : at+n]}
}

// check fails if any element of the buffer outside S lost its guard value.
func (v gv[T]) check(t testing.TB, what string) {
	t.Helper()
	g := guardVal[T]()
	for i := range v.buf {
		if i >= v.at && i < v.at+len(v.S) {
			continue
		}
		if !sameBits(v.buf[i], g) {
			t.Fatalf("%s: wrote outside its slice at buffer index %d (slice is [%d,%d)): %v", what, i, v.at, v.at+len(v.S), v.buf[i])
		}
	}
}

// randVec returns a guarded vector with values in [-1, 1).
func randVec[T Float](r *rand.Rand, n, off int) gv[T] {
	v := guarded[T](n, off)
	for i := range v.S {
		v.S[i] = T(2*r.Float64() - 1)
	}
	return v
}

// intVec returns a guarded vector of small integers: sums and products of
// these are exact in float32 and float64 in any order.
func intVec[T Float](r *rand.Rand, n, off int) gv[T] {
	v := guarded[T](n, off)
	for i := range v.S {
		v.S[i] = T(r.IntN(17) - 8)
	}
	return v
}

func clone[T Float](x []T) []T { return append([]T(nil), x...) }

func checkUnmodified[T Float](t testing.TB, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: input modified at %d: %v, was %v", what, i, got[i], want[i])
		}
	}
}

// eps is the unit roundoff of T.
func eps[T Float]() float64 {
	if dtype.Is32[T]() {
		return 0x1p-24
	}
	return 0x1p-53
}

func typeName[T Float]() string {
	if dtype.Is32[T]() {
		return "f32"
	}
	return "f64"
}

// forLevels runs f as a subtest per ISA level (eachLevel), with the
// kernels dispatching to it. At levels with assembly for kernel k it checks
// that f really called that level's assembly and no other (the counters in
// dispatch.go), and at Generic that it called none.
func forLevels(t *testing.T, k kernelID, f func(t *testing.T)) {
	eachLevel(t, func(t *testing.T, l Level) {
		traceAsm = true
		defer func() { traceAsm = false }()
		before := asmCalls
		f(t)
		want := Generic
		if l >= AVX2 {
			want = min(l, asmLevel[k])
		}
		for lv := AVX2; lv <= AVX512; lv++ {
			calls := asmCalls[lv][k] - before[lv][k]
			if lv == want && calls == 0 {
				t.Fatalf("%s at isa=%s never called its %s assembly", kernelNames[k], l, lv)
			}
			if lv != want && calls != 0 {
				t.Fatalf("%s at isa=%s called %s assembly %d times", kernelNames[k], l, lv, calls)
			}
		}
	})
}

// eachLevel runs f as a subtest "isa=L" for every level of AllLevels with
// the kernels dispatching to it; a level this CPU (or build) lacks is
// skipped with one line naming the CPU, recorded for make test's summary.
func eachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	for _, l := range AllLevels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			if l > Detected() {
				skiplog.Skipf(t, "isa="+l.String()+" subtests", "this CPU or build lacks %s (%s)", l, cpuName())
			}
			defer SetISA(l)()
			f(t, l)
		})
	}
}

// both runs f for float32 and float64 as subtests "f32" and "f64".
func both(t *testing.T, f32 func(t *testing.T), f64 func(t *testing.T)) {
	t.Run("f32", f32)
	t.Run("f64", f64)
}

// mustPanic fails unless f panics with a message containing every part.
func mustPanic(t *testing.T, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one mentioning %q", parts)
		}
		msg := fmt.Sprint(r)
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Fatalf("panic %q does not mention %q", msg, p)
			}
		}
	}()
	f()
}

// specials are the special values mixed into inputs.
func specials[T Float]() []T {
	var tiny T
	if dtype.Is32[T]() {
		tiny = T(math.Float32frombits(1)) // smallest denormal
	} else {
		tiny = T(math.Float64frombits(1))
	}
	bigv := math.MaxFloat32 / 4
	if !dtype.Is32[T]() {
		bigv = math.MaxFloat64 / 4
	}
	big := T(bigv)
	return []T{T(math.Inf(1)), T(math.Inf(-1)), T(math.NaN()), T(math.Copysign(0, -1)), 0, tiny, -tiny, big, -big, 1e-30, -1e-30}
}

// withSpecials returns a copy of x with special values sprinkled in.
func withSpecials[T Float](r *rand.Rand, x []T) {
	sp := specials[T]()
	for i := range x {
		if r.IntN(4) == 0 {
			x[i] = sp[r.IntN(len(sp))]
		}
	}
}
