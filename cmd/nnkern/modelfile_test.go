package main

// The public model file round trip: what a library user saves, numpy
// loads and writes back, a library user loads and predicts with, and
// `nnkern eval` reports the same predictions for.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/kernels"
	modelfile "github.com/nnkern/nnkern/model"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

// roundTripCase is one model of the round trip: its file and what it
// predicted for the test rows before it was saved.
type roundTripCase struct {
	name string
	f    *modelfile.File
	pred []int
}

// randomModel makes a seeded random model of kind in T for the prepared
// data, returns its file and its predictions on p.Test.
func randomModel[T kernels.Float](kind string, p *cifar.Prepared, shape [3]int, seed uint32) (*modelfile.File, []int) {
	rng := nprand.New(seed)
	mat := func(r, c int) blas.Matrix[T] {
		m := blas.NewMatrix[T](r, c)
		for i := range m.Data {
			m.Data[i] = T(0.01 * rng.StandardNormal())
		}
		return m
	}
	f := &modelfile.File{Kind: kind, Mean: p.Mean, ImageShape: shape, Classes: p.ClassNames}
	src := cifar.NewSource[T](p, &p.Test)
	if kind == modelfile.TwoLayer {
		n := &twolayer.Net[T]{W1: mat(p.Dim(), 7), B1: mat(1, 7).Data, W2: mat(7, 10), B2: mat(1, 10).Data}
		f.Weights = []modelfile.Tensor{{Name: "W1", Shape: []int{p.Dim(), 7}, Data: n.W1.Data}, {Name: "b1", Shape: []int{7}, Data: n.B1},
			{Name: "W2", Shape: []int{7, 10}, Data: n.W2.Data}, {Name: "b2", Shape: []int{10}, Data: n.B2}}
		return f, n.PredictSource(src)
	}
	c := &softmax.LinearClassifier[T]{W: mat(p.Dim(), 10)}
	f.Weights = []modelfile.Tensor{{Name: "W", Shape: []int{p.Dim(), 10}, Data: c.W.Data}}
	return f, c.PredictSource(src)
}

// libraryPredict loads path as a library user would (model.Load for the
// mean, softmax.Load or twolayer.Load for the model in T) and predicts the
// test rows of ds.
func libraryPredict[T kernels.Float](t *testing.T, path string, test cifar.Split) []int {
	t.Helper()
	f, err := modelfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &cifar.Prepared{Mean: f.Mean, Bias: f.Bias(), Test: test}
	src := cifar.NewSource[T](p, &p.Test)
	if f.Kind == modelfile.TwoLayer {
		n, err := twolayer.Load[T](path)
		if err != nil {
			t.Fatal(err)
		}
		return n.PredictSource(src)
	}
	c, err := softmax.Load[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind.String() != f.Kind {
		t.Errorf("%s: softmax.Load gave a %v classifier, the file is %s", path, c.Kind, f.Kind)
	}
	return c.PredictSource(src)
}

// evalReport runs `nnkern eval` on the test split and returns the
// accuracy line and the confusion matrix it prints.
func evalReport(t *testing.T, dir, path, data string, sizes [3]int) (string, [][]int) {
	t.Helper()
	r := mustRun(t, dir, nil, "eval", path, "--data", data, "--png", "-",
		"--num-train", strconv.Itoa(sizes[0]), "--num-val", strconv.Itoa(sizes[1]), "--num-test", strconv.Itoa(sizes[2]))
	var acc string
	var conf [][]int
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "accuracy: ") {
			acc = l
		}
		if strings.HasPrefix(l, "confusion matrix") {
			for _, row := range lines[i+2 : i+12] {
				f := strings.Fields(row)
				var counts []int
				for _, s := range f[len(f)-10:] {
					n, err := strconv.Atoi(s)
					if err != nil {
						t.Fatalf("eval's confusion row %q: %v", row, err)
					}
					counts = append(counts, n)
				}
				conf = append(conf, counts)
			}
		}
	}
	if acc == "" || len(conf) != 10 {
		t.Fatalf("eval printed no accuracy or confusion matrix:\n%s", r.stdout)
	}
	return acc, conf
}

// A model saved with model.File.Save, loaded by numpy and written back
// with numpy.savez, loads with softmax.Load or twolayer.Load and predicts
// exactly what it predicted before Save, in its precision; `nnkern eval`
// of numpy's file prints the accuracy and confusion matrix of those
// predictions, and the function eval predicts with gives them row by row.
func TestModelFileRoundTripMatchesEval(t *testing.T) {
	py := testenv.Python(t)
	dir := t.TempDir()
	data := synthData(t, dir, 200, 60)
	ds, err := cifar.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	sizes := [3]int{150, 50, 60}
	shape := [3]int{side, side, 1}
	prep := func(bias bool) *cifar.Prepared {
		p, err := cifar.Prepare(ds, cifar.PrepareConfig{NumTraining: sizes[0], NumValidation: sizes[1], NumTest: sizes[2], Bias: bias})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	linear, net := prep(true), prep(false)
	var cases []roundTripCase
	add := func(name string, f *modelfile.File, pred []int) { cases = append(cases, roundTripCase{name, f, pred}) }
	f, pred := randomModel[float32](modelfile.Softmax, linear, shape, 1)
	add("softmax-f32", f, pred)
	f, pred = randomModel[float64](modelfile.Softmax, linear, shape, 2)
	f.Kind = modelfile.SVM
	add("svm-f64", f, pred)
	f, pred = randomModel[float32](modelfile.TwoLayer, net, shape, 3)
	add("twolayer-f32", f, pred)
	f, pred = randomModel[float64](modelfile.TwoLayer, net, shape, 4)
	add("twolayer-f64", f, pred)

	args := []string{"-c", `
import sys, numpy as np
for src in sys.argv[1:]:
    d = np.load(src)
    np.savez(src.replace("model.npz", "numpy.npz"), **{k: d[k] for k in d.files})
`}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+"-model.npz")
		if err := c.f.Save(p); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}

	y := cifar.Labels(&linear.Test)
	for _, c := range cases {
		path := filepath.Join(dir, c.name+"-numpy.npz")
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		var got []int
		if c.f.Float64() {
			got = libraryPredict[float64](t, path, linear.Test)
		} else {
			got = libraryPredict[float32](t, path, linear.Test)
		}
		if !reflect.DeepEqual(got, c.pred) {
			t.Errorf("%s: after Save, numpy and Load the model predicts\n%v\nit predicted\n%v", c.name, got, c.pred)
		}

		lm, err := openModel(path)
		if err != nil {
			t.Fatal(err)
		}
		evalPred, err := predictSplit(lm, &cifar.Prepared{Mean: lm.f.Mean, Bias: lm.f.Bias(), Test: linear.Test}, &linear.Test)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(evalPred, got) {
			t.Errorf("%s: eval's predictions\n%v\nthe library's\n%v", c.name, evalPred, got)
		}

		acc, conf := evalReport(t, dir, path, data, sizes)
		wantConf := make([][]int, 10)
		for i := range wantConf {
			wantConf[i] = make([]int, 10)
		}
		right := 0
		for i, k := range got {
			wantConf[y[i]][k]++
			if k == y[i] {
				right++
			}
		}
		if want := fmt.Sprintf("accuracy: %.4f", float64(right)/float64(len(y))); acc != want || !reflect.DeepEqual(conf, wantConf) {
			t.Errorf("%s: nnkern eval printed %q and\n%v\nthe library's predictions give %q and\n%v", c.name, acc, conf, want, wantConf)
		}
	}
}
