package bench

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/nnkern/nnkern/kernels"
)

// The peak probes. Every other row's "% of peak" is a fraction of these,
// measured in the same process:
//
//   - peak/fma/{f32,f64}/go/isa=generic: a plain Go loop of 12 independent
//     chains a = a·m + c (a scalar multiply and then an add, never fused:
//     2 FLOPs; see fmaGo) — what code without SIMD can reach.
//   - peak/fma/{f32,f64}/asm/isa=avx2 (and isa=avx512 where the CPU has
//     it): 12 (24) independent chains of one vector FMA each, 4 rounds per
//     loop trip, acc = m·acc + c with m = 0.5, c = 1 (the chains converge to
//     2: no overflow, no denormals). Zen 3 has two 256-bit FMA pipes of
//     latency 4: 8 chains suffice, 12 leave margin.
//   - peak/read/asm: streaming 32-byte loads over a 256 MiB buffer split
//     between the threads; peak/copy/go: the runtime's copy of 128 MiB.
//   - peak/clock/asm: a chain of dependent one-cycle integer adds; its rate
//     is the core clock, the independent check of the FMA probe (a core
//     with two FMA pipes does 2·lanes·2 FLOP per cycle).
//
// With T threads each of T goroutines runs the same probe (its own slice of
// the buffer for the memory probes) and the FLOPs or bytes add up.

// fmaTrips is the number of loop trips of one probe operation (about a
// millisecond for the AVX2 probe at 3 GHz).
const fmaTrips = 1 << 16

// fmaGo is the generic FMA probe: trips×12 independent multiply-adds
// (24 FLOPs per trip). It returns the sum of the chains. float32 and
// float64 are different GC shapes, so each gets its own compiled body.
//
// Each multiply-add is a rounded multiply and then an add, T(a·m) + c:
// the explicit conversion keeps the compiler from fusing them (it fuses
// a·m + c into one FMA on arm64 and for GOAMD64=v3, not for v1), so the
// probe measures the same two instructions in every build, the unfused
// scalar arithmetic of the generic level's elementwise code. (A fused Go
// multiply-add is math.FMA, which below v3 carries a CPU-feature branch.)
func fmaGo[T float32 | float64](trips int, m, c T) T {
	// Distinct starting values, so the compiler cannot merge the chains.
	a0, a1, a2, a3, a4, a5 := T(0), 0.01*c, 0.02*c, 0.03*c, 0.04*c, 0.05*c
	a6, a7, a8, a9, a10, a11 := 0.06*c, 0.07*c, 0.08*c, 0.09*c, 0.10*c, 0.11*c
	for i := 0; i < trips; i++ {
		a0 = T(a0*m) + c
		a1 = T(a1*m) + c
		a2 = T(a2*m) + c
		a3 = T(a3*m) + c
		a4 = T(a4*m) + c
		a5 = T(a5*m) + c
		a6 = T(a6*m) + c
		a7 = T(a7*m) + c
		a8 = T(a8*m) + c
		a9 = T(a9*m) + c
		a10 = T(a10*m) + c
		a11 = T(a11*m) + c
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
}

// fmaProbe runs the FMA probe of level for trips trips and returns the
// FLOPs performed and the sum of its accumulators.
func fmaProbe(level kernels.Level, f64 bool, trips int) (flops, sum float64) {
	if level == kernels.Generic {
		if f64 {
			return float64(trips) * 24, fmaGo[float64](trips, 0.5, 1)
		}
		return float64(trips) * 24, float64(fmaGo[float32](trips, 0.5, 1))
	}
	flops, sum, ok := fmaAsm(level, f64, trips)
	if !ok {
		panic(fmt.Sprintf("bench: no FMA probe for %s", level))
	}
	return flops, sum
}

// probeLevels lists the levels with an FMA probe this machine can run.
func probeLevels() []kernels.Level {
	var ls []kernels.Level
	for _, l := range kernels.Levels() {
		if l == kernels.Generic || asmProbes {
			ls = append(ls, l)
		}
	}
	return ls
}

// parallel runs f(t) on threads goroutines and waits.
func parallel(threads int, f func(t int)) {
	if threads == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			f(t)
		}(t)
	}
	wg.Wait()
}

// sink keeps the probes' results alive.
var sink struct {
	sync.Mutex
	f float64
	u uint64
}

func keep(f float64, u uint64) {
	sink.Lock()
	sink.f += f
	sink.u ^= u
	sink.Unlock()
}

const (
	readBytes = 256 << 20 // read probe buffer (8× a 32 MiB L3)
	copyBytes = 128 << 20 // copy probe: src and dst each
)

