package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// Settings are the choices that determine a run's result bit for bit. A
// --resume compares them with config.json and refuses any difference.
//
// The ISA level is not one of them: on the native backend the result does
// not depend on it (nnkern's one-result contract: every level, GOAMD64
// setting, purego build and arm64 computes the same bits), so a run may be
// resumed at another level or on another machine; RunConfig.Segments
// records where each part ran. Settings before that contract had an "isa"
// field between data_shuffled and blas_backend, which reading ignores and
// legacyDigests reproduces. The BLAS backend stays: gonum and OpenBLAS are
// outside the contract.
type Settings struct {
	Model   string  `json:"model"`
	DType   string  `json:"dtype"`
	Hidden  int     `json:"hidden_size,omitempty"`
	InitStd float64 `json:"init_std,omitempty"`
	LR      float64 `json:"learning_rate"`
	Decay   float64 `json:"learning_rate_decay,omitempty"`
	// Update is the update rule, "" for sgd (so that an sgd run's settings,
	// and their digest, are those of the versions before update rules).
	Update     string  `json:"update,omitempty"`
	Reg        float64 `json:"reg"`
	Iters      int     `json:"num_iters"`
	Batch      int     `json:"batch_size"`
	Seed       uint32  `json:"seed"`
	NumTrain   int     `json:"num_training"`
	NumVal     int     `json:"num_validation"`
	NumTest    int     `json:"num_test"`
	Bias       bool    `json:"bias_column"`
	DataSHA256 string  `json:"data_sha256"`
	// DataShuffled: the class-sorted splits were shuffled (seed 0) first.
	DataShuffled bool   `json:"data_shuffled"`
	BLAS         string `json:"blas_backend"`
}

