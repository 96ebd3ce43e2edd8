package main

// These tests run the built nnkern binary as a user would, on tiny
// synthetic IDX datasets, so each takes a second or so.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/internal/npz"
	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/nprand"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nnkern-bin")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "nnkern")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// nnkern runs the binary in dir with extra environment variables.
func nnkern(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache")), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run nnkern %v: %v", args, err)
	}
	return result{code, so.String(), se.String()}
}

func mustRun(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := nnkern(t, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("nnkern %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// writeIDX writes an IDX file (gzip-compressed when the name ends in .gz).
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	out := b.Bytes()
	if strings.HasSuffix(path, ".gz") {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(out)
		w.Close()
		out = z.Bytes()
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

const side = 6 // synthetic images are side×side gray

// synthData writes a learnable 10-class IDX dataset: class k lights up a
// class-specific set of pixels, plus noise.
func synthData(t *testing.T, dir string, ntrain, ntest int) string {
	t.Helper()
	rng := nprand.New(42)
	gen := func(n int) ([]byte, []byte) {
		x := make([]byte, n*side*side)
		y := make([]byte, n)
		for i := 0; i < n; i++ {
			k := rng.Randint(0, 10)
			y[i] = byte(k)
			for p := 0; p < side*side; p++ {
				v := 40 + rng.Randint(0, 60)
				if (p*7+k*3)%10 < 3 {
					v += 120
				}
				x[i*side*side+p] = byte(v)
			}
		}
		return x, y
	}
	d := filepath.Join(dir, "data")
	os.MkdirAll(d, 0o755)
	x, y := gen(ntrain)
	writeIDX(t, filepath.Join(d, "train-images-idx3-ubyte.gz"), []int{ntrain, side, side}, x)
	writeIDX(t, filepath.Join(d, "train-labels-idx1-ubyte.gz"), []int{ntrain}, y)
	x, y = gen(ntest)
	writeIDX(t, filepath.Join(d, "t10k-images-idx3-ubyte.gz"), []int{ntest, side, side}, x)
	writeIDX(t, filepath.Join(d, "t10k-labels-idx1-ubyte.gz"), []int{ntest}, y)
	return d
}

// small run flags: 300 training rows, so an epoch is 3 iterations of 100.
func smallArgs(model, data, out string, extra ...string) []string {
	a := []string{"train", model, "--data", data, "--out", out, "--num-train", "300", "--num-val", "50", "--batch", "100", "--quiet"}
	switch model {
	case "twolayer":
		a = append(a, "--hidden", "16", "--iters", "40", "--lr", "1e-3", "--std", "1e-3")
	default:
		a = append(a, "--iters", "40", "--lr", "1e-5", "--reg", "1")
	}
	return append(a, extra...)
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// dirState hashes every file under dir (names, modes, contents).
func dirState(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s|", p)
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func checkOneLine(t *testing.T, r result, wantCode int, want string, args []string) {
	t.Helper()
	if r.code != wantCode {
		t.Errorf("nnkern %v: exit %d, want %d (stderr %q)", args, r.code, wantCode, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "nnkern: ") {
		t.Errorf("nnkern %v: stderr is not one line: %q", args, r.stderr)
	}
	if want != "" && !strings.Contains(r.stderr, want) {
		t.Errorf("nnkern %v: stderr %q does not mention %q", args, r.stderr, want)
	}
}

func TestUsageErrorsExit2OneLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{[]string{"train", "twolayer", "--bogus"}, nil, "-bogus"},
		{[]string{"train", "twolayer", "--lr", "-1"}, nil, "--lr -1"},
		{[]string{"train", "twolayer", "--lr", "abc"}, nil, "-lr"},
		{[]string{"train", "twolayer", "--hidden", "0"}, nil, "--hidden 0"},
		{[]string{"train", "twolayer", "--hidden", "-5"}, nil, "--hidden -5"},
		{[]string{"train", "twolayer", "--batch", "0"}, nil, "--batch 0"},
		{[]string{"train", "twolayer", "--decay", "1.5"}, nil, "--decay"},
		{[]string{"train", "twolayer", "--reg", "-0.1"}, nil, "--reg"},
		{[]string{"train", "softmax", "--hidden", "10"}, nil, "twolayer only"},
		{[]string{"train", "resnet"}, nil, `unknown model "resnet"`},
		{[]string{"train"}, nil, "want one model"},
		{[]string{"train", "softmax", "--dtype", "f16"}, nil, "--dtype"},
		{[]string{"train", "softmax", "--resume"}, nil, "--resume needs --out"},
		{[]string{"eval"}, nil, "MODEL"},
		{[]string{"eval", "m.npz", "--split", "dev"}, nil, "--split"},
		{[]string{"predict", "m.npz"}, nil, "IMAGE"},
		{[]string{"sweep", "twolayer", "--jobs", "0"}, nil, "--jobs"},
		{[]string{"sweep", "twolayer", "--lr", "1e-3,x"}, nil, "--lr"},
		{[]string{"sweep", "twolayer", "--shard", "3/2"}, nil, "--shard"},
		{[]string{"sweep", "twolayer"}, []string{"JOB_COMPLETION_INDEX=1"}, "--shards"},
		{[]string{"sweep", "twolayer"}, []string{"SLURM_ARRAY_TASK_ID=5", "SLURM_ARRAY_TASK_COUNT=2"}, "SLURM_ARRAY_TASK_ID"},
		{[]string{"gradcheck", "resnet"}, nil, "unknown model"},
		{[]string{"data", "fetch", "imagenet"}, nil, "imagenet"},
		{[]string{"data"}, nil, "subcommand"},
		{[]string{"cpuinfo"}, []string{"NNKERN_ISA=sse9"}, "NNKERN_ISA"},
		{[]string{"cpuinfo", "extra"}, nil, "extra"},
	}
	for _, c := range cases {
		r := nnkern(t, dir, c.env, c.args...)
		checkOneLine(t, r, 2, c.want, c.args)
		if r.stdout != "" {
			t.Errorf("nnkern %v: usage error wrote to stdout: %q", c.args, r.stdout)
		}
	}
	if r := nnkern(t, dir, nil); r.code != 2 || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("no arguments: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"train", "-h"}, {"help", "sweep"}, {"eval", "--help"}} {
		r := nnkern(t, dir, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") || r.stderr != "" {
			t.Errorf("nnkern %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestBadInputsOneLineNothingDamaged(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	// A corrupt dataset: truncated image file.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	for _, f := range []string{"train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		os.WriteFile(filepath.Join(bad, f), b, 0o644)
	}
	writeIDX(t, filepath.Join(bad, "train-images-idx3-ubyte"), []int{400, side, side}, make([]byte, 100))

	run := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("twolayer", data, run)...)
	before := dirState(t, run)
	notModel := filepath.Join(dir, "notmodel.npz")
	os.WriteFile(notModel, []byte("PK\x03\x04 not really a zip"), 0o644)
	noKind := filepath.Join(dir, "nokind.npz")
	if err := os.WriteFile(noKind, mustNPZ(t), 0o644); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "afile")
	os.WriteFile(blocker, []byte("x"), 0o644)

	cases := []struct {
		args []string
		want string
	}{
		{smallArgs("twolayer", filepath.Join(dir, "missing"), filepath.Join(dir, "r1")), "missing"},
		{smallArgs("twolayer", bad, filepath.Join(dir, "r2")), "train-images-idx3-ubyte"},
		{smallArgs("twolayer", data, filepath.Join(blocker, "sub")), "--out"},
		{smallArgs("twolayer", data, run), "already holds a run"},
		{smallArgs("twolayer", data, run, "--resume", "--reg", "0.1"), "reg"},
		{smallArgs("softmax", data, run, "--resume"), "model"},
		{append(smallArgs("twolayer", data, run, "--resume"), "--num-train", "200"), "num_training"},
		{[]string{"eval", notModel, "--data", data}, "not an npz"},
		{[]string{"eval", noKind, "--data", data}, "kind"},
		{[]string{"eval", filepath.Join(run, "config.json"), "--data", data}, "config.json"},
		{[]string{"eval", filepath.Join(dir, "nope.npz"), "--data", data}, "nope.npz"},
		{[]string{"predict", filepath.Join(run, modelFile), filepath.Join(dir, "nope.png")}, "nope.png"},
		{[]string{"predict", filepath.Join(run, modelFile), blocker}, "not a PNG or JPEG"},
		{[]string{"data", "info", filepath.Join(dir, "missing")}, "missing"},
		{smallArgs("softmax", data, filepath.Join(dir, "r3"), "--lr", "1e30"), "diverged"},
	}
	for _, c := range cases {
		r := nnkern(t, dir, nil, c.args...)
		if r.code == 0 {
			t.Errorf("nnkern %v succeeded", c.args)
			continue
		}
		checkOneLine(t, r, r.code, c.want, c.args)
	}
	// Resuming on another BLAS backend (gonum and OpenBLAS are outside
	// the bit-identity contract) is refused like any changed setting.
	r0 := nnkern(t, dir, []string{"NNKERN_BLAS=gonum"}, smallArgs("twolayer", data, run, "--resume")...)
	checkOneLine(t, r0, 1, "blas_backend is gonum (NNKERN_BLAS), the run has native", nil)
	if after := dirState(t, run); after != before {
		t.Errorf("a failed command changed the run directory %s", run)
	}
	// A model of another image size: eval names both shapes.
	other := synthDataSide(t, filepath.Join(dir, "o"), 8)
	r := nnkern(t, dir, nil, "eval", filepath.Join(run, modelFile), "--data", other)
	checkOneLine(t, r, 1, "expects 6x6x1 images", nil)
}

func synthDataSide(t *testing.T, dir string, s int) string {
	os.MkdirAll(dir, 0o755)
	n := 20
	x := make([]byte, n*s*s)
	y := make([]byte, n)
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), []int{n, s, s}, x)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{n}, y)
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []int{n, s, s}, x)
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{n}, y)
	return dir
}

