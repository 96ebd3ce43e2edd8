package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// Component is one unit of the suite: a kernel, routine, loss or trainer
// for one dtype, run over all of its cases.
type Component struct {
	// Name is "package/Routine[/variant]/dtype", e.g. "kernels/Dot/f32".
	Name string
	run  func(r *Recorder)
}

// Result is what a component computed at one ISA level and GOMAXPROCS.
type Result struct {
	Name string
	// Sum is the SHA-256 of the exact bits of every output of every case
	// (case names and output labels included, in order).
	Sum [sha256.Size]byte
	// Values is the number of output values hashed (floats, ints and
	// returned scalars, guard elements included).
	Values int
	// Cases holds each case's own hash, for locating a difference.
	Cases []Case
}

// Hex returns Sum in hexadecimal.
func (r Result) Hex() string { return hex.EncodeToString(r.Sum[:]) }

// Case is one call (or a few related calls) of a component with fixed
// inputs.
type Case struct {
	Name   string
	Sum    [sha256.Size]byte
	Values int
	// Outputs holds the recorded outputs themselves; only filled by
	// RunKeep.
	Outputs []Output
}

// Output is one labelled output of a case: a slice or a scalar.
type Output struct {
	Label string
	Kind  byte   // 'f' float32, 'd' float64, 'i' int, 's' text (a panic or error)
	Data  []byte // little-endian IEEE bits / int64s, or the text
}

// Recorder collects the outputs of a component's cases.
type Recorder struct {
	keep  bool
	cases []Case
	cur   *Case
	h     hash.Hash
	buf   []byte
}

// Case runs f as a case named name: f records the outputs with the put
// functions. A panic inside f (on the calling goroutine) is recorded as the
// case's output instead of stopping the suite, so a level that panics
// where another does not shows up as a difference.
func (r *Recorder) Case(name string, f func()) {
	r.cases = append(r.cases, Case{Name: name})
	r.cur = &r.cases[len(r.cases)-1]
	r.h.Reset()
	func() {
		defer func() {
			if e := recover(); e != nil {
				r.Text("panic", fmt.Sprint(e))
			}
		}()
		f()
	}()
	r.h.Sum(r.cur.Sum[:0])
	r.cur = nil
}

// segment hashes one output.
func (r *Recorder) segment(label string, kind byte, n int, data []byte) {
	if r.cur == nil {
		panic("identity: output recorded outside a case")
	}
	var hdr [9]byte
	hdr[0] = kind
	binary.LittleEndian.PutUint64(hdr[1:], uint64(len(data)))
	r.h.Write([]byte(label))
	r.h.Write(hdr[:])
	r.h.Write(data)
	r.cur.Values += n
	if r.keep {
		r.cur.Outputs = append(r.cur.Outputs, Output{Label: label, Kind: kind, Data: append([]byte(nil), data...)})
	}
}

// put records the exact bits of x, except that every NaN other than the
// guard sentinel is recorded as the one quiet NaN: NaN signs and payloads
// are outside the contract (IEEE 754 leaves their propagation open, and
// architectures differ: x86 produces a negative "default NaN" for an
// invalid operation, arm64 a positive one), while "NaN here" is not. The
// sentinel keeps its own bits, so a stray write over a guard element
// still shows.
func put[T kernels.Float](r *Recorder, label string, x []T) {
	b := r.buf[:0]
	kind := byte('d')
	if dtype.Is32[T]() {
		kind = 'f'
		sent := math.Float32bits(float32(sentinel[T]()))
		for _, v := range x {
			u := math.Float32bits(float32(v))
			if v != v && u != sent {
				u = 0x7fc00000
			}
			b = binary.LittleEndian.AppendUint32(b, u)
		}
	} else {
		sent := math.Float64bits(float64(sentinel[T]()))
		for _, v := range x {
			u := math.Float64bits(float64(v))
			if v != v && u != sent {
				u = 0x7ff8000000000000
			}
			b = binary.LittleEndian.AppendUint64(b, u)
		}
	}
	r.buf = b
	r.segment(label, kind, len(x), b)
}

// putMat records a matrix's whole backing array (so that writes outside
// the view, between rows of a strided view, show too).
func putMat[T kernels.Float](r *Recorder, label string, m blas.Matrix[T]) {
	put(r, label, m.Data)
}

// F64 records float64 scalars (losses, accuracies).
func (r *Recorder) F64(label string, v ...float64) { put(r, label, v) }

// Ints records integers (labels, indices).
func (r *Recorder) Ints(label string, v ...int) {
	b := r.buf[:0]
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(x)))
	}
	r.buf = b
	r.segment(label, 'i', len(v), b)
}

// Text records a string (an error or a panic message).
func (r *Recorder) Text(label, s string) { r.segment(label, 's', 1, []byte(s)) }

// Err records an error (or its absence).
func (r *Recorder) Err(label string, err error) {
	if err != nil {
		r.Text(label, err.Error())
	} else {
		r.Text(label, "<nil>")
	}
}

