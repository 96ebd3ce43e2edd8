//go:build !linux

package bench

// allowedCPUs: no sysfs outside Linux, the cpuid figures stand.
func allowedCPUs() []int { return nil }