// mustNPZ returns an npz archive without the "kind" entry.
func mustNPZ(t *testing.T) []byte {
	var b bytes.Buffer
	m := &npz.Model{Kind: "softmax", Tensors: []npz.Tensor{{Name: "W", Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}}}
	if err := npz.EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	// Rename the entry "kind.npy" so the archive has no kind.
	return bytes.ReplaceAll(b.Bytes(), []byte("kind"), []byte("kinx"))
}

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

// checkMetrics verifies every line is complete JSON and the iteration
// records are 0..n-1 exactly once.
func checkMetrics(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("%s ends in a torn line", path)
	}
	seen := map[int]int{}
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var r metricRec
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, l, err)
		}
		if r.Loss != nil {
			seen[r.It]++
		}
	}
	if n < 0 {
		return
	}
	for i := 0; i < n; i++ {
		if seen[i] != 1 {
			t.Errorf("%s: iteration %d recorded %d times", path, i, seen[i])
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

func TestPredict(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	// Class 3's pattern, drawn as a PNG.
	img := image.NewGray(image.Rect(0, 0, side, side))
	for p := 0; p < side*side; p++ {
		v := 70
		if (p*7+3*3)%10 < 3 {
			v += 120
		}
		img.SetGray(p%side, p/side, color.Gray{uint8(v)})
	}
	f := filepath.Join(dir, "three.png")
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(f, b.Bytes(), 0o644)
	r := mustRun(t, dir, nil, "predict", "-k", "2", filepath.Join(out, modelFile), f)
	if !strings.HasPrefix(r.stdout, f+": 3 ") || strings.Count(r.stdout, ",") != 1 {
		t.Errorf("predict: %q, want class 3 first and 2 entries", r.stdout)
	}
	big := image.NewGray(image.Rect(0, 0, side+1, side))
	b.Reset()
	png.Encode(&b, big)
	os.WriteFile(f, b.Bytes(), 0o644)
	r = nnkern(t, dir, nil, "predict", filepath.Join(out, modelFile), f)
	checkOneLine(t, r, 1, "7x6", nil)

	// A 100-byte PNG whose header claims 60000x60000 pixels is refused by
	// its declared size, before the decoder allocates 3.6 GB for it (Go
	// maps that lazily, so RSS would not show it; the message does).
	var bomb bytes.Buffer
	chunk := func(typ string, d []byte) {
		binary.Write(&bomb, binary.BigEndian, uint32(len(d)))
		bomb.WriteString(typ)
		bomb.Write(d)
		binary.Write(&bomb, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), d...)))
	}
	bomb.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 60000), 60000)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})
	chunk("IEND", nil)
	os.WriteFile(f, bomb.Bytes(), 0o644)
	cmd := exec.Command(binPath, "predict", filepath.Join(out, modelFile), f)
	var se bytes.Buffer
	cmd.Stderr = &se
	cmd.Run()
	// Decoding first failed with "not enough pixel data"; the size in the
	// message shows the header was checked before the decoder ran.
	checkOneLine(t, result{cmd.ProcessState.ExitCode(), "", se.String()}, 1, "60000x60000", nil)
}

