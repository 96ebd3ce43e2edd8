//go:build !amd64 || !gc || purego

package kernels

func detectLevel() Level { return Generic }
