package bench

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allowedCPUs lists the CPUs this process may run on (sched_getaffinity),
// or nil if the call fails.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := 0; i < len(set)*int(unsafe.Sizeof(set[0]))*8 && len(cpus) < set.Count(); i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}
