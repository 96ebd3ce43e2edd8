#!/usr/bin/env bash
# identity.sh — make identity: the "one result on every CPU" check across
# builds. Runs the TestIdentity of internal/identity and of
# softmax/internal/fused (every ISA level this CPU runs, GOMAXPROCS 1, 2, 3,
# each compared with the generic level; their hash files merged) in
#
#   native       the default build (assembly, GOAMD64 from the environment or v1)
#   purego       -tags purego (the generic level only)
#   GOAMD64=v3   (x86-64 only; the compiler may use FMA, BMI, ...)
#   GOAMD64=v4   (x86-64 only, skipped when the CPU lacks AVX-512)
#
# Each run writes the generic level's hashes (NNKERN_IDENTITY_OUT) to a temp
# dir; every build's file is then compared with the native build's. On a
# difference it prints the differing components and fails. It ends with one
# line: the builds, their levels, the number of components and the verdict
# (also written to $NNKERN_IDENTITY_SUMMARY when that is set, for make test's
# summary).
#
# Environment:
#   GO               go command (default go)
#   IDENTITY_BUILDS  builds to run (default "native purego v3 v4")
#   IDENTITY_REF     a hash file from another machine (NNKERN_IDENTITY_OUT of
#                    TestIdentity there, or IDENTITY_SAVE's file): the native
#                    file is compared with it too. Default: the committed
#                    internal/identity/testdata/hashes.txt, computed on
#                    another CPU (its first line says which), so that every
#                    run also checks "the same bits on any machine";
#                    IDENTITY_REF= (empty) compares with nothing
#   IDENTITY_SAVE    write the native build's hashes there (make identity-ref)
#   NNKERN_SKIP_LOG  skipped builds are recorded there (see internal/skiplog)
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BUILDS=${IDENTITY_BUILDS:-native purego v3 v4}
REF=${IDENTITY_REF-internal/identity/testdata/hashes.txt}
if [ -n "$REF" ] && [ ! -s "$REF" ]; then
	echo "identity.sh: IDENTITY_REF: $REF: no such file (IDENTITY_REF= compares with nothing)" >&2
	exit 2
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/nnkern-identity.XXXXXX")

# skip records a build that is not run in the skip log and in the summary.
skipped=()
skip() {
	skipped+=("$1 ($2)")
	if [ -n "${NNKERN_SKIP_LOG:-}" ]; then
		printf 'identity %s build\t%s\tmake identity\n' "$1" "$2" >>"$NNKERN_SKIP_LOG"
	fi
}

# cpu_has FLAG...: every flag is in /proc/cpuinfo.
cpu_has() {
	local f
	[ -r /proc/cpuinfo ] || return 1
	for f in "$@"; do
		grep -qw "$f" /proc/cpuinfo || return 1
	done
}

# The packages whose TestIdentity runs the suite: internal/identity's
# components, and those of packages it may not import (Go's internal rule)
# run by their own TestIdentity (identity.TestSuite). Their hash files are
# merged into one per build.
PKGS=(./internal/identity ./softmax/internal/fused)

# merge OUT PART...: one hash file from the packages' files: the first
# file's header with the numbers of components and of differing ones
# summed, then every component line sorted by name; OUT.cases likewise.
# Writes nothing if a part is missing (that build then reports no file).
merge() {
	local out=$1 p
	shift
	for p in "$@"; do
		[ -s "$p" ] || return 0
	done
	{
		awk -F'\t' '
			/^# components\t/ { nc += $2; next }
			/^# differing components\t/ { nd += $2; next }
			/^#/ { if (FNR == NR) print; next }
			END { printf "# components\t%d\n# differing components\t%d\n", nc, nd }' "$@"
		grep -hv '^#' "$@" | LC_ALL=C sort
	} >"$out"
	for p in "$@"; do cat "$p.cases"; done | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 >"$out.cases"
}

