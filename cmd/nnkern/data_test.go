package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cifar"
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
