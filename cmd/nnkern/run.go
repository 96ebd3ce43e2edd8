package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/internal/fileio"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

type progressMode int

const (
	progressQuiet progressMode = iota
	progressLines
	progressBar
)

type runOpts struct {
	dir             string
	resume          bool
	checkpointEvery int
	stopAt          int
	progress        progressMode
	noPlots         bool
	// done, if not nil, is set to the number of iterations completed.
	done *atomic.Int64
}

// runResult summarises a finished (or stopped) run.
type runResult struct {
	Settings    Settings `json:"settings"`
	Dir         string   `json:"dir"`
	TrainAcc    float64  `json:"train_acc"`
	ValAcc      float64  `json:"val_acc"`
	TestAcc     float64  `json:"test_acc"`
	FinalLoss   float64  `json:"final_loss"`
	Seconds     float64  `json:"seconds"`
	Iteration   int      `json:"-"`
	Stopped     bool     `json:"-"`
	Interrupted bool     `json:"-"`
}

var errStop = errors.New("stopped")

const (
	checkpointFile = "checkpoint.bin"
	metricsFile    = "metrics.jsonl"
	modelFile      = "model.npz"
)

func trainAny(ctx context.Context, e *env, rc *RunConfig, p *cifar.Prepared, o runOpts) (*runResult, error) {
	if rc.Settings.DType == "f64" {
		return trainRun[float64](ctx, e, rc, p, o)
	}
	return trainRun[float32](ctx, e, rc, p, o)
}

// metricRec is one line of metrics.jsonl. Iteration lines have Loss;
// epoch lines have the accuracies; the final line has Final set.
type metricRec struct {
	It       int      `json:"it"`
	Loss     *float64 `json:"loss,omitempty"`
	Epoch    *int     `json:"epoch,omitempty"`
	TrainAcc *float64 `json:"train_acc,omitempty"`
	ValAcc   *float64 `json:"val_acc,omitempty"`
	TestAcc  *float64 `json:"test_acc,omitempty"`
	LR       *float64 `json:"lr,omitempty"`
	Final    bool     `json:"final,omitempty"`
	Wall     float64  `json:"wall"`
}

func fp(v float64) *float64 { return &v }

// model abstracts the two model families for the run loop.
type model[T kernels.Float] interface {
	tensors() []runio.Tensor
	load(c *runio.Checkpoint) error
	train(src, val softmax.Source[T], y, yval []int, lr float64, start int, onIt func(int, float64) error, onEpoch func(int, float64, float64, float64) error, rng *nprand.RandomState) error
	predict(src softmax.Source[T]) []int
	weightsImage(rc *RunConfig) (imgW []float64, kind string)
}

func matTensor[T kernels.Float](name string, m blas.Matrix[T]) runio.Tensor {
	d := make([]T, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		copy(d[i*m.Cols:], m.Row(i))
	}
	return runio.Tensor{Name: name, Shape: []int{m.Rows, m.Cols}, Data: d}
}

func vecTensor[T kernels.Float](name string, v []T) runio.Tensor {
	return runio.Tensor{Name: name, Shape: []int{len(v)}, Data: append([]T(nil), v...)}
}

// tensorInto copies a tensor's data into dst, checking type and size.
func tensorInto[T kernels.Float](t runio.Tensor, dst []T) error {
	src, ok := t.Data.([]T)
	if !ok {
		return fmt.Errorf("tensor %s has type %T, the model wants %T", t.Name, t.Data, dst)
	}
	if len(src) != len(dst) {
		return fmt.Errorf("tensor %s has %d values (shape %v), the model wants %d", t.Name, len(src), t.Shape, len(dst))
	}
	copy(dst, src)
	return nil
}

func matFromTensor[T kernels.Float](t runio.Tensor) (blas.Matrix[T], error) {
	if len(t.Shape) != 2 {
		return blas.Matrix[T]{}, fmt.Errorf("tensor %s has shape %v, want a matrix", t.Name, t.Shape)
	}
	m := blas.NewMatrix[T](t.Shape[0], t.Shape[1])
	return m, tensorInto(t, m.Data)
}

type linearModel[T kernels.Float] struct {
	c   *softmax.LinearClassifier[T]
	cfg softmax.TrainConfig
}

func (m *linearModel[T]) tensors() []runio.Tensor { return []runio.Tensor{matTensor("W", m.c.W)} }

func (m *linearModel[T]) load(c *runio.Checkpoint) error {
	t, ok := c.Tensor("W")
	if !ok {
		return errors.New("no W")
	}
	w, err := matFromTensor[T](t)
	m.c.W = w
	return err
}

