#!/usr/bin/env bash
# bench-report.sh — the generated part of docs/performance.md: one `nnkern
# bench` run rendered as Markdown, plus nnkern-vs-numpy ratios measured in
# the same session, the two run alternately (A B A B A B) so that both see
# the same machine state; medians of both sides are printed with every ratio.
#
#   scripts/bench-report.sh                (make bench-report) measure, then write the report into $DOC
#   scripts/bench-report.sh --insert FILE  write FILE (a saved report) into $DOC; nothing is measured
#
# The report replaces the lines between <!-- bench-report:begin --> and
# <!-- bench-report:end --> in $DOC (each on a line of its own, once), in one
# rename; the rest of the document is written by hand. The report and the
# raw JSON of every round are also kept in $OUT.
#
# It takes a while: each round is a full `nnkern bench --slow` (training runs
# included, a few minutes at rest) plus numpy_peer.py for f64 and f32.
#
# Environment:
#   DOC           the document to write (default docs/performance.md)
#   NNKERN        nnkern binary (default: go build ./cmd/nnkern into a temp dir)
#   ROUNDS        A/B rounds (default 3)
#   BENCH_ARGS    `nnkern bench` flags (default "--slow": the training runs too)
#   PEER_ONLY     numpy_peer.py --only list (default all)
#   PEER_DTYPES   numpy dtypes to run (default "f64 f32")
#   PEER_ARGS     extra numpy_peer.py flags, e.g. "--cifar DIR"
#   OUT           directory for the raw JSON and the report (default: a temp dir, kept)
#
# numpy runs as env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3
# ../shared/bench/numpy_peer.py, so that OpenBLAS picks its own kernels for
# the CPU (nnkern's openblas backend runs with them unset too) and neither
# side is tuned by hand. A failed bench case (exit 1, JSON written) is
# reported and its row shows the error; any other failure stops the script.
set -euo pipefail
# DOC, OUT and --insert's file are the caller's paths; the rest runs at the
# repository root.
here=$PWD
abs() { case $1 in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }
cd "$(dirname "$0")/.."

if [ -n "${DOC:-}" ]; then DOC=$(abs "$DOC"); else DOC=docs/performance.md; fi
[ -z "${OUT:-}" ] || OUT=$(abs "$OUT")

# markers DOC prints the line numbers of DOC's begin and end markers, or
# says what is wrong with them and fails.
markers() {
	local doc=$1 nb ne lb le
	local begin='<!-- bench-report:begin -->' end='<!-- bench-report:end -->'
	[ -f "$doc" ] || { echo "bench-report: $doc: no such file" >&2; return 1; }
	nb=$(grep -cxF -- "$begin" "$doc" || true)
	ne=$(grep -cxF -- "$end" "$doc" || true)
	if [ "$nb" != 1 ] || [ "$ne" != 1 ]; then
		echo "bench-report: $doc must hold the lines $begin and $end once each (found $nb and $ne)" >&2
		return 1
	fi
	lb=$(grep -nxF -- "$begin" "$doc" | cut -d: -f1)
	le=$(grep -nxF -- "$end" "$doc" | cut -d: -f1)
	if [ "$lb" -gt "$le" ]; then
		echo "bench-report: $doc: $end (line $le) comes before $begin (line $lb)" >&2
		return 1
	fi
	echo "$lb $le"
}

# insert_report DOC REPORT replaces the lines between DOC's begin and end
# markers with the contents of REPORT. DOC is rewritten through a temporary
# file beside it, renamed over it, so a reader sees the old or the new
# document, never a mix; on any error DOC is left as it was.
insert_report() {
	local doc=$1 report=$2 pos lb le tmp
	[ -f "$report" ] || { echo "bench-report: $report: no such file" >&2; return 1; }
	pos=$(markers "$doc") || return 1
	read -r lb le <<<"$pos"
	tmp=$(mktemp "$(dirname "$doc")/.$(basename "$doc").XXXXXX") || return 1
	# cp -p gives the temporary file DOC's mode; the writes below keep it.
	if cp -p -- "$doc" "$tmp" && {
		head -n "$lb" -- "$doc"
		cat -- "$report"
		# A report without a final newline must not swallow the end marker.
		[ -z "$(tail -c 1 -- "$report")" ] || echo
		tail -n "+$le" -- "$doc"
	} >"$tmp" && mv -f -- "$tmp" "$doc"; then
		return 0
	fi
	rm -f -- "$tmp"
	echo "bench-report: could not rewrite $doc" >&2
	return 1
}

case "${1:-}" in
--insert)
	[ $# -eq 2 ] || { echo "usage: $0 [--insert REPORT]" >&2; exit 2; }
	insert_report "$DOC" "$(abs "$2")"
	echo "bench-report: wrote $2 into $DOC" >&2
	exit 0
	;;
"") ;;
*) echo "usage: $0 [--insert REPORT]" >&2; exit 2 ;;
esac

# Refuse a document without its markers now, not after the measurements.
markers "$DOC" >/dev/null || exit 1