// run runs the component and hashes its cases.
func (c Component) runWith(keep bool) Result {
	prev := blas.Current()
	if err := blas.Use("native"); err != nil {
		panic(err)
	}
	defer blas.Use(prev)
	r := &Recorder{keep: keep, h: sha256.New()}
	c.run(r)
	res := Result{Name: c.Name, Cases: r.cases}
	h := sha256.New()
	for i := range r.cases {
		cs := &r.cases[i]
		h.Write([]byte(cs.Name))
		h.Write([]byte{0})
		h.Write(cs.Sum[:])
		res.Values += cs.Values
	}
	h.Sum(res.Sum[:0])
	return res
}

// Run computes the component at the current ISA level (kernels.ISA()) and
// GOMAXPROCS, on the native blas backend, and returns its hashes.
func (c Component) Run() Result { return c.runWith(false) }

// RunKeep is Run keeping every output, for Diff.
func (c Component) RunKeep() Result { return c.runWith(true) }

// Run computes every component at the current ISA level and GOMAXPROCS.
func Run() []Result {
	var res []Result
	for _, c := range Components() {
		res = append(res, c.Run())
	}
	return res
}

// Diff describes where result a first differs from result b of the same
// component: the case, and, when both were computed with RunKeep, the
// output, the element index (in the output's whole buffer, guard elements
// included) and both values, a's first.
func Diff(a, b Result) string {
	if a.Sum == b.Sum {
		return "identical"
	}
	if len(a.Cases) != len(b.Cases) {
		return fmt.Sprintf("%d cases vs %d", len(a.Cases), len(b.Cases))
	}
	ndiff, first := 0, -1
	for i := range a.Cases {
		if a.Cases[i].Sum != b.Cases[i].Sum || a.Cases[i].Name != b.Cases[i].Name {
			ndiff++
			if first < 0 {
				first = i
			}
		}
	}
	if first < 0 {
		return "same cases, different order"
	}
	ca, cb := a.Cases[first], b.Cases[first]
	s := fmt.Sprintf("%d of %d cases differ, first %s", ndiff, len(a.Cases), ca.Name)
	if len(ca.Outputs) == 0 && len(cb.Outputs) == 0 {
		return s
	}
	return s + ": " + diffOutputs(ca.Outputs, cb.Outputs)
}

func diffOutputs(a, b []Output) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		oa, ob := a[i], b[i]
		if oa.Label != ob.Label || oa.Kind != ob.Kind {
			return fmt.Sprintf("output %d is %s vs %s", i, describe(oa), describe(ob))
		}
		if string(oa.Data) == string(ob.Data) {
			continue
		}
		size := map[byte]int{'f': 4, 'd': 8, 'i': 8}[oa.Kind]
		if size == 0 || len(oa.Data) != len(ob.Data) {
			return fmt.Sprintf("%s: %q vs %q", oa.Label, clip(oa.Data), clip(ob.Data))
		}
		n, nans, first := 0, 0, -1
		for j := 0; j+size <= len(oa.Data); j += size {
			if string(oa.Data[j:j+size]) != string(ob.Data[j:j+size]) {
				n++
				if first < 0 {
					first = j
				}
				if isNaN(oa.Kind, oa.Data[j:j+size]) && isNaN(ob.Kind, ob.Data[j:j+size]) {
					nans++
				}
			}
		}
		s := fmt.Sprintf("%s[%d] = %s vs %s (%d of %d elements differ", oa.Label, first/size,
			fmtElem(oa.Kind, oa.Data[first:first+size]), fmtElem(ob.Kind, ob.Data[first:first+size]), n, len(oa.Data)/size)
		switch {
		case nans == n:
			s += ", all of them NaNs with a different sign or payload"
		case nans > 0:
			s += fmt.Sprintf(", %d of them NaNs with a different sign or payload", nans)
		}
		return s + ")"
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d outputs vs %d", len(a), len(b))
	}
	return "outputs identical (hash differs?)"
}

