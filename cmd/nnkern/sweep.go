package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/regfile"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// sweepRec is one line of sweep.jsonl.
type sweepRec struct {
	Index    int      `json:"index"`
	Settings Settings `json:"settings"`
	Dir      string   `json:"dir"` // relative to the sweep directory
	TrainAcc float64  `json:"train_acc"`
	ValAcc   float64  `json:"val_acc"`
	TestAcc  float64  `json:"test_acc"`
	Seconds  float64  `json:"seconds"`
	Error    string   `json:"error,omitempty"`
	// ISA is the kernels' level in the process that finished the
	// configuration; its run directory's config.json lists every segment
	// of a resumed run. Not a setting: on the native backend the result
	// does not depend on it, and --resume may continue on another level.
	ISA string `json:"isa,omitempty"`
}

// readSweep reads the records of a sweep.jsonl; torn reports an incomplete
// last line (ignored). A damaged complete line is an error naming it, and
// so is a record without settings or whose directory is not inside the
// sweep's: summarize copies the best one's model.npz, and every record
// kept takes a few hundred bytes, however short its line.
func readSweep(path string) (recs []sweepRec, torn bool, err error) {
	lines, torn, err := runio.ReadMetrics(path)
	if err != nil {
		return nil, false, err
	}
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, false, err
	}
	if need := int64(len(lines)) * int64(unsafe.Sizeof(sweepRec{})); need > budget {
		return nil, false, fmt.Errorf("%s: %d records need %d bytes, over the %d-byte load limit (%s)", path, len(lines), need, budget, loadlimit.EnvVar)
	}
	for i, l := range lines {
		var r sweepRec
		if err := json.Unmarshal(l, &r); err != nil {
			return nil, false, fmt.Errorf("%s line %d: %s", path, i+1, textesc.Escape(err.Error()))
		}
		if r.Settings.Model == "" || r.Index < 0 {
			return nil, false, fmt.Errorf("%s line %d: not a sweep record (no settings.model or a negative index)", path, i+1)
		}
		if !filepath.IsLocal(r.Dir) {
			return nil, false, fmt.Errorf("%s line %d: run directory %q is not inside the sweep directory", path, i+1, r.Dir)
		}
		recs = append(recs, r)
	}
	return recs, torn, nil
}

// copyRegular copies the regular file src (see regfile.Open) of at
// most the load budget to dst atomically, as a stream: a FIFO or device
// in src's place is refused, and nothing is held in memory.
func copyRegular(dst, src string) error {
	limit, err := loadlimit.Budget(0)
	if err != nil {
		return err
	}
	// src can hold a directory named in sweep.jsonl.
	name := textesc.Escape(src)
	f, st, err := regfile.Open(src)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	if st.Size() > limit {
		return fmt.Errorf("%s: %d bytes, over the %d-byte load limit (%s)", name, st.Size(), limit, loadlimit.EnvVar)
	}
	return fileio.WriteAtomic(dst, 0o644, func(w io.Writer) error {
		n, err := io.Copy(w, io.LimitReader(f, limit+1))
		if err == nil && n > limit {
			err = fmt.Errorf("%s: grew past the %d-byte load limit (%s) while being copied", name, limit, loadlimit.EnvVar)
		}
		return err
	})
}

// maxSweepConfigBytes bounds sweep-configs.json per configuration the
// flags give: one indented Settings is about 500 bytes.
const maxSweepConfigBytes = 4 << 10

