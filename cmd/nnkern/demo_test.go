package main

// Tests of 'nnkern demo' on small data.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

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
