//go:build accuracy

package twolayer

// The accuracy check on the real data (the shared JPEG CIFAR-10, the
// notebooks' 49000/1000/1000 split), through the fast trainers, against
// the numpy reference run on the same data with the same seeds:
//
//	NNKERN_SHARED=/path/to/shared go test -tags accuracy -run TestAccuracyCIFAR -v -timeout 60m ./twolayer
//
// It needs ../shared/data/cifar10-jpeg.tar.gz (skips without it; set
// NNKERN_SHARED from a worktree) and a python3 with numpy, and takes
// minutes, so it is not part of `make test`.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/train"
)

// numpyReference is the notebooks' code (softmax_loss_vectorized with
// LinearClassifier.train; TwoLayerNet.loss/train/predict) on the splits
// written by writeSplits, seeded like the Go run: np.random.seed(0) before
// the weights and again before the two-layer training (the Go test uses
// two nprand.New(0) streams there), float64.
const numpyReference = `
import sys, json, numpy as np
d = sys.stdin.read().strip()
def ld(n): return np.fromfile(d + '/' + n, dtype=np.uint8)
Xtr = ld('train_x').reshape(-1, 3072).astype(np.float64); ytr = ld('train_y').astype(np.int64)
Xv = ld('val_x').reshape(-1, 3072).astype(np.float64); yv = ld('val_y').astype(np.int64)
Xte = ld('test_x').reshape(-1, 3072).astype(np.float64); yte = ld('test_y').astype(np.int64)
mean = Xtr.mean(0); Xtr -= mean; Xv -= mean; Xte -= mean
out = {}
# two-layer net, tuned settings
H, C, N = 200, 10, Xtr.shape[0]
np.random.seed(0)
P = {'W1': 1e-4 * np.random.randn(3072, H), 'b1': np.zeros(H), 'W2': 1e-4 * np.random.randn(H, C), 'b2': np.zeros(C)}
def scores(X):
    h = np.maximum(0, X.dot(P['W1']) + P['b1']); return h, h.dot(P['W2']) + P['b2']
np.random.seed(0)
lr, reg = 1e-3, 0.05
ipe = max(N // 200, 1)
for it in range(2000):
    idx = np.random.choice(N, 200)
    X, y = Xtr[idx], ytr[idx]
    h, s = scores(X)
    s = s - s.max(1, keepdims=True); p = np.exp(s); p /= p.sum(1, keepdims=True)
    d = p; d[np.arange(200), y] -= 1; d /= 200
    g = {'W2': h.T.dot(d) + 2 * reg * P['W2'], 'b2': d.sum(0)}
    dh = d.dot(P['W2'].T); dh[h <= 0] = 0
    g['W1'] = X.T.dot(dh) + 2 * reg * P['W1']; g['b1'] = dh.sum(0)
    for k in P: P[k] -= lr * g[k]
    if it % ipe == 0: lr *= 0.95
out['twolayer_val'] = float((scores(Xv)[1].argmax(1) == yv).mean())
out['twolayer_test'] = float((scores(Xte)[1].argmax(1) == yte).mean())
# softmax classifier, bias column
one = lambda X: np.hstack([X, np.ones((X.shape[0], 1))])
Xtr = one(Xtr); Xv = one(Xv); Xte = one(Xte)
np.random.seed(0)
W = 0.001 * np.random.randn(3073, 10)
for it in range(1500):
    idx = np.random.choice(N, 200)
    X, y = Xtr[idx], ytr[idx]
    s = X.dot(W); s -= s.max(1, keepdims=True); p = np.exp(s); p /= p.sum(1, keepdims=True)
    p[np.arange(200), y] -= 1
    W -= 1e-7 * (X.T.dot(p) / 200 + 2 * 2.5e4 * W)
out['softmax_val'] = float((Xv.dot(W).argmax(1) == yv).mean())
out['softmax_test'] = float((Xte.dot(W).argmax(1) == yte).mean())
print(json.dumps(out))
`

func accuracyOf(pred, y []int) float64 { return train.Accuracy(pred, y) }

