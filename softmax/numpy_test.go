package softmax

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/testenv"
)

// The notebooks' reference code (cs231n assignment 1: classifiers/softmax.py,
// linear_svm.py, linear_classifier.py), inlined for the numpy cross-checks.
const numpyRef = `
import sys, numpy as np

def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
        for j in range(num_classes):
            dW[:, j] += (probs[j] - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW

def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(num_train), y]).mean() + reg * np.sum(W * W)
    dS = probs
    dS[np.arange(num_train), y] -= 1
    dW = X.T.dot(dS) / num_train + 2 * reg * W
    return loss, dW

def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(num_train), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(num_train), y] = 0
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dS = (margins > 0).astype(float)
    dS[np.arange(num_train), y] = -dS.sum(axis=1)
    dW = X.T.dot(dS) / num_train + 2 * reg * W
    return loss, dW

class LinearClassifier(object):
    def __init__(self):
        self.W = None
    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200):
        num_train, dim = X.shape
        num_classes = np.max(y) + 1
        if self.W is None:
            self.W = 0.001 * np.random.randn(dim, num_classes)
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            X_batch = X[idx]
            y_batch = y[idx]
            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(loss)
            self.W -= learning_rate * grad
        return loss_history
    def predict(self, X):
        return np.argmax(X.dot(self.W), axis=1)

class Softmax(LinearClassifier):
    def loss(self, X, y, reg): return softmax_loss_vectorized(self.W, X, y, reg)

class LinearSVM(LinearClassifier):
    def loss(self, X, y, reg): return svm_loss_vectorized(self.W, X, y, reg)

def read():
    d = sys.stdin.read().split('\n')
    return d
` + testenv.NumPyIO

type lossGrad struct {
	loss float64
	grad []float64
}

// runNumPyLoss returns numpy's (softmax_loss_naive, svm_loss_vectorized) on
// (W, X, y, reg).
func runNumPyLoss(t *testing.T, W, X blas.Matrix[float64], y []int, reg float64) [2]lossGrad {
	var in bytes.Buffer
	testenv.EncMat(&in, W)
	testenv.EncMat(&in, X)
	testenv.EncInts(&in, y)
	fmt.Fprintf(&in, "%s\n", strconv.FormatFloat(reg, 'x', -1, 64))
	script := numpyRef + `
d = read()
W, X, y, reg = mat(d[0]), mat(d[1]), np.array([int(v) for v in d[2].split()]), float.fromhex(d[3])
l1, g1 = softmax_loss_naive(W, X, y, reg)
l2, g2 = svm_loss_vectorized(W, X, y, reg)
out([l1], g1, [l2], g2)
`
	lines := strings.Split(strings.TrimSpace(string(testenv.NumPy(t, script, in.Bytes()))), "\n")
	if len(lines) != 4 {
		t.Fatalf("numpy printed %d lines, want 4", len(lines))
	}
	return [2]lossGrad{
		{testenv.ParseFloats(t, lines[0])[0], testenv.ParseFloats(t, lines[1])},
		{testenv.ParseFloats(t, lines[2])[0], testenv.ParseFloats(t, lines[3])},
	}
}