ROUNDS=${ROUNDS:-3}
# ../shared beside the repository (a worktree one level deeper finds ../../shared).
if [ -z "${PEER:-}" ]; then
	PEER=../shared/bench/numpy_peer.py
	[ -f "$PEER" ] || [ ! -f ../../shared/bench/numpy_peer.py ] || PEER=../../shared/bench/numpy_peer.py
fi
PY=/usr/bin/python3
PEER_ONLY=${PEER_ONLY:-all}
PEER_DTYPES=${PEER_DTYPES:-"f64 f32"}
BENCH_ARGS=${BENCH_ARGS---slow}
PEER_ARGS=${PEER_ARGS:-}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/nnkern-bench-report.XXXXXX")}
mkdir -p "$OUT"

if [ -z "${NNKERN:-}" ]; then
	NNKERN="$OUT/nnkern"
	ver=$(git describe --always --dirty 2>/dev/null || echo unknown)
	ldflags="-X github.com/nnkern/nnkern/bench.Version=$ver"
	# With OpenBLAS installed, build the openblas backend in (native vs
	# openblas is one of the report's ratios); else without it.
	if CGO_LDFLAGS="-lopenblas" go build -tags openblas -ldflags "$ldflags" -o "$NNKERN" ./cmd/nnkern 2>/dev/null; then
		echo "bench-report: nnkern $ver built with the openblas backend" >&2
		built="built from $ver with the openblas backend"
	else
		echo "bench-report: OpenBLAS not usable; nnkern $ver built without the openblas backend" >&2
		go build -ldflags "$ldflags" -o "$NNKERN" ./cmd/nnkern
		built="built from $ver without the openblas backend"
	fi
else
	built="$("$NNKERN" version 2>/dev/null | head -n 1 || true), given as NNKERN"
fi

peer=1
if [ ! -f "$PEER" ]; then
	echo "bench-report: $PEER not found; numpy ratios skipped" >&2
	peer=0
elif ! "$PY" -c 'import numpy' 2>/dev/null; then
	echo "bench-report: numpy is not importable by $PY (apt-get install python3-numpy); numpy ratios skipped" >&2
	peer=0
fi

start=$(date -u '+%Y-%m-%d %H:%M')
for r in $(seq 1 "$ROUNDS"); do
	echo "bench-report: round $r/$ROUNDS: nnkern bench" >&2
	# shellcheck disable=SC2086
	st=0
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$NNKERN" bench --json --quiet $BENCH_ARGS >"$OUT/nnkern-$r.json" || st=$?
	case $st in
	0) ;;
	1) echo "bench-report: some cases failed (their rows show the error)" >&2 ;;
	*) echo "bench-report: nnkern bench exited $st" >&2; exit "$st" ;;
	esac
	if [ "$peer" = 1 ]; then
		for dt in $PEER_DTYPES; do
			echo "bench-report: round $r/$ROUNDS: numpy_peer.py --dtype $dt" >&2
			# shellcheck disable=SC2086
			env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$PEER" --dtype "$dt" --only "$PEER_ONLY" $PEER_ARGS >"$OUT/numpy-$dt-$r.json"
		done
	fi
done