// describe names an output, with its text if it is one (a panic message).
func describe(o Output) string {
	if o.Kind == 's' {
		return fmt.Sprintf("%s %q", o.Label, clip(o.Data))
	}
	return o.Label
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// isNaN reports whether the element b of the given kind is a NaN.
func isNaN(kind byte, b []byte) bool {
	switch kind {
	case 'f':
		return math.IsNaN(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case 'd':
		return math.IsNaN(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	}
	return false
}

func fmtElem(kind byte, b []byte) string {
	switch kind {
	case 'f':
		u := binary.LittleEndian.Uint32(b)
		return fmt.Sprintf("%v (%#08x)", math.Float32frombits(u), u)
	case 'd':
		u := binary.LittleEndian.Uint64(b)
		return fmt.Sprintf("%v (%#016x)", math.Float64frombits(u), u)
	}
	return fmt.Sprint(int64(binary.LittleEndian.Uint64(b)))
}

// Difference is one component that does not give the reference's bits.
type Difference struct {
	Component string
	// Level and Procs say where it was computed; RefLevel and RefProcs
	// what it was compared with.
	Level, RefLevel kernels.Level
	Procs, RefProcs int
	Detail          string // Diff's description, this side's values first
}

func (d Difference) String() string {
	return d.Component + ": " + d.Where() + ": " + d.Detail
}

// Where says what was compared with what: "avx2 vs generic" (at
// GOMAXPROCS Procs) or "avx2 GOMAXPROCS=2 vs GOMAXPROCS=1".
func (d Difference) Where() string {
	if d.Procs == d.RefProcs {
		return fmt.Sprintf("%s vs %s", d.Level, d.RefLevel)
	}
	return fmt.Sprintf("%s GOMAXPROCS=%d vs GOMAXPROCS=%d", d.Level, d.Procs, d.RefProcs)
}

// Report is the outcome of Check.
type Report struct {
	Levels []kernels.Level // as checked, the reference (Generic) first
	Procs  []int
	// Results holds each level's results (at Procs[0]), in the order of
	// the components checked.
	Results map[kernels.Level][]Result
	// Differences lists every component and level (or GOMAXPROCS) whose
	// hash differs from the reference: Generic at Procs[0].
	Differences []Difference
	// Time is the time each level took (all GOMAXPROCS values).
	Time map[kernels.Level]time.Duration
}

// Check runs the components comps (all of Components() if nil) at every
// level in levels (each must be available: see kernels.Levels) and, at each
// level, at every GOMAXPROCS in procs, and compares every component's hash
// with the reference: the Generic level at procs[0]. Generic is added to levels if missing. For each differing
// component it reruns both sides keeping the outputs, to say where they
// first differ. logf, if not nil, receives a line per level with its time.
// Check changes the ISA level and GOMAXPROCS while it runs and restores them;
// nothing else may run kernels concurrently.
func Check(levels []kernels.Level, procs []int, comps []Component, logf func(format string, args ...any)) *Report {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ls := []kernels.Level{kernels.Generic}
	for _, l := range levels {
		if l != kernels.Generic {
			ls = append(ls, l)
		}
	}
	rep := &Report{Levels: ls, Procs: procs, Results: map[kernels.Level][]Result{}, Time: map[kernels.Level]time.Duration{}}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if comps == nil {
		comps = Components()
	}
	var ref []Result
	for _, l := range ls {
		restore := kernels.SetISA(l)
		start := time.Now()
		res := make([]Result, len(comps))
		for i, c := range comps {
			for j, p := range procs {
				runtime.GOMAXPROCS(p)
				r := c.Run()
				if j == 0 {
					res[i] = r
					continue
				}
				if r.Sum != res[i].Sum {
					rep.Differences = append(rep.Differences, Difference{
						Component: c.Name, Level: l, RefLevel: l, Procs: p, RefProcs: procs[0],
						Detail: rerunDiff(c, l, p, l, procs[0]),
					})
				}
			}
		}
		rep.Results[l] = res
		rep.Time[l] = time.Since(start)
		restore()
		logf("identity: level %s: %d components at GOMAXPROCS %v in %v", l, len(comps), procs, rep.Time[l].Round(time.Millisecond))
		if l == kernels.Generic {
			ref = res
			continue
		}
		for i, c := range comps {
			if res[i].Sum != ref[i].Sum {
				rep.Differences = append(rep.Differences, Difference{
					Component: c.Name, Level: l, RefLevel: kernels.Generic, Procs: procs[0], RefProcs: procs[0],
					Detail: rerunDiff(c, l, procs[0], kernels.Generic, procs[0]),
				})
			}
		}
	}
	return rep
}

// rerunDiff reruns c at (l1, p1) and at the reference (l2, p2) keeping the
// outputs and describes the first difference, (l1, p1)'s values first.
func rerunDiff(c Component, l1 kernels.Level, p1 int, l2 kernels.Level, p2 int) string {
	at := func(l kernels.Level, p int) Result {
		restore := kernels.SetISA(l)
		defer restore()
		prev := runtime.GOMAXPROCS(p)
		defer runtime.GOMAXPROCS(prev)
		return c.RunKeep()
	}
	a, b := at(l1, p1), at(l2, p2)
	d := Diff(a, b)
	if a.Sum == b.Sum {
		d = "not reproducible: identical when rerun"
	}
	return d
}

// Names returns the component names in order.
func Names() []string {
	var s []string
	for _, c := range Components() {
		s = append(s, c.Name)
	}
	return s
}

// Lines formats results as "component<TAB>sha256" lines, the format of
// the NNKERN_IDENTITY_OUT file.
func Lines(res []Result) string {
	var b strings.Builder
	for _, r := range res {
		fmt.Fprintf(&b, "%s\t%s\n", r.Name, r.Hex())
	}
	return b.String()
}
