// Package dtype answers, once for the whole module, what generic code asks
// of its element type T (float32 or float64): whether it is float32, its
// size in bytes, and which of two per-type values (workspace pools, free
// lists) belongs to it.
//
//	if dtype.Is32[T]() { ... float32 path ... } else { ... float64 path ... }
//	line := 64 / dtype.Size[T]() // elements per cache line
//
//	var pools dtype.PerType[sync.Pool] // one pool per element type
//	p := dtype.Of[T](&pools)           // T's pool
//
// Each answer is a constant of the instantiation: the functions inline and
// the compiler folds the branch away, so they cost nothing in hot loops
// (go build -gcflags=-m reports "inlining call to dtype.Is32").
//
// It imports nothing of nnkern's, so every package may use it.
package dtype

import "unsafe"

// Float is nnkern's element types (the type set of kernels.Float).
type Float interface {
	~float32 | ~float64
}

// Is32 reports whether T is float32.
func Is32[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// Size returns the size of a T in bytes: 4 or 8.
func Size[T Float]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

// PerType holds one V for each element type. The zero value is ready to
// use when V's is.
type PerType[V any] struct {
	v [2]V
}

// Of returns T's V in p.
func Of[T Float, V any](p *PerType[V]) *V {
	return &p.v[Size[T]()/8]
}
