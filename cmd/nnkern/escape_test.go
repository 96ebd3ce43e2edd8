package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cifar"
)

// hostile is a string a file may hold that, printed raw, clears the
// terminal and sets its title.
const hostile = "\x1b[2J\x1b]0;PWNED\a"

func checkNoControl(t *testing.T, what, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\a") {
		t.Errorf("%s printed raw control bytes: %q", what, out)
	}
}

// tinyCIFAR writes a 32×32×3 dataset in the binary layout with the given
// class names (batches.meta.txt).
func tinyCIFAR(t *testing.T, dir string, classes ...string) string {
	t.Helper()
	mk := func(n int) cifar.Split {
		s := cifar.Split{N: n, H: 32, W: 32, C: 3, X: make([]uint8, n*32*32*3), Y: make([]uint8, n)}
		for i := range s.Y {
			s.Y[i] = uint8(i % len(classes))
			s.X[i*32*32*3] = uint8(i)
		}
		return s
	}
	d := filepath.Join(dir, "cifar-10-batches-bin")
	ds := &cifar.Dataset{Train: mk(20), Test: mk(4), ClassNames: []string{"a", "b"}}
	if err := cifar.WriteBinaryDir(d, ds); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "batches.meta.txt"), []byte(strings.Join(classes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// demo prints the dataset's class names (from batches.meta.txt or an image
// folder's directory names) escaped. The demo is stopped once it has
// printed them.
func TestDemoEscapesClassNames(t *testing.T) {
	dir := t.TempDir()
	d := tinyCIFAR(t, dir, hostile, "dog")
	cmd := exec.Command(binPath, "demo", "--data", d, "--out", filepath.Join(dir, "demo"))
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "classes") {
			break
		}
	}
	cmd.Process.Kill()
	io.Copy(io.Discard, stdout)
	cmd.Wait()
	if !strings.Contains(out.String(), "classes") {
		t.Fatalf("demo printed no class names:\n%s%s", out.String(), stderr.String())
	}
	checkNoControl(t, "demo", out.String()+stderr.String())
}

// data export lists the files of its output directory, which may hold
// files it did not write.
func TestDataExportEscapesListing(t *testing.T) {
	dir := t.TempDir()
	d := tinyCIFAR(t, dir, "cat", "dog")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, hostile), nil, 0o644); err != nil {
		t.Skipf("file name with control characters: %v", err)
	}
	r := mustRun(t, dir, nil, "data", "export", "--data", d, "--format", "binary", "--out", out)
	checkNoControl(t, "data export", r.stdout+r.stderr)
}

// --resume names the setting that differs from config.json, with the
// run's value as the file gives it.
func TestSettingsDiffEscapes(t *testing.T) {
	s := Settings{Model: "softmax", DType: "float64", BLAS: "native"}
	for _, old := range []Settings{
		{Model: hostile, DType: "float64", BLAS: "native"},
		{Model: "softmax", DType: "float64", BLAS: hostile},
		{Model: "softmax", DType: hostile, BLAS: "native"},
		{Model: "softmax", DType: "float64", BLAS: "native", DataSHA256: hostile},
	} {
		d := s.diff(old)
		if d == "" {
			t.Fatalf("no difference found for %+v", old)
		}
		checkNoControl(t, "Settings.diff", d)
	}
}

// The sweep summary prints each configuration's error as sweep.jsonl
// records it (a resumed or merged sweep reads it from the file).
func TestSweepSummaryEscapesErrors(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "r1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "r1", modelFile), []byte("npz"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	e := &env{stdout: &out, stderr: &out, getenv: os.Getenv}
	recs := []sweepRec{{Index: 0, Dir: "r0", Error: hostile}, {Index: 1, Dir: "r1", ValAcc: 0.5}}
	err := summarize(e, base, recs, base)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	checkNoControl(t, "sweep summary", out.String()+msg)
}

// Whatever an error holds, nnkern prints it as one line without control
// characters (the last guard; each reader escapes what it quotes).
func TestErrorLineEscapes(t *testing.T) {
	for _, s := range []string{hostile, "a\r\n" + hostile + "\tb", "\u009b31m"} {
		got := oneLine(s)
		if strings.ContainsAny(got, "\x1b\a\r\n\u009b") {
			t.Errorf("oneLine(%q) = %q", s, got)
		}
	}
	if got := oneLine(`a \x1b b`); got != `a \x1b b` {
		t.Errorf("oneLine changed an escaped string: %q", got)
	}
}

// The best configuration's directory comes from sweep.jsonl: an error
// about its model file names it escaped.
func TestSweepBestModelPathEscaped(t *testing.T) {
	base := t.TempDir()
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}
	err := summarize(e, base, []sweepRec{{Index: 0, Dir: hostile, ValAcc: 0.5}}, base)
	if err == nil || !strings.Contains(err.Error(), "PWNED") {
		t.Fatalf("got %v, want an error naming the missing model", err)
	}
	checkNoControl(t, "sweep best model error", err.Error())
}
