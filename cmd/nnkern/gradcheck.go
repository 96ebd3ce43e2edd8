package main

import (
	"fmt"
	"io"
	"math"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/gradcheck"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

// Published figures of the reference notebooks.
const (
	refToyLoss      = 1.30378789133
	refToyTrainLoss = 0.017149607938732048
)

type gcRow struct {
	name      string
	reg       float64
	relErr    float64
	threshold float64
	note      string
	ok        bool
}

func printGC(w io.Writer, rows []gcRow) int {
	fmt.Fprintf(w, "%-34s %8s %14s %10s  %s\n", "check", "reg", "rel error", "threshold", "result")
	failed := 0
	for _, r := range rows {
		res := "ok"
		if !r.ok {
			res = "FAIL"
			failed++
		}
		if r.note != "" {
			res += " (" + r.note + ")"
		}
		fmt.Fprintf(w, "%-34s %8g %14.3e %10.0e  %s\n", r.name, r.reg, r.relErr, r.threshold, res)
	}
	return failed
}

// toyNet builds the notebook's toy problem: the net from seed 0 and
// X = 10·randn(5, 4) from seed 1, y = [0 1 2 2 1].
func toyNet() (*twolayer.Net[float64], blas.Matrix[float64], []int) {
	rng := nprand.New(0)
	net := twolayer.New[float64](4, 10, 3, 0.1, rng)
	rng.Seed(1)
	X := blas.NewMatrix[float64](5, 4)
	for i := range X.Data {
		X.Data[i] = 10 * rng.StandardNormal()
	}
	return net, X, []int{0, 1, 2, 2, 1}
}

func gcTwoLayer() []gcRow {
	net, X, y := toyNet()
	const reg = 0.05
	loss, g := net.Loss(X, y, reg)
	rows := []gcRow{{name: "twolayer toy loss vs notebook", reg: reg, relErr: math.Abs(loss-refToyLoss) / refToyLoss, threshold: 1e-10,
		note: fmt.Sprintf("%.11f vs %.11f", loss, refToyLoss)}}
	rows[0].ok = rows[0].relErr < 1e-10
	f := func() float64 { l, _ := net.Loss(X, y, reg); return l }
	for _, p := range []struct {
		name    string
		x, grad []float64
	}{{"W1", net.W1.Data, g.W1.Data}, {"b1", net.B1, g.B1}, {"W2", net.W2.Data, g.W2.Data}, {"b2", net.B2, g.B2}} {
		num := gradcheck.Numerical(f, p.x, 1e-5)
		e := gradcheck.RelError(num, p.grad)
		rows = append(rows, gcRow{name: "twolayer toy " + p.name + " (all elements)", reg: reg, relErr: e, threshold: 1e-8, ok: e < 1e-8})
	}
	return rows
}

// gcLinear runs the notebook's sparse checks (10 elements, h = 1e-5) on
// random CIFAR-shaped data for reg 0 and 50. Elements whose numerical
// estimate is dominated by roundoff are judged by their absolute error
// against gradcheck.RoundoffBound; for the SVM an element at a kink of the
// hinge (one-sided differences disagree) is reported and not counted.
func gcLinear(kind string) []gcRow {
	const N, D, C, h = 500, 3073, 10, 1e-5
	rng := nprand.New(0)
	X := blas.NewMatrix[float64](N, D)
	for i := 0; i < N; i++ {
		r := X.Row(i)
		for j := 0; j < D-1; j++ {
			r[j] = 60 * rng.StandardNormal() // zero-mean pixels have std ≈ 60
		}
		r[D-1] = 1
	}
	y := make([]int, N)
	for i := range y {
		y[i] = rng.Randint(0, C)
	}
	W := blas.NewMatrix[float64](D, C)
	for i := range W.Data {
		W.Data[i] = 1e-4 * rng.StandardNormal()
	}
	// The fused fast paths the trainers use (softmax.Loss / SVMLoss).
	lossFn := softmax.Loss[float64]
	if kind == "svm" {
		lossFn = softmax.SVMLoss[float64]
	}
	var rows []gcRow
	for _, reg := range []float64{0, 50} {
		loss, g := lossFn(W, X, y, reg)
		f := func() float64 { l, _ := lossFn(W, X, y, reg); return l }
		checks := gradcheck.Sparse(f, W.Data, g.Data, 10, h, rng)
		bound := gradcheck.RoundoffBound(loss, h, N)
		worst, kinks, roundoff := 0.0, 0, 0
		ok := true
		for _, c := range checks {
			if c.RelError < 1e-6 {
				worst = math.Max(worst, c.RelError)
				continue
			}
			if math.Abs(c.Numerical-c.Analytic) <= 4*bound {
				roundoff++
				continue
			}
			if kind == "svm" {
				x := W.Data[c.Index]
				f0 := f()
				W.Data[c.Index] = x + h
				fp := f()
				W.Data[c.Index] = x - h
				fm := f()
				W.Data[c.Index] = x
				fwd, bwd := (fp-f0)/h, (f0-fm)/h
				if math.Abs(fwd-bwd) > float64(1e-6*(math.Abs(fwd)+math.Abs(bwd)))+float64(4*bound) {
					kinks++
					continue
				}
			}
			worst = math.Max(worst, c.RelError)
			ok = false
		}
		note := fmt.Sprintf("loss %.6f", loss)
		if roundoff > 0 {
			note += fmt.Sprintf(", %d roundoff-limited elements within %.1e absolute", roundoff, 4*bound)
		}
		if kinks > 0 {
			note += fmt.Sprintf(", %d at a hinge kink skipped", kinks)
		}
		rows = append(rows, gcRow{name: fmt.Sprintf("%s sparse (10 of W %dx%d)", kind, D, C), reg: reg, relErr: worst, threshold: 1e-6, ok: ok, note: note})
	}
	return rows
}

func runGradcheck(e *env, args []string) error {
	fs := newFlags(e, "gradcheck", "[softmax|svm|twolayer|all]",
		"Runs the notebooks' gradient checks in float64: the toy two-layer net (every\n"+
			"element of W1, b1, W2, b2 against centered differences, h = 1e-5; rel error < 1e-8)\n"+
			"and sparse checks of the softmax and SVM losses on random 500x3073 data with reg 0\n"+
			"and 50 (rel error < 1e-6). Exits 1 if a check fails.")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	which := "all"
	if len(pos) > 1 {
		return usagef("gradcheck: want at most one model")
	}
	if len(pos) == 1 {
		which = pos[0]
	}
	var rows []gcRow
	switch which {
	case "all":
		rows = append(append(append(rows, gcTwoLayer()...), gcLinear("softmax")...), gcLinear("svm")...)
	case "twolayer":
		rows = gcTwoLayer()
	case "softmax", "svm":
		rows = gcLinear(which)
	default:
		return usagef("gradcheck: unknown model %q (want softmax, svm, twolayer or all)", which)
	}
	return reportGC(e.stdout, rows)
}

// reportGC prints the table of checks and returns an error with exit
// status 1 when one of them failed.
func reportGC(w io.Writer, rows []gcRow) error {
	if n := printGC(w, rows); n > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("gradcheck: %d of %d checks failed", n, len(rows))}
	}
	return nil
}

func newRNG(seed uint32) *nprand.RandomState { return nprand.New(seed) }