// readSweepConfigs reads the sweep-configs.json of a sweep whose flags
// give n configurations: a regular file of at most (n+16)×4 KiB, decoded
// one configuration at a time so that a file listing more than n is
// refused before they are all made.
func readSweepConfigs(path string, n int) ([]Settings, error) {
	b, err := fileio.ReadFileLimit(path, int64(n+16)*maxSweepConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parseSweepConfigs(path, b, n)
}

// parseSweepConfigs decodes the contents b of the sweep-configs.json at
// path, which must list n configurations.
func parseSweepConfigs(path string, b []byte, n int) ([]Settings, error) {
	bad := func(err error) error { return fmt.Errorf("%s: %s", path, textesc.Escape(err.Error())) }
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, bad(err)
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("%s: not a list of configurations", path)
	}
	old := make([]Settings, 0, n)
	for dec.More() {
		if len(old) == n {
			return nil, fmt.Errorf("the flags give %d configurations, %s lists more than the %d", n, path, n)
		}
		var s Settings
		if err := dec.Decode(&s); err != nil {
			return nil, bad(err)
		}
		old = append(old, s)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if len(old) != n {
		return nil, fmt.Errorf("the flags give %d configurations, %s lists %d", n, path, len(old))
	}
	return old, nil
}

func parseFloats(name, s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, usagef("--%s %q: %v", name, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, usagef("--%s %q: not an integer list", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// shardOf resolves this process's shard: --shard i/n, else a Slurm job
// array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, minus
// SLURM_ARRAY_TASK_MIN), else a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX with --shards n). Default 0/1.
func shardOf(e *env, flagShard string, shards int) (i, n int, src string, err error) {
	if flagShard != "" {
		a, b, ok := strings.Cut(flagShard, "/")
		i, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n <= 0 || i < 0 || i >= n {
			return 0, 0, "", usagef("--shard %q: want i/n with 0 <= i < n", flagShard)
		}
		return i, n, "--shard", nil
	}
	if id := e.getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		cnt := e.getenv("SLURM_ARRAY_TASK_COUNT")
		i, err1 := strconv.Atoi(id)
		n, err2 := strconv.Atoi(cnt)
		lo := 0
		if m := e.getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
			lo, _ = strconv.Atoi(m)
		}
		i -= lo
		if err1 != nil || err2 != nil || n <= 0 || i < 0 || i >= n {
			return 0, 0, "", usagef("SLURM_ARRAY_TASK_ID=%s, SLURM_ARRAY_TASK_COUNT=%s (min %d): not a valid shard", id, cnt, lo)
		}
		return i, n, "slurm", nil
	}
	if id := e.getenv("JOB_COMPLETION_INDEX"); id != "" {
		i, err := strconv.Atoi(id)
		if shards <= 0 {
			return 0, 0, "", usagef("JOB_COMPLETION_INDEX=%s is set: pass --shards N (the Job's completions)", id)
		}
		if err != nil || i < 0 || i >= shards {
			return 0, 0, "", usagef("JOB_COMPLETION_INDEX=%s: not in [0, %d)", id, shards)
		}
		return i, shards, "kubernetes", nil
	}
	return 0, 1, "", nil
}

func runSweep(e *env, args []string) (retErr error) {
	if len(args) > 0 && args[0] == "merge" {
		return runSweepMerge(e, args[1:])
	}
	sf, err := parseSweepFlags(e, args)
	if err != nil {
		return err
	}
	cfgs, err := sf.configs()
	if err != nil {
		return err
	}
	f, model := &sf.f, sf.model
	var mine []int
	for i := range cfgs {
		if i%sf.shards == sf.shard {
			mine = append(mine, i)
		}
	}
	if f.out == "" {
		if f.resume {
			return usagef("sweep: --resume needs --out DIR")
		}
		f.out = filepath.Join("runs", "sweep-"+model+"-"+time.Now().Format("20060102-150405"))
		if sf.shards > 1 {
			f.out += fmt.Sprintf("-shard%d", sf.shard)
		}
	}
	jsonl := filepath.Join(f.out, "sweep.jsonl")
	if _, err := os.Stat(jsonl); err == nil && !f.resume {
		return errSweepExists(f.out)
	} else if err != nil && f.resume {
		return fmt.Errorf("--resume: %s: no sweep to continue (%v)", f.out, errors.Unwrap(err))
	}
	// One sweep per directory: the lock is held until this function
	// returns (and covers the run directories inside).
	lk, undoOut, err := lockOutDir(f.out)
	if err != nil {
		return err
	}
	defer undoOnError(&retErr, undoOut)
	defer lk.Unlock()
	if _, err := os.Stat(jsonl); err == nil && !f.resume {
		return errSweepExists(f.out) // a sweep that held the lock a moment ago
	}
	sigs := notifyRunSignals()
	defer sigs.stop()
	defer sigs.exitOnSignal(&retErr)
	sw, err := newSweeper(sigs.ctx, e, sf, cfgs, mine)
	if err != nil {
		return err
	}
	if err := sw.recordConfigs(); err != nil {
		return err
	}
	if err := sw.readPrior(); err != nil {
		return err
	}
	recs, done, err := sw.runAll(sigs.ctx)
	if err != nil {
		return err
	}
	if done < len(mine) {
		msg := fmt.Sprintf("%d of %d configurations done; continue with: nnkern sweep %s --out %s --resume (and the same flags)", done, len(mine), model, f.out)
		if sig := sigs.signal(); sig != nil {
			return sigs.exit(fmt.Sprintf("%s: sweep interrupted: %s; the running configurations resume from their checkpoints", signalName(sig), msg))
		}
		return errors.New("sweep incomplete: " + msg)
	}
	return summarize(e, f.out, recs, f.out)
}

// errSweepExists refuses to start a sweep in a directory that holds one.
func errSweepExists(out string) error {
	return fmt.Errorf("%s already holds a sweep (sweep.jsonl exists): continue it with --resume (and the same flags) or choose another --out", out)
}

// sweepFlags are a sweep's parsed flags.
type sweepFlags struct {
	f     trainFlags
	model string
	set   map[string]bool // the flags given
	// lists holds the float lists by flag name (lr, reg, decay); hidden,
	// iters and updates the others.
	lists         map[string][]float64
	hidden, iters []int
	updates       []string
	random, jobs  int
	shard, shards int
	shardSrc      string
}

func parseSweepFlags(e *env, args []string) (*sweepFlags, error) {
	fs := newFlags(e, "sweep", "softmax|svm|twolayer [flags]  |  nnkern sweep merge [--out DIR] DIR...",
		"The notebooks' validation tuning: trains every configuration of the grid of the\n"+
			"comma-separated lists (or --random N configurations: learning rate and reg log-uniform\n"+
			"between the lists' extremes, the other values drawn from the lists), --jobs at a time,\n"+
			"each run deterministic. Prints the results sorted by validation accuracy, writes\n"+
			"DIR/sweep.jsonl, a run directory per configuration and DIR/best/model.npz.\n"+
			"Scale out with --shard i/n, a Slurm job array, or a Kubernetes Indexed Job\n"+
			"(JOB_COMPLETION_INDEX with --shards n); then 'nnkern sweep merge DIR...'.\n"+
			"Ctrl-C, SIGTERM or SIGHUP stops it (running configurations keep a checkpoint, also\n"+
			"written every --checkpoint-every iterations); --resume with the same flags and --out\n"+
			"continues it: recorded configurations are kept, the others resume from their\n"+
			"checkpoints or start. One sweep at a time per --out (a lock file).")
	sf := &sweepFlags{}
	f := &sf.f
	f.register(fs, true)
	var lrs, regs, hiddens, iters, decays, updates, shard string
	fs.StringVar(&lrs, "lr", "", "learning rates, comma separated (default: the model's)")
	fs.StringVar(&regs, "reg", "", "regularization strengths, comma separated")
	fs.StringVar(&hiddens, "hidden", "", "hidden sizes, comma separated (twolayer)")
	fs.StringVar(&iters, "iters", "", "iteration counts, comma separated")
	fs.StringVar(&decays, "decay", "", "learning rate decays, comma separated (twolayer)")
	fs.StringVar(&updates, "update", "sgd", "update rules, comma separated ("+strings.Join(train.Rules, ", ")+")")
	fs.IntVar(&sf.random, "random", 0, "draw N random configurations instead of the grid")
	fs.IntVar(&sf.jobs, "jobs", 1, "configurations trained in parallel")
	fs.StringVar(&shard, "shard", "", "this machine's share `i/n` of the configurations")
	fs.IntVar(&sf.shards, "shards", 0, "number of shards when JOB_COMPLETION_INDEX gives the index")
	fs.StringVar(&f.out, "out", "", "sweep directory (default runs/sweep-MODEL-YYYYMMDD-HHMMSS)")
	fs.BoolVar(&f.resume, "resume", false, "continue the interrupted sweep in --out (same flags)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 100, "write a checkpoint of each running configuration every K iterations (0: only at its end)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("sweep: want one model (softmax, svm or twolayer) (see 'nnkern sweep -h')")
	}
	if sf.model, err = parseModel(pos[0]); err != nil {
		return nil, err
	}
	if f.checkpointEvery < 0 {
		return nil, usagef("--checkpoint-every %d: must be >= 0", f.checkpointEvery)
	}
	if sf.jobs <= 0 {
		return nil, usagef("--jobs %d: must be positive", sf.jobs)
	}
	if sf.random < 0 {
		return nil, usagef("--random %d: must be >= 0", sf.random)
	}
	if sf.shard, sf.shards, sf.shardSrc, err = shardOf(e, shard, sf.shards); err != nil {
		return nil, err
	}
	sf.set = setFlags(fs)
	if err := sf.parseLists(lrs, regs, decays, hiddens, iters, updates); err != nil {
		return nil, err
	}
	return sf, nil
}

// parseLists parses the comma-separated lists, with the model's defaults
// for those not given.
func (sf *sweepFlags) parseLists(lrs, regs, decays, hiddens, iters, updates string) (err error) {
	d := defaults[sf.model]
	sf.lists = map[string][]float64{}
	for _, l := range []struct {
		name, s string
		def     float64
	}{{"lr", lrs, d.lr}, {"reg", regs, d.reg}, {"decay", decays, d.decay}} {
		if l.s == "" {
			sf.lists[l.name] = []float64{l.def}
		} else if sf.lists[l.name], err = parseFloats(l.name, l.s); err != nil {
			return err
		}
	}
	sf.hidden, sf.iters = []int{d.hidden}, []int{d.iters}
	if hiddens != "" {
		if sf.hidden, err = parseInts("hidden", hiddens); err != nil {
			return err
		}
	}
	if iters != "" {
		if sf.iters, err = parseInts("iters", iters); err != nil {
			return err
		}
	}
	for _, u := range strings.Split(updates, ",") {
		if _, err := parseUpdate(strings.TrimSpace(u)); err != nil {
			return err
		}
		sf.updates = append(sf.updates, strings.TrimSpace(u))
	}
	if sf.model != "twolayer" && (hiddens != "" || decays != "") {
		return usagef("sweep %s: --hidden and --decay apply to twolayer only", sf.model)
	}
	return nil
}

// configs returns every configuration of the sweep, validated through
// trainFlags: the grid of the lists (update rule outermost), or --random
// draws.
func (sf *sweepFlags) configs() ([]Settings, error) {
	var cfgs []Settings
	mk := func(lr, reg, decay float64, h, it int, update string) error {
		g := sf.f
		g.lr, g.reg, g.decay = optFloat{lr, true}, optFloat{reg, true}, optFloat{decay, true}
		g.hidden, g.iters, g.update = optInt{h, true}, optInt{it, true}, update
		s, err := g.settings(sf.model)
		if err != nil {
			return err
		}
		cfgs = append(cfgs, s)
		return nil
	}
	lists, hl, il := sf.lists, sf.hidden, sf.iters
	if sf.random > 0 {
		rng := nprand.New(uint32(sf.f.seed))
		logU := func(v []float64) float64 {
			lo, hi := v[0], v[0]
			for _, x := range v {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
			if lo <= 0 || lo == hi {
				return rng.Uniform(lo, hi)
			}
			return math.Exp(rng.Uniform(math.Log(lo), math.Log(hi)))
		}
		for r := 0; r < sf.random; r++ {
			lr := logU(lists["lr"])
			reg := logU(lists["reg"])
			dec := lists["decay"][rng.Randint(0, len(lists["decay"]))]
			h := hl[rng.Randint(0, len(hl))]
			it := il[rng.Randint(0, len(il))]
			up := sf.updates[0]
			if len(sf.updates) > 1 { // a single rule draws nothing: the draws of a sweep without --update
				up = sf.updates[rng.Randint(0, len(sf.updates))]
			}
			if err := mk(lr, reg, dec, h, it, up); err != nil {
				return nil, err
			}
		}
		return cfgs, nil
	}
	for _, up := range sf.updates {
		for _, lr := range lists["lr"] {
			for _, reg := range lists["reg"] {
				for _, dec := range lists["decay"] {
					for _, h := range hl {
						for _, it := range il {
							if err := mk(lr, reg, dec, h, it, up); err != nil {
								return nil, err
							}
						}
					}
				}
			}
		}
	}
	return cfgs, nil
}

// sweeper runs a sweep's configurations.
type sweeper struct {
	e      *env
	sf     *sweepFlags
	out    string
	cfgs   []Settings // every configuration, with the data's settings
	mine   []int      // the indices of this shard's
	ld     *loaded
	p      *cifar.Prepared
	prior  map[int]sweepRec // the configurations an interrupted run of this sweep finished
	mu     sync.Mutex       // stdout and sweep.jsonl
	jsonl  *runio.Metrics
	doneIt []atomic.Int64 // iterations done, per configuration
	active []atomic.Bool  // running, per configuration
}

// newSweeper loads the data and completes the configurations' settings.
func newSweeper(ctx context.Context, e *env, sf *sweepFlags, cfgs []Settings, mine []int) (*sweeper, error) {
	f := &sf.f
	dataPath, err := requireData(ctx, e, f.data)
	if err != nil {
		return nil, err
	}
	ld, err := loadDataset(dataPath)
	if err != nil {
		return nil, err
	}
	sizes, err := resolveSizes(ld.DS, splitSizes{f.numTrain, f.numVal, f.numTest}, sf.set)
	if err != nil {
		return nil, err
	}
	p, err := prepare(ld.DS, sizes, sf.model != "twolayer", uint32(f.seed))
	if err != nil {
		return nil, err
	}
	shardNote := ""
	if sf.shards > 1 {
		shardNote = fmt.Sprintf(", shard %d/%d (%s)", sf.shard, sf.shards, sf.shardSrc)
	}
	fmt.Fprintf(e.stdout, "sweep %s: %d configurations%s, %d here, %d at a time; data %s\n", sf.model, len(cfgs), shardNote, len(mine), sf.jobs, dataPath)
	for i := range cfgs {
		s := &cfgs[i]
		s.NumTrain, s.NumVal, s.NumTest, s.DataSHA256, s.DataShuffled = sizes.Train, sizes.Val, sizes.Test, ld.SHA256, ld.Shuffled
	}
	return &sweeper{e: e, sf: sf, out: f.out, cfgs: cfgs, mine: mine, ld: ld, p: p, prior: map[int]sweepRec{},
		doneIt: make([]atomic.Int64, len(cfgs)), active: make([]atomic.Bool, len(cfgs))}, nil
}

// recordConfigs writes sweep-configs.json, the list of every configuration
// of the sweep, or on --resume checks the flags give the same list, so
// that --resume refuses other flags even where the finished runs agree.
func (sw *sweeper) recordConfigs() error {
	cfgFile := filepath.Join(sw.out, "sweep-configs.json")
	if !sw.sf.f.resume {
		b, _ := json.MarshalIndent(sw.cfgs, "", "  ")
		return fileio.WriteFileAtomic(cfgFile, append(b, '\n'), 0o644)
	}
	old, err := readSweepConfigs(cfgFile, len(sw.cfgs))
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	for i := range sw.cfgs {
		if d := sw.cfgs[i].diff(old[i]); d != "" {
			return fmt.Errorf("--resume: configuration %d: %s (%s)", i, d, cfgFile)
		}
	}
	return nil
}

// readPrior reads, on --resume, the configurations an interrupted run of
// this sweep finished.
func (sw *sweeper) readPrior() error {
	if !sw.sf.f.resume {
		return nil
	}
	jsonl := filepath.Join(sw.out, "sweep.jsonl")
	recs, torn, err := readSweep(jsonl)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if torn {
		fmt.Fprintf(sw.e.stderr, "nnkern: warning: %s ends in an incomplete line (killed while writing); that configuration runs again\n", jsonl)
		// Drop the fragment, or the new records would be appended
		// to it and the file would hold a line that is not JSON.
		if _, err := runio.RepairMetrics(jsonl, nil); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	}
	for _, r := range recs {
		if r.Index < 0 || r.Index >= len(sw.cfgs) || r.Index%sw.sf.shards != sw.sf.shard {
			return fmt.Errorf("--resume: %s records configuration %d, which this sweep's flags do not give to this shard", jsonl, r.Index)
		}
		if d := sw.cfgs[r.Index].diff(r.Settings); d != "" {
			return fmt.Errorf("--resume: configuration %d in %s: %s", r.Index, jsonl, d)
		}
		sw.prior[r.Index] = r
	}
	return nil
}

// runAll runs this shard's configurations not done yet, --jobs at a time,
// and returns the records of those done (recs[k] for mine[k]) and how many.
func (sw *sweeper) runAll(ctx context.Context) (recs []sweepRec, done int, err error) {
	recs = make([]sweepRec, len(sw.mine))
	have := make([]bool, len(sw.mine))
	sw.jsonl, err = runio.OpenMetrics(filepath.Join(sw.out, "sweep.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	defer sw.jsonl.Close()
	stopStatus := sw.status()
	// NNKERN_TEST_SWEEP_PAUSE=N (tests only): once N configurations are
	// recorded, print "sweep paused" on stderr and wait for a signal, so a
	// test interrupts the sweep at a known point, not after a delay.
	pauseAt, _ := strconv.Atoi(sw.e.getenv("NNKERN_TEST_SWEEP_PAUSE"))
	recorded := 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, sw.sf.jobs)
	for k, idx := range sw.mine {
		if r, ok := sw.prior[idx]; ok {
			recs[k], have[k] = r, true
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(k, idx int) {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil { // interrupted: leave it for --resume
				return
			}
			if rec, ok := sw.runOne(ctx, idx); ok {
				sw.mu.Lock()
				defer sw.mu.Unlock()
				recs[k], have[k] = rec, true
				sw.jsonl.Add(rec)
				sw.jsonl.Sync()
				fmt.Fprintf(sw.e.stdout, "  [%d] %s val %.4f%s\n", idx, describe(rec.Settings), rec.ValAcc, errNote(rec.Error))
				if recorded++; recorded == pauseAt {
					fmt.Fprintln(sw.e.stderr, "nnkern: sweep paused (NNKERN_TEST_SWEEP_PAUSE)")
					<-ctx.Done()
				}
			}
		}(k, idx)
	}
	wg.Wait()
	close(stopStatus)
	for _, h := range have {
		if h {
			done++
		}
	}
	return recs, done, nil
}

// status prints a status line every 30 s while configurations run, until
// the returned channel is closed.
func (sw *sweeper) status() chan struct{} {
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		t0 := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var parts []string
				for _, idx := range sw.mine {
					if sw.active[idx].Load() {
						parts = append(parts, fmt.Sprintf("[%d] %d/%d", idx, sw.doneIt[idx].Load(), sw.cfgs[idx].Iters))
					}
				}
				sw.mu.Lock()
				fmt.Fprintf(sw.e.stdout, "  %s: running %s\n", time.Since(t0).Round(time.Second), strings.Join(parts, ", "))
				sw.mu.Unlock()
			}
		}
	}()
	return stop
}

// runOne trains configuration idx in its run directory and returns its
// record, or false if it was left for --resume (interrupted, or its
// directory locked by another process).
func (sw *sweeper) runOne(ctx context.Context, idx int) (sweepRec, bool) {
	s := sw.cfgs[idx]
	rel := fmt.Sprintf("run-%04d", idx)
	rec := sweepRec{Index: idx, Settings: s, Dir: rel, ISA: kernels.ISA().String()}
	dir := filepath.Join(sw.out, rel)
	rc := newRunConfig(s, sw.ld, sw.sf.f.checkpointEvery)
	var res *runResult
	// A run directory left by an interrupted sweep resumes from
	// its checkpoint (or starts over if it has none).
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		// The sweep's lock covers its run directories, but not
		// against a 'train --out DIR/run-NNNN --resume'.
		var lk *runio.DirLock
		lk, err = runio.LockDir(dir)
		var le *runio.LockedError
		if errors.As(err, &le) {
			sw.mu.Lock()
			fmt.Fprintf(sw.e.stdout, "  [%d] skipped: %v (left for --resume)\n", idx, err)
			sw.mu.Unlock()
			return rec, false
		}
		if err == nil {
			_, statErr := os.Stat(filepath.Join(dir, "config.json"))
			sw.active[idx].Store(true)
			res, err = trainAny(ctx, sw.e, rc, sw.p, runOpts{dir: dir, resume: sw.sf.f.resume && statErr == nil, progress: progressQuiet, checkpointEvery: sw.sf.f.checkpointEvery, done: &sw.doneIt[idx]})
			sw.active[idx].Store(false)
			lk.Unlock()
		}
	}
	if err == nil && res.Stopped {
		sw.mu.Lock()
		fmt.Fprintf(sw.e.stdout, "  [%d] interrupted at iteration %d (checkpoint kept)\n", idx, res.Iteration)
		sw.mu.Unlock()
		return rec, false
	}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.TrainAcc, rec.ValAcc, rec.TestAcc, rec.Seconds = res.TrainAcc, res.ValAcc, res.TestAcc, res.Seconds
	}
	return rec, true
}

