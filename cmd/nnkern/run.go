package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
	"github.com/nnkern/nnkern/train"
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

// model is one model family as a run sees it: how it trains (a
// train.Model), its parameters as tensors, predictions and a picture of
// its weights. Everything else about a run is the same for every model.
type model[T kernels.Float] interface {
	trainer() train.Model[T]
	tensors() []runio.Tensor
	load(c *runio.Checkpoint) error
	predict(src train.Source[T]) []int
	weightsImage(rc *RunConfig) (imgW []float64, kind string)
}

func matTensor[T kernels.Float](name string, m blas.Matrix[T]) runio.Tensor {
	d := make([]T, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		copy(d[i*m.Cols:], m.Row(i))
	}
	return runio.Tensor{Name: name, Shape: []int{m.Rows, m.Cols}, Data: d}
}

func matFromTensor[T kernels.Float](t runio.Tensor) (blas.Matrix[T], error) {
	if len(t.Shape) != 2 {
		return blas.Matrix[T]{}, fmt.Errorf("tensor %s has shape %v, want a matrix", t.Name, t.Shape)
	}
	m := blas.NewMatrix[T](t.Shape[0], t.Shape[1])
	return m, tensorInto(t, m.Data)
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

// newModel returns the model of s with its initial weights drawn from rng
// (the library trainers' draws, in their order), and whether its epochs'
// training accuracy is measured on a fixed subset of the training rows
// (the linear models) rather than on the mini-batch (the net).
func newModel[T kernels.Float](s Settings, dim, numClasses int, rng *nprand.RandomState) (model[T], bool, error) {
	switch s.Model {
	case "softmax", "svm":
		c := softmax.NewSoftmax[T]()
		if s.Model == "svm" {
			c = softmax.NewLinearSVM[T]()
		}
		// Train would initialise W lazily as 0.001·randn(D, C) from rng;
		// doing it here (same draws, same order) lets a checkpoint replace it.
		c.W = blas.NewMatrix[T](dim, numClasses)
		for i := range c.W.Data {
			c.W.Data[i] = T(0.001 * rng.StandardNormal())
		}
		return &linearModel[T]{c: c, tm: c.TrainModel()}, true, nil
	case "twolayer":
		n := twolayer.New[T](dim, s.Hidden, numClasses, s.InitStd, rng)
		return &netModel[T]{n: n, tm: n.TrainModel()}, false, nil
	}
	return nil, false, fmt.Errorf("unknown model %q", s.Model)
}

type linearModel[T kernels.Float] struct {
	c  *softmax.LinearClassifier[T]
	tm train.Model[T]
}

func (m *linearModel[T]) trainer() train.Model[T] { return m.tm }

func (m *linearModel[T]) tensors() []runio.Tensor { return []runio.Tensor{matTensor("W", m.c.W)} }

// load sets W to c's. A model that has a W (one built to train, whose
// trainer has buffers of its shape) takes only a W of that shape.
func (m *linearModel[T]) load(c *runio.Checkpoint) error {
	t, ok := c.Tensor("W")
	if !ok {
		return errors.New("no W")
	}
	if W := m.c.W; W.Rows > 0 && (len(t.Shape) != 2 || t.Shape[0] != W.Rows || t.Shape[1] != W.Cols) {
		return fmt.Errorf("tensor W has shape %v, the model wants [%d %d]", t.Shape, W.Rows, W.Cols)
	}
	w, err := matFromTensor[T](t)
	m.c.W = w
	return err
}

func (m *linearModel[T]) predict(src train.Source[T]) []int { return m.c.PredictSource(src) }

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
	n  *twolayer.Net[T]
	tm train.Model[T]
}

func (m *netModel[T]) trainer() train.Model[T] { return m.tm }

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

func (m *netModel[T]) predict(src train.Source[T]) []int { return m.n.PredictSource(src) }

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

// stepsTensor names the update rule's step count (adam's t) in a
// checkpoint; its buffers are "update.PARAM.BUFFER" (train.State.Buffers).
const stepsTensor = "update.steps"

