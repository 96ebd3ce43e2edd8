package pool

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cpuNow returns the CPU the calling thread runs on (getcpu(2)).
func cpuNow() int {
	var cpu uint32
	unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0)
	return int(cpu)
}

// BenchmarkGroupCallerMoves runs two-task steps of ~20 µs back to back
// and reports the fraction of steps after which the caller runs on
// another CPU than before (moves/step). The callers partition their data
// by task number and the caller takes task 0, so a move sends a step's
// data to the other core's cache; Group.wait polls for the done signal
// rather than sleeping on it because sleeping moved the caller in most
// steps. A diagnostic, not a pass/fail check: the scheduler and the
// operating system decide.
func BenchmarkGroupCallerMoves(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		b.Skip("needs GOMAXPROCS >= 2 and two CPUs")
	}
	var g Group
	moves, last := 0, cpuNow()
	for b.Loop() {
		g.Run(2, func(int) { busyFor(20 * time.Microsecond) })
		if c := cpuNow(); c != last {
			moves, last = moves+1, c
		}
	}
	b.ReportMetric(float64(moves)/float64(b.N), "moves/step")
}