finish=$(date -u '+%H:%M')
{
echo "Generated by \`make bench-report\` (scripts/bench-report.sh, ROUNDS=$ROUNDS) from $start to $finish UTC; binary: $built. The tables are the last round's; the numpy ratios are medians of all rounds."
echo
"$NNKERN" bench --markdown --report "$OUT/nnkern-$ROUNDS.json"
echo
if [ "$peer" = 1 ]; then
	"$PY" - "$OUT" "$ROUNDS" "$PEER_DTYPES" <<'PYEOF'
import glob, json, os, re, statistics, sys
out, rounds, dtypes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
go = [json.load(open(os.path.join(out, 'nnkern-%d.json' % r))) for r in range(1, rounds + 1)]
ncpu = go[-1]['machine']['logical_cpus']
isa = go[-1]['machine']['isa_detected']
np_runs = {dt: [json.load(open(os.path.join(out, 'numpy-%s-%d.json' % (dt, r)))) for r in range(1, rounds + 1)] for dt in dtypes}

# (label, numpy key, nnkern case name pattern, kind). {dt}: f32/f64, {T}: all
# threads, {ISA}: the best ISA level of the machine.
# kind "s": numpy seconds vs nnkern time -> advantage = numpy / nnkern;
# kind "gflops": GFLOP/s both sides -> advantage = nnkern / numpy.
# stat: numpy_peer.py reports the best of several runs for the kernels and
# GEMM (so nnkern's fastest sample is used there) and one total time for
# the training runs (nnkern's median sample).
table = [
    ('GEMM 200x3072x200 NN', 'gemm_200x3072x200_gflops', r'^gemm/NN/{dt}/native/isa={ISA}/threads={T}/200x3072x200$', 'gflops', 'best'),
    ('GEMM TN 3072x200x200 (Xᵀ·dH)', 'gemm_tn_3072x200x200_gflops', r'^gemm/TN/{dt}/native/isa={ISA}/threads={T}/3072x200x200$', 'gflops', 'best'),
    ('GEMM 2048³', 'gemm_2048cubed_gflops', r'^gemm/NN/{dt}/native/isa={ISA}/threads={T}/2048x2048x2048$', 'gflops', 'best'),
    ('batch gather, 200 rows', 'gather_200rows_s', r'^data/gather/{dt}/[^/]+/threads={T}/200x3073$', 's', 'best'),
    ('batch gather, 200 rows, one core', 'gather_200rows_s', r'^data/gather/{dt}/[^/]+/threads=1/200x3073$', 's', 'best'),
    ('softmax loss+grad N=500 (fused vs numpy vectorized)', 'softmax_loss_vectorized_n500_s', r'^loss/softmax/{dt}/fused/threads={T}/500x3073x10$', 's', 'best'),
    ('softmax loss+grad N=500 (fused on a LossWorkspace vs numpy vectorized)', 'softmax_loss_vectorized_n500_s', r'^loss/softmax/{dt}/workspace/threads={T}/500x3073x10$', 's', 'best'),
    ('softmax loss+grad N=500 (vectorized vs numpy vectorized)', 'softmax_loss_vectorized_n500_s', r'^loss/softmax/{dt}/vectorized/threads={T}/500x3073x10$', 's', 'best'),
    ('softmax loss+grad N=500 (naive vs numpy naive)', 'softmax_loss_naive_n500_s', r'^loss/softmax/{dt}/naive/threads=1/500x3073x10$', 's', 'best'),
    ('softmax training, 1500 it', 'softmax_train_1500it_s', r'^train/softmax/{dt}/[^/]+/threads={T}/1500it$', 's', 'median'),
    ('two-layer H=50, 1000 it', 'twolayer_default_h50_1000it_s', r'^train/twolayer/{dt}/[^/]+/threads={T}/h50-1000it$', 's', 'median'),
    ('two-layer H=200, 2000 it', 'twolayer_tuned_h200_2000it_s', r'^train/twolayer/{dt}/[^/]+/threads={T}/h200-2000it$', 's', 'median'),
]

def fmt_s(s):
    return '%.3g s' % s if s >= 1 else ('%.3g ms' % (s * 1e3) if s >= 1e-3 else '%.3g µs' % (s * 1e6))

print('Against numpy (`numpy_peer.py`, numpy %s, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset), %d alternating rounds, medians of the rounds:' % (
    np_runs[dtypes[0]][0].get('numpy', '?'), rounds))
print('The advantage is nnkern GFLOP/s over numpy GFLOP/s, or numpy time over nnkern time (above 1: nnkern is faster). '
      'stat: numpy_peer.py takes the best of several runs for kernels and GEMM, so nnkern\'s fastest sample is used there (best); '
      'the training runs are single runs on both sides (nnkern: median sample).')
print()
print('The last column compares with numpy in float64, the reference\'s dtype (the same as the advantage for f64 rows).')
print()
print('| workload | dtype | nnkern case | stat | nnkern | numpy | nnkern advantage | vs numpy f64 |')
print('|---|---|---|---|--:|--:|--:|--:|')
missing = []
for label, key, pat, kind, stat in table:
    for dt in dtypes:
        rx = re.compile(pat.format(dt=dt, T=ncpu, ISA=isa))
        ours = []
        name = None
        for rep in go:
            rows = [r for r in rep['results'] if rx.search(r['name']) and not r.get('error')]
            if rows:
                name = rows[0]['name']
                ns = rows[0]['min_ns'] if stat == 'best' else rows[0]['median_ns']
                ours.append(rows[0]['flops_per_op'] / ns if kind == 'gflops' else ns * 1e-9)
        theirs = [run[key] for run in np_runs[dt] if key in run]
        if not ours or not theirs:
            missing.append('%s %s (%s)' % (label, dt, 'no nnkern case ' + rx.pattern if not ours else 'no numpy figure ' + key))
            continue
        a, b = statistics.median(ours), statistics.median(theirs)
        ref = [run[key] for run in np_runs.get('f64', []) if key in run]
        if kind == 'gflops':
            vs64 = '%.2f× (%.1f)' % (a / statistics.median(ref), statistics.median(ref)) if ref else '-'
            print('| %s | %s | `%s` | %s | %.1f GFLOP/s | %.1f GFLOP/s | %.2f× | %s |' % (label, dt, name, stat, a, b, a / b, vs64))
        else:
            vs64 = '%.2f× (%s)' % (statistics.median(ref) / a, fmt_s(statistics.median(ref))) if ref else '-'
            print('| %s | %s | `%s` | %s | %s | %s | %.2f× | %s |' % (label, dt, name, stat, fmt_s(a), fmt_s(b), b / a, vs64))
print()
if missing:
    print('Not compared (missing on one side): ' + '; '.join(missing) + '.')
    print()
PYEOF
fi
} >"$OUT/report.md"
insert_report "$DOC" "$OUT/report.md"
echo "bench-report: wrote the report into $DOC (report.md and the raw JSON of every round are in $OUT)" >&2