hostarch=$($GO env GOHOSTARCH)
start=$(date +%s)
ran=()      # "name (levels)"
failed=()   # builds whose TestIdentity failed
differ=()   # builds whose hashes differ from native's
ncomp=""

for b in $BUILDS; do
	envs=() flags=() name=$b
	case $b in
	native) ;;
	purego) flags=(-tags purego) ;;
	v3 | v4)
		name="GOAMD64=$b"
		if [ "$hostarch" != amd64 ]; then
			skip "$name" "not an x86-64 host"
			continue
		fi
		if [ "$b" = v3 ] && ! cpu_has avx2 fma bmi1 bmi2 f16c movbe; then
			skip "$name" "CPU lacks x86-64-v3"
			continue
		fi
		if [ "$b" = v4 ] && ! cpu_has avx512f avx512bw avx512cd avx512dq avx512vl; then
			skip "$name" "CPU lacks x86-64-v4 (AVX-512)"
			continue
		fi
		envs=(GOAMD64="$b")
		;;
	*)
		echo "identity.sh: unknown build $b (want native, purego, v3, v4)" >&2
		exit 2
		;;
	esac
	out="$dir/$b.txt" log="$dir/$b.log"
	t0=$(date +%s)
	rc=0 parts=()
	: >"$log"
	for i in "${!PKGS[@]}"; do
		part="$dir/$b.part$i.txt"
		parts+=("$part")
		env "${envs[@]}" NNKERN_IDENTITY_OUT="$part" $GO test -count=1 "${flags[@]}" -run '^TestIdentity$' -v "${PKGS[$i]}" >>"$log" 2>&1 || rc=1
	done
	merge "$out" "${parts[@]}"
	t1=$(date +%s)
	levels=$(sed -n 's/^# levels\t//p' "$out" 2>/dev/null)
	n=$(sed -n 's/^# components\t//p' "$out" 2>/dev/null)
	ncomp=${ncomp:-$n}
	ran+=("$name (${levels:-?})")
	echo "identity: $name: levels ${levels:-?}, $(( t1 - t0 ))s: $([ $rc = 0 ] && echo ok || echo FAIL)"
	if [ $rc != 0 ]; then
		failed+=("$name")
		# The differing components (indented lines of the test's error), or
		# the end of the log if the test did not get that far.
		if grep -q ' components differ (' "$log"; then
			sed -n '/ components differ (/,/^--- /p' "$log" | grep -v '^--- ' | sed 's/^[[:space:]]*//; /^$/d; s/^[^ ]*_test.go:[0-9]*: //; 2,$s/^/\t/'
		else
			tail -n 30 "$log"
		fi
	fi
	if [ ! -s "$out" ]; then
		echo "identity: $name: no hash file written (see $log)"
		[ $rc = 0 ] && failed+=("$name")
	fi
done

# compare A B NAME [REFNAME]: print the components whose hash differs between two
# hash files, with the number of differing cases and the first one when
# both have their .cases files; returns 1 if any differs.
compare() {
	local ca="$1.cases" cb="$2.cases"
	[ -s "$ca" ] && [ -s "$cb" ] || ca=/dev/null cb=/dev/null
	awk -F'\t' -v name="$3" -v refname="${4:-native}" -v fa="$1" -v fb="$2" -v ca="$ca" -v cb="$cb" '
		FILENAME == ca { ch[$1 SUBSEP $2] = $3; next }
		FILENAME == cb { if (ch[$1 SUBSEP $2] != $3) { nd[$1]++; if (!($1 in first)) first[$1] = $2 }; nc[$1]++; next }
		/^#/ { next }
		FILENAME == fa { ref[$1] = $2; next }
		{ seen[$1] = 1
		  if (!($1 in ref)) { out[++n] = sprintf("\t%s: only in %s", $1, name) }
		  else if (ref[$1] != $2) { dif[++n] = $1 } }
		END {
		  for (i = 1; i <= n; i++) {
		    if (i in out) { print out[i]; continue }
		    c = dif[i]
		    printf "\t%s: %s differs from %s", c, name, refname
		    if (c in nd) printf ": %d of %d cases, first %s", nd[c], nc[c], first[c]
		    printf "\n"
		  }
		  for (c in ref) if (!(c in seen)) { printf "\t%s: missing in %s\n", c, name; n++ }
		  exit n > 0 }' "$ca" "$cb" "$1" "$2"
}

