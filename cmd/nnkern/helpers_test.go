package main

// Helpers shared by the tests of every command. Most tests run the nnkern
// binary, built once by TestMain, as a user would, on tiny synthetic IDX
// datasets, so each takes a second or so.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
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