// writeSplits writes the uint8 rows and labels of the prepared splits as
// raw files for numpyReference.
func writeSplits(t *testing.T, dir string, p *cifar.Prepared) {
	for name, s := range map[string]*cifar.Split{"train": &p.Train, "val": &p.Val, "test": &p.Test} {
		if err := os.WriteFile(filepath.Join(dir, name+"_x"), s.X[:s.N*s.Dim()], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"_y"), s.Y[:s.N], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAccuracyCIFAR(t *testing.T) {
	path := testenv.SharedFile(t, "data/cifar10-jpeg.tar.gz")
	ds, err := cifar.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// The image folder loads class by class: shuffle both splits with the
	// fixed seed the nnkern command uses (cifar.Shuffle, seed 0) before
	// Prepare takes the last training rows as validation and the first
	// test rows as test.
	cifar.Shuffle(&ds.Train, 0)
	cifar.Shuffle(&ds.Test, 0)
	p, err := cifar.Prepare(ds, cifar.DefaultPrepareConfig())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeSplits(t, dir, p)
	var ref map[string]float64
	if err := json.Unmarshal(testenv.NumPy(t, numpyReference, []byte(dir)), &ref); err != nil {
		t.Fatal(err)
	}
	t.Logf("numpy reference (float64) on the same data: %v", ref)
	check := func(what string, got, want float64) {
		t.Logf("%s: nnkern %.4f, numpy %.4f", what, got, want)
		if math.Abs(got-want) > 0.015 {
			t.Errorf("%s: accuracy %.4f is not within 1.5 points of the numpy reference's %.4f", what, got, want)
		}
	}

	cfgb := cifar.DefaultPrepareConfig() // the same splits with the softmax notebook's bias column
	cfgb.Bias = true
	pb, err := cifar.Prepare(ds, cfgb)
	if err != nil {
		t.Fatal(err)
	}
	for _, f64 := range []bool{false, true} {
		var val, test float64
		if f64 {
			val, test = trainSoftmax[float64](t, pb)
		} else {
			val, test = trainSoftmax[float32](t, pb)
		}
		check(fmt.Sprintf("softmax f64=%v val", f64), val, ref["softmax_val"])
		check(fmt.Sprintf("softmax f64=%v test", f64), test, ref["softmax_test"])
	}
	for _, f64 := range []bool{false, true} {
		var val, test float64
		if f64 {
			val, test = trainTuned[float64](t, p)
		} else {
			val, test = trainTuned[float32](t, p)
		}
		check(fmt.Sprintf("two-layer f64=%v val", f64), val, ref["twolayer_val"])
		check(fmt.Sprintf("two-layer f64=%v test", f64), test, ref["twolayer_test"])
	}
}

// trainSoftmax trains the softmax notebook's classifier: lr 1e-7, reg
// 2.5e4, 1500 iterations of batch 200.
func trainSoftmax[T float32 | float64](t *testing.T, p *cifar.Prepared) (val, test float64) {
	clf := softmax.NewSoftmax[T]()
	if _, err := clf.TrainSource(cifar.NewSource[T](p, &p.Train), cifar.Labels(&p.Train),
		softmax.TrainConfig{LearningRate: 1e-7, Reg: 2.5e4, NumIters: 1500, BatchSize: 200}, nprand.New(0)); err != nil {
		t.Fatal(err)
	}
	val = accuracyOf(clf.PredictSource(cifar.NewSource[T](p, &p.Val)), cifar.Labels(&p.Val))
	test = accuracyOf(clf.PredictSource(cifar.NewSource[T](p, &p.Test)), cifar.Labels(&p.Test))
	return val, test
}

// trainTuned trains the tuned two-layer net: H=200, 2000 iterations of
// batch 200, lr 1e-3, decay 0.95, reg 0.05, std 1e-4.
func trainTuned[T float32 | float64](t *testing.T, p *cifar.Prepared) (val, test float64) {
	net := New[T](p.Dim(), 200, 10, 1e-4, nprand.New(0))
	cfg := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05, NumIters: 2000, BatchSize: 200}
	if _, err := net.TrainSource(cifar.NewSource[T](p, &p.Train), cifar.Labels(&p.Train), cifar.NewSource[T](p, &p.Val), cifar.Labels(&p.Val), cfg, nprand.New(0)); err != nil {
		t.Fatal(err)
	}
	val = accuracyOf(net.PredictSource(cifar.NewSource[T](p, &p.Val)), cifar.Labels(&p.Val))
	test = accuracyOf(net.PredictSource(cifar.NewSource[T](p, &p.Test)), cifar.Labels(&p.Test))
	return val, test
}
