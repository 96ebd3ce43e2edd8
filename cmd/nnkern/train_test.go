package main

// Tests of 'nnkern train': reproducible across GOMAXPROCS, resumable bit for
// bit after a stop or a kill -9, and the run directory it leaves.

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/internal/testenv"
)

func TestReproducibleAcrossRunsAndGOMAXPROCS(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	for _, model := range []string{"softmax", "svm", "twolayer"} {
		var first string
		for i, procs := range []string{"1", "2", "4", "2"} {
			out := filepath.Join(dir, fmt.Sprintf("%s-%d", model, i))
			mustRun(t, dir, []string{"GOMAXPROCS=" + procs}, smallArgs(model, data, out)...)
			h := fileHash(t, filepath.Join(out, modelFile))
			if first == "" {
				first = h
			} else if h != first {
				t.Errorf("%s: model.npz with GOMAXPROCS=%s differs from GOMAXPROCS=1", model, procs)
			}
		}
		// A different seed must give a different model (the test can fail).
		out := filepath.Join(dir, model+"-seed")
		mustRun(t, dir, nil, smallArgs(model, data, out, "--seed", "7")...)
		if fileHash(t, filepath.Join(out, modelFile)) == first {
			t.Errorf("%s: --seed 7 gave the same model as seed 0", model)
		}
	}
}

