#!/usr/bin/env python3
"""A/B benchmark of nnkern's fast paths against ../shared/bench/numpy_peer.py.

Runs the Go benchmark and the numpy peer alternately (A B A B ...), `--reps`
times, and prints the median of each side and their ratio. Run from the
repository root:

    /usr/bin/python3 softmax/internal/fused/bench_peer.py --reps 3 --only loss,softmax,twolayer

The numpy side runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, as the
peer's README asks.
"""
import argparse, json, os, re, statistics, subprocess, sys

def find_peer():
    # ../shared next to the repository (as internal/testenv looks for it),
    # from a worktree one level deeper too.
    d = os.getcwd()
    for _ in range(4):
        p = os.path.join(d, '..', 'shared', 'bench', 'numpy_peer.py')
        if os.path.exists(p):
            return os.path.normpath(p)
        d = os.path.dirname(d)
    raise SystemExit('numpy_peer.py not found in a ../shared above ' + os.getcwd())


PEER = find_peer()

# workload -> (go package, go bench regexp, go metric, peer key, peer --only)
WORK = {
    'loss': ('./softmax', 'BenchmarkLoss/{dt}/', 'ms/op', 1e-3, 'softmax_loss_vectorized_n500_s', 'loss'),
    'softmax': ('./softmax', 'BenchmarkTrain/{dt}/1500it', 's/run', 1, 'softmax_train_1500it_s', 'softmax'),
    'twolayer_h200': ('./twolayer', 'BenchmarkTrain/{dt}/H=200/', 's/run', 1, 'twolayer_tuned_h200_2000it_s', 'twolayer'),
    'twolayer_h50': ('./twolayer', 'BenchmarkTrain/{dt}/H=50/', 's/run', 1, 'twolayer_default_h50_1000it_s', 'twolayer'),
}
BENCHTIME = {'loss': '300x', 'softmax': '1x', 'twolayer_h200': '1x', 'twolayer_h50': '1x'}


def go_bench(pkg, pattern, benchtime):
    exe = '/tmp/nnkern_bench_%s.test' % pkg.strip('./').replace('/', '_')
    if not os.path.exists(exe):
        subprocess.run(['go', 'test', '-c', '-o', exe, pkg], check=True)
    out = subprocess.run([exe, '-test.run', '^$', '-test.bench', pattern, '-test.benchtime', benchtime],
                         check=True, capture_output=True, text=True).stdout
    return out


def metric(out, name, unit):
    for line in out.splitlines():
        if line.startswith('Benchmark') and name in line:
            m = re.search(r'([0-9.e+]+) ' + re.escape(unit), line)
            if m:
                return float(m.group(1))
    raise SystemExit('no %s for %s in:\n%s' % (unit, name, out))


def peer(only, dt):
    env = dict(os.environ)
    env.pop('OPENBLAS_CORETYPE', None)
    env.pop('OPENBLAS_L2_SIZE', None)
    out = subprocess.run(['/usr/bin/python3', PEER, '--only', only, '--dtype', dt], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--only', default='loss,softmax,twolayer')
    ap.add_argument('--dtype', default='f64,f32')
    a = ap.parse_args()
    works = []
    for o in a.only.split(','):
        works += [w for w in WORK if w == o or w.startswith(o + '_')]
    res = {}
    for dt in a.dtype.split(','):
        gs = {w: [] for w in works}
        ps = {w: [] for w in works}
        for r in range(a.reps):
            peers = {}
            for w in works:
                pkg, pat, unit, scale, key, only = WORK[w]
                pat = pat.format(dt=dt)
                out = go_bench(pkg, pat, BENCHTIME[w])
                gs[w].append(metric(out, pat.split('/', 1)[1].rstrip('/'), unit) * scale)
                if only not in peers:  # one peer run serves every workload it times
                    peers[only] = peer(only, dt)
                ps[w].append(peers[only][key])
                print('%s %s rep %d: nnkern %.4g s, numpy %.4g s' % (w, dt, r, gs[w][-1], ps[w][-1]), file=sys.stderr, flush=True)
        for w in works:
            g, p = statistics.median(gs[w]), statistics.median(ps[w])
            res['%s/%s' % (w, dt)] = {'nnkern_s': g, 'numpy_s': p, 'speedup': p / g, 'nnkern_all': gs[w], 'numpy_all': ps[w]}
    print(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