func errNote(s string) string {
	if s == "" {
		return ""
	}
	return " FAILED: " + s
}

// describe names a configuration by its settings (the update rule only
// when it is not sgd, so that sgd sweeps read as they always have). The
// figures are the shortest that read back exactly (fig: 1e-07, not
// 1.000000e-07), as the flags take them.
func describe(s Settings) string {
	d := fmt.Sprintf("lr %s reg %s iters %d", fig(s.LR), fig(s.Reg), s.Iters)
	if s.Model == "twolayer" {
		d = fmt.Sprintf("hidden %d lr %s decay %s reg %s iters %d", s.Hidden, fig(s.LR), fig(s.Decay), fig(s.Reg), s.Iters)
	}
	if s.Update != "" {
		d += " update " + s.Update
	}
	return d
}

// fig formats a setting as the shortest decimal that parses back to it.
func fig(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// summarize prints the table sorted by validation accuracy and copies the
// best model to out/best/model.npz. dirs maps records to their run
// directories (relative to base).
func summarize(e *env, out string, recs []sweepRec, base string) error {
	return summarizeFrom(e, out, recs, func(r sweepRec) string { return filepath.Join(base, r.Dir) })
}

func summarizeFrom(e *env, out string, recs []sweepRec, dirOf func(sweepRec) string) error {
	sort.SliceStable(recs, func(a, b int) bool {
		if (recs[a].Error == "") != (recs[b].Error == "") {
			return recs[a].Error == ""
		}
		if recs[a].ValAcc != recs[b].ValAcc {
			return recs[a].ValAcc > recs[b].ValAcc
		}
		return recs[a].Index < recs[b].Index // ties: the first configuration
	})
	w := e.stdout
	fmt.Fprintln(w)
	failed := 0
	for _, r := range recs {
		if r.Error != "" {
			failed++
			fmt.Fprintf(w, "%s FAILED: %s\n", describe(r.Settings), textesc.Escape(r.Error))
			continue
		}
		fmt.Fprintf(w, "%s train accuracy: %f val accuracy: %f\n", describe(r.Settings), r.TrainAcc, r.ValAcc)
	}
	if len(recs) == failed {
		return fmt.Errorf("sweep: no configuration finished (%d failed)", failed)
	}
	best := recs[0]
	fmt.Fprintf(w, "best validation accuracy achieved during cross-validation: %f (%s; test accuracy %f)\n", best.ValAcc, describe(best.Settings), best.TestAcc)
	src := filepath.Join(dirOf(best), modelFile)
	if err := os.MkdirAll(filepath.Join(out, "best"), 0o755); err != nil {
		return err
	}
	if err := copyRegular(filepath.Join(out, "best", modelFile), src); err != nil {
		return fmt.Errorf("sweep: best model: %w", err)
	}
	// The run's config.json travels with the model (eval reads its split sizes).
	if cb, err := fileio.ReadFileLimit(filepath.Join(dirOf(best), "config.json"), maxConfigJSON); err == nil {
		if err := fileio.WriteFileAtomic(filepath.Join(out, "best", "config.json"), cb, 0o644); err != nil {
			return err
		}
	}
	bj, _ := json.MarshalIndent(best, "", "  ")
	if err := fileio.WriteFileAtomic(filepath.Join(out, "best", "result.json"), append(bj, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "best model: %s\n", filepath.Join(out, "best", modelFile))
	if failed > 0 {
		return fmt.Errorf("sweep: %d of %d configurations failed", failed, len(recs))
	}
	return nil
}

func runSweepMerge(e *env, args []string) error {
	fs := newFlags(e, "sweep merge", "[--out DIR] DIR...",
		"Combines the sweep.jsonl of several shards' sweep directories, prints the table\nsorted by validation accuracy and copies the best model to DIR/best/model.npz.")
	var out string
	fs.StringVar(&out, "out", "", "merged directory (default: the first DIR)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("sweep merge: want at least one sweep directory")
	}
	if out == "" {
		out = pos[0]
	}
	type located struct {
		rec sweepRec
		dir string
	}
	var all []located
	seen := map[int]string{}
	for _, d := range pos {
		recs, torn, err := readSweep(filepath.Join(d, "sweep.jsonl"))
		if err != nil {
			return fmt.Errorf("sweep merge: %w", err)
		}
		if torn {
			fmt.Fprintf(e.stderr, "nnkern: warning: %s/sweep.jsonl ends in an incomplete line (shard still running or killed); ignoring it\n", d)
		}
		for _, r := range recs {
			if prev, ok := seen[r.Index]; ok {
				return fmt.Errorf("sweep merge: configuration %d appears in both %s and %s (same shard twice?)", r.Index, prev, d)
			}
			seen[r.Index] = d
			all = append(all, located{r, filepath.Join(d, r.Dir)})
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("sweep merge: no results in %s", strings.Join(pos, ", "))
	}
	recs := make([]sweepRec, len(all))
	dirs := map[int]string{}
	for i, a := range all {
		recs[i] = a.rec
		dirs[a.rec.Index] = a.dir
	}
	// The merged best/ must not be written while a sweep runs in out.
	lk, _, err := lockOutDir(out)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	fmt.Fprintf(e.stdout, "merged %d results from %d directories\n", len(recs), len(pos))
	return summarizeFrom(e, out, recs, func(r sweepRec) string { return dirs[r.Index] })
}
