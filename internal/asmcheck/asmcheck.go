// Package asmcheck reads the avo-generated assembly of a package for its
// tests: the functions each .s file defines and the CPU features avo
// lists for each ("// Requires: AVX, FMA3" above its TEXT line), so a test
// can assert that the code of each ISA level needs nothing beyond what the
// level's detection checks:
//
//	req, err := asmcheck.Requires(".")
//	for fn, feats := range req { ... }
//
// It imports nothing of nnkern's, so any package's tests may use it.
package asmcheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var textRE = regexp.MustCompile(`^TEXT\s+·(\w+)\(SB\)`)

// Requires returns, for every function defined in the .s files of dir, the
// CPU features avo's "// Requires:" comment lists for it (nil if none),
// sorted.
func Requires(dir string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.s"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("asmcheck: no .s files in %s", dir)
	}
	out := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		var pending []string
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "// Requires:"); ok {
				pending = nil
				for _, p := range strings.Split(rest, ",") {
					if p = strings.TrimSpace(p); p != "" {
						pending = append(pending, p)
					}
				}
				sort.Strings(pending)
				continue
			}
			if m := textRE.FindStringSubmatch(line); m != nil {
				if _, dup := out[m[1]]; dup {
					fh.Close()
					return nil, fmt.Errorf("asmcheck: %s defined twice", m[1])
				}
				out[m[1]] = pending
				pending = nil
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Baseline is what every amd64 CPU has (no detection needed).
var Baseline = []string{"SSE", "SSE2", "CMOV", "MMX+"} // MMX+: avo's name for PREFETCHT0 and friends

// AVX2Level is what nnkern's AVX2 level detects (package kernels).
var AVX2Level = []string{"AVX", "AVX2", "FMA3", "POPCNT"}

// AVX512Level is what nnkern's AVX-512 level detects on top of AVX2Level:
// F, DQ, BW and VL only.
var AVX512Level = []string{"AVX512F", "AVX512DQ", "AVX512BW", "AVX512VL"}

// Check returns one error line per function whose features exceed its
// level: a function whose name ends in "AVX512" may use Baseline,
// AVX2Level and AVX512Level and must use AVX512F; any other may use
// Baseline and AVX2Level only.
func Check(req map[string][]string) []string {
	allowed := func(sets ...[]string) map[string]bool {
		m := map[string]bool{}
		for _, s := range sets {
			for _, f := range s {
				m[f] = true
			}
		}
		return m
	}
	a2, a512 := allowed(Baseline, AVX2Level), allowed(Baseline, AVX2Level, AVX512Level)
	var errs []string
	names := make([]string, 0, len(req))
	for n := range req {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		feats := req[n]
		is512 := strings.HasSuffix(n, "AVX512")
		ok := a2
		if is512 {
			ok = a512
		}
		has512F := false
		for _, f := range feats {
			if !ok[f] {
				errs = append(errs, fmt.Sprintf("%s requires %s, which its level does not detect (requires %v)", n, f, feats))
			}
			has512F = has512F || f == "AVX512F"
		}
		if is512 && !has512F {
			errs = append(errs, fmt.Sprintf("%s is named an AVX-512 kernel but uses no AVX-512 instruction (requires %v)", n, feats))
		}
	}
	return errs
}
