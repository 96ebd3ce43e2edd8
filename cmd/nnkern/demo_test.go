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
	// A second demo into the same --out is refused, as train refuses, and
	// leaves the runs alone; --force replaces them with the same models
	// (same seeds).
	model := filepath.Join(out, "twolayer", modelFile)
	before := fileHash(t, model)
	os.WriteFile(filepath.Join(out, "twolayer", "stale"), nil, 0o644)
	checkOneLine(t, nnkern(t, dir, nil, "demo", "--data", data, "--twolayer-iters", "30", "--out", out), 1, "--force", nil)
	if fileHash(t, model) != before {
		t.Error("a refused demo changed the model")
	}
	r = mustRun(t, dir, nil, "demo", "--data", data, "--twolayer-iters", "30", "--out", out, "--force")
	if !strings.Contains(r.stdout, "replacing the run in "+filepath.Join(out, "softmax")+" (--force)") {
		t.Errorf("demo --force does not say it replaces the runs:\n%s", r.stdout)
	}
	if fileHash(t, model) != before {
		t.Error("demo --force: the same settings and seeds gave another model")
	}
	if _, err := os.Stat(filepath.Join(out, "twolayer", "stale")); err == nil {
		t.Error("demo --force kept a file of the old run directory")
	}
}

// TestDemoRefusesExistingRun: without --force, a run in OUT/softmax or
// OUT/twolayer stops the demo before it loads anything.
func TestDemoRefusesExistingRun(t *testing.T) {
	dir := t.TempDir()
	for _, m := range []string{"softmax", "twolayer"} {
		out := filepath.Join(dir, "out-"+m)
		os.MkdirAll(filepath.Join(out, m), 0o755)
		cfg := filepath.Join(out, m, "config.json")
		os.WriteFile(cfg, []byte("{}"), 0o644)
		checkOneLine(t, nnkern(t, dir, nil, "demo", "--data", "no-such-data", "--out", out), 1, filepath.Join(out, m)+" already holds a run", nil)
		if b, err := os.ReadFile(cfg); err != nil || string(b) != "{}" {
			t.Errorf("refused demo changed %s: %q %v", cfg, b, err)
		}
	}
}
