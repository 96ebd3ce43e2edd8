package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/nnkern/nnkern/internal/envcheck"
)

// Level is an instruction-set level the kernels can run at. Higher levels
// include the lower ones.
type Level int

// The ISA levels, lowest first.
const (
	// Generic is the pure-Go implementation, available everywhere.
	Generic Level = iota
	// AVX2 needs AVX, AVX2, FMA3 and POPCNT.
	AVX2
	// AVX512 needs AVX-512 F, DQ, BW and VL.
	AVX512
)

// String returns the level's name as NNKERN_ISA spells it.
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses a level name: "generic", "avx2" or "avx512".
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic", "purego", "go":
		return Generic, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512":
		return AVX512, nil
	}
	return Generic, fmt.Errorf("kernels: unknown ISA level %q (want avx512, avx2 or generic)", s)
}

var (
	// detected is the best level this CPU and build support.
	detected Level
	// level is the level kernels dispatch to.
	level Level
	// envErr records a bad NNKERN_ISA value.
	envErr error
)

func init() {
	detected = detectLevel()
	level = detected
	if s, ok := os.LookupEnv("NNKERN_ISA"); ok && s != "" {
		l, err := ParseLevel(s)
		switch {
		case err != nil:
			envErr = fmt.Errorf("NNKERN_ISA: %w", err)
		case l > detected:
			envErr = fmt.Errorf("NNKERN_ISA=%s: this CPU (or build) supports at most %s", l, detected)
		default:
			level = l
		}
	}
	envcheck.Register("NNKERN_ISA", func() error { return envErr })
}

// ISA reports the level the kernels currently dispatch to.
func ISA() Level { return level }

// Detected reports the best level this CPU and build support, regardless of
// NNKERN_ISA and SetISA.
func Detected() Level { return detected }

// AllLevels returns every level the package knows, highest first, whether
// or not this CPU has it (tests run a subtest per level and skip, saying
// so, the ones Levels leaves out).
func AllLevels() []Level { return []Level{AVX512, AVX2, Generic} }

// Levels returns every level this CPU and build can run, highest first.
// Tests iterate over it to cover each implementation.
func Levels() []Level {
	var ls []Level
	for l := detected; l >= Generic; l-- {
		ls = append(ls, l)
	}
	return ls
}

// EnvError reports every bad value of an NNKERN_* environment variable
// that the program's nnkern packages read, as one error naming each
// variable, or nil:
//
//   - NNKERN_ISA (this package): an unknown level or one this CPU lacks;
//     the kernels run at the best detected level.
//   - NNKERN_BLAS (package blas): an unknown or not compiled-in backend;
//     the native one runs. It is checked even if blas has not been used.
//   - NNKERN_POOL_SPIN (the worker pool of blas, softmax and cifar): not a
//     duration in [0, 1s]; idle workers poll for the default 50µs.
//   - NNKERN_LOAD_LIMIT (the file readers): not a byte count; every load
//     fails with this error until it is fixed.
//
// Only the variables of packages linked into the program are checked.
// nnkern prints no warning about them: a program that embeds it should
// call EnvError once at start-up and report or refuse a non-nil result
// (the nnkern command exits with status 2). The error's message is one
// line; it unwraps (errors.Is, errors.As) to one error per variable.
func EnvError() error { return envcheck.All() }

// SetISA makes the kernels dispatch to level l and returns a function that
// restores the previous level. It panics if the CPU lacks l. It is meant
// for tests and benchmarks and must not be called while kernels run
// concurrently.
func SetISA(l Level) (restore func()) {
	if l < Generic || l > detected {
		panic(fmt.Sprintf("kernels.SetISA(%s): this CPU (or build) supports at most %s", l, detected))
	}
	prev := level
	level = l
	return func() { level = prev }
}