// run is one trainRun: the model, the data, the loop's state, and what
// the run writes. It is the loop's observer (metrics, progress,
// checkpoints, --stop-at), the same for every model.
type run[T kernels.Float] struct {
	e      *env
	rc     *RunConfig
	s      Settings
	p      *cifar.Prepared
	o      runOpts
	t0     time.Time
	m      model[T]
	data   train.Data[T]
	cfg    train.Config
	st     *train.State[T]
	ckPath string
	mPath  string
	met    *runio.Metrics
	prog   *progress
	// lastLoss is the loss of the last iteration done; lastFlush when the
	// metrics were last flushed.
	lastLoss  float64
	lastFlush time.Time
	// stoppedAt and interrupted describe a run a signal stopped.
	stoppedAt   int
	interrupted bool
}

func trainRun[T kernels.Float](ctx context.Context, e *env, rc *RunConfig, p *cifar.Prepared, o runOpts) (*runResult, error) {
	r, err := newRun[T](e, rc, p, o)
	if err != nil {
		return nil, err
	}
	if o.resume {
		err = r.resume()
	} else {
		err = r.startFresh()
	}
	if err != nil {
		return nil, err
	}
	r.met, err = runio.OpenMetrics(r.mPath)
	if err != nil {
		return nil, err
	}
	defer r.met.Close()
	r.prog = newProgress(e, o.progress, r.s.Iters, r.st.Iteration)
	r.lastFlush = time.Now()
	err = train.Run(ctx, r.m.trainer(), r.data, r.cfg, r.st, r)
	r.prog.done()
	return r.finish(ctx, err)
}

// newRun builds the model of rc's settings and the loop's configuration,
// data and initial state.
func newRun[T kernels.Float](e *env, rc *RunConfig, p *cifar.Prepared, o runOpts) (*run[T], error) {
	s := rc.Settings
	r := &run[T]{e: e, rc: rc, s: s, p: p, o: o, t0: time.Now(), stoppedAt: o.stopAt,
		ckPath: filepath.Join(o.dir, checkpointFile), mPath: filepath.Join(o.dir, metricsFile)}
	numClasses := len(p.ClassNames)
	for _, y := range cifar.Labels(&p.Train) {
		numClasses = max(numClasses, y+1)
	}
	rng := nprand.New(s.Seed)
	m, subsetAcc, err := newModel[T](s, p.Dim(), numClasses, rng)
	if err != nil {
		return nil, err
	}
	r.m = m
	r.data = train.Data[T]{X: cifar.NewSource[T](p, &p.Train), Y: cifar.Labels(&p.Train)}
	if p.Val.N > 0 {
		r.data.Val, r.data.YVal = cifar.NewSource[T](p, &p.Val), cifar.Labels(&p.Val)
	}
	if subsetAcc {
		sub := subSplit(&p.Train, 0, min(p.Train.N, 1000))
		r.data.Acc, r.data.YAcc = cifar.NewSource[T](p, &sub), cifar.Labels(&sub)
	}
	decay := s.Decay
	if decay == 0 { // the linear models' settings have none
		decay = 1
	}
	r.cfg = train.Config{LearningRate: s.LR, LearningRateDecay: decay, Reg: s.Reg, NumIters: s.Iters, BatchSize: s.Batch, Update: s.Update}
	r.st = train.NewState[T](r.cfg, p.Train.N, rng)
	if err := r.st.Init(s.Update, m.trainer().Params()); err != nil {
		return nil, err
	}
	return r, nil
}

