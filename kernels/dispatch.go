package kernels

import (
	"fmt"
	"sort"
	"unsafe"
)

func checkLen(kernel, an string, a int, bn string, b int) {
	if a != b {
		panic(fmt.Sprintf("kernels.%s: len(%s)=%d != len(%s)=%d", kernel, an, a, bn, b))
	}
}

// checkDim panics unless the slice named an has length n, the size dim of
// the matrix argument that dn names ("cols", "rows").
func checkDim(kernel, an string, n int, dn string, dim int) {
	if n != dim {
		panic(fmt.Sprintf("kernels.%s: len(%s)=%d != %s=%d", kernel, an, n, dn, dim))
	}
}

// checkMat panics unless data holds a rows×cols matrix with the given stride.
func checkMat(kernel, name string, n, rows, cols, stride int) {
	if rows < 0 || cols < 0 || stride < cols || (rows > 0 && n < (rows-1)*stride+cols) {
		panic(fmt.Sprintf("kernels.%s: %s: len=%d does not hold rows=%d cols=%d stride=%d", kernel, name, n, rows, cols, stride))
	}
}

// p32 and p64 return the first element's address of x as a *float32 or
// *float64; they are only called for the matching T. For an empty slice they
// may return nil, which the assembly never dereferences.
func p32[T Float](x []T) *float32 { return (*float32)(unsafe.Pointer(unsafe.SliceData(x))) }
func p64[T Float](x []T) *float64 { return (*float64)(unsafe.Pointer(unsafe.SliceData(x))) }

// kernelID numbers the kernels that have assembly, for the call counters
// the tests use to prove that the assembly really runs.
type kernelID int

const (
	kDot kernelID = iota
	kAxpy
	kScale
	kAddTo
	kSubFrom
	kMulTo
	kSum
	kSumSq
	kSumSq64
	kMax
	kArgMax
	kAddBias
	kColSum
	kRowMax
	kReLU
	kBiasReLU
	kReLUBackward
	kExp
	kSoftmaxRows
	kSoftmaxCERows
	kHingeRows
	kU8ToFloat
	kMomentumStep
	kRMSPropStep
	kAdamStep
	numKernels
)

var kernelNames = [numKernels]string{
	"Dot", "Axpy", "Scale", "AddTo", "SubFrom", "MulTo", "Sum", "SumSq", "SumSq64", "Max", "ArgMax",
	"AddBias", "ColSum", "RowMax", "ReLU", "BiasReLU", "ReLUBackward", "Exp",
	"SoftmaxRows", "SoftmaxCERows", "HingeRows", "U8ToFloat",
	"MomentumStep", "RMSPropStep", "AdamStep",
}

// traceAsm turns on the counters of assembly calls per level and kernel
// (tests only; not safe for concurrent use).
var (
	traceAsm bool
	asmCalls [AVX512 + 1][numKernels]int
)

// trace counts a call of kernel k's assembly at the current level (the
// dispatchers call it once they have chosen the assembly of that level).
func trace(k kernelID) {
	if traceAsm {
		asmCalls[level][k]++
	}
}

// Kernels returns the names of the exported kernels, sorted.
func Kernels() []string {
	s := make([]string, 0, numKernels)
	for _, n := range kernelNames {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// Implemented returns the ISA levels for which the named kernel has an
// implementation in this build, highest first (Generic is always last), or
// nil for an unknown name.
func Implemented(kernel string) []Level {
	for k, n := range kernelNames {
		if n == kernel {
			var ls []Level
			for l := AVX512; l > Generic; l-- {
				if asmLevel[k] >= l {
					ls = append(ls, l)
				}
			}
			return append(ls, Generic)
		}
	}
	return nil
}

// Dispatched reports the level at which the named kernel runs now: the
// highest level it is implemented for that does not exceed ISA(). It
// returns Generic for an unknown name.
func Dispatched(kernel string) Level {
	for _, l := range Implemented(kernel) {
		if l <= level {
			return l
		}
	}
	return Generic
}