func TestSweepShardsAndMerge(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	base := []string{"sweep", "twolayer", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-4,1e-3", "--reg", "0.01,0.1", "--hidden", "8", "--iters", "30", "--std", "1e-3"}
	full := filepath.Join(dir, "full")
	r := mustRun(t, dir, nil, append(base, "--jobs", "2", "--out", full)...)
	lines, torn, err := runio.ReadMetrics(filepath.Join(full, "sweep.jsonl"))
	if err != nil || torn || len(lines) != 4 {
		t.Fatalf("sweep.jsonl: %d lines, torn %v, err %v", len(lines), torn, err)
	}
	if !strings.Contains(r.stdout, "best validation accuracy") {
		t.Errorf("sweep output:\n%s", r.stdout)
	}
	bestFull := fileHash(t, filepath.Join(full, "best", modelFile))
	// Each run in the sweep equals the same run trained alone (determinism
	// under --jobs 2).
	var rec sweepRec
	json.Unmarshal(lines[0], &rec)
	alone := filepath.Join(dir, "alone")
	s := rec.Settings
	mustRun(t, dir, nil, "train", "twolayer", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", fmt.Sprint(s.LR), "--reg", fmt.Sprint(s.Reg), "--hidden", "8", "--iters", "30", "--std", "1e-3", "--out", alone, "--quiet")
	if fileHash(t, filepath.Join(alone, modelFile)) != fileHash(t, filepath.Join(full, rec.Dir, modelFile)) {
		t.Errorf("configuration %d trained in the sweep differs from the same run alone", rec.Index)
	}
	// Shards by flag, Slurm and Kubernetes, then merge.
	s0, s1, s2 := filepath.Join(dir, "s0"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2")
	mustRun(t, dir, nil, append(base, "--shard", "0/3", "--out", s0)...)
	mustRun(t, dir, []string{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1"}, append(base, "--out", s1)...)
	mustRun(t, dir, []string{"JOB_COMPLETION_INDEX=2"}, append(base, "--shards", "3", "--out", s2)...)
	count := func(d string) int { l, _, _ := runio.ReadMetrics(filepath.Join(d, "sweep.jsonl")); return len(l) }
	if count(s0) != 2 || count(s1) != 1 || count(s2) != 1 {
		t.Errorf("shard sizes %d %d %d, want 2 1 1", count(s0), count(s1), count(s2))
	}
	merged := filepath.Join(dir, "merged")
	mustRun(t, dir, nil, "sweep", "merge", "--out", merged, s0, s1, s2)
	if fileHash(t, filepath.Join(merged, "best", modelFile)) != bestFull {
		t.Error("merged shards picked a different best model than the full sweep")
	}
	r = nnkern(t, dir, nil, "sweep", "merge", "--out", merged, s0, s0)
	checkOneLine(t, r, 1, "appears in both", nil)
}

func TestGradcheckTwoLayer(t *testing.T) {
	r := mustRun(t, t.TempDir(), nil, "gradcheck", "twolayer")
	if strings.Contains(r.stdout, "FAIL") || strings.Count(r.stdout, " ok") < 5 {
		t.Errorf("gradcheck output:\n%s", r.stdout)
	}
}

func TestDemoOnSmallData(t *testing.T) {
	if testing.Short() {
		skiplog.Skip(t, "slow tests", "-short")
	}
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "demo")
	r := mustRun(t, dir, nil, "demo", "--data", data, "--twolayer-iters", "30", "--out", out)
	for _, want := range []string{"== 2. gradient checks", "twolayer toy training final loss", "softmax: final loss", "twolayer: final loss", "== summary", "0.51–0.52"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "FAIL") {
		t.Errorf("demo reports a failure:\n%s", r.stdout)
	}
	for _, f := range []string{"softmax/model.npz", "softmax/weights.png", "twolayer/model.npz", "twolayer/loss.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestDataInfo(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	r := mustRun(t, dir, nil, "data", "info", data)
	for _, want := range []string{"IDX", "6x6x1", "train:    400", "test:     60", "classes:  10", "content sha256"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("data info lacks %q:\n%s", want, r.stdout)
		}
	}
	// The per-class counts add up to the split sizes.
	sumTrain, sumTest := 0, 0
	for _, l := range strings.Split(r.stdout, "\n") {
		var i, a, b int
		var name string
		if n, _ := fmt.Sscanf(strings.TrimSpace(l), "%d %s %d %d", &i, &name, &a, &b); n == 4 {
			sumTrain += a
			sumTest += b
		}
	}
	if sumTrain != 400 || sumTest != 60 {
		t.Errorf("per-class counts sum to %d/%d, want 400/60:\n%s", sumTrain, sumTest, r.stdout)
	}
}

func TestCPUInfoAndVersion(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, nil, "cpuinfo")
	for _, want := range []string{"cpu:", "caches:", "isa:", "kernels:", "blas:", "gomaxprocs:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cpuinfo lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, dir, []string{"NNKERN_ISA=generic"}, "cpuinfo")
	if !strings.Contains(r.stdout, "isa:         generic") {
		t.Errorf("cpuinfo with NNKERN_ISA=generic:\n%s", r.stdout)
	}
	r = mustRun(t, dir, nil, "version")
	if !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestSweepRandomIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	args := []string{"sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-6,1e-4", "--reg", "0.1,10", "--iters", "5", "--random", "3", "--seed", "5"}
	var prev []Settings
	for i := 0; i < 2; i++ {
		out := filepath.Join(dir, fmt.Sprint("r", i))
		mustRun(t, dir, nil, append(args, "--out", out)...)
		lines, _, err := runio.ReadMetrics(filepath.Join(out, "sweep.jsonl"))
		if err != nil || len(lines) != 3 {
			t.Fatalf("sweep.jsonl: %d lines, %v", len(lines), err)
		}
		got := make([]Settings, 3)
		for _, l := range lines {
			var r sweepRec
			json.Unmarshal(l, &r)
			got[r.Index] = r.Settings
			s := r.Settings
			if s.LR < 1e-6 || s.LR > 1e-4 || s.Reg < 0.1 || s.Reg > 10 {
				t.Errorf("random configuration outside the ranges: lr %g reg %g", s.LR, s.Reg)
			}
		}
		if got[0].LR == got[1].LR {
			t.Errorf("random configurations repeat the learning rate %g", got[0].LR)
		}
		if prev != nil && fmt.Sprint(prev) != fmt.Sprint(got) {
			t.Errorf("--random with the same --seed drew different configurations:\n%v\n%v", prev, got)
		}
		prev = got
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

// eval's per-class accuracies and confusion matrix agree with each other,
// with the printed accuracy and with the true labels of the test split
// (read from the IDX file, not from nnkern).
func TestEvalConfusionMatrixConsistent(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	r := mustRun(t, dir, nil, "eval", filepath.Join(out, modelFile), "--data", data, "--png", "-")
	var n int
	var acc float64
	lines := strings.Split(r.stdout, "\n")
	if _, err := fmt.Sscanf(lines[0][strings.LastIndex(lines[0], ": ")+2:], "%d images", &n); err != nil {
		t.Fatalf("header %q: %v", lines[0], err)
	}
	if _, err := fmt.Sscanf(lines[1], "accuracy: %f", &acc); err != nil {
		t.Fatalf("accuracy line %q: %v", lines[1], err)
	}
	// True labels: the test split is the first n rows of the test file.
	zf, err := os.Open(filepath.Join(data, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	raw.ReadFrom(zr)
	labels := raw.Bytes()[8 : 8+n]
	want := make([]int, 10)
	for _, l := range labels {
		want[l]++
	}
	var conf [][]int
	perClass := map[int]float64{}
	section := ""
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "per-class"):
			section = "per"
		case strings.HasPrefix(l, "confusion matrix"):
			section = "conf"
		case section == "per" && len(f) == 4:
			var k int
			var a float64
			fmt.Sscanf(f[0], "%d", &k)
			fmt.Sscanf(f[1], "%f", &a)
			perClass[k] = a
		case section == "conf" && len(f) == 11:
			row := make([]int, 10)
			for c := range row {
				fmt.Sscanf(f[c+1], "%d", &row[c])
			}
			conf = append(conf, row)
		}
	}
	if len(conf) != 10 || len(perClass) != 10 {
		t.Fatalf("parsed %d confusion rows and %d per-class lines from:\n%s", len(conf), len(perClass), r.stdout)
	}
	total, diag := 0, 0
	for k, row := range conf {
		s := 0
		for _, v := range row {
			s += v
		}
		if s != want[k] {
			t.Errorf("confusion row %d sums to %d; the test split has %d images of class %d", k, s, want[k], k)
		}
		if s > 0 && fmt.Sprintf("%.4f", float64(row[k])/float64(s)) != fmt.Sprintf("%.4f", perClass[k]) {
			t.Errorf("class %d: per-class accuracy %.4f, confusion matrix gives %d/%d", k, perClass[k], row[k], s)
		}
		total += s
		diag += row[k]
	}
	if total != n || fmt.Sprintf("%.4f", float64(diag)/float64(n)) != fmt.Sprintf("%.4f", acc) {
		t.Errorf("confusion matrix: %d of %d correct, eval printed accuracy %.4f over %d", diag, total, acc, n)
	}
}

// checkEpochs verifies metrics.jsonl has one train/val accuracy record per
// epoch: at iterations 0, ipe, 2·ipe, ... below iters, numbered 0, 1, 2, ...
func checkEpochs(t *testing.T, path string, iters, ipe int) {
	t.Helper()
	lines, torn, err := runio.ReadMetrics(path)
	if err != nil || torn {
		t.Fatalf("%s: torn %v, err %v", path, torn, err)
	}
	next := 0
	for _, l := range lines {
		var r metricRec
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		if r.Epoch == nil {
			continue
		}
		if *r.Epoch != next || r.It != next*ipe || r.TrainAcc == nil || r.ValAcc == nil {
			t.Errorf("%s: epoch record %s, want epoch %d at iteration %d with train_acc and val_acc", path, l, next, next*ipe)
		}
		next++
	}
	if want := (iters + ipe - 1) / ipe; next != want {
		t.Errorf("%s: %d epoch records, want %d", path, next, want)
	}
}

func TestSweepInterruptAndResume(t *testing.T) {
	if testing.Short() {
		skiplog.Skip(t, "slow tests", "-short")
	}
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	base := []string{"sweep", "twolayer", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-4,1e-3", "--reg", "0.01,0.1", "--hidden", "8", "--iters", "1500", "--std", "1e-3", "--jobs", "1"}
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, append(base, "--out", full)...)

	// Interrupt a second sweep once its first configuration is recorded.
	part := filepath.Join(dir, "part")
	cmd := exec.Command(binPath, append(base, "--out", part)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache"))
	var se bytes.Buffer
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if l, _, _ := runio.ReadMetrics(filepath.Join(part, "sweep.jsonl")); len(l) >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	lines, _, _ := runio.ReadMetrics(filepath.Join(part, "sweep.jsonl"))
	if len(lines) == 4 {
		t.Fatalf("the sweep finished all 4 configurations before the interrupt (err %v); the test needs longer runs", err)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(se.String(), "--resume") || !strings.Contains(se.String(), "interrupted") {
		t.Fatalf("interrupted sweep: err %v, stderr:\n%s", err, se.String())
	}

	// Other flags with --resume: refused, naming the difference.
	bad := append(append([]string{}, base...), "--out", part, "--resume")
	for i, a := range bad {
		if a == "0.01,0.1" {
			bad[i] = "0.01,0.2"
		}
	}
	checkOneLine(t, nnkern(t, dir, nil, bad...), 1, "--resume: configuration", nil)
	// Without --resume an existing sweep is refused, pointing at --resume.
	checkOneLine(t, nnkern(t, dir, nil, append(base, "--out", part)...), 1, "--resume", nil)

	// Continue at another ISA level (the lowest this CPU has): allowed,
	// and under the one-result contract the models do not change.
	before := map[int]bool{}
	for _, l := range lines {
		var rec sweepRec
		json.Unmarshal(l, &rec)
		before[rec.Index] = true
	}
	def, levels := binaryLevels(t, binPath)
	low := levels[len(levels)-1]
	mustRun(t, dir, []string{"NNKERN_ISA=" + low}, append(base, "--out", part, "--resume")...)
	lines, torn, err := runio.ReadMetrics(filepath.Join(part, "sweep.jsonl"))
	if err != nil || torn || len(lines) != 4 {
		t.Fatalf("resumed sweep.jsonl: %d lines, torn %v, err %v", len(lines), torn, err)
	}
	seen := map[int]bool{}
	for _, l := range lines {
		var rec sweepRec
		json.Unmarshal(l, &rec)
		if seen[rec.Index] || rec.Error != "" {
			t.Errorf("resumed sweep: configuration %d twice or failed (%q)", rec.Index, rec.Error)
		}
		seen[rec.Index] = true
		// Interrupted or not, every run equals the uninterrupted sweep's.
		if fileHash(t, filepath.Join(part, rec.Dir, modelFile)) != fileHash(t, filepath.Join(full, rec.Dir, modelFile)) {
			t.Errorf("configuration %d: model after interrupt (at %s) and resume (at %s) differs from the uninterrupted sweep", rec.Index, def, low)
		}
		if !before[rec.Index] {
			segs := segmentsOf(t, filepath.Join(part, rec.Dir)).Segments
			if rec.ISA != low || len(segs) == 0 || segs[len(segs)-1].ISA != low {
				t.Errorf("configuration %d finished by the resume at %s: sweep.jsonl says isa %q, config.json segments %+v", rec.Index, low, rec.ISA, segs)
			}
		}
	}
	if fileHash(t, filepath.Join(part, "best", modelFile)) != fileHash(t, filepath.Join(full, "best", modelFile)) {
		t.Error("resumed sweep picked a different best model")
	}
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

// TestSweepResumeDropsTornLine: a sweep killed while writing sweep.jsonl
// leaves an incomplete last line; --resume runs that configuration again
// and its record must start on a line of its own, not be appended to the
// torn fragment (which would leave a line that is not JSON).
func TestSweepResumeDropsTornLine(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "s")
	args := []string{"sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-6,1e-4", "--reg", "0.1", "--iters", "5", "--out", out}
	mustRun(t, dir, nil, args...)
	path := filepath.Join(out, "sweep.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the first record and half of the second.
	first := bytes.IndexByte(b, '\n') + 1
	if first <= 0 || len(b) < first+10 {
		t.Fatalf("sweep.jsonl too short: %q", b)
	}
	if err := os.WriteFile(path, b[:first+(len(b)-first)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, nil, append(args, "--resume")...)
	if !strings.Contains(r.stderr, "incomplete line") {
		t.Errorf("resume of a torn sweep.jsonl did not warn: %q", r.stderr)
	}
	lines, torn, err := runio.ReadMetrics(path)
	if err != nil || torn || len(lines) != 2 {
		b, _ := os.ReadFile(path)
		t.Fatalf("sweep.jsonl after --resume: %d valid lines, torn %v, err %v:\n%s", len(lines), torn, err, b)
	}
	// And the repaired sweep merges.
	mustRun(t, dir, nil, "sweep", "merge", "--out", filepath.Join(dir, "m"), out)
}
