//go:build !amd64 || !gc || purego

package kernels

import "runtime"

func cpuName() string { return runtime.GOARCH + " (no assembly in this build)" }
