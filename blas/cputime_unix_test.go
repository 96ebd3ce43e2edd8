//go:build unix

package blas

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) this process used so far.
// Benchmarks divide work by it as well as by wall time: on a shared machine
// the per-CPU-second rate is far less disturbed by time slicing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
