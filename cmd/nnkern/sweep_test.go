package main

// Tests of 'nnkern sweep': shards and merge, random search, interrupt and
// resume.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/internal/skiplog"
)

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

func TestSweepInterruptAndResume(t *testing.T) {
	if testing.Short() {
		skiplog.Skip(t, "slow tests", "-short")
	}
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	base := []string{"sweep", "twolayer", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-4,1e-3", "--reg", "0.01,0.1", "--hidden", "8", "--iters", "300", "--std", "1e-3", "--jobs", "1"}
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, append(base, "--out", full)...)

	// Interrupt a second sweep once its first configuration is recorded:
	// NNKERN_TEST_SWEEP_PAUSE=1 makes it wait there for the signal, so the
	// interrupt lands at that point whatever the machine's speed.
	part := filepath.Join(dir, "part")
	cmd := exec.Command(binPath, append(base, "--out", part)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache"), "NNKERN_TEST_SWEEP_PAUSE=1")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var se bytes.Buffer
	paused := make(chan bool, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			se.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "sweep paused") {
				paused <- true
			}
		}
		close(paused)
	}()
	if !<-paused {
		<-copied
		cmd.Wait()
		t.Fatalf("the sweep ended without pausing; stderr:\n%s", se.String())
	}
	cmd.Process.Signal(os.Interrupt)
	<-copied
	err = cmd.Wait()
	lines, _, _ := runio.ReadMetrics(filepath.Join(part, "sweep.jsonl"))
	if len(lines) != 1 {
		t.Fatalf("interrupted after its first configuration, the sweep recorded %d", len(lines))
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
