//go:build openblas && cgo

// Package openblascore names the kernel set OpenBLAS selected on this CPU
// (openblas_get_corename), so that the bench rows of the openblas backend
// say which ISA really ran. It is empty in builds without the openblas tag.
package openblascore

/*
char *openblas_get_corename(void);
*/
import "C"

import "strings"

// Name returns OpenBLAS's core name in lower case (e.g. "zen", "haswell",
// "skylakex").
func Name() string { return strings.ToLower(C.GoString(C.openblas_get_corename())) }
