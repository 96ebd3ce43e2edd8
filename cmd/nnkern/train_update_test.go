package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
)

// metricsNoWall returns metrics.jsonl's records without their wall-clock
// times, one JSON object per line.
func metricsNoWall(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		delete(m, "wall")
		j, _ := json.Marshal(m)
		out = append(out, string(j))
	}
	return out
}

// With adam, a run stopped (at a checkpoint, between two,
// across epochs) and resumed ends byte-identical to the uninterrupted run:
// model.npz, and metrics.jsonl but for the wall-clock times. The
// checkpoint carries the rule's state.
func TestResumeUpdateRulesBitIdentical(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	for _, model := range []string{"softmax", "twolayer"} {
		for _, rule := range []string{"adam"} {
			name := model + "-" + rule
			full := filepath.Join(dir, name+"-full")
			args := func(out string, extra ...string) []string {
				return append(smallArgs(model, data, out, "--checkpoint-every", "7", "--update", rule), extra...)
			}
			mustRun(t, dir, nil, args(full)...)
			c, err := runio.LoadCheckpoint(filepath.Join(full, checkpointFile))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range c.Tensors {
				names = append(names, x.Name)
			}
			want := map[string][]string{"softmax": {"update.W.m", "update.W.v"}, "twolayer": {"update.W1.m", "update.b2.v"}}[model]
			for _, w := range append(want, stepsTensor) {
				if !slices.Contains(names, w) {
					t.Errorf("%s: checkpoint tensors %v lack %s", name, names, w)
				}
			}
			for _, stop := range []string{"7", "10", "21"} {
				part := filepath.Join(dir, name+"-part"+stop)
				mustRun(t, dir, nil, args(part, "--stop-at", stop)...)
				mustRun(t, dir, nil, args(part, "--resume")...)
				if fileHash(t, filepath.Join(part, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
					t.Errorf("%s: stopped at %s and resumed: model.npz differs from the uninterrupted run", name, stop)
				}
				if a, b := metricsNoWall(t, filepath.Join(part, metricsFile)), metricsNoWall(t, filepath.Join(full, metricsFile)); !slices.Equal(a, b) {
					t.Errorf("%s: stopped at %s and resumed: metrics differ from the uninterrupted run", name, stop)
				}
			}
		}
	}
}

// --update is a setting: recorded in config.json when not sgd, changing
// the result, and a resume with another rule is refused.
func TestUpdateIsASetting(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	sgd, adam := filepath.Join(dir, "sgd"), filepath.Join(dir, "adam")
	mustRun(t, dir, nil, smallArgs("softmax", data, sgd)...)
	mustRun(t, dir, nil, smallArgs("softmax", data, adam, "--update", "adam", "--stop-at", "20")...)
	rc, err := readRunConfig(filepath.Join(sgd, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(sgd, "config.json"))
	if rc.Settings.Update != "" || strings.Contains(string(b), `"update"`) {
		t.Errorf("an sgd run records update %q", rc.Settings.Update)
	}
	if rc, err = readRunConfig(filepath.Join(adam, "config.json")); err != nil || rc.Settings.Update != "adam" {
		t.Fatalf("adam run: settings.update %q, %v", rc.Settings.Update, err)
	}
	r := nnkern(t, dir, nil, smallArgs("softmax", data, adam, "--update", "rmsprop", "--resume")...)
	if r.code == 0 || !strings.Contains(r.stderr, "update is rmsprop, the run has adam") {
		t.Errorf("resume with another rule: exit %d, %q", r.code, r.stderr)
	}
	mustRun(t, dir, nil, smallArgs("softmax", data, adam, "--update", "adam", "--resume")...)
	if fileHash(t, filepath.Join(sgd, modelFile)) == fileHash(t, filepath.Join(adam, modelFile)) {
		t.Error("adam and sgd give the same model")
	}
	r = nnkern(t, dir, nil, smallArgs("softmax", data, filepath.Join(dir, "x"), "--update", "adagrad")...)
	if r.code != 2 || !strings.Contains(r.stderr, `--update "adagrad"`) {
		t.Errorf("unknown rule: exit %d, %q", r.code, r.stderr)
	}
}

// sweep --update is a list like --lr: the rule is the grid's outermost
// dimension, each configuration trains as 'train --update' would, and the
// printed name carries the rule unless it is sgd.
func TestSweepUpdateList(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "sw")
	r := mustRun(t, dir, nil, "sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-5,1e-4", "--reg", "1", "--iters", "12", "--update", "sgd,adam", "--out", out)
	cfgs, err := readSweepConfigs(filepath.Join(out, "sweep-configs.json"), 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range cfgs {
		got = append(got, s.Update+"/"+describe(s))
	}
	want := []string{"/lr 1e-05 reg 1 iters 12", "/lr 0.0001 reg 1 iters 12",
		"adam/lr 1e-05 reg 1 iters 12 update adam", "adam/lr 0.0001 reg 1 iters 12 update adam"}
	if !slices.Equal(got, want) {
		t.Errorf("configurations %q, want %q", got, want)
	}
	if !strings.Contains(r.stdout, "update adam val") {
		t.Errorf("sweep output does not name the rule:\n%s", r.stdout)
	}
	alone := filepath.Join(dir, "alone")
	mustRun(t, dir, nil, "train", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-4", "--reg", "1", "--iters", "12", "--update", "adam", "--out", alone, "--quiet")
	if fileHash(t, filepath.Join(alone, modelFile)) != fileHash(t, filepath.Join(out, "run-0003", modelFile)) {
		t.Error("the sweep's adam configuration differs from the same run alone")
	}
	rr := nnkern(t, dir, nil, "sweep", "softmax", "--data", data, "--update", "sgd,nesterov", "--out", filepath.Join(dir, "bad"))
	checkOneLine(t, rr, 2, `--update "nesterov"`, nil)
}
