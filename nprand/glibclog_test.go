package nprand

import (
	"encoding/binary"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/internal/testenv"
	"golang.org/x/sys/cpu"
)

var (
	oracleOnce sync.Once
	oracleWhy  string
)

// glibcFMALog reports whether the log that numpy (and Python's math.log)
// calls here is the one glibcLog reproduces: glibc 2.28 or later, in its
// FMA variant (x86-64 with FMA and AVX2, or arm64). If not, it says why.
// It skips the test when there is no python3 with numpy (see testenv).
func glibcFMALog(t *testing.T) (bool, string) {
	t.Helper()
	testenv.Python(t)
	oracleOnce.Do(func() {
		switch {
		case runtime.GOOS != "linux":
			oracleWhy = "not linux, so numpy's log is not glibc's"
			return
		case runtime.GOARCH == "amd64" && !(cpu.X86.HasFMA && cpu.X86.HasAVX2):
			oracleWhy = "x86-64 without FMA+AVX2: glibc runs its non-FMA log variant"
			return
		case runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64":
			oracleWhy = "glibc's log is only known to match on amd64 (FMA) and arm64"
			return
		}
		out := strings.Fields(string(testenv.NumPy(t, "import platform; print(*platform.libc_ver())", nil)))
		if len(out) != 2 || out[0] != "glibc" {
			oracleWhy = "python3's C library is not glibc: " + strings.Join(out, " ")
			return
		}
		var major, minor int
		if v := strings.SplitN(out[1], ".", 3); len(v) >= 2 {
			major, _ = strconv.Atoi(v[0])
			minor, _ = strconv.Atoi(v[1])
		}
		if major < 2 || major == 2 && minor < 28 {
			oracleWhy = "glibc " + out[1] + " predates the log of glibc 2.28"
		}
	})
	return oracleWhy == "", oracleWhy
}

// pyLog returns Python's math.log (the C library's log) of each x > 0.
func pyLog(t *testing.T, xs []float64) []float64 {
	in := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(in[8*i:], math.Float64bits(x))
	}
	out := testenv.NumPy(t, `
import sys, math, array
a = array.array('d'); a.frombytes(sys.stdin.buffer.read())
if sys.byteorder != 'little': a.byteswap()
b = array.array('d', map(math.log, a))
if sys.byteorder != 'little': b.byteswap()
sys.stdout.buffer.write(b.tobytes())
`, in)
	if len(out) != len(in) {
		t.Fatalf("python math.log: got %d bytes for %d arguments", len(out), len(xs))
	}
	ys := make([]float64, len(xs))
	for i := range ys {
		ys[i] = math.Float64frombits(binary.LittleEndian.Uint64(out[8*i:]))
	}
	return ys
}

