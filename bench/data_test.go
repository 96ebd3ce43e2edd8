package bench

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cifar"
)

// resetRegistry drops the built registry and the user data, so that a
// test can call SetData; it restores the default state when the test ends.
func resetRegistry(t *testing.T) {
	reset := func() {
		regMu.Lock()
		registry, regBuilt = nil, false
		regMu.Unlock()
		userData.Lock()
		userData.path, userData.ds, userData.prep = "", nil, nil
		userData.Unlock()
	}
	reset()
	t.Cleanup(reset)
}

// writeIDX writes a small MNIST-style data set (4×4 gray images) to dir.
func writeIDX(t *testing.T, dir string, ntrain, ntest int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 1))
	split := func(n int) *cifar.Split {
		s := &cifar.Split{X: make([]uint8, n*16), Y: make([]uint8, n), N: n, H: 4, W: 4, C: 1}
		for i := range s.X {
			s.X[i] = uint8(r.IntN(256))
		}
		for i := range s.Y {
			s.Y[i] = uint8(r.IntN(10))
		}
		return s
	}
	for _, f := range []struct {
		stem string
		s    *cifar.Split
	}{{"train", split(ntrain)}, {"t10k", split(ntest)}} {
		var img, lab bytes.Buffer
		if err := cifar.WriteIDX(&img, &lab, f.s); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.stem+"-images-idx3-ubyte"), img.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.stem+"-labels-idx1-ubyte"), lab.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMainData(t *testing.T) {
	resetRegistry(t)
	dir := t.TempDir()
	writeIDX(t, dir, 120, 20)
	var out, errb bytes.Buffer
	code := Main([]string{"--data", dir, "--smoke", "--slow", "--json", "--quiet", "--filter", "^(data|loss|train)/"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rep, err := ReadJSON(&out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Data != dir {
		t.Errorf("report data %q, want %q", rep.Data, dir)
	}
	fams := map[string]bool{}
	for _, r := range rep.Results {
		fams[r.Family] = true
		if r.Family == "loss" && !strings.HasSuffix(r.Shape, "x17x10") {
			t.Errorf("%s: shape %s, want N×17×10 for 4×4 images with the bias column", r.Name, r.Shape)
		}
	}
	for _, f := range []string{"data", "loss", "train"} {
		if !fams[f] {
			t.Errorf("no %s rows", f)
		}
	}
}

func TestMainDataBad(t *testing.T) {
	resetRegistry(t)
	missing := filepath.Join(t.TempDir(), "nope")
	var out, errb bytes.Buffer
	if code := Main([]string{"--data", missing, "--list"}, &out, &errb); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), missing) {
		t.Errorf("message %q does not name %s", errb.String(), missing)
	}
	Cases() // build the registry: SetData must now refuse
	if err := SetData("x", &cifar.Dataset{}); err == nil {
		t.Error("SetData after the registry was built succeeded")
	}
}