func (m *linearModel[T]) train(src, _ softmax.Source[T], y, _ []int, lr float64, start int, onIt func(int, float64) error, _ func(int, float64, float64, float64) error, rng *nprand.RandomState) error {
	cfg := m.cfg
	cfg.LearningRate = lr
	cfg.StartIteration = start
	cfg.OnIteration = onIt
	_, err := m.c.TrainSource(src, y, cfg, rng)
	return err
}

func (m *linearModel[T]) predict(src softmax.Source[T]) []int { return m.c.PredictSource(src) }

func (m *linearModel[T]) weightsImage(rc *RunConfig) ([]float64, string) {
	W := m.c.W
	d := rc.Data.ImageShape[0] * rc.Data.ImageShape[1] * rc.Data.ImageShape[2]
	out := make([]float64, d*W.Cols)
	for i := 0; i < d && i < W.Rows; i++ { // the bias row (last) is dropped
		for j, v := range W.Row(i) {
			out[i*W.Cols+j] = float64(v)
		}
	}
	return out, "templates"
}

type netModel[T kernels.Float] struct {
	n   *twolayer.Net[T]
	cfg twolayer.TrainConfig
}

func (m *netModel[T]) tensors() []runio.Tensor {
	return []runio.Tensor{matTensor("W1", m.n.W1), vecTensor("b1", m.n.B1), matTensor("W2", m.n.W2), vecTensor("b2", m.n.B2)}
}

func (m *netModel[T]) load(c *runio.Checkpoint) error {
	for _, x := range []struct {
		name string
		dst  []T
	}{{"W1", m.n.W1.Data}, {"b1", m.n.B1}, {"W2", m.n.W2.Data}, {"b2", m.n.B2}} {
		t, ok := c.Tensor(x.name)
		if !ok {
			return fmt.Errorf("no %s", x.name)
		}
		if err := tensorInto(t, x.dst); err != nil {
			return err
		}
	}
	return nil
}

func (m *netModel[T]) train(src, val softmax.Source[T], y, yval []int, lr float64, start int, onIt func(int, float64) error, onEpoch func(int, float64, float64, float64) error, rng *nprand.RandomState) error {
	cfg := m.cfg
	cfg.LearningRate = lr
	cfg.StartIteration = start
	cfg.OnIteration = onIt
	cfg.OnEpoch = onEpoch
	_, err := m.n.TrainSource(src, y, val, yval, cfg, rng)
	return err
}

func (m *netModel[T]) predict(src softmax.Source[T]) []int { return m.n.PredictSource(src) }

func (m *netModel[T]) weightsImage(rc *RunConfig) ([]float64, string) {
	W1 := m.n.W1 // D×H: image i is column i
	out := make([]float64, W1.Rows*W1.Cols)
	for d := 0; d < W1.Rows; d++ {
		for i, v := range W1.Row(d) {
			out[i*W1.Rows+d] = float64(v)
		}
	}
	return out, "grid"
}

