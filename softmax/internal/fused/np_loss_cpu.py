#!/usr/bin/env python3
"""Single-thread CPU time of numpy's vectorized softmax loss (N=500, D=3073,
C=10), best of 5 windows of 20 calls: the counterpart of
softmax.BenchmarkLossCPU. Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3
softmax/internal/fused/np_loss_cpu.py f64|f32
"""
import time, sys, numpy as np
dt = np.float64 if sys.argv[1] == 'f64' else np.float32
np.random.seed(0)
X = (np.random.randint(0, 256, size=(500, 3072)).astype(np.float64) - 127.5).astype(dt)
X = np.hstack([X, np.ones((500, 1), dt)])
y = np.random.randint(0, 10, size=500)
W = (np.random.randn(3073, 10) * 1e-4).astype(dt)
def loss(W, X, y, reg):
    n = X.shape[0]
    s = X.dot(W); s -= s.max(1, keepdims=True); p = np.exp(s); p /= p.sum(1, keepdims=True)
    l = -np.log(p[np.arange(n), y]).sum() / n + reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    return l, X.T.dot(p) / n + 2 * reg * W
loss(W, X, y, 5e-6)
best = 1e9
for r in range(5):
    t = time.process_time()
    for _ in range(20): loss(W, X, y, 5e-6)
    best = min(best, (time.process_time() - t) / 20)
print('%s numpy 1-thread CPU time per loss: %.3f ms' % (sys.argv[1], best * 1e3))
