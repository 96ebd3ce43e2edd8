package main

// Tests of run directories as an operator meets them: two runs on one
// --out, preemption by SIGTERM or SIGHUP, a damaged metrics.jsonl.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
)

// child is a running nnkern process whose stdout lines the test can wait
// for.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	se    bytes.Buffer
	wg    sync.WaitGroup
}

func startChild(t *testing.T, dir string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(binPath, args...), lines: make(chan string, 1<<16)}
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache"))
	c.cmd.Stderr = &c.se
	so, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill() })
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(c.lines)
		sc := bufio.NewScanner(so)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default: // nobody waits for more
			}
		}
		io.Copy(io.Discard, so)
	}()
	return c
}

// waitLine waits for a stdout line with prefix, failing after a minute
// (or when the process ends first).
func (c *child) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("nnkern ended before printing %q; stderr: %s", prefix, c.se.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q within a minute", prefix)
		}
	}
}

// wait waits for the process and returns its exit status (-1 if a signal
// killed it).
func (c *child) wait() int {
	c.wg.Wait()
	c.cmd.Wait()
	return c.cmd.ProcessState.ExitCode()
}

// lossRows returns the iteration rows of a metrics.jsonl without the wall
// clock (the only field that differs between runs), one line each.
func lossRows(t *testing.T, path string) string {
	t.Helper()
	lines, torn, err := runio.ReadMetrics(path)
	if err != nil || torn {
		t.Fatalf("%s: torn %v, err %v", path, torn, err)
	}
	var b strings.Builder
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "wall")
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestRunDirectoryLock (finding 13): a run directory takes one writer. A
// held lock refuses train, train --resume, sweep and sweep merge in one
// line naming the directory and the holder's pid, touching nothing; two
// trains started together on one --out: one proceeds, the other is
// refused, and every file of the directory comes from the one.
func TestRunDirectoryLock(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("softmax", data, out, "--stop-at", "20")...)
	sweep := filepath.Join(dir, "sweep")
	mustRun(t, dir, nil, "sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--iters", "5", "--out", sweep)
	fresh := filepath.Join(dir, "fresh")
	os.Mkdir(fresh, 0o755)
	for _, c := range []struct {
		dir  string
		args []string
	}{
		{out, smallArgs("softmax", data, out, "--resume")},
		{fresh, smallArgs("softmax", data, fresh)},
		{fresh, []string{"sweep", "softmax", "--data", data, "--iters", "5", "--out", fresh}},
		{sweep, []string{"sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--iters", "5", "--out", sweep, "--resume"}},
		{fresh, []string{"sweep", "merge", "--out", fresh, sweep}},
	} {
		lk, err := runio.LockDir(c.dir) // as a running nnkern would
		if err != nil {
			t.Fatal(err)
		}
		before := dirState(t, c.dir)
		r := nnkern(t, dir, nil, c.args...)
		want := fmt.Sprintf("--out %s: another nnkern run (pid %d) holds it", c.dir, os.Getpid())
		if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nnkern %s while the lock is held: exit %d, stderr %q; want 1 and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, want)
		}
		if dirState(t, c.dir) != before {
			t.Errorf("nnkern %s while the lock is held changed %s", strings.Join(c.args, " "), c.dir)
		}
		lk.Unlock()
	}
	// A configuration of a sweep whose run directory another process
	// holds is left for --resume, untouched.
	sw2 := filepath.Join(dir, "sweep2")
	os.MkdirAll(filepath.Join(sw2, "run-0000"), 0o755)
	lk, err := runio.LockDir(filepath.Join(sw2, "run-0000"))
	if err != nil {
		t.Fatal(err)
	}
	swArgs := []string{"sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--lr", "1e-6,1e-4", "--iters", "5", "--out", sw2}
	before := dirState(t, filepath.Join(sw2, "run-0000"))
	r := nnkern(t, dir, nil, swArgs...)
	if r.code != 1 || !strings.Contains(r.stdout, "[0] skipped: "+filepath.Join(sw2, "run-0000")+": another nnkern run") || !strings.Contains(r.stderr, "1 of 2 configurations done") {
		t.Errorf("sweep with a held run directory: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if dirState(t, filepath.Join(sw2, "run-0000")) != before {
		t.Error("the sweep wrote into a run directory another process holds")
	}
	lk.Unlock()
	mustRun(t, dir, nil, append(swArgs, "--resume")...)
	if l, _, _ := runio.ReadMetrics(filepath.Join(sw2, "sweep.jsonl")); len(l) != 2 {
		t.Errorf("the resumed sweep recorded %d configurations, want 2", len(l))
	}

	mustRun(t, dir, nil, smallArgs("softmax", data, out, "--resume")...)
	if _, err := os.Stat(filepath.Join(out, runio.LockFile)); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived the run: %v", err)
	}

	// Two runs with different seeds started together on one --out.
	ref := map[string]string{}
	args := func(seed, out string) []string {
		return []string{"train", "twolayer", "--data", data, "--out", out, "--num-train", "300", "--num-val", "50",
			"--batch", "100", "--hidden", "16", "--iters", "300", "--std", "1e-3", "--seed", seed, "--quiet"}
	}
	for _, seed := range []string{"1", "2"} {
		r := filepath.Join(dir, "ref"+seed)
		mustRun(t, dir, nil, args(seed, r)...)
		ref[seed] = r
	}
	for round := 0; round < 3; round++ {
		both := filepath.Join(dir, fmt.Sprintf("both%d", round))
		cs := []*child{startChild(t, dir, args("1", both)...), startChild(t, dir, args("2", both)...)}
		codes := []int{cs[0].wait(), cs[1].wait()}
		var winner string
		switch {
		case codes[0] == 0 && codes[1] == 1:
			winner = "1"
		case codes[0] == 1 && codes[1] == 0:
			winner = "2"
		default:
			t.Fatalf("two runs on one --out: exit %v, stderr %q and %q; want exactly one to proceed", codes, cs[0].se.String(), cs[1].se.String())
		}
		loser := cs[0].se.String() + cs[1].se.String()
		// The holder records its pid right after taking the lock, so a
		// loser that looks in between is told "another nnkern run holds
		// it" without one (runio.LockedError with PID 0).
		if strings.Count(loser, "\n") != 1 || !(strings.Contains(loser, both+": another nnkern run (pid ") ||
			strings.Contains(loser, both+": another nnkern run holds it ("+runio.LockFile+")") || strings.Contains(loser, "already holds a run")) {
			t.Errorf("the refused run's stderr: %q", loser)
		}
		for _, f := range []string{modelFile, checkpointFile, "weights.png"} {
			if fileHash(t, filepath.Join(both, f)) != fileHash(t, filepath.Join(ref[winner], f)) {
				t.Errorf("round %d: %s is not the winning run's (seed %s)", round, f, winner)
			}
		}
		if lossRows(t, filepath.Join(both, metricsFile)) != lossRows(t, filepath.Join(ref[winner], metricsFile)) {
			t.Errorf("round %d: metrics.jsonl is not the winning run's (seed %s)", round, winner)
		}
		rc, err := readRunConfig(filepath.Join(both, "config.json"))
		if err != nil || fmt.Sprint(rc.Settings.Seed) != winner {
			t.Errorf("round %d: config.json of seed %v (err %v), the winner has seed %s", round, rc.Settings.Seed, err, winner)
		}
		var res runResult
		b, _ := os.ReadFile(filepath.Join(both, "result.json"))
		if json.Unmarshal(b, &res) != nil || fmt.Sprint(res.Settings.Seed) != winner {
			t.Errorf("round %d: result.json %s, the winner has seed %s", round, b, winner)
		}
	}
}

