package main

// Tests that span the commands (usage errors, bad inputs: one line, the
// right exit code, nothing damaged) and of cpuinfo and version.

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/npz"
)

func TestUsageErrorsExit2OneLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{[]string{"train", "twolayer", "--bogus"}, nil, "-bogus"},
		{[]string{"train", "twolayer", "--lr", "-1"}, nil, "--lr -1"},
		{[]string{"train", "twolayer", "--lr", "abc"}, nil, "-lr"},
		{[]string{"train", "twolayer", "--hidden", "0"}, nil, "--hidden 0"},
		{[]string{"train", "twolayer", "--hidden", "-5"}, nil, "--hidden -5"},
		{[]string{"train", "twolayer", "--batch", "0"}, nil, "--batch 0"},
		{[]string{"train", "twolayer", "--decay", "1.5"}, nil, "--decay"},
		{[]string{"train", "twolayer", "--reg", "-0.1"}, nil, "--reg"},
		{[]string{"train", "softmax", "--hidden", "10"}, nil, "twolayer only"},
		{[]string{"train", "resnet"}, nil, `unknown model "resnet"`},
		{[]string{"train"}, nil, "want one model"},
		{[]string{"train", "softmax", "--dtype", "f16"}, nil, "--dtype"},
		{[]string{"train", "softmax", "--resume"}, nil, "--resume needs --out"},
		{[]string{"eval"}, nil, "MODEL"},
		{[]string{"eval", "m.npz", "--split", "dev"}, nil, "--split"},
		{[]string{"predict", "m.npz"}, nil, "IMAGE"},
		{[]string{"sweep", "twolayer", "--jobs", "0"}, nil, "--jobs"},
		{[]string{"sweep", "twolayer", "--lr", "1e-3,x"}, nil, "--lr"},
		{[]string{"sweep", "twolayer", "--shard", "3/2"}, nil, "--shard"},
		{[]string{"sweep", "twolayer"}, []string{"JOB_COMPLETION_INDEX=1"}, "--shards"},
		{[]string{"sweep", "twolayer"}, []string{"SLURM_ARRAY_TASK_ID=5", "SLURM_ARRAY_TASK_COUNT=2"}, "SLURM_ARRAY_TASK_ID"},
		{[]string{"gradcheck", "resnet"}, nil, "unknown model"},
		{[]string{"data", "fetch", "imagenet"}, nil, "imagenet"},
		{[]string{"data"}, nil, "subcommand"},
		{[]string{"cpuinfo"}, []string{"NNKERN_ISA=sse9"}, "NNKERN_ISA"},
		{[]string{"cpuinfo", "extra"}, nil, "extra"},
	}
	for _, c := range cases {
		r := nnkern(t, dir, c.env, c.args...)
		checkOneLine(t, r, 2, c.want, c.args)
		if r.stdout != "" {
			t.Errorf("nnkern %v: usage error wrote to stdout: %q", c.args, r.stdout)
		}
	}
	if r := nnkern(t, dir, nil); r.code != 2 || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("no arguments: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"train", "-h"}, {"help", "sweep"}, {"eval", "--help"}} {
		r := nnkern(t, dir, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") || r.stderr != "" {
			t.Errorf("nnkern %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestBadInputsOneLineNothingDamaged(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	// A corrupt dataset: truncated image file.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	for _, f := range []string{"train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		os.WriteFile(filepath.Join(bad, f), b, 0o644)
	}
	writeIDX(t, filepath.Join(bad, "train-images-idx3-ubyte"), []int{400, side, side}, make([]byte, 100))

	run := filepath.Join(dir, "run")
	mustRun(t, dir, nil, smallArgs("twolayer", data, run)...)
	before := dirState(t, run)
	notModel := filepath.Join(dir, "notmodel.npz")
	os.WriteFile(notModel, []byte("PK\x03\x04 not really a zip"), 0o644)
	noKind := filepath.Join(dir, "nokind.npz")
	if err := os.WriteFile(noKind, mustNPZ(t), 0o644); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "afile")
	os.WriteFile(blocker, []byte("x"), 0o644)

	cases := []struct {
		args []string
		want string
	}{
		{smallArgs("twolayer", filepath.Join(dir, "missing"), filepath.Join(dir, "r1")), "missing"},
		{smallArgs("twolayer", bad, filepath.Join(dir, "r2")), "train-images-idx3-ubyte"},
		{smallArgs("twolayer", data, filepath.Join(blocker, "sub")), "--out"},
		{smallArgs("twolayer", data, run), "already holds a run"},
		{smallArgs("twolayer", data, run, "--resume", "--reg", "0.1"), "reg"},
		{smallArgs("softmax", data, run, "--resume"), "model"},
		{append(smallArgs("twolayer", data, run, "--resume"), "--num-train", "200"), "num_training"},
		{[]string{"eval", notModel, "--data", data}, "not an npz"},
		{[]string{"eval", noKind, "--data", data}, "kind"},
		{[]string{"eval", filepath.Join(run, "config.json"), "--data", data}, "config.json"},
		{[]string{"eval", filepath.Join(dir, "nope.npz"), "--data", data}, "nope.npz"},
		{[]string{"predict", filepath.Join(run, modelFile), filepath.Join(dir, "nope.png")}, "nope.png"},
		{[]string{"predict", filepath.Join(run, modelFile), blocker}, "not a PNG or JPEG"},
		{[]string{"data", "info", filepath.Join(dir, "missing")}, "missing"},
		{smallArgs("softmax", data, filepath.Join(dir, "r3"), "--lr", "1e30"), "diverged"},
	}
	for _, c := range cases {
		r := nnkern(t, dir, nil, c.args...)
		if r.code == 0 {
			t.Errorf("nnkern %v succeeded", c.args)
			continue
		}
		checkOneLine(t, r, r.code, c.want, c.args)
	}
	// Resuming on another BLAS backend (gonum and OpenBLAS are outside
	// the bit-identity contract) is refused like any changed setting.
	r0 := nnkern(t, dir, []string{"NNKERN_BLAS=gonum"}, smallArgs("twolayer", data, run, "--resume")...)
	checkOneLine(t, r0, 1, "blas_backend is gonum (NNKERN_BLAS), the run has native", nil)
	if after := dirState(t, run); after != before {
		t.Errorf("a failed command changed the run directory %s", run)
	}
	// A model of another image size: eval names both shapes.
	other := synthDataSide(t, filepath.Join(dir, "o"), 8)
	r := nnkern(t, dir, nil, "eval", filepath.Join(run, modelFile), "--data", other)
	checkOneLine(t, r, 1, "expects 6x6x1 images", nil)
}