// digest is a hash of the settings stored in checkpoints.
func (s Settings) digest() string {
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// legacyDigests are the digests that nnkern versions whose Settings had an
// "isa" field wrote into checkpoints for these settings, one per ISA level
// name. Such a run never changed level (--resume refused it), so matching
// any of them means the checkpoint was written for these settings.
func (s Settings) legacyDigests() []string {
	b, _ := json.Marshal(s)
	var out []string
	for _, l := range []kernels.Level{kernels.Generic, kernels.AVX2, kernels.AVX512} {
		isa, _ := json.Marshal(l.String())
		old := bytes.Replace(b, []byte(`,"blas_backend":`), []byte(`,"isa":`+string(isa)+`,"blas_backend":`), 1)
		h := sha256.Sum256(old)
		out = append(out, hex.EncodeToString(h[:]))
	}
	return out
}

// matchesDigest reports whether a checkpoint's settings digest is that of
// s, written by this version or by one before the one-result contract.
func (s Settings) matchesDigest(d string) bool {
	if d == s.digest() {
		return true
	}
	for _, l := range s.legacyDigests() {
		if d == l {
			return true
		}
	}
	return false
}

// diff describes the first setting that differs, or "".
func (s Settings) diff(old Settings) string {
	var a, b map[string]any
	ja, _ := json.Marshal(s)
	jb, _ := json.Marshal(old)
	json.Unmarshal(ja, &a)
	json.Unmarshal(jb, &b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	if s.Model != old.Model {
		return fmt.Sprintf("model is %s, the run has %s", textesc.Escape(s.Model), textesc.Escape(old.Model))
	}
	if s.BLAS != old.BLAS {
		return fmt.Sprintf("blas_backend is %s (NNKERN_BLAS), the run has %s: a run cannot change BLAS backend", textesc.Escape(s.BLAS), textesc.Escape(old.BLAS))
	}
	for _, k := range sortedKeys(keys) {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			return fmt.Sprintf("%s is %s, the run has %s", k, textesc.Escape(fmt.Sprint(a[k])), textesc.Escape(fmt.Sprint(b[k])))
		}
	}
	return ""
}

// RunConfig is config.json.
type RunConfig struct {
	Settings Settings `json:"settings"`
	Data     struct {
		Path       string   `json:"path"`
		Classes    []string `json:"classes"`
		ImageShape [3]int   `json:"image_shape"`
	} `json:"data"`
	// Env is the environment the run started in (as in every version).
	Env struct {
		NnkernVersion   string `json:"nnkern_version"`
		GoVersion       string `json:"go_version"`
		GOOS            string `json:"goos"`
		GOARCH          string `json:"goarch"`
		GOMAXPROCS      int    `json:"gomaxprocs"`
		ISADetected     string `json:"isa_detected"`
		CheckpointEvery int    `json:"checkpoint_every"`
	} `json:"env"`
	// Segments are the processes that trained the run, in order: the one
	// that started it and each --resume since, from the iteration its
	// checkpoint held. A resume drops the segments its checkpoint does not
	// cover (a process killed before its first checkpoint). A config.json
	// of an earlier version has none; readRunConfig makes the first from
	// its settings.isa and env.
	Segments []Segment `json:"segments"`
	// BitIdentity: the run's backend is under nnkern's bit-identity
	// contract (native), so model.npz does not depend on the machine, the
	// ISA level, GOMAXPROCS or where a --resume continued it.
	BitIdentity bool   `json:"bit_identity_contract"`
	Note        string `json:"note"`
}

// Segment is one process that trained part of a run.
type Segment struct {
	// FromIteration is the first iteration it ran (0, or the iteration of
	// the checkpoint it resumed from).
	FromIteration int `json:"from_iteration"`
	// ISA is the level the kernels ran at (kernels.ISA()), ISADetected the
	// best level of the CPU and build.
	ISA         string `json:"isa"`
	ISADetected string `json:"isa_detected"`
	CPU         string `json:"cpu,omitempty"`
	GOOS        string `json:"goos"`
	GOARCH      string `json:"goarch"`
	// Build holds the build settings that change the compiled arithmetic
	// (GOAMD64, GOARM64, -tags), as runtime/debug reports them.
	Build         string `json:"build,omitempty"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
	GoVersion     string `json:"go_version"`
	NnkernVersion string `json:"nnkern_version"`
}

// currentSegment describes this process, starting at iteration from.
func currentSegment(from int) Segment {
	return Segment{
		FromIteration: from,
		ISA:           kernels.ISA().String(),
		ISADetected:   kernels.Detected().String(),
		CPU:           strings.TrimSpace(cpuid.CPU.BrandName),
		GOOS:          runtime.GOOS,
		GOARCH:        runtime.GOARCH,
		Build:         buildSettings(),
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		GoVersion:     runtime.Version(),
		NnkernVersion: Version,
	}
}

// buildSettings returns the build settings of this binary that change
// its compiled arithmetic: GOAMD64 or GOARM64, and -tags (purego).
func buildSettings() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var parts []string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "GOAMD64", "GOARM64", "GOARM", "-tags":
			if kv.Value != "" {
				parts = append(parts, kv.Key+"="+kv.Value)
			}
		}
	}
	return strings.Join(parts, " ")
}

// resumeSegments returns the segments of a run resumed from the checkpoint
// at iteration from: those that start before it, then this process.
func resumeSegments(old []Segment, from int) []Segment {
	var segs []Segment
	for _, g := range old {
		if g.FromIteration < from {
			segs = append(segs, g)
		}
	}
	return append(segs, currentSegment(from))
}

// bitIdentityNote is config.json's note for a run on the BLAS backend
// backend, and whether the run is covered by the bit-identity contract.
func bitIdentityNote(backend string) (note string, covered bool) {
	if backend == "native" {
		return "model.npz is bit-identical for the same settings (dtype, blas_backend and the rest) on any machine, " +
			"ISA level (NNKERN_ISA, GOAMD64, -tags purego, arm64) and GOMAXPROCS, also when --resume continues the run " +
			"on another level or machine; segments lists where each part ran", true
	}
	return "blas_backend " + backend + " is not covered by nnkern's bit-identity contract: its results may change " +
		"with the machine, the ISA level, the thread count (GOMAXPROCS) and the library version; --resume keeps the " +
		"backend but cannot promise the bits of an uninterrupted run elsewhere", false
}

// modelDefaults are the notebooks' settings per model.
type modelDefaults struct {
	lr, reg, decay float64
	iters, hidden  int
}

var defaults = map[string]modelDefaults{
	"softmax":  {lr: 1e-7, reg: 2.5e4, decay: 1, iters: 1500},
	"svm":      {lr: 1e-7, reg: 2.5e4, decay: 1, iters: 1500},
	"twolayer": {lr: 1e-3, reg: 0.05, decay: 0.95, iters: 2000, hidden: 200},
}

func parseModel(name string) (string, error) {
	if _, ok := defaults[name]; ok {
		return name, nil
	}
	return "", usagef("unknown model %q (want softmax, svm or twolayer)", name)
}

// trainFlags are the flags train and sweep share.
type trainFlags struct {
	data                      string
	dtype                     string
	hidden, iters             optInt
	lr, decay, reg            optFloat
	std                       float64
	batch                     int
	seed                      uint
	numTrain, numVal, numTest int
	out                       string
	checkpointEvery           int
	resume                    bool
	stopAt                    int
	quiet                     bool
	update                    string
}

// optFloat and optInt are flags that know whether they were given, so a
// per-model default applies otherwise (and -h shows no misleading default).
type optFloat struct {
	v   float64
	set bool
}

func (o *optFloat) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	o.v, o.set = v, true
	return nil
}

func (o optFloat) or(def float64) float64 {
	if o.set {
		return o.v
	}
	return def
}

type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	o.v, o.set = v, true
	return nil
}

func (o optInt) or(def int) int {
	if o.set {
		return o.v
	}
	return def
}

func (f *trainFlags) register(fs *flag.FlagSet, sweep bool) {
	fs.StringVar(&f.data, "data", "", "dataset `path` (CIFAR-10 archive/dir/image folder, IDX dir, or \"mnist\"); default $NNKERN_DATA, then the cache")
	fs.StringVar(&f.dtype, "dtype", "f32", "floating point type: f32 or f64")
	if !sweep {
		fs.Var(&f.hidden, "hidden", "hidden layer `size` (twolayer; default 200)")
		fs.Var(&f.lr, "lr", "learning `rate` (default: 1e-7 softmax/svm, 1e-3 twolayer)")
		fs.Var(&f.decay, "decay", "learning rate `decay` per epoch (twolayer; default 0.95)")
		fs.Var(&f.reg, "reg", "regularization `strength` (default: 2.5e4 softmax/svm, 0.05 twolayer)")
		fs.Var(&f.iters, "iters", "SGD `iterations` (default: 1500 softmax/svm, 2000 twolayer)")
		fs.StringVar(&f.update, "update", "sgd", "update `rule`: "+strings.Join(train.Rules, ", "))
	}
	fs.Float64Var(&f.std, "std", 1e-4, "weight init std (twolayer)")
	fs.IntVar(&f.batch, "batch", 200, "mini-batch size")
	fs.UintVar(&f.seed, "seed", 0, "random seed (numpy-compatible stream)")
	fs.IntVar(&f.numTrain, "num-train", 49000, "training rows (shrunk to fit a smaller dataset)")
	fs.IntVar(&f.numVal, "num-val", 1000, "validation rows, taken after the training rows")
	fs.IntVar(&f.numTest, "num-test", 1000, "test rows")
}

// parseUpdate checks an --update rule name and returns it as Settings
// holds it ("" for sgd, which "" also names).
func parseUpdate(name string) (string, error) {
	if name != "" && !slices.Contains(train.Rules, name) {
		return "", usagef("--update %q: want one of %s", name, strings.Join(train.Rules, ", "))
	}
	if name == "sgd" {
		return "", nil
	}
	return name, nil
}

// settings validates the flags and fills in the per-model defaults.
func (f *trainFlags) settings(model string) (s Settings, err error) {
	d := defaults[model]
	s = Settings{Model: model, DType: f.dtype, LR: f.lr.or(d.lr), Reg: f.reg.or(d.reg), Iters: f.iters.or(d.iters), Batch: f.batch, Seed: uint32(f.seed)}
	if s.DType != "f32" && s.DType != "f64" {
		return s, usagef("--dtype %q: want f32 or f64", f.dtype)
	}
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return s, usagef("--lr %v: must be positive", s.LR)
	}
	if !(s.Reg >= 0) || math.IsInf(s.Reg, 0) {
		return s, usagef("--reg %v: must be >= 0", s.Reg)
	}
	if s.Iters < 0 {
		return s, usagef("--iters %d: must be >= 0", s.Iters)
	}
	if s.Batch <= 0 {
		return s, usagef("--batch %d: must be positive", f.batch)
	}
	if f.seed > math.MaxUint32 {
		return s, usagef("--seed %d: must fit in 32 bits", f.seed)
	}
	if s.Update, err = parseUpdate(f.update); err != nil {
		return s, err
	}
	if f.numTrain <= 0 || f.numVal < 0 || f.numTest < 0 {
		return s, usagef("--num-train/--num-val/--num-test must be positive (--num-train %d, --num-val %d, --num-test %d)", f.numTrain, f.numVal, f.numTest)
	}
	if model == "twolayer" {
		s.Hidden, s.Decay, s.InitStd = f.hidden.or(d.hidden), f.decay.or(d.decay), f.std
		if s.Hidden <= 0 {
			return s, usagef("--hidden %d: must be positive", s.Hidden)
		}
		if !(s.Decay > 0 && s.Decay <= 1) {
			return s, usagef("--decay %v: must be in (0, 1]", s.Decay)
		}
		if !(s.InitStd > 0) || math.IsInf(s.InitStd, 0) {
			return s, usagef("--std %v: must be positive", f.std)
		}
	} else {
		s.Bias = true
	}
	s.BLAS = blasCurrent()
	return s, nil
}

func runTrain(e *env, args []string) (retErr error) {
	f, model, set, err := parseTrainFlags(e, args)
	if err != nil {
		return err
	}
	s, err := f.settings(model)
	if err != nil {
		return err
	}
	if f.out == "" {
		if f.resume {
			return usagef("train: --resume needs --out DIR")
		}
		f.out = filepath.Join("runs", model+"-"+time.Now().Format("20060102-150405"))
	}
	sigs := notifyRunSignals()
	defer sigs.stop()
	ctx := sigs.ctx
	// Check the run directory before the (slow) data load.
	old, err := checkRunDir(f, s)
	if err != nil {
		return err
	}
	// One run per directory: the lock is held until this function returns.
	lk, undoOut, err := lockOutDir(f.out)
	if err != nil {
		return err
	}
	defer undoOnError(&retErr, undoOut)
	defer lk.Unlock()
	if _, err := os.Stat(filepath.Join(f.out, "config.json")); err == nil && !f.resume {
		return errRunExists(f.out) // a run that held the lock a moment ago
	}
	// A signal before training (say, during the data load) stops here with
	// its exit status; nothing was written.
	defer sigs.exitOnSignal(&retErr)
	rc, p, err := loadRunData(ctx, e, f, s, old, set)
	if err != nil {
		return err
	}
	mode := progressLines
	if f.quiet {
		mode = progressQuiet
	} else if e.stdoutTTY {
		mode = progressBar
	}
	if sigs.signal() != nil {
		return sigs.exit(fmt.Sprintf("%s before training started; nothing written to %s", signalName(sigs.signal()), f.out))
	}
	res, err := trainAny(ctx, e, rc, p, runOpts{dir: f.out, resume: f.resume, checkpointEvery: f.checkpointEvery, stopAt: f.stopAt, progress: mode})
	if err != nil {
		return err
	}
	if res.Stopped {
		if res.Interrupted {
			return sigs.exit(fmt.Sprintf("%s: interrupted after iteration %d; checkpoint written, continue with: nnkern train %s --out %s --resume (and the same flags)", signalName(sigs.signal()), res.Iteration, model, f.out))
		}
		fmt.Fprintf(e.stdout, "stopped after iteration %d (checkpoint in %s; continue with --resume)\n", res.Iteration, f.out)
		return nil
	}
	if !f.quiet {
		fmt.Fprintf(e.stdout, "%s: train accuracy %.4f, val accuracy %.4f, test accuracy %.4f (%.1fs)\n", model, res.TrainAcc, res.ValAcc, res.TestAcc, res.Seconds)
		fmt.Fprintf(e.stdout, "wrote %s\n", f.out)
	}
	return nil
}

// parseTrainFlags parses train's arguments: the flags, the model, and
// which flags were given.
func parseTrainFlags(e *env, args []string) (f *trainFlags, model string, set map[string]bool, err error) {
	fs := newFlags(e, "train", "softmax|svm|twolayer [flags]",
		"Trains a model with the notebooks' settings (override with flags) and writes a run\n"+
			"directory: config.json, metrics.jsonl, checkpoint.bin, model.npz, loss.png,\n"+
			"accuracy.png, weights.png. The same settings and seed give a byte-identical model.npz;\n"+
			"--resume continues an interrupted run from its last checkpoint, bit for bit, also at\n"+
			"another ISA level or on another machine (native BLAS backend; config.json records each part).\n"+
			"Ctrl-C, SIGTERM or SIGHUP writes a checkpoint and exits with 130, 143 or 129. One run at a\n"+
			"time per --out: a second one is refused (a lock file, .nnkern.lock, held to the end).")
	f = &trainFlags{}
	f.register(fs, false)
	fs.StringVar(&f.out, "out", "", "run directory (default runs/MODEL-YYYYMMDD-HHMMSS)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 100, "write a checkpoint every K iterations (0: only at the end)")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in --out from its last checkpoint")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.IntVar(&f.stopAt, "stop-at", 0, "stop after this many iterations, leaving a checkpoint (for testing resume)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", nil, err
	}
	if len(pos) != 1 {
		return nil, "", nil, usagef("train: want one model (softmax, svm or twolayer), got %d arguments (see 'nnkern train -h')", len(pos))
	}
	if model, err = parseModel(pos[0]); err != nil {
		return nil, "", nil, err
	}
	set = setFlags(fs)
	if model != "twolayer" {
		for _, n := range []string{"hidden", "decay", "std"} {
			if set[n] {
				return nil, "", nil, usagef("train %s: --%s applies to twolayer only", model, n)
			}
		}
	}
	if f.checkpointEvery < 0 {
		return nil, "", nil, usagef("--checkpoint-every %d: must be >= 0", f.checkpointEvery)
	}
	if f.stopAt < 0 {
		return nil, "", nil, usagef("--stop-at %d: must be >= 0", f.stopAt)
	}
	return f, model, set, nil
}

// checkRunDir checks --out before the data load: on --resume it returns
// the run's config, whose settings must agree with s as far as they are
// known without the data; otherwise it must hold no run.
func checkRunDir(f *trainFlags, s Settings) (*RunConfig, error) {
	cfgPath := filepath.Join(f.out, "config.json")
	if !f.resume {
		if _, err := os.Stat(cfgPath); err == nil {
			return nil, errRunExists(f.out)
		}
		return nil, nil
	}
	old, err := readRunConfig(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	cmp := s
	cmp.NumTrain, cmp.NumVal, cmp.NumTest, cmp.DataSHA256, cmp.DataShuffled = old.Settings.NumTrain, old.Settings.NumVal, old.Settings.NumTest, old.Settings.DataSHA256, old.Settings.DataShuffled
	if d := cmp.diff(old.Settings); d != "" {
		return nil, fmt.Errorf("--resume: settings differ from %s: %s", cfgPath, d)
	}
	return old, nil
}

// loadRunData loads and splits the data, completes s with it (checking it
// against the resumed run's settings old, if any) and returns the run's
// config and the prepared splits.
func loadRunData(ctx context.Context, e *env, f *trainFlags, s Settings, old *RunConfig, set map[string]bool) (*RunConfig, *cifar.Prepared, error) {
	dataPath, err := requireData(ctx, e, f.data)
	if err != nil {
		return nil, nil, err
	}
	ld, err := loadDataset(dataPath)
	if err != nil {
		return nil, nil, err
	}
	sizes, err := resolveSizes(ld.DS, splitSizes{f.numTrain, f.numVal, f.numTest}, set)
	if err != nil {
		return nil, nil, err
	}
	s.NumTrain, s.NumVal, s.NumTest, s.DataSHA256, s.DataShuffled = sizes.Train, sizes.Val, sizes.Test, ld.SHA256, ld.Shuffled
	if old != nil {
		if d := s.diff(old.Settings); d != "" {
			return nil, nil, fmt.Errorf("--resume: settings differ from %s: %s", filepath.Join(f.out, "config.json"), d)
		}
	}
	p, err := prepare(ld.DS, sizes, s.Bias, s.Seed)
	if err != nil {
		return nil, nil, err
	}
	if !f.quiet {
		fmt.Fprintf(e.stdout, "data: %s (%d train, %d val, %d test, %dx%dx%d, %d classes, loaded in %.1fs)\n",
			ld.Path, sizes.Train, sizes.Val, sizes.Test, ld.DS.Train.H, ld.DS.Train.W, ld.DS.Train.C, len(ld.DS.ClassNames), ld.Load.Seconds())
	}
	return newRunConfig(s, ld, f.checkpointEvery), p, nil
}

// errRunExists refuses to start a run in a directory that holds one.
func errRunExists(out string) error {
	return fmt.Errorf("%s already holds a run (config.json exists): use --resume to continue it or another --out", out)
}

func checkWritableDir(dir string) error {
	_, err := makeOutDir(dir)
	return err
}

// makeOutDir creates dir (and its missing parents) and checks that it is
// writable. The returned undo removes the directories it created, leaf
// first, as long as they are still empty, so a command that fails before
// writing anything (say, on a bad data set) leaves no empty --out behind.
func makeOutDir(dir string) (undo func(), err error) {
	undo = undoCreate(dir)
	if err := probeWritable(dir); err != nil {
		undo()
		return func() {}, err
	}
	return undo, nil
}

// undoCreate returns a func that removes the directories among dir and its
// parents that do not exist yet (call it before creating dir), leaf first,
// as long as they are empty: what a command that fails early undoes.
func undoCreate(dir string) func() {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	return func() {
		for _, d := range created {
			if os.Remove(d) != nil { // not empty (or gone): keep the rest
				return
			}
		}
	}
}

// undoOnError calls undo if *err is not nil (defer it with a named result).
func undoOnError(err *error, undo func()) {
	if *err != nil {
		undo()
	}
}

func probeWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", dir, errors.Unwrap(err))
	}
	fh, err := os.CreateTemp(dir, ".nnkern-probe*")
	if err != nil {
		return fmt.Errorf("--out %s: not writable: %w", dir, errors.Unwrap(err))
	}
	name := fh.Name()
	fh.Close()
	os.Remove(name)
	return nil
}

func newRunConfig(s Settings, ld *loaded, checkpointEvery int) *RunConfig {
	rc := &RunConfig{Settings: s, Segments: []Segment{currentSegment(0)}}
	rc.Note, rc.BitIdentity = bitIdentityNote(s.BLAS)
	rc.Data.Path = ld.Path
	rc.Data.Classes = ld.DS.ClassNames
	rc.Data.ImageShape = [3]int{ld.DS.Train.H, ld.DS.Train.W, ld.DS.Train.C}
	rc.Env.NnkernVersion = Version
	rc.Env.GoVersion = runtime.Version()
	rc.Env.GOOS, rc.Env.GOARCH = runtime.GOOS, runtime.GOARCH
	rc.Env.GOMAXPROCS = runtime.GOMAXPROCS(0)
	rc.Env.ISADetected = kernels.Detected().String()
	rc.Env.CheckpointEvery = checkpointEvery
	return rc
}

// maxConfigJSON bounds config.json: a few KB of settings and environment
// and about 300 bytes per segment (one per --resume).
const maxConfigJSON = 1 << 20

// readRunConfig reads a run's config.json, a regular file of at most
// maxConfigJSON bytes.
func readRunConfig(path string) (*RunConfig, error) {
	b, err := fileio.ReadFileLimit(path, maxConfigJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parseRunConfig(path, b)
}

// parseRunConfig decodes the contents b of the config.json at path.
func parseRunConfig(path string, b []byte) (*RunConfig, error) {
	var rc RunConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, textesc.Escape(err.Error()))
	}
	if rc.Settings.Model == "" {
		return nil, fmt.Errorf("%s: no settings.model: not an nnkern run config", path)
	}
	if rc.Settings.Update == "sgd" {
		rc.Settings.Update = "" // as this version writes it
	}
	if len(rc.Segments) == 0 {
		// Written before segments: the ISA level was a setting, and the
		// whole run ran at it (a --resume at another level was refused).
		var legacy struct {
			Settings struct {
				ISA string `json:"isa"`
			} `json:"settings"`
		}
		json.Unmarshal(b, &legacy)
		rc.Segments = []Segment{{
			ISA: legacy.Settings.ISA, ISADetected: rc.Env.ISADetected, GOOS: rc.Env.GOOS, GOARCH: rc.Env.GOARCH,
			GOMAXPROCS: rc.Env.GOMAXPROCS, GoVersion: rc.Env.GoVersion, NnkernVersion: rc.Env.NnkernVersion,
		}}
	}
	return &rc, nil
}

// blasCurrent names the BLAS backend in use.
func blasCurrent() string { return blas.Current() }
