#!/usr/bin/env bash
# verify-avx512.sh — make verify-avx512: everything that judges the AVX-512
# level, in one command, on a machine that has AVX-512 F/DQ/BW/VL:
#
#   1. NNKERN_ISA=avx512 make test: the whole test suite with the kernels
#      capped at (that is, dispatching to) avx512, which includes make
#      identity: the identity suite at every level (generic, avx2, avx512)
#      and in the purego and GOAMD64=v3/v4 builds, bit for bit;
#   2. the GEMM benchmarks of the AVX-512 targets, one thread: native at
#      avx2 and avx512 against OpenBLAS on its own kernels (when
#      libopenblas-dev is installed), on 200x3072x200 NN, 3072x200x200 TN
#      and 2048³, with the FMA peak, printed as a table of GFLOP/s and
#      ratios (medians of ROUNDS alternating runs, default 3).
#
# It stops at the first failing step and exits non-zero; on a CPU without
# AVX-512 it says so and exits 2 without running anything.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
MAKE=${MAKE:-make}
ROUNDS=${ROUNDS:-3}

if ! grep -qw avx512f /proc/cpuinfo 2>/dev/null || ! grep -qw avx512vl /proc/cpuinfo ||
	! grep -qw avx512bw /proc/cpuinfo || ! grep -qw avx512dq /proc/cpuinfo; then
	echo "verify-avx512: this CPU ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs)) lacks AVX-512 F/DQ/BW/VL: nothing to verify here" >&2
	exit 2
fi

echo "== 1/2 NNKERN_ISA=avx512 make test (with make identity)"
NNKERN_ISA=avx512 $MAKE --no-print-directory test

echo "== 2/2 GEMM benchmarks, one thread"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnkern-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if CGO_LDFLAGS="-lopenblas" $GO test -c -tags openblas -o "$tmp/blas.test" ./blas 2>/dev/null; then
	impls='native|openblas'
else
	echo "verify-avx512: OpenBLAS not usable (install libopenblas-dev): native only" >&2
	$GO test -c -o "$tmp/blas.test" ./blas
	impls='native'
fi
$GO build -o "$tmp/nnkern" ./cmd/nnkern
pat="Gemm/(NN|TN)/f(32|64)/($impls)/isa=/threads=/(200x3072x200|3072x200x200|2048x2048x2048)"
for r in $(seq "$ROUNDS"); do
	for isa in avx2 avx512; do
		# OpenBLAS picks its own kernels for this CPU (the environment may
		# pin an older set).
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE NNKERN_ISA=$isa GOMAXPROCS=1 \
			"$tmp/blas.test" -test.run '^$' -test.bench "$pat" -test.benchtime 1s -test.cpu 1 |
			awk -v isa=$isa '/^BenchmarkGemm/ { for (i = 1; i < NF; i++) if ($(i+1) == "GFLOP/s") print isa, $1, $i }' >>"$tmp/gemm.txt"
	done
done
# OpenBLAS names the core whose kernels it runs (a CPU newer than the
# library gets an older core's: Emerald Rapids under OpenBLAS 0.3.21 runs
# Prescott's SSE3 kernels), which decides what the ratios against it mean.
obcore=""
if [ "$impls" != native ]; then
	obcore=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_VERBOSE=2 "$tmp/blas.test" -test.run '^$' 2>&1 | sed -n 's/^Core: //p' | head -1)
fi
"$tmp/nnkern" bench --filter '^peak/fma/.*/asm/isa=avx512/threads=1' --threads 1 --json --quiet >"$tmp/peak.json"
python3 - "$tmp/gemm.txt" "$tmp/peak.json" "${obcore:-unknown}" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    isa, name, g = line.split()
    _, tr, dt, impl, _, _, shape = name.split("/")
    if impl == "openblas" and isa != "avx512":
        continue  # OpenBLAS ignores NNKERN_ISA: one series is enough
    rows[(dt, tr, shape, impl if impl == "openblas" else impl + "/" + isa)].append(float(g))
# The FMA peak: the best sample of nnkern's AVX-512 probe, one thread.
peak = {p["dtype"]: p["value"] for p in json.load(open(sys.argv[2]))["peaks"]
        if p["kind"] == "fma" and p.get("isa") == "avx512" and p["threads"] == 1}
if not rows:
    sys.exit("verify-avx512: no benchmark results were read")
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{'case':34} {'avx2':>8} {'avx512':>8} {'openblas':>9} {'512/ob':>7} {'512/avx2':>9} {'%peak':>6}")
for dt in ("f32", "f64"):
    for tr, shape in (("NN", "200x3072x200"), ("TN", "3072x200x200"), ("NN", "2048x2048x2048")):
        a2 = med.get((dt, tr, shape, "native/avx2"), float("nan"))
        a5 = med.get((dt, tr, shape, "native/avx512"), float("nan"))
        ob = med.get((dt, tr, shape, "openblas"), float("nan"))
        pk = peak.get(dt) or float("nan")
        print(f"{dt+' '+tr+' '+shape:34} {a2:8.1f} {a5:8.1f} {ob:9.1f} {a5/ob:7.2f} {a5/a2:9.2f} {100*a5/pk:6.1f}")
print("targets: 512/ob >= 0.95 on every row; %peak >= 85 on 2048³; 512/avx2 >= 1.6 on 2048³;",
      "peak f32", peak.get("f32"), "f64", peak.get("f64"), "GFLOP/s (medians of", len(next(iter(rows.values()))), "runs)")
if any(k[3] == "openblas" for k in rows):
    core = sys.argv[3]
    print("OpenBLAS ran its", core, "kernels" + ("" if core in ("SkylakeX", "Cooperlake", "SapphireRapids") else
          ": not AVX-512 ones, so the openblas column is no AVX-512 yardstick (OPENBLAS_CORETYPE=Cooperlake picks one)"))
PY