func synthDataSide(t *testing.T, dir string, s int) string {
	os.MkdirAll(dir, 0o755)
	n := 20
	x := make([]byte, n*s*s)
	y := make([]byte, n)
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), []int{n, s, s}, x)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{n}, y)
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []int{n, s, s}, x)
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{n}, y)
	return dir
}

// mustNPZ returns an npz archive without the "kind" entry.
func mustNPZ(t *testing.T) []byte {
	var b bytes.Buffer
	m := &npz.Model{Kind: "softmax", Tensors: []npz.Tensor{{Name: "W", Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}}}
	if err := npz.EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	// Rename the entry "kind.npy" so the archive has no kind.
	return bytes.ReplaceAll(b.Bytes(), []byte("kind"), []byte("kinx"))
}

func TestCPUInfoAndVersion(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, nil, "cpuinfo")
	for _, want := range []string{"cpu:", "caches:", "isa:", "kernels:", "blas:", "gomaxprocs:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cpuinfo lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, dir, []string{"NNKERN_ISA=generic"}, "cpuinfo")
	if !strings.Contains(r.stdout, "isa:         generic") {
		t.Errorf("cpuinfo with NNKERN_ISA=generic:\n%s", r.stdout)
	}
}

// TestVersionLine: version, --version and -v print the same one line,
// nnkern <module version> [<revision>[-dirty]] <go version> <isa>, with the
// ISA the kernels run (NNKERN_ISA included) and the version bench reports.
func TestVersionLine(t *testing.T) {
	dir := t.TempDir()
	want := mustRun(t, dir, []string{"NNKERN_ISA=generic"}, "version").stdout
	f := strings.Fields(want)
	if strings.Count(want, "\n") != 1 || len(f) < 4 || len(f) > 5 || f[0] != "nnkern" ||
		f[len(f)-2] != runtime.Version() || f[len(f)-1] != "generic" {
		t.Fatalf("version: %q, want nnkern <version> [<revision>] %s generic", want, runtime.Version())
	}
	if len(f) == 5 && !regexp.MustCompile(`^[0-9a-f]{12}(-dirty)?$`).MatchString(f[2]) {
		t.Errorf("version: revision %q is not 12 hex digits with an optional -dirty", f[2])
	}
	for _, arg := range []string{"--version", "-v"} {
		if got := mustRun(t, dir, []string{"NNKERN_ISA=generic"}, arg).stdout; got != want {
			t.Errorf("nnkern %s: %q, want %q (as nnkern version)", arg, got, want)
		}
	}
	// The level the binary runs by default (the binary is built without
	// this test's build tags, so ask it rather than this process).
	var ci cpuInfo
	decodeOne(t, "cpuinfo --json", mustRun(t, dir, nil, "cpuinfo", "--json").stdout, &ci)
	if got := mustRun(t, dir, nil, "version").stdout; !strings.HasSuffix(got, " "+ci.ISA+"\n") {
		t.Errorf("version without NNKERN_ISA: %q, want the default level %s last", got, ci.ISA)
	}
}