func TestResumeIsBitIdentical(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	for _, model := range []string{"softmax", "twolayer"} {
		full := filepath.Join(dir, model+"-full")
		mustRun(t, dir, nil, smallArgs(model, data, full, "--checkpoint-every", "7")...)
		for _, stop := range []string{"7", "10", "21"} { // at a checkpoint, between, across epochs
			part := filepath.Join(dir, model+"-part"+stop)
			r := mustRun(t, dir, nil, append(smallArgs(model, data, part, "--checkpoint-every", "7"), "--stop-at", stop)...)
			_ = r
			if _, err := os.Stat(filepath.Join(part, modelFile)); err == nil {
				t.Fatalf("%s: --stop-at %s wrote a final model", model, stop)
			}
			mustRun(t, dir, nil, smallArgs(model, data, part, "--checkpoint-every", "7", "--resume")...)
			if fileHash(t, filepath.Join(part, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
				t.Errorf("%s: stopped at %s and resumed: model.npz differs from the uninterrupted run", model, stop)
			}
			checkMetrics(t, filepath.Join(part, metricsFile), 40)
			checkEpochs(t, filepath.Join(part, metricsFile), 40, 3)
		}
	}
}

func TestKill9LeavesRunResumable(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	args := func(out string) []string {
		return []string{"train", "twolayer", "--data", data, "--out", out, "--num-train", "300", "--num-val", "50",
			"--batch", "100", "--hidden", "64", "--iters", "1000000", "--checkpoint-every", "10", "--quiet"}
	}
	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(binPath, args(killed)...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(killed, checkpointFile)
	deadline := time.Now().Add(60 * time.Second)
	var c *runio.Checkpoint
	for time.Now().Before(deadline) {
		if cc, err := runio.LoadCheckpoint(ck); err == nil && cc.Iteration >= 30 {
			c = cc
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if c == nil {
		t.Fatal("no checkpoint at iteration >= 30 within 60s")
	}
	// Whatever moment the kill hit, the directory must be consistent.
	got, err := runio.LoadCheckpoint(ck)
	if err != nil {
		t.Fatalf("checkpoint after kill -9: %v", err)
	}
	checkMetrics(t, filepath.Join(killed, metricsFile), -1)
	ents, _ := os.ReadDir(killed)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Logf("leftover temp file %s (removed by resume)", e.Name())
		}
	}
	// Resume to a fixed point and compare with an uninterrupted run to the
	// same point: the checkpoints (weights, rng, lr, iteration) match bit
	// for bit.
	stop := fmt.Sprint(got.Iteration + 20)
	mustRun(t, dir, nil, append(args(killed), "--resume", "--stop-at", stop)...)
	if tmps, _ := filepath.Glob(filepath.Join(killed, ".*.tmp*")); len(tmps) > 0 {
		t.Errorf("temporary files left after resume: %v", tmps)
	}
	ref := filepath.Join(dir, "ref")
	mustRun(t, dir, nil, append(args(ref), "--stop-at", stop)...)
	if fileHash(t, ck) != fileHash(t, filepath.Join(ref, checkpointFile)) {
		t.Errorf("resumed after kill -9: checkpoint at %s differs from the uninterrupted run's", stop)
	}
	checkMetrics(t, filepath.Join(killed, metricsFile), got.Iteration+20)
	checkEpochs(t, filepath.Join(killed, metricsFile), got.Iteration+20, 3)
}

func TestRunDirectoryContents(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	for _, model := range []string{"softmax", "twolayer"} {
		out := filepath.Join(dir, model)
		mustRun(t, dir, nil, smallArgs(model, data, out)...)
		for _, f := range []string{"config.json", metricsFile, checkpointFile, modelFile, "loss.png", "accuracy.png", "weights.png", "result.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: %v", model, err)
			}
		}
		rc, err := readRunConfig(filepath.Join(out, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rc.Segments) != 1 || rc.Segments[0].ISA == "" || rc.Segments[0].FromIteration != 0 || !rc.BitIdentity || rc.Settings.BLAS == "" || rc.Settings.DType != "f32" || len(rc.Settings.DataSHA256) != 64 ||
			rc.Env.GoVersion != runtime.Version() || rc.Env.GOMAXPROCS <= 0 || rc.Env.NnkernVersion == "" {
			t.Errorf("%s: config.json incomplete: %+v", model, rc)
		}
		var res runResult
		b, _ := os.ReadFile(filepath.Join(out, "result.json"))
		json.Unmarshal(b, &res)
		if res.ValAcc < 0.5 { // the synthetic classes are easy
			t.Errorf("%s: val accuracy %.3f on separable synthetic data", model, res.ValAcc)
		}
		for _, f := range []string{"loss.png", "accuracy.png", "weights.png"} {
			fh, _ := os.Open(filepath.Join(out, f))
			if _, err := png.Decode(fh); err != nil {
				t.Errorf("%s/%s: %v", model, f, err)
			}
			fh.Close()
		}
		checkMetrics(t, filepath.Join(out, metricsFile), 40)
		checkEpochs(t, filepath.Join(out, metricsFile), 40, 3)
		// eval agrees with the run's own test accuracy.
		r := mustRun(t, dir, nil, "eval", filepath.Join(out, modelFile), "--data", data) // split sizes from config.json
		if !strings.Contains(r.stdout, fmt.Sprintf("accuracy: %.4f", res.TestAcc)) {
			t.Errorf("%s: eval output does not show test accuracy %.4f:\n%s", model, res.TestAcc, r.stdout)
		}
		if _, err := os.Stat(filepath.Join(out, "confusion.png")); err != nil {
			t.Error(err)
		}
	}
}

func TestModelNPZLoadsInNumpy(t *testing.T) {
	py := testenv.Python(t)
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	script := `
import sys, numpy as np
d = np.load(sys.argv[1])
assert str(d["kind"]) == "twolayer"
assert d["W1"].shape == (36, 16) and d["b1"].shape == (16,) and d["W2"].shape == (16, 10) and d["b2"].shape == (10,)
assert d["W1"].dtype == np.float32 and d["mean"].shape == (36,) and list(d["image_shape"]) == [6, 6, 1]
print("ok")
`
	b, err := exec.Command(py, "-c", script, filepath.Join(out, modelFile)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("numpy: %v\n%s", err, b)
	}
}

// A --resume of a finished run redoes only the tail (model, plots,
// result.json); it must reproduce the same model and report the same final
// loss, not 0.
func TestResumeFinishedRunKeepsResult(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	read := func() runResult {
		var res runResult
		b, err := os.ReadFile(filepath.Join(out, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	before, model := read(), fileHash(t, filepath.Join(out, modelFile))
	if before.FinalLoss == 0 {
		t.Fatalf("result.json of the run has final_loss 0")
	}
	mustRun(t, dir, nil, smallArgs("twolayer", data, out, "--resume")...)
	after := read()
	if after.FinalLoss != before.FinalLoss || after.TestAcc != before.TestAcc {
		t.Errorf("resume of a finished run: final_loss %v test_acc %v, the run had %v %v",
			after.FinalLoss, after.TestAcc, before.FinalLoss, before.TestAcc)
	}
	if fileHash(t, filepath.Join(out, modelFile)) != model {
		t.Error("resume of a finished run changed model.npz")
	}
	checkMetrics(t, filepath.Join(out, metricsFile), 40)
}

func TestFailedRunLeavesNoEmptyOut(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, []byte("not a data set"), 0o644)
	for _, args := range [][]string{
		{"train", "softmax", "--data", bad, "--out", filepath.Join(dir, "new", "run")},
		{"sweep", "softmax", "--data", bad, "--out", filepath.Join(dir, "new", "sweep")},
	} {
		r := nnkern(t, dir, nil, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "bad.bin") {
			t.Errorf("%s: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s with a bad data set left %s behind (%v)", args[0], filepath.Join(dir, "new"), err)
		}
	}
	// An --out that existed before stays.
	keep := filepath.Join(dir, "keep")
	os.Mkdir(keep, 0o755)
	nnkern(t, dir, nil, "train", "softmax", "--data", bad, "--out", keep)
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a failed run removed the existing --out: %v", err)
	}
}