native="$dir/native.txt"
if [ -n "${IDENTITY_SAVE:-}" ] && [ -s "$native" ]; then
	# The components' hashes only (the per-case file is megabytes), with
	# the CPU they were computed on.
	cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs)
	cpu+=" ($(grep -m1 'vendor_id' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs) family $(grep -m1 'cpu family' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs) model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs))"
	{ echo "# saved on	${cpu:-unknown CPU}, $(date -u +%Y-%m-%d)"; cat "$native"; } >"$IDENTITY_SAVE.tmp" &&
		mv "$IDENTITY_SAVE.tmp" "$IDENTITY_SAVE"
fi
if [ -s "$native" ]; then
	for b in $BUILDS; do
		[ "$b" = native ] && continue
		f="$dir/$b.txt"
		[ -s "$f" ] || continue
		name=$b
		case $b in v3 | v4) name="GOAMD64=$b" ;; esac
		if ! diffs=$(compare "$native" "$f" "$name"); then
			echo "identity: $name differs from native in $(printf '%s\n' "$diffs" | wc -l) components:"
			printf '%s\n' "$diffs"
			differ+=("$name")
		fi
	done
	# The reference's platform: the reference implementations in the suite
	# (LossVectorized: math.Exp, and on arm64 Go fuses multiply-adds in
	# plain code) differ between architectures, so other ones skip it.
	refarch=$(sed -n 's/^# go\t[^ ]* [^/]*\///p' "${REF:-/dev/null}" 2>/dev/null)
	if [ -n "$REF" ] && [ -n "$refarch" ] && [ "$refarch" != "$hostarch" ]; then
		skip "comparison with $REF" "its hashes are from $refarch and this host is $hostarch"
		REF=""
	fi
	if [ -n "$REF" ]; then
		if ! diffs=$(compare "$REF" "$native" "this machine" "the reference"); then
			echo "identity: this machine differs from $REF ($(sed -n 's/^# saved on\t//p' "$REF")) in $(printf '%s\n' "$diffs" | wc -l) components:"
			printf '%s\n' "$diffs"
			echo "identity: if the change of results is intended (a new summation order, say), write the new hashes with make identity-ref and commit them"
			differ+=("$REF")
		fi
	fi
elif [ -n "$BUILDS" ]; then
	differ+=("(no native hash file to compare with)")
fi

list() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
line="identity: ${ncomp:-?} components; checked $(list "${ran[@]}")"
[ -n "$REF" ] && line+=" and $REF"
[ ${#skipped[@]} -gt 0 ] && line+="; not run: $(list "${skipped[@]}")"
problems=()
[ ${#failed[@]} -gt 0 ] && problems+=("TestIdentity failed in $(list "${failed[@]}")")
[ ${#differ[@]} -gt 0 ] && problems+=("hashes differ from native in $(list "${differ[@]}")")
if [ ${#problems[@]} -eq 0 ]; then
	line+=": all identical ($(( $(date +%s) - start ))s)"
	rc=0
	rm -rf "$dir"
else
	line+=": FAILED: ${problems[0]}${problems[1]:+; ${problems[1]}} ($(( $(date +%s) - start ))s; logs and hash files in $dir)"
	rc=1
fi
[ -n "${NNKERN_IDENTITY_SUMMARY:-}" ] && echo "$line" >"$NNKERN_IDENTITY_SUMMARY"
echo "$line"
exit $rc
