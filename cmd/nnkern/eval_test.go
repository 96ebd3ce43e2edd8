package main

// Tests of 'nnkern eval' on a trained run.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
