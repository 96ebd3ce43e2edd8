#!/usr/bin/env bash
# skip-summary.sh LOG — one line naming every group of tests skipped during
# a run, from the NNKERN_SKIP_LOG file that internal/skiplog (and
# scripts/identity.sh) append "group<TAB>reason<TAB>test" lines to:
#
#   skipped: numpy cross-checks (no python3 with numpy; 14 tests); isa=avx512 subtests (CPU lacks AVX-512; 40 tests)
#
# Groups keep the order of their first skip; each lists its distinct
# reasons and the number of distinct tests. "skipped: none" if the log is
# empty or missing.
set -euo pipefail
log=${1:?usage: skip-summary.sh LOG}
if [ ! -s "$log" ]; then
	echo "skipped: none"
	exit 0
fi
awk -F'\t' '
	NF >= 2 {
		g = $1
		if (!(g in seen)) { seen[g] = 1; order[++n] = g }
		if (!((g, $2) in rs)) { rs[g, $2] = 1; reasons[g] = reasons[g] (reasons[g] == "" ? "" : "; ") $2 }
		if (!((g, $3) in ts)) { ts[g, $3] = 1; tests[g]++ }
	}
	END {
		line = ""
		for (i = 1; i <= n; i++) {
			g = order[i]
			line = line (i > 1 ? "; " : "") g " (" reasons[g] "; " tests[g] (tests[g] == 1 ? " test)" : " tests)")
		}
		print "skipped: " (line == "" ? "none" : line)
	}' "$log"