// logTestArgs returns the arguments TestLogGlibc compares: dense in (0, 1)
// (including the polar method's own r2 values), around 1 (the special
// path) and its edges, the table's subinterval edges, subnormals and
// random positive doubles.
func logTestArgs() []float64 {
	g := New(2024)
	bits := func() uint64 { return g.mt.next64() }
	var xs []float64
	add := func(x float64) {
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			xs = append(xs, x)
		}
	}
	// The gaussian's arguments: r2 = x1² + x2² < 1 of the polar method.
	for len(xs) < 600000 {
		x1, x2 := 2*g.RandomSample()-1, 2*g.RandomSample()-1
		if r2 := float64(x1*x1) + float64(x2*x2); r2 < 1 {
			add(r2)
		}
	}
	// Uniform in (0, 1) with all 52 fraction bits random, and
	// log-uniform over (0, 1) down to the smallest normal.
	for range 400000 {
		add(math.Float64frombits(0x3ff0000000000000|bits()>>12) - 1)
		add(math.Ldexp(1+float64(bits()>>12)*0x1p-52, -g.Randint(1, 1023)))
	}
	// Around 1: the special path [1-2⁻⁴, 1+0x1.09p-4) and beyond its edges,
	// plus every double within 2000 ulp of 1 and of the edges.
	for range 300000 {
		add(1 + (g.RandomSample()*0x1.09p-4+g.RandomSample()*0x1p-4)*1.2 - 0x1p-4*1.2)
		add(1 + (2*g.RandomSample()-1)*math.Ldexp(1, -g.Randint(5, 54)))
	}
	for _, c := range []float64{1, 1 - 0x1p-4, 1 + 0x1.09p-4} {
		b := math.Float64bits(c)
		for d := uint64(0); d <= 2000; d++ {
			add(math.Float64frombits(b + d))
			add(math.Float64frombits(b - d))
		}
	}
	// Table subinterval edges z = 0x1.6p-1 + i·2⁻⁷·... at several exponents.
	for i := uint64(0); i < 256; i++ {
		for _, e := range []int{-1074, -1030, -1022, -600, -60, -2, -1, 0, 1, 100, 1023} {
			base := math.Float64bits(math.Ldexp(0x1.6p-1, e)) + i<<45
			for d := uint64(0); d < 8; d++ {
				add(math.Float64frombits(base + d))
				add(math.Float64frombits(base - d))
			}
		}
	}
	// Subnormals, the extremes, and random positive finite doubles.
	for range 100000 {
		add(math.Float64frombits(bits() >> 12))
		add(math.Float64frombits(bits() >> (12 + g.Randint(0, 40))))
	}
	for _, x := range []float64{math.SmallestNonzeroFloat64, 2 * math.SmallestNonzeroFloat64, 0x1p-1022, math.MaxFloat64, math.Nextafter(1, 0), math.Nextafter(1, 2), 0.5, 2, math.E} {
		add(x)
	}
	for range 300000 {
		add(math.Float64frombits(bits() &^ (1 << 63)))
	}
	return xs
}

// TestLogGlibc compares glibcLog bit for bit with the C library's log
// (through Python's math.log, the log numpy's gaussian calls) on over two
// million arguments.
func TestLogGlibc(t *testing.T) {
	if ok, why := glibcFMALog(t); !ok {
		skiplog.Skipf(t, "glibc log oracle", "the C library's log is not glibc's FMA log here (%s)", why)
	}
	xs := logTestArgs()
	if len(xs) < 2000000 {
		t.Fatalf("only %d arguments", len(xs))
	}
	want := pyLog(t, xs)
	bad := 0
	for i, x := range xs {
		if got := glibcLog(x); math.Float64bits(got) != math.Float64bits(want[i]) {
			if bad++; bad <= 10 {
				t.Errorf("glibcLog(%v [%#x]) = %v [%#x], glibc %v [%#x]", x, math.Float64bits(x), got, math.Float64bits(got), want[i], math.Float64bits(want[i]))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d arguments differ from glibc's log", bad, len(xs))
	}
	t.Logf("%d arguments: glibcLog bitwise equal to the C library's log", len(xs))
}

// TestLogGlibcSpecial checks the special cases, which need no oracle.
func TestLogGlibcSpecial(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{1, 0}, {0, math.Inf(-1)}, {math.Copysign(0, -1), math.Inf(-1)},
		{math.Inf(1), math.Inf(1)}, {2, math.Ln2}, {0.5, -math.Ln2}, {math.E, 1},
	} {
		if got := glibcLog(c.x); got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("glibcLog(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	for _, x := range []float64{-1, -math.SmallestNonzeroFloat64, math.Inf(-1), math.NaN()} {
		if got := glibcLog(x); !math.IsNaN(got) {
			t.Errorf("glibcLog(%v) = %v, want NaN", x, got)
		}
	}
	// Within one ulp of math.Log (itself < 1 ulp from exact) over the
	// normal numbers. (Go's math.Log is not accurate for subnormals on
	// amd64, so there the reference is log(x·2⁵²) - 52·ln2, good to a
	// few ulp.)
	g := New(3)
	for range 200000 {
		x := math.Float64frombits(g.mt.next64() >> 1)
		if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
			continue
		}
		a, b := glibcLog(x), math.Log(x)
		tol := math.Abs(math.Nextafter(b, 0)-b) * 1.01
		if x < 0x1p-1022 {
			b = math.Log(x*0x1p52) - 52*math.Ln2
			tol *= 4
		}
		if d := math.Abs(a - b); d > 0 && d > tol {
			t.Fatalf("glibcLog(%v) = %v, math.Log = %v", x, a, b)
		}
	}
}
