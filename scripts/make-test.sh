#!/usr/bin/env bash
# make-test.sh TARGET... — make test: runs each make target in turn (all of
# them, even after a failure, so that the summary covers everything) with
# NNKERN_SKIP_LOG pointing at a fresh file, and ends with one line:
#
#   make test: ok in 250s | identity: 80 components; checked native (generic avx2), ...: all identical | skipped: none
#   make test: FAILED (test-go: bench (TestBenchstatFormat); identity) in 400s | identity: ... | skipped: numpy cross-checks (no python3 with numpy; 14 tests)
#
# A failed go test step names its failed packages and top-level tests. It
# exits 1 if any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnkern-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export NNKERN_SKIP_LOG="$tmp/skips" NNKERN_IDENTITY_SUMMARY="$tmp/identity"
: >"$NNKERN_SKIP_LOG"

start=$(date +%s)
failed=()
for t in "$@"; do
	echo "== make $t"
	if ! $MAKE --no-print-directory "$t" 2>&1 | tee "$tmp/$t.log"; then
		# The packages go test reported as failed, with their failed
		# top-level tests: "bench (TestBenchstatFormat, TestX)".
		what=$(awk '
			/^--- FAIL: / { tests = tests (tests == "" ? "" : ", ") $3 }
			/^FAIL[ \t]+[^ \t]+[ \t]/ { p = $2; sub(/^github.com\/nnkern\/nnkern\//, "", p)
				pk = pk (pk == "" ? "" : "; ") p (tests == "" ? "" : " (" tests ")"); tests = "" }
			END { print pk }' "$tmp/$t.log")
		failed+=("$t${what:+: $what}")
	fi
done

status="make test: ok"
if [ ${#failed[@]} -gt 0 ]; then
	status="make test: FAILED ($(IFS='|'; echo "${failed[*]}" | sed 's/|/; /g'))"
fi
identity="identity: not run"
[ -s "$NNKERN_IDENTITY_SUMMARY" ] && identity=$(cat "$NNKERN_IDENTITY_SUMMARY")
echo
echo "$status in $(( $(date +%s) - start ))s | $identity | $(scripts/skip-summary.sh "$NNKERN_SKIP_LOG")"
[ ${#failed[@]} -eq 0 ]