var interruptedAt = regexp.MustCompile(`interrupted after iteration (\d+); checkpoint written`)

// TestSignalsCheckpointAndResume (finding 14): SIGTERM, SIGHUP and SIGINT
// sent to a training run leave a checkpoint at the iteration reached (past
// the periodic ones) and exit 143, 129 and 130; --resume ends with the
// uninterrupted run's model.npz and metrics.
func TestSignalsCheckpointAndResume(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	args := func(out string, extra ...string) []string {
		return append([]string{"train", "twolayer", "--data", data, "--out", out, "--num-train", "300", "--num-val", "50",
			"--batch", "100", "--hidden", "32", "--iters", "6000", "--std", "1e-3", "--checkpoint-every", "1000"}, extra...)
	}
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, args(full, "--quiet")...)
	for _, sc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGTERM, "SIGTERM", 143}, {syscall.SIGHUP, "SIGHUP", 129}, {syscall.SIGINT, "SIGINT", 130}} {
		t.Run(sc.name, func(t *testing.T) {
			out := filepath.Join(dir, sc.name)
			c := startChild(t, dir, args(out)...)
			c.waitLine(t, "iteration 100 / 6000")
			c.cmd.Process.Signal(sc.sig)
			code := c.wait()
			stderr := c.se.String()
			if code != sc.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, sc.name) || !strings.Contains(stderr, "--resume") {
				t.Fatalf("after %s: exit %d, stderr %q; want %d and one line naming the signal and --resume", sc.name, code, stderr, sc.code)
			}
			m := interruptedAt.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("stderr %q does not say where it stopped", stderr)
			}
			at, _ := strconv.Atoi(m[1])
			ck, err := runio.LoadCheckpoint(filepath.Join(out, checkpointFile))
			if err != nil {
				t.Fatal(err)
			}
			// Progress had reached 101 when the signal was sent; the
			// last periodic checkpoint would be at 0 or 1000s.
			if ck.Iteration != at || at <= 100 || at >= 6000 {
				t.Fatalf("checkpoint at iteration %d, stderr says %d; want the iteration reached (> 100, < 6000)", ck.Iteration, at)
			}
			checkMetrics(t, filepath.Join(out, metricsFile), at)
			if _, err := os.Stat(filepath.Join(out, runio.LockFile)); !os.IsNotExist(err) {
				t.Errorf("the interrupted run left its lock file: %v", err)
			}
			mustRun(t, dir, nil, args(out, "--quiet", "--resume")...)
			if fileHash(t, filepath.Join(out, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
				t.Errorf("%s at iteration %d and --resume: model.npz differs from the uninterrupted run", sc.name, at)
			}
			if lossRows(t, filepath.Join(out, metricsFile)) != lossRows(t, filepath.Join(full, metricsFile)) {
				t.Errorf("%s at iteration %d and --resume: metrics.jsonl differs from the uninterrupted run (wall times aside)", sc.name, at)
			}
		})
	}
}