// startFresh writes config.json and removes what an earlier run left.
func (r *run[T]) startFresh() error {
	b, err := json.MarshalIndent(r.rc, "", "  ")
	if err != nil {
		return err
	}
	if err := fileio.WriteFileAtomic(filepath.Join(r.o.dir, "config.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	os.Remove(r.mPath)
	os.Remove(r.ckPath)
	return nil
}

// resume restores the last checkpoint (if there is one: a run interrupted
// before its first starts over), keeps the metrics rows it covers, and
// records this process as a new segment in config.json.
func (r *run[T]) resume() error {
	c, err := runio.LoadCheckpoint(r.ckPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := r.restore(c); err != nil {
			return err
		}
	}
	// Keep what the checkpoint covers: every row of it, or refuse
	// (before anything in the directory changes).
	if r.lastLoss, err = resumeMetrics(r.e, r.mPath, r.ckPath, r.st.Iteration); err != nil {
		return err
	}
	if err := r.addSegment(); err != nil {
		return err
	}
	// Temporary files of writes a kill interrupted.
	if tmps, _ := filepath.Glob(filepath.Join(r.o.dir, ".*.tmp*")); len(tmps) > 0 {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	return nil
}

// restore sets the model and the loop's state to checkpoint c's.
func (r *run[T]) restore(c *runio.Checkpoint) error {
	s, st := r.s, r.st
	if !s.matchesDigest(c.ConfigDigest) {
		return fmt.Errorf("--resume: %s was written for different settings than %s/config.json", r.ckPath, r.o.dir)
	}
	if c.Iteration < 0 || c.Iteration > s.Iters {
		return fmt.Errorf("--resume: %s: iteration %d outside [0, %d]", r.ckPath, c.Iteration, s.Iters)
	}
	fail := func(err error) error { return fmt.Errorf("--resume: %s: %v", r.ckPath, err) }
	if err := r.m.load(c); err != nil {
		return fail(err)
	}
	if err := st.RNG.UnmarshalBinary(c.RNG); err != nil {
		return fail(err)
	}
	st.Iteration, st.LearningRate = c.Iteration, c.LearningRate
	bufs := st.Buffers(r.m.trainer().Params())
	for _, b := range bufs {
		t, ok := c.Tensor(b.Name)
		if !ok {
			return fail(fmt.Errorf("no %s (the state of update rule %s)", b.Name, s.Update))
		}
		if err := tensorInto(t, b.Data); err != nil {
			return fail(err)
		}
	}
	if len(bufs) > 0 {
		t, ok := c.Tensor(stepsTensor)
		steps, isInt := t.Data.([]int64)
		if !ok || !isInt || len(steps) != 1 || steps[0] < 0 {
			return fail(fmt.Errorf("no valid %s (one non-negative int64)", stepsTensor))
		}
		st.SetSteps(int(steps[0]))
	}
	return nil
}

// addSegment rewrites config.json with the segments the checkpoint covers
// and then this process (which may run at another ISA level or on another
// machine: the settings, including the backend, are the same).
func (r *run[T]) addSegment() error {
	cfgPath := filepath.Join(r.o.dir, "config.json")
	old, err := readRunConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	upd := *old
	upd.Segments = resumeSegments(old.Segments, r.st.Iteration)
	upd.Note, upd.BitIdentity = bitIdentityNote(r.s.BLAS)
	b, err := json.MarshalIndent(&upd, "", "  ")
	if err != nil {
		return err
	}
	if err := fileio.WriteFileAtomic(cfgPath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	r.rc.Segments, r.rc.Note, r.rc.BitIdentity = upd.Segments, upd.Note, upd.BitIdentity
	return nil
}

func (r *run[T]) wall() float64 { return time.Since(r.t0).Seconds() }

// saveCheckpoint syncs the metrics and writes the model and the loop's
// state (iteration, learning rate, rng, update-rule state).
func (r *run[T]) saveCheckpoint() error {
	st := r.st
	rng, err := st.RNG.MarshalBinary()
	if err != nil {
		return err
	}
	if err := r.met.Sync(); err != nil {
		return err
	}
	tensors := r.m.tensors()
	if bufs := st.Buffers(r.m.trainer().Params()); len(bufs) > 0 {
		for _, b := range bufs {
			tensors = append(tensors, vecTensor(b.Name, b.Data))
		}
		tensors = append(tensors, runio.Tensor{Name: stepsTensor, Shape: []int{1}, Data: []int64{int64(st.Steps())}})
	}
	return runio.SaveCheckpoint(r.ckPath, &runio.Checkpoint{
		Iteration: st.Iteration, LearningRate: st.LearningRate, RNG: rng, ConfigDigest: r.s.digest(), Tensors: tensors,
	})
}

// optAcc is an accuracy for metrics.jsonl: omitted when there is none
// (NaN: no validation rows).
func optAcc(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

// Epoch records an epoch boundary's accuracies and new learning rate.
func (r *run[T]) Epoch(ep train.Epoch) error {
	n := ep.It / train.EpochLength(r.p.Train.N, r.s.Batch)
	return r.met.Add(metricRec{It: ep.It, Epoch: &n, TrainAcc: fp(ep.TrainAcc), ValAcc: optAcc(ep.ValAcc), LR: fp(ep.LearningRate), Wall: r.wall()})
}

// Iteration records a loss, shows progress, and writes checkpoints every
// --checkpoint-every iterations and at --stop-at (which stops the run).
func (r *run[T]) Iteration(it int, loss float64) error {
	r.lastLoss = loss
	if err := r.met.Add(metricRec{It: it, Loss: fp(loss), Wall: r.wall()}); err != nil {
		return err
	}
	r.prog.iter(it, loss)
	done, every := it+1, r.o.checkpointEvery
	if r.o.done != nil {
		r.o.done.Store(int64(done))
	}
	if every > 0 && done%every == 0 && done < r.s.Iters {
		if err := r.saveCheckpoint(); err != nil {
			return err
		}
	} else if time.Since(r.lastFlush) > time.Second {
		if err := r.met.Flush(); err != nil {
			return err
		}
		r.lastFlush = time.Now()
	}
	if r.o.stopAt > 0 && done == r.o.stopAt && done < r.s.Iters {
		if every == 0 || done%every != 0 {
			if err := r.saveCheckpoint(); err != nil {
				return err
			}
		}
		return errStop
	}
	return nil
}

// finish ends the run after train.Run returned err: a stopped run keeps
// its checkpoint (a cancelled context writes one: interrupted); a
// finished one records its accuracies and writes its outputs.
func (r *run[T]) finish(ctx context.Context, err error) (*runResult, error) {
	s := r.s
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
		// Interrupted (Ctrl-C): leave a checkpoint to resume from.
		if err := r.saveCheckpoint(); err != nil {
			return nil, err
		}
		r.stoppedAt, r.interrupted, err = r.st.Iteration, true, errStop
	}
	if errors.Is(err, errStop) {
		return &runResult{Settings: s, Dir: r.o.dir, Iteration: r.stoppedAt, Stopped: true, Interrupted: r.interrupted}, r.met.Sync()
	}
	if err != nil {
		r.met.Sync()
		return nil, fmt.Errorf("train %s: %w", s.Model, err)
	}
	res := &runResult{Settings: s, Dir: r.o.dir, FinalLoss: r.lastLoss, Iteration: s.Iters}
	res.TrainAcc = train.Accuracy(r.m.predict(r.data.X), r.data.Y)
	valSrc, testSrc := cifar.NewSource[T](r.p, &r.p.Val), cifar.NewSource[T](r.p, &r.p.Test)
	res.ValAcc = train.Accuracy(r.m.predict(valSrc), cifar.Labels(&r.p.Val))
	res.TestAcc = train.Accuracy(r.m.predict(testSrc), cifar.Labels(&r.p.Test))
	r.met.Add(metricRec{It: s.Iters, TrainAcc: fp(res.TrainAcc), ValAcc: fp(res.ValAcc), TestAcc: fp(res.TestAcc), Final: true, Wall: r.wall()})
	if err := r.met.Sync(); err != nil {
		return nil, err
	}
	if err := r.writeOutputs(); err != nil {
		return nil, err
	}
	res.Seconds = r.wall()
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := fileio.WriteFileAtomic(filepath.Join(r.o.dir, "result.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// writeOutputs writes a finished run's model.npz, final checkpoint and
// plots.
func (r *run[T]) writeOutputs() error {
	if err := modelFileOf(r.s.Model, r.m.tensors(), r.p, r.rc.Data.ImageShape).Save(filepath.Join(r.o.dir, modelFile)); err != nil {
		return err
	}
	// The final checkpoint: a --resume of a finished run only redoes this tail.
	if err := r.saveCheckpoint(); err != nil {
		return err
	}
	if !r.o.noPlots {
		return writePlots(r.o.dir, r.m, r.rc)
	}
	return nil
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
			// An epoch row comes right before the loss row of its
			// iteration (right after it in linear runs of versions
			// before the train package).
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
