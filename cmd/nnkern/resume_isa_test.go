package main

// Resume across ISA levels, builds and machines, and config.json's record
// of it. Under nnkern's one-result contract the native backend computes the
// same bits at every ISA level, for every GOAMD64 setting, with -tags purego
// and on arm64, so a run may be continued anywhere and must end as it would
// have uninterrupted.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
)

// nnkernBin runs the nnkern binary bin as nnkern does binPath. The child
// does not inherit the test's NNKERN_ISA (NNKERN_ISA=avx512 make test):
// each run here picks its level itself, and a purego build refuses any
// level above generic.
func nnkernBin(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	env = append([]string{"NNKERN_ISA="}, env...)
	old := binPath
	binPath = bin
	defer func() { binPath = old }()
	return nnkern(t, dir, env, args...)
}

func mustRunBin(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	r := nnkernBin(t, bin, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// binaryLevels returns the ISA level the nnkern binary runs at by default
// and every level it can run at (from nnkern cpuinfo).
func binaryLevels(t *testing.T, bin string) (def string, all []string) {
	t.Helper()
	r := mustRunBin(t, bin, t.TempDir(), nil, "cpuinfo")
	for _, l := range strings.Split(r.stdout, "\n") {
		rest, ok := strings.CutPrefix(l, "isa:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		def = f[0]
		if _, av, ok := strings.Cut(rest, "available "); ok {
			av, _, _ = strings.Cut(av, ";")
			for _, x := range strings.Split(av, ",") {
				all = append(all, strings.TrimSpace(x))
			}
		}
		return def, all
	}
	t.Fatalf("nnkern cpuinfo printed no isa line:\n%s", r.stdout)
	return "", nil
}

var (
	otherBuildsOnce sync.Once
	otherBuilds     []otherBuild
	otherBuildsErr  error
)

// An otherBuild is nnkern compiled another way: what a second machine or a
// distribution's package would run.
type otherBuild struct {
	name  string // GOAMD64=v3, purego GOAMD64=v3, purego
	path  string
	build string // the segment's build field it must record
}

// builtVariants compiles nnkern with GOAMD64=v3 (the compiler may fuse
// multiply-adds the source leaves to it) and with -tags purego at v3 (the
// generic kernels, compiled for FMA) when this CPU runs v3 code, else with
// -tags purego only.
func builtVariants(t *testing.T) []otherBuild {
	t.Helper()
	otherBuildsOnce.Do(func() {
		dir := filepath.Dir(binPath)
		type spec struct {
			name, goamd64, tags, build string
		}
		specs := []spec{{"purego", "", "purego", "-tags=purego"}}
		if runtime.GOARCH == "amd64" && cpuid.CPU.X64Level() >= 3 {
			specs = []spec{
				{"GOAMD64=v3", "v3", "", "GOAMD64=v3"},
				{"purego GOAMD64=v3", "v3", "purego", "-tags=purego GOAMD64=v3"},
			}
		}
		for i, s := range specs {
			out := filepath.Join(dir, "nnkern-variant"+string(rune('0'+i)))
			args := []string{"build", "-o", out}
			if s.tags != "" {
				args = append(args, "-tags", s.tags)
			}
			cmd := exec.Command("go", append(args, ".")...)
			cmd.Env = append(os.Environ(), "GOFLAGS=")
			if s.goamd64 != "" {
				cmd.Env = append(cmd.Env, "GOAMD64="+s.goamd64)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				otherBuildsErr = fmt.Errorf("GOAMD64=%s go %s: %v\n%s", s.goamd64, strings.Join(args, " "), err, b)
				return
			}
			otherBuilds = append(otherBuilds, otherBuild{name: s.name, path: out, build: s.build})
		}
	})
	if otherBuildsErr != nil {
		t.Fatal(otherBuildsErr)
	}
	return otherBuilds
}

// segmentsOf reads the segments of a run directory's config.json.
func segmentsOf(t *testing.T, run string) *RunConfig {
	t.Helper()
	rc, err := readRunConfig(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestResumeAcrossISALevels stops runs at iteration 21 and resumes them at
// every other ISA level of this CPU (NNKERN_ISA) and with nnkern built
// another way (GOAMD64=v3, -tags purego): every resume is accepted, ends
// with a model.npz byte-identical to the uninterrupted run's, and
// config.json lists both segments. It fails, naming the level, until the
// kernels give one result on every level; an uninterrupted run at that
// level tells whether the level or the resume differs.
func TestResumeAcrossISALevels(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	def, levels := binaryLevels(t, binPath)

	type resumer struct {
		name  string
		bin   string
		env   []string
		isa   string // the segment's isa
		build string // in the segment's build field
	}
	var rs []resumer
	for _, l := range levels {
		if l != def {
			rs = append(rs, resumer{name: "isa=" + l, bin: binPath, env: []string{"NNKERN_ISA=" + l}, isa: l})
		}
	}
	for _, b := range builtVariants(t) {
		bdef, _ := binaryLevels(t, b.path)
		rs = append(rs, resumer{name: "build=" + b.name, bin: b.path, isa: bdef, build: b.build})
	}
	t.Logf("default level %s; resuming with %d other levels and builds", def, len(rs))

	for _, model := range []string{"softmax", "svm", "twolayer"} {
		for _, dtype := range []string{"f32", "f64"} {
			if model == "svm" && dtype == "f64" {
				continue // svm shares the linear path; f64 is covered by softmax
			}
			name := model + "-" + dtype
			args := func(out string, extra ...string) []string {
				return smallArgs(model, data, out, append([]string{"--dtype", dtype, "--checkpoint-every", "7"}, extra...)...)
			}
			full := filepath.Join(dir, name+"-full")
			mustRun(t, dir, nil, args(full)...)
			want := fileHash(t, filepath.Join(full, modelFile))
			for i, r := range rs {
				t.Run(name+"/"+r.name, func(t *testing.T) {
					part := filepath.Join(dir, name+"-part-"+string(rune('a'+i)))
					mustRun(t, dir, nil, args(part, "--stop-at", "21")...)
					mustRunBin(t, r.bin, dir, r.env, args(part, "--resume")...)
					rc := segmentsOf(t, part)
					if len(rc.Segments) != 2 || rc.Segments[0].FromIteration != 0 || rc.Segments[0].ISA != def ||
						rc.Segments[1].FromIteration != 21 || rc.Segments[1].ISA != r.isa || !strings.Contains(rc.Segments[1].Build, r.build) ||
						!rc.BitIdentity {
						b, _ := json.MarshalIndent(rc.Segments, "", "  ")
						t.Errorf("config.json after a resume with %s: bit_identity_contract %v, segments %s; want from 0 at %s, from 21 at %s (build %q)",
							r.name, rc.BitIdentity, b, def, r.isa, r.build)
					}
					checkMetrics(t, filepath.Join(part, metricsFile), 40)
					if fileHash(t, filepath.Join(part, modelFile)) == want {
						return
					}
					// Why: does the level (or build) alone give another model?
					alone := filepath.Join(dir, name+"-alone-"+string(rune('a'+i)))
					mustRunBin(t, r.bin, dir, r.env, args(alone)...)
					if fileHash(t, filepath.Join(alone, modelFile)) != want {
						t.Errorf("%s: stopped at 21 at %s and resumed with %s: model.npz differs from the uninterrupted run; "+
							"so does an uninterrupted run with %s: the kernels do not give one result on every level yet", name, def, r.name, r.name)
					} else {
						t.Errorf("%s: stopped at 21 at %s and resumed with %s: model.npz differs from the uninterrupted run "+
							"(an uninterrupted run with %s does not: the resume is at fault)", name, def, r.name, r.name)
					}
				})
			}
		}
	}

	// The other way round: start at the lowest level, finish at the default.
	if len(levels) > 1 {
		low := levels[len(levels)-1]
		full := filepath.Join(dir, "up-full")
		mustRun(t, dir, nil, smallArgs("twolayer", data, full, "--checkpoint-every", "7")...)
		part := filepath.Join(dir, "up-part")
		mustRun(t, dir, []string{"NNKERN_ISA=" + low}, smallArgs("twolayer", data, part, "--checkpoint-every", "7", "--stop-at", "10")...)
		mustRun(t, dir, nil, smallArgs("twolayer", data, part, "--checkpoint-every", "7", "--resume")...)
		if fileHash(t, filepath.Join(part, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
			t.Errorf("twolayer: stopped at 10 at %s and resumed at %s: model.npz differs from the uninterrupted run", low, def)
		}
		// --stop-at 10 leaves a checkpoint at 10 (between the ones at 7 and 14).
		if rc := segmentsOf(t, part); len(rc.Segments) != 2 || rc.Segments[0].ISA != low || rc.Segments[1].ISA != def || rc.Segments[1].FromIteration != 10 {
			t.Errorf("segments after %s then %s: %+v", low, def, rc.Segments)
		}
	}
}

// TestResumeRefusesOtherBackend: the BLAS backend is a setting (gonum and
// OpenBLAS are outside the contract), refused in one line naming it, with
// the run directory untouched; and config.json of a gonum run says that it
// is not covered.
func TestResumeRefusesOtherBackend(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	run := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("softmax", data, run, "--stop-at", "20")...)
	before := dirState(t, run)
	r := nnkern(t, dir, []string{"NNKERN_BLAS=gonum"}, smallArgs("softmax", data, run, "--resume")...)
	checkOneLine(t, r, 1, "blas_backend is gonum (NNKERN_BLAS), the run has native: a run cannot change BLAS backend", nil)
	if dirState(t, run) != before {
		t.Error("a refused --resume changed the run directory")
	}

	g := filepath.Join(dir, "gonum")
	mustRun(t, dir, []string{"NNKERN_BLAS=gonum"}, smallArgs("softmax", data, g, "--stop-at", "20")...)
	mustRun(t, dir, []string{"NNKERN_BLAS=gonum", "NNKERN_ISA=generic"}, smallArgs("softmax", data, g, "--resume")...)
	rc := segmentsOf(t, g)
	if rc.BitIdentity || !strings.Contains(rc.Note, "not covered by nnkern's bit-identity contract") || rc.Settings.BLAS != "gonum" ||
		len(rc.Segments) != 2 || rc.Segments[1].ISA != "generic" {
		t.Errorf("config.json of a gonum run: bit_identity_contract %v, note %q, segments %+v", rc.BitIdentity, rc.Note, rc.Segments)
	}
	r = nnkern(t, dir, nil, smallArgs("softmax", data, g, "--resume")...)
	checkOneLine(t, r, 1, "blas_backend is native (NNKERN_BLAS), the run has gonum", nil)
}

// legacySettings is Settings as nnkern wrote it before the one-result
// contract, with the ISA level as a setting: checkpoints of such runs hold
// the digest of this JSON.
type legacySettings struct {
	Model        string  `json:"model"`
	DType        string  `json:"dtype"`
	Hidden       int     `json:"hidden_size,omitempty"`
	InitStd      float64 `json:"init_std,omitempty"`
	LR           float64 `json:"learning_rate"`
	Decay        float64 `json:"learning_rate_decay,omitempty"`
	Reg          float64 `json:"reg"`
	Iters        int     `json:"num_iters"`
	Batch        int     `json:"batch_size"`
	Seed         uint32  `json:"seed"`
	NumTrain     int     `json:"num_training"`
	NumVal       int     `json:"num_validation"`
	NumTest      int     `json:"num_test"`
	Bias         bool    `json:"bias_column"`
	DataSHA256   string  `json:"data_sha256"`
	DataShuffled bool    `json:"data_shuffled"`
	ISA          string  `json:"isa"`
	BLAS         string  `json:"blas_backend"`
}

// TestResumeLegacyRunDirectory turns a stopped run into what an earlier
// nnkern left (settings.isa, no segments, the checkpoint's digest over the
// settings with isa) and resumes it at another level: accepted, the same
// model as uninterrupted, and config.json gains the segments.
func TestResumeLegacyRunDirectory(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	def, levels := binaryLevels(t, binPath)
	resumeAt := levels[len(levels)-1]
	full := filepath.Join(dir, "full")
	mustRun(t, dir, nil, smallArgs("twolayer", data, full)...)
	run := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("twolayer", data, run, "--stop-at", "20")...)

	cfg := filepath.Join(run, "config.json")
	rc := segmentsOf(t, run)
	s := rc.Settings
	ls := legacySettings{s.Model, s.DType, s.Hidden, s.InitStd, s.LR, s.Decay, s.Reg, s.Iters, s.Batch, s.Seed,
		s.NumTrain, s.NumVal, s.NumTest, s.Bias, s.DataSHA256, s.DataShuffled, def, s.BLAS}
	var m map[string]any
	b, _ := os.ReadFile(cfg)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "segments")
	delete(m, "bit_identity_contract")
	m["settings"] = ls
	m["note"] = "model.npz is bit-reproducible for the same settings (including isa, blas_backend and dtype) on any GOMAXPROCS; a different ISA level or BLAS backend may change the last bits"
	b, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(run, checkpointFile)
	c, err := runio.LoadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := json.Marshal(ls)
	h := sha256.Sum256(lb)
	c.ConfigDigest = hex.EncodeToString(h[:])
	if c.ConfigDigest == s.digest() {
		t.Fatal("the legacy digest equals the current one: the test checks nothing")
	}
	if err := runio.SaveCheckpoint(ck, c); err != nil {
		t.Fatal(err)
	}
	old := segmentsOf(t, run)
	if len(old.Segments) != 1 || old.Segments[0].ISA != def || old.Segments[0].FromIteration != 0 || old.Segments[0].GoVersion != runtime.Version() {
		t.Errorf("a config.json without segments reads as %+v, want one segment from 0 at %s", old.Segments, def)
	}

	mustRun(t, dir, []string{"NNKERN_ISA=" + resumeAt}, smallArgs("twolayer", data, run, "--resume")...)
	if fileHash(t, filepath.Join(run, modelFile)) != fileHash(t, filepath.Join(full, modelFile)) {
		t.Errorf("legacy run stopped at 20 at %s, resumed at %s: model.npz differs from the uninterrupted run", def, resumeAt)
	}
	got := segmentsOf(t, run)
	if len(got.Segments) != 2 || got.Segments[0].ISA != def || got.Segments[1].ISA != resumeAt || got.Segments[1].FromIteration != 20 || !got.BitIdentity {
		t.Errorf("legacy run resumed: segments %+v, bit_identity_contract %v", got.Segments, got.BitIdentity)
	}
	var raw map[string]map[string]any
	b, _ = os.ReadFile(cfg)
	json.Unmarshal(b, &raw)
	if _, ok := raw["settings"]["isa"]; ok {
		t.Errorf("config.json still has settings.isa after a resume:\n%s", b)
	}
	if !bytes.Contains(b, []byte(`"segments"`)) {
		t.Errorf("config.json has no segments after a resume:\n%s", b)
	}
}

// resumeSegments keeps what the checkpoint covers: a process killed before
// its first checkpoint, or one whose later work the resume redoes, drops
// out.
func TestResumeSegments(t *testing.T) {
	old := []Segment{{FromIteration: 0, ISA: "avx2"}, {FromIteration: 300, ISA: "generic"}, {FromIteration: 500, ISA: "avx512"}}
	for _, c := range []struct {
		from int
		want []int // FromIteration of the kept segments, then this one
	}{
		{0, []int{0}},
		{200, []int{0, 200}},
		{300, []int{0, 300}},
		{400, []int{0, 300, 400}},
		{700, []int{0, 300, 500, 700}},
	} {
		got := resumeSegments(old, c.from)
		var fs []int
		for _, g := range got {
			fs = append(fs, g.FromIteration)
		}
		if jsonOf(fs) != jsonOf(c.want) {
			t.Errorf("resume from %d: segments from %v, want %v", c.from, fs, c.want)
		}
		if last := got[len(got)-1]; last.ISA == "" || last.GoVersion != runtime.Version() {
			t.Errorf("resume from %d: the new segment does not describe this process: %+v", c.from, last)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