// TestSweepSIGTERMResumesMidConfiguration (finding 14): a sweep
// checkpoints its running configuration every --checkpoint-every
// iterations; SIGTERM in the middle of one exits 143 with a checkpoint,
// and --resume continues that configuration from it and ends with the
// uninterrupted sweep's models, metrics and best model.
func TestSweepSIGTERMResumesMidConfiguration(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	base := []string{"sweep", "twolayer", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-4,1e-3", "--hidden", "16", "--iters", "3000", "--std", "1e-3", "--jobs", "1", "--checkpoint-every", "100"}
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, append(base, "--out", full)...)

	part := filepath.Join(dir, "part")
	c := startChild(t, dir, append(base, "--out", part)...)
	ckPath := filepath.Join(part, "run-0000", checkpointFile)
	deadline := time.Now().Add(time.Minute)
	for {
		if ck, err := runio.LoadCheckpoint(ckPath); err == nil && ck.Iteration >= 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of configuration 0 at iteration >= 200 within a minute (stderr %q)", c.se.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	code := c.wait()
	if code != 143 || !strings.Contains(c.se.String(), "SIGTERM") || !strings.Contains(c.se.String(), "--resume") {
		t.Fatalf("sweep after SIGTERM: exit %d, stderr %q; want 143", code, c.se.String())
	}
	ck, err := runio.LoadCheckpoint(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Iteration < 200 || ck.Iteration >= 3000 {
		t.Fatalf("configuration 0's checkpoint at iteration %d; want the middle of the configuration", ck.Iteration)
	}
	if l, _, _ := runio.ReadMetrics(filepath.Join(part, "sweep.jsonl")); len(l) != 0 {
		t.Fatalf("configuration 0 recorded although interrupted: %q", l)
	}
	mustRun(t, dir, nil, append(base, "--out", part, "--resume")...)
	segs := segmentsOf(t, filepath.Join(part, "run-0000")).Segments
	if len(segs) != 2 || segs[1].FromIteration != ck.Iteration {
		t.Errorf("configuration 0's segments %+v; want the resume to start at the checkpoint's iteration %d", segs, ck.Iteration)
	}
	for _, run := range []string{"run-0000", "run-0001"} {
		if fileHash(t, filepath.Join(part, run, modelFile)) != fileHash(t, filepath.Join(full, run, modelFile)) {
			t.Errorf("%s: model.npz after SIGTERM and --resume differs from the uninterrupted sweep's", run)
		}
		if lossRows(t, filepath.Join(part, run, metricsFile)) != lossRows(t, filepath.Join(full, run, metricsFile)) {
			t.Errorf("%s: metrics.jsonl after SIGTERM and --resume differs from the uninterrupted sweep's", run)
		}
	}
	if fileHash(t, filepath.Join(part, "best", modelFile)) != fileHash(t, filepath.Join(full, "best", modelFile)) {
		t.Error("the resumed sweep picked another best model")
	}
}

// TestResumeRefusesDamagedMetrics (finding 12): --resume checks
// metrics.jsonl against the checkpoint. A torn last line is dropped with
// a one-line warning and the run ends as an uninterrupted one; any other
// damage is refused in one line naming the file and the line, changing
// nothing: rows are never lost silently.
func TestResumeRefusesDamagedMetrics(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, smallArgs("softmax", data, full)...)
	// stopped: a copy of a run stopped with its checkpoint at 25, loss
	// rows 0-24 plus epoch rows.
	orig := filepath.Join(dir, "stopped")
	mustRun(t, dir, nil, smallArgs("softmax", data, orig, "--checkpoint-every", "10", "--stop-at", "25")...)
	stopped := func(name string) (string, []string) {
		out := filepath.Join(dir, name)
		os.Mkdir(out, 0o755)
		ents, _ := os.ReadDir(orig)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(orig, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(out, e.Name()), b, 0o644)
		}
		b, err := os.ReadFile(filepath.Join(out, metricsFile))
		if err != nil {
			t.Fatal(err)
		}
		return out, strings.SplitAfter(string(b), "\n")
	}
	lineOf := func(lines []string, it int) int { // 0-based index of iteration it's loss row
		for i, l := range lines {
			if strings.HasPrefix(l, fmt.Sprintf(`{"it":%d,"loss":`, it)) {
				return i
			}
		}
		t.Fatalf("no loss row of iteration %d", it)
		return 0
	}

	// A torn last line (a crash mid-write): repaired with a warning.
	out, lines := stopped("torn")
	f, _ := os.OpenFile(filepath.Join(out, metricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"it":25,"loss":2.30`)
	f.Close()
	r := mustRun(t, dir, nil, smallArgs("softmax", data, out, "--checkpoint-every", "10", "--resume")...)
	if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, filepath.Join(out, metricsFile)) {
		t.Errorf("resume over a torn last line: stderr %q, want a one-line warning naming the file", r.stderr)
	}
	checkMetrics(t, filepath.Join(out, metricsFile), 40)
	checkEpochs(t, filepath.Join(out, metricsFile), 40, 3)
	if lossRows(t, filepath.Join(out, metricsFile)) != lossRows(t, filepath.Join(full, metricsFile)) ||
		fileHash(t, filepath.Join(out, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
		t.Error("resume over a torn last line: metrics or model differ from the uninterrupted run")
	}

	// Damage anywhere else: refused, naming the file and the line.
	for _, c := range []struct {
		name string
		edit func(lines []string) []string
		line func(lines []string) int // 1-based line the error names
	}{
		{"corrupt line", func(l []string) []string { l[lineOf(l, 7)] = "{\"it\":7,\"lo#s\":2.3}x\n"; return l }, func(l []string) int { return lineOf(l, 7) + 1 }},
		{"garbage line", func(l []string) []string { l[lineOf(l, 7)] = "\x00\x00\x00\n"; return l }, func(l []string) int { return lineOf(l, 7) + 1 }},
		{"corrupt last line", func(l []string) []string { l[len(l)-2] = "{\"it\":24,\"lo\n"; return l }, func(l []string) int { return len(l) - 1 }},
		{"missing row", func(l []string) []string { i := lineOf(l, 7); return append(l[:i:i], l[i+1:]...) }, func(l []string) int { return lineOf(l, 7) + 1 }},
		{"duplicated row", func(l []string) []string {
			i := lineOf(l, 7)
			return append(append(l[:i+1:i+1], l[i]), l[i+1:]...)
		}, func(l []string) int { return lineOf(l, 7) + 2 }},
		{"type changed", func(l []string) []string { l[lineOf(l, 7)] = "{\"it\":\"7\",\"loss\":1}\n"; return l }, func(l []string) int { return lineOf(l, 7) + 1 }},
	} {
		out, lines := stopped(strings.ReplaceAll(c.name, " ", "-"))
		want := fmt.Sprintf("%s line %d: ", filepath.Join(out, metricsFile), c.line(lines))
		os.WriteFile(filepath.Join(out, metricsFile), []byte(strings.Join(c.edit(lines), "")), 0o644)
		before := dirState(t, out)
		args := smallArgs("softmax", data, out, "--checkpoint-every", "10", "--resume")
		checkOneLine(t, nnkern(t, dir, nil, args...), 1, want, args)
		if dirState(t, out) != before {
			t.Errorf("%s: the refused --resume changed %s", c.name, out)
		}
	}
	// Rows missing at the end (the file cut at a line boundary, or gone).
	out, lines = stopped("cut")
	os.WriteFile(filepath.Join(out, metricsFile), []byte(strings.Join(lines[:lineOf(lines, 20)], "")), 0o644)
	args := smallArgs("softmax", data, out, "--checkpoint-every", "10", "--resume")
	checkOneLine(t, nnkern(t, dir, nil, args...), 1, filepath.Join(out, metricsFile)+" holds the losses of iterations 0-19", args)
	os.Remove(filepath.Join(out, metricsFile))
	checkOneLine(t, nnkern(t, dir, nil, args...), 1, filepath.Join(out, metricsFile)+" is missing", args)
}

// TestSweepResumeRefusesDamagedLine: a damaged record in the middle of
// sweep.jsonl is refused, naming the line, not taken for a torn end
// (which dropped it and every record after it).
func TestSweepResumeRefusesDamagedLine(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "s")
	args := []string{"sweep", "softmax", "--data", data, "--num-train", "300", "--num-val", "50", "--batch", "100",
		"--lr", "1e-6,1e-4", "--reg", "0.1", "--iters", "5", "--out", out}
	mustRun(t, dir, nil, args...)
	path := filepath.Join(out, "sweep.jsonl")
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[0] = "{\"index\":0,\x1b[2J\n"
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
	before := dirState(t, out)
	resume := append(args, "--resume")
	checkOneLine(t, nnkern(t, dir, nil, resume...), 1, path+" line 1: ", resume)
	merge := []string{"sweep", "merge", "--out", filepath.Join(dir, "m"), out}
	checkOneLine(t, nnkern(t, dir, nil, merge...), 1, path+" line 1: ", merge)
	if dirState(t, out) != before {
		t.Error("the refused --resume changed the sweep directory")
	}
}
