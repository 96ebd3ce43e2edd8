//go:build !openblas || !cgo

// Package openblascore names the kernel set OpenBLAS selected on this CPU
// (openblas_get_corename), so that the bench rows of the openblas backend
// say which ISA really ran. It is empty in builds without the openblas tag.
package openblascore

// Name returns "" in builds without OpenBLAS.
func Name() string { return "" }
