//go:build !amd64 || !gc || purego

package kernels

// asmLevel is the highest level each kernel has assembly for in this build:
// none.
var asmLevel [numKernels]Level