func accuracy(pred []int, y []int) float64 {
	if len(y) == 0 {
		return 0
	}
	ok := 0
	for i := range y {
		if pred[i] == y[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// itersPerEpoch is the trainers' epoch rule: max(N/B, 1).
func itersPerEpoch(n, b int) int { return max(n/b, 1) }

func trainRun[T kernels.Float](ctx context.Context, e *env, rc *RunConfig, p *cifar.Prepared, o runOpts) (*runResult, error) {
	s := rc.Settings
	t0 := time.Now()
	dir := o.dir
	numClasses := len(p.ClassNames)
	ytrain, yval, ytest := cifar.Labels(&p.Train), cifar.Labels(&p.Val), cifar.Labels(&p.Test)
	for _, y := range ytrain {
		numClasses = max(numClasses, y+1)
	}
	src := cifar.NewSource[T](p, &p.Train)
	valSrc := cifar.NewSource[T](p, &p.Val)
	testSrc := cifar.NewSource[T](p, &p.Test)
	// A fixed subset of training rows for the per-epoch training accuracy
	// of the linear models (the net reports its mini-batch accuracy).
	sub := subSplit(&p.Train, 0, min(p.Train.N, 1000))
	subSrc := cifar.NewSource[T](p, &sub)
	ysub := cifar.Labels(&sub)

	rng := nprand.New(s.Seed)
	var m model[T]
	switch s.Model {
	case "softmax", "svm":
		c := softmax.NewSoftmax[T]()
		if s.Model == "svm" {
			c = softmax.NewLinearSVM[T]()
		}
		// Train would initialise W lazily as 0.001·randn(D, C) from rng;
		// doing it here (same draws, same order) lets a checkpoint replace it.
		c.W = blas.NewMatrix[T](p.Dim(), numClasses)
		for i := range c.W.Data {
			c.W.Data[i] = T(0.001 * rng.StandardNormal())
		}
		m = &linearModel[T]{c: c, cfg: softmax.TrainConfig{Reg: s.Reg, NumIters: s.Iters, BatchSize: s.Batch}}
	case "twolayer":
		n := twolayer.New[T](p.Dim(), s.Hidden, numClasses, s.InitStd, rng)
		m = &netModel[T]{n: n, cfg: twolayer.TrainConfig{LearningRateDecay: s.Decay, Reg: s.Reg, NumIters: s.Iters, BatchSize: s.Batch}}
	default:
		return nil, fmt.Errorf("unknown model %q", s.Model)
	}

	start, lr := 0, s.LR
	lastLoss := 0.0
	ckPath := filepath.Join(dir, checkpointFile)
	mPath := filepath.Join(dir, metricsFile)
	if o.resume {
		c, err := runio.LoadCheckpoint(ckPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			// Interrupted before its first checkpoint: start over.
		case err != nil:
			return nil, err
		default:
			if !s.matchesDigest(c.ConfigDigest) {
				return nil, fmt.Errorf("--resume: %s was written for different settings than %s/config.json", ckPath, dir)
			}
			if c.Iteration < 0 || c.Iteration > s.Iters {
				return nil, fmt.Errorf("--resume: %s: iteration %d outside [0, %d]", ckPath, c.Iteration, s.Iters)
			}
			if err := m.load(c); err != nil {
				return nil, fmt.Errorf("--resume: %s: %v", ckPath, err)
			}
			if err := rng.UnmarshalBinary(c.RNG); err != nil {
				return nil, fmt.Errorf("--resume: %s: %v", ckPath, err)
			}
			start, lr = c.Iteration, c.LearningRate
		}
		// Keep what the checkpoint covers: every row of it, or refuse
		// (before anything in the directory changes).
		ll, err := resumeMetrics(e, mPath, ckPath, start)
		if err != nil {
			return nil, err
		}
		lastLoss = ll
		// config.json: the segments the checkpoint covers, then this
		// process (which may run at another ISA level or on another
		// machine: the settings, including the backend, are the same).
		cfgPath := filepath.Join(dir, "config.json")
		old, err := readRunConfig(cfgPath)
		if err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		upd := *old
		upd.Segments = resumeSegments(old.Segments, start)
		upd.Note, upd.BitIdentity = bitIdentityNote(s.BLAS)
		b, err := json.MarshalIndent(&upd, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := fileio.WriteFileAtomic(cfgPath, append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
		rc.Segments, rc.Note, rc.BitIdentity = upd.Segments, upd.Note, upd.BitIdentity
		// Temporary files of writes a kill interrupted.
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(tmps) > 0 {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	} else {
		b, err := json.MarshalIndent(rc, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := fileio.WriteFileAtomic(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
		os.Remove(mPath)
		os.Remove(ckPath)
	}
	met, err := runio.OpenMetrics(mPath)
	if err != nil {
		return nil, err
	}
	defer met.Close()

	ipe := itersPerEpoch(s.NumTrain, s.Batch)
	curLR := lr
	prog := newProgress(e, o.progress, s.Iters, start)
	lastFlush := time.Now()
	stoppedAt, interrupted := o.stopAt, false
	wall := func() float64 { return time.Since(t0).Seconds() }
	saveCheckpoint := func(it int) error {
		state, err := rng.MarshalBinary()
		if err != nil {
			return err
		}
		if err := met.Sync(); err != nil {
			return err
		}
		return runio.SaveCheckpoint(ckPath, &runio.Checkpoint{
			Iteration: it, LearningRate: curLR, RNG: state, ConfigDigest: s.digest(), Tensors: m.tensors(),
		})
	}
	onIt := func(it int, loss float64) error {
		lastLoss = loss
		if err := met.Add(metricRec{It: it, Loss: fp(loss), Wall: wall()}); err != nil {
			return err
		}
		if it%ipe == 0 {
			if s.Model == "twolayer" {
				curLR *= s.Decay // the trainer's decay at this iteration
			} else {
				tr := accuracy(m.predict(subSrc), ysub)
				va := accuracy(m.predict(valSrc), yval)
				ep := it / ipe
				met.Add(metricRec{It: it, Epoch: &ep, TrainAcc: fp(tr), ValAcc: fp(va), Wall: wall()})
			}
		}
		prog.iter(it, loss)
		done := it + 1
		if o.done != nil {
			o.done.Store(int64(done))
		}
		if o.checkpointEvery > 0 && done%o.checkpointEvery == 0 && done < s.Iters {
			if err := saveCheckpoint(done); err != nil {
				return err
			}
		} else if time.Since(lastFlush) > time.Second {
			if err := met.Flush(); err != nil {
				return err
			}
			lastFlush = time.Now()
		}
		if o.stopAt > 0 && done == o.stopAt && done < s.Iters {
			if done%max(o.checkpointEvery, 1) != 0 || o.checkpointEvery == 0 {
				if err := saveCheckpoint(done); err != nil {
					return err
				}
			}
			return errStop
		}
		if ctx.Err() != nil && done < s.Iters {
			// Interrupted (Ctrl-C): leave a checkpoint to resume from.
			if err := saveCheckpoint(done); err != nil {
				return err
			}
			stoppedAt, interrupted = done, true
			return errStop
		}
		return nil
	}
	onEpoch := func(it int, trainAcc, valAcc, newLR float64) error {
		ep := it / ipe
		return met.Add(metricRec{It: it, Epoch: &ep, TrainAcc: fp(trainAcc), ValAcc: fp(valAcc), LR: fp(newLR), Wall: wall()})
	}
	if start < s.Iters {
		// The trainers take the initial rate and replay the decay of the
		// iterations before StartIteration themselves; curLR (what the
		// checkpoint records) follows the same schedule.
		err = m.train(src, valSrc, ytrain, yval, s.LR, start, onIt, onEpoch, rng)
	}
	prog.done()
	if errors.Is(err, errStop) {
		return &runResult{Settings: s, Dir: dir, Iteration: stoppedAt, Stopped: true, Interrupted: interrupted}, met.Sync()
	}
	if err != nil {
		met.Sync()
		return nil, fmt.Errorf("train %s: %w", s.Model, err)
	}
	res := &runResult{Settings: s, Dir: dir, FinalLoss: lastLoss}
	res.TrainAcc = accuracy(m.predict(src), ytrain)
	res.ValAcc = accuracy(m.predict(valSrc), yval)
	res.TestAcc = accuracy(m.predict(testSrc), ytest)
	res.Iteration = s.Iters
	met.Add(metricRec{It: s.Iters, TrainAcc: fp(res.TrainAcc), ValAcc: fp(res.ValAcc), TestAcc: fp(res.TestAcc), Final: true, Wall: wall()})
	if err := met.Sync(); err != nil {
		return nil, err
	}
	if err := modelFileOf(s.Model, m.tensors(), p, rc.Data.ImageShape).Save(filepath.Join(dir, modelFile)); err != nil {
		return nil, err
	}
	// The final checkpoint: a --resume of a finished run only redoes this tail.
	if err := saveCheckpoint(s.Iters); err != nil {
		return nil, err
	}
	if !o.noPlots {
		if err := writePlots(dir, m, rc); err != nil {
			return nil, err
		}
	}
	res.Seconds = wall()
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := fileio.WriteFileAtomic(filepath.Join(dir, "result.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// resumeMetrics checks the metrics file at path of a run resumed from the
// checkpoint at iteration start and rewrites it to the rows the checkpoint
// covers: one loss row for each iteration 0..start-1, in order, with their
// epoch rows. Rows at or after start (written after the checkpoint, or the
// final row of a finished run) are dropped: the run writes them again. A
// torn last line (a write cut off by a crash) is dropped with a warning on
// e.stderr; any other damage is an error naming the file and line, and the
// file is left as it was. It returns the loss of iteration start-1.
func resumeMetrics(e *env, path, ckPath string, start int) (lastLoss float64, err error) {
	if start == 0 {
		// No checkpoint: every row is written again.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("--resume: %w", err)
		}
		return 0, nil
	}
	lines, torn, err := runio.ReadMetrics(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("--resume: %s is missing, but %s is at iteration %d: refusing to continue without the rows it covers", path, ckPath, start)
	}
	if err != nil {
		return 0, fmt.Errorf("--resume: %w; refusing to drop rows %s covers (iterations 0-%d)", err, ckPath, start-1)
	}
	damaged := func(line int, format string, args ...any) error {
		return fmt.Errorf("--resume: %s line %d: %s; refusing to drop rows %s covers (iterations 0-%d)",
			path, line, fmt.Sprintf(format, args...), ckPath, start-1)
	}
	var kept [][]byte
	next, past := 0, false // next: the iteration whose loss row comes next
	for i, l := range lines {
		var r metricRec
		if err := json.Unmarshal(l, &r); err != nil {
			return 0, damaged(i+1, "not a metrics record (%s)", textesc.Escape(err.Error()))
		}
		if r.Final || r.It >= start {
			past = true
			continue
		}
		switch {
		case past:
			return 0, damaged(i+1, "iteration %d after a row of iteration %d or later (out of order)", r.It, start)
		case r.Loss != nil && r.It != next:
			return 0, damaged(i+1, "loss of iteration %d where iteration %d was due", r.It, next)
		case r.Loss != nil:
			lastLoss = *r.Loss
			next++
		case r.It < 0 || r.It > next:
			// An epoch row comes right before (twolayer) or after
			// (linear) the loss row of its iteration.
			return 0, damaged(i+1, "epoch row of iteration %d where iteration %d was due", r.It, next)
		}
		kept = append(kept, l)
	}
	if next != start {
		return 0, fmt.Errorf("--resume: %s holds the losses of iterations 0-%d (%d lines), but %s is at iteration %d: refusing to continue with %d rows missing",
			path, next-1, len(lines), ckPath, start, start-next)
	}
	if torn {
		fmt.Fprintf(e.stderr, "nnkern: warning: %s ends in an incomplete line (a write cut off by a crash); dropped it\n", path)
	}
	if torn || len(kept) != len(lines) {
		if err := runio.RewriteMetrics(path, kept); err != nil {
			return 0, err
		}
	}
	return lastLoss, nil
}

// runSignals is how train and sweep stop: SIGINT (Ctrl-C), SIGTERM (what
// Slurm, Kubernetes and systemd send before they kill) and SIGHUP (the
// terminal went away) all cancel the context, the running iteration ends,
// a checkpoint is written, and the command exits with 128 + the signal's
// number (130, 143, 129), as a shell reports a process the signal killed.
// Further signals are ignored until it has exited.
type runSignals struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan os.Signal
	got    atomic.Value // the first signal, an os.Signal
}

func notifyRunSignals() *runSignals {
	rs := &runSignals{ch: make(chan os.Signal, 1)}
	rs.ctx, rs.cancel = context.WithCancel(context.Background())
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		// A signal the process was started ignoring (nohup, a
		// background job of a script) stays ignored.
		if !signal.Ignored(sig) {
			signal.Notify(rs.ch, sig)
		}
	}
	go func() {
		select {
		case sig := <-rs.ch:
			rs.got.Store(sig)
			rs.cancel()
		case <-rs.ctx.Done():
		}
	}()
	return rs
}

// stop restores the default handling of the signals.
func (rs *runSignals) stop() {
	signal.Stop(rs.ch)
	rs.cancel()
}

// signal returns the signal that cancelled the context, or nil.
func (rs *runSignals) signal() os.Signal {
	sig, _ := rs.got.Load().(os.Signal)
	return sig
}

// exit returns the error a command stopped by a signal exits with: status
// 128 + the signal's number and msg.
func (rs *runSignals) exit(msg string) error {
	code := 130
	if n, ok := rs.signal().(syscall.Signal); ok {
		code = 128 + int(n)
	}
	return &exitError{code: code, msg: msg}
}

// exitOnSignal, deferred with the command's named error result, turns an
// error that a signal caused (a cancelled context, say) into the signal's
// exit status, naming the signal; an error that already carries a status
// is kept.
func (rs *runSignals) exitOnSignal(err *error) {
	var ee *exitError
	if *err != nil && rs.signal() != nil && !errors.As(*err, &ee) {
		*err = rs.exit(fmt.Sprintf("%s: %v", signalName(rs.signal()), *err))
	}
}

// signalName is "SIGTERM" and so on.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprint(sig)
}

// lockOutDir creates the run directory dir (and its missing parents) and
// takes its lock before anything is written to it, so that a second nnkern
// run on the same directory fails at once, naming it, and changes nothing.
// The returned undo removes the directories it created, leaf first, as
// long as they are empty (call it after Unlock), so a command that fails
// early leaves no empty --out behind.
func lockOutDir(dir string) (lk *runio.DirLock, undo func(), err error) {
	undo = undoCreate(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		undo()
		return nil, func() {}, fmt.Errorf("--out %s: %w", dir, errors.Unwrap(err))
	}
	lk, err = runio.LockDir(dir)
	if err != nil {
		undo()
		var le *runio.LockedError
		if errors.As(err, &le) {
			return nil, func() {}, fmt.Errorf("--out %w", err)
		}
		return nil, func() {}, fmt.Errorf("--out %s: not writable: %w", dir, err)
	}
	return lk, undo, nil
}
