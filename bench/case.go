package bench

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/nnkern/nnkern/kernels"
)

// PeakKind says which measured peak a case's throughput is a fraction of.
type PeakKind int

const (
	// NoPeak: the case shows no % of peak (e.g. exp, whose FLOP count is
	// a matter of definition).
	NoPeak PeakKind = iota
	// PeakFMA: GFLOP/s as a fraction of the best FMA probe of this machine
	// (any ISA level) for the same dtype and thread count.
	PeakFMA
	// PeakRead: GB/s as a fraction of the streaming-read bandwidth for the
	// same thread count (for working sets far beyond the last-level cache).
	PeakRead
)

// String names the peak kind as the JSON and Markdown reports do.
func (k PeakKind) String() string {
	switch k {
	case PeakFMA:
		return "fma"
	case PeakRead:
		return "read"
	}
	return ""
}

// CurrentLevel as a Case.Level means: run at whatever level the kernels
// dispatch to when the case starts (the runner's, NNKERN_ISA or SetISA's).
const CurrentLevel kernels.Level = -1

// Op is one prepared benchmark operation.
type Op struct {
	// Run performs the operation n times.
	Run func(n int)
	// Close releases what Setup allocated (may be nil).
	Close func()
	// ISA, if non-nil, names the instruction set the operation really used
	// (for implementations outside the kernels' dispatch, e.g. OpenBLAS);
	// by default a row reports kernels.ISA() as it was during the run.
	ISA func() string
}

// Case is one registered benchmark: an operation on one shape, dtype,
// implementation, ISA level and thread count.
type Case struct {
	// Family groups cases: "peak", "kernels", "gemm", "loss", "twolayer",
	// "train".
	Family string
	// Op names the operation within the family ("Dot", "NN", "fma", ...).
	Op string
	// DType is "f32", "f64" or "" when it does not apply.
	DType string
	// Impl names the implementation ("nnkern", "math", "native", "gonum",
	// "openblas", "naive", "vectorized", "fused", "asm", "go", ...).
	Impl string
	// Level is the kernels ISA level the case forces with kernels.SetISA,
	// or CurrentLevel.
	Level kernels.Level
	// Threads is the GOMAXPROCS the case runs with (and, for the peak
	// probes, the number of goroutines).
	Threads int
	// Shape describes the problem size ("n=3072", "200x3072x200").
	Shape string
	// FLOPs and Bytes are the floating-point operations and the bytes of
	// memory traffic of one operation; zero when not meaningful.
	FLOPs, Bytes float64
	// Cycles is the number of core clock cycles one operation takes by
	// construction (only the clock probe sets it).
	Cycles float64
	// Peak selects the peak the row is a fraction of.
	Peak PeakKind
	// Compare lists the variants ("impl" or "impl/isa") of the same group
	// (same family, op, dtype, threads and shape) this case's speed-up is
	// reported against; the first one present is the headline speed-up.
	Compare []string
	// MinSamples overrides the runner's minimum number of timed samples
	// (long cases such as training runs use fewer).
	MinSamples int
	// NoWarmup skips the untimed warm-up operation (for cases that take
	// seconds per operation, whose first run is a fair sample).
	NoWarmup bool
	// ShortSamples makes every timed sample a single operation (and allows
	// many samples): the peak probes use it so that the best sample is one
	// no other process interrupted.
	ShortSamples bool
	// Slow marks cases that take seconds per operation (e.g. gonum on
	// 2048³); they run only with Options.Slow (--slow).
	Slow bool
	// Setup prepares the operation; tiny asks for a minimal problem size
	// (the harness's smoke test and --smoke).
	Setup func(tiny bool) (Op, error)
}

// LevelName is the case's requested level as a string ("current" for
// CurrentLevel).
func (c *Case) LevelName() string {
	if c.Level == CurrentLevel {
		return "current"
	}
	return c.Level.String()
}

// Name is the case's unique path, used by --filter and --list:
// family/op/dtype/impl/isa=L/threads=T/shape (empty parts left out).
func (c *Case) Name() string {
	parts := []string{c.Family, c.Op}
	if c.DType != "" {
		parts = append(parts, c.DType)
	}
	parts = append(parts, c.Impl)
	if c.Level != CurrentLevel {
		parts = append(parts, "isa="+c.Level.String())
	}
	parts = append(parts, fmt.Sprintf("threads=%d", c.Threads))
	if c.Shape != "" {
		parts = append(parts, c.Shape)
	}
	return strings.Join(parts, "/")
}

// group is the key of the rows a case's speed-up compares within.
func (c *Case) group() string {
	return strings.Join([]string{c.Family, c.Op, c.DType, fmt.Sprint(c.Threads), c.Shape}, "|")
}

var (
	regMu      sync.Mutex
	registry   []*Case
	regBuilt   bool
	generators []func() []*Case
)

// Register adds cases to the registry. It panics on a duplicate name.
// Packages that embed the harness may register their own.
func Register(cs ...*Case) {
	regMu.Lock()
	defer regMu.Unlock()
	buildLocked()
	seen := map[string]bool{}
	for _, c := range registry {
		seen[c.Name()] = true
	}
	for _, c := range cs {
		if seen[c.Name()] {
			panic("bench.Register: duplicate case " + c.Name())
		}
		if c.Setup == nil || c.Threads < 1 {
			panic("bench.Register: case " + c.Name() + " needs Setup and Threads ≥ 1")
		}
		seen[c.Name()] = true
		registry = append(registry, c)
	}
}

// registerGen adds a generator of built-in cases; generators run once, the
// first time the registry is read (after flags such as the thread count
// are known: they read runtime.NumCPU()).
func registerGen(g func() []*Case) { generators = append(generators, g) }

func buildLocked() {
	if regBuilt {
		return
	}
	regBuilt = true
	for _, g := range generators {
		registry = append(registry, g()...)
	}
	seen := map[string]bool{}
	for _, c := range registry {
		if seen[c.Name()] {
			panic("bench: duplicate built-in case " + c.Name())
		}
		seen[c.Name()] = true
	}
}

// Cases returns every registered case in registration order (built-in
// cases first). The slice is a copy; the cases are shared.
func Cases() []*Case {
	regMu.Lock()
	defer regMu.Unlock()
	buildLocked()
	return append([]*Case(nil), registry...)
}

// Families returns the sorted family names of the registered cases.
func Families() []string {
	m := map[string]bool{}
	for _, c := range Cases() {
		m[c.Family] = true
	}
	var fs []string
	for f := range m {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

// threadCounts is 1 and the machine's logical CPU count (once if equal).
func threadCounts(all int) []int {
	if all <= 1 {
		return []int{1}
	}
	return []int{1, all}
}

func dtypeName[T kernels.Float]() string {
	var z T
	if _, ok := any(z).(float32); ok {
		return "f32"
	}
	return "f64"
}

func sizeOf[T kernels.Float]() float64 {
	if dtypeName[T]() == "f32" {
		return 4
	}
	return 8
}