func peakCases() []*Case {
	var cs []*Case
	all := runtime.NumCPU()
	for _, th := range threadCounts(all) {
		th := th
		for _, l := range probeLevels() {
			for _, f64 := range []bool{false, true} {
				l, f64 := l, f64
				impl := "asm"
				if l == kernels.Generic {
					impl = "go"
				}
				dt := "f32"
				if f64 {
					dt = "f64"
				}
				flops, _ := fmaProbeFLOPs(l, f64, fmaTrips)
				cs = append(cs, &Case{
					Family: "peak", Op: "fma", DType: dt, Impl: impl, Level: l, Threads: th,
					Shape: fmt.Sprintf("trips=%d", fmaTrips),
					FLOPs: flops * float64(th), Peak: PeakFMA, ShortSamples: true,
					Setup: func(tiny bool) (Op, error) {
						trips := fmaTrips
						if tiny {
							trips = 16
						}
						return Op{Run: func(n int) {
							parallel(th, func(int) {
								var s float64
								for i := 0; i < n; i++ {
									_, v := fmaProbe(l, f64, trips)
									s += v
								}
								keep(s, 0)
							})
						}}, nil
					},
				})
			}
		}
		cs = append(cs, &Case{
			Family: "peak", Op: "read", Impl: readImpl, Level: CurrentLevel, Threads: th,
			Shape: fmt.Sprintf("bytes=%dMiB", readBytes>>20), Bytes: readBytes, Peak: PeakRead, ShortSamples: true,
			Setup: func(tiny bool) (Op, error) {
				size := readBytes
				if tiny {
					size = 64 << 10
				}
				buf := make([]byte, size)
				for i := range buf {
					buf[i] = byte(i * 7)
				}
				part := size / th &^ 255
				return Op{Run: func(n int) {
					parallel(th, func(t int) {
						var x uint64
						p := buf[t*part : (t+1)*part]
						for i := 0; i < n; i++ {
							x ^= readBuf(p)
						}
						keep(0, x)
					})
				}}, nil
			},
		})
		cs = append(cs, &Case{
			Family: "peak", Op: "copy", Impl: "go", Level: CurrentLevel, Threads: th,
			Shape: fmt.Sprintf("bytes=%dMiB", copyBytes>>20), Bytes: 2 * copyBytes, ShortSamples: true,
			Setup: func(tiny bool) (Op, error) {
				size := copyBytes
				if tiny {
					size = 64 << 10
				}
				src, dst := make([]byte, size), make([]byte, size)
				for i := range src {
					src[i] = byte(i)
					dst[i] = byte(i >> 8)
				}
				part := size / th
				return Op{Run: func(n int) {
					parallel(th, func(t int) {
						for i := 0; i < n; i++ {
							copy(dst[t*part:(t+1)*part], src[t*part:(t+1)*part])
						}
					})
				}}, nil
			},
		})
	}
	if clockTrip > 0 {
		cs = append(cs, &Case{
			Family: "peak", Op: "clock", Impl: "asm", Level: CurrentLevel, Threads: 1,
			Shape: fmt.Sprintf("adds=%d", clockTrip*fmaTrips), Cycles: clockTrip * fmaTrips, ShortSamples: true,
			Setup: func(tiny bool) (Op, error) {
				trips := fmaTrips
				if tiny {
					trips = 16
				}
				return Op{Run: func(n int) {
					var x uint64
					for i := 0; i < n; i++ {
						x += clockChain(trips)
					}
					keep(0, x)
				}}, nil
			},
		})
	}
	return cs
}

// fmaProbeFLOPs is the FLOP count of one probe call, without running it.
func fmaProbeFLOPs(l kernels.Level, f64 bool, trips int) (float64, bool) {
	if l == kernels.Generic {
		return float64(trips) * 24, true
	}
	chains, lanes := fmaChainsAsm(l, f64)
	return float64(trips * 4 * chains * lanes * 2), chains > 0 // integer: no float multiply for the compiler to fuse
}

// flopsPerCycle is the FMA peak per core and cycle of a core with two FMA
// pipes of the given level's width (Zen 3, Zen 4 and Intel since Haswell
// for AVX2; two 512-bit pipes for AVX-512 on Zen 5 and server Intel), or 0
// when there is no such rule (generic).
func flopsPerCycle(l kernels.Level, f64 bool) float64 {
	lanes := 0.0
	switch l {
	case kernels.AVX2:
		lanes = 8
	case kernels.AVX512:
		lanes = 16
	default:
		return 0
	}
	if f64 {
		lanes /= 2
	}
	return 2 * 2 * lanes
}

func init() { registerGen(peakCases) }
