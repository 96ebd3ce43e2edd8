package blas

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Benchmark-only knobs of the native driver, to compare its variants on a
// machine without recompiling (test binaries only):
//
//	NNKERN_TUNE="packBRows,packACols"  pack op(B) / op(A) thresholds
//	NNKERN_TUNE_TN=cols                pack threshold for a transposed A
//	NNKERN_TUNE_MC=rows, NNKERN_TUNE_KC=k   float32 blocking (and float64: mc = rows/2, kc = k)
//	NNKERN_TUNE_MC64=rows, NNKERN_TUNE_KC64=k   float64 blocking alone
//	NNKERN_TUNE_SPLIT=0|1|2            parallel split: cost model, rows, columns
//
// A value that is not an integer in range panics naming the variable (a
// zero block size would make the driver loop forever).
func init() {
	if s := os.Getenv("NNKERN_TUNE"); s != "" {
		f := strings.Split(s, ",")
		tunePackBRows = tuneInt("NNKERN_TUNE", f[0], 0, 1<<30)
		if len(f) > 1 {
			tunePackACols = tuneInt("NNKERN_TUNE", f[1], 0, 1<<30)
		}
	}
	if s := os.Getenv("NNKERN_TUNE_TN"); s != "" {
		tunePackAColsTN = tuneInt("NNKERN_TUNE_TN", s, 0, 1<<30)
	}
	if s := os.Getenv("NNKERN_TUNE_MC"); s != "" {
		block32.mc = tuneInt("NNKERN_TUNE_MC", s, 1, 1<<20)
		block64.mc = max(mr, block32.mc/2/mr*mr)
	}
	if s := os.Getenv("NNKERN_TUNE_KC"); s != "" {
		block32.kc = tuneInt("NNKERN_TUNE_KC", s, 1, 1<<20)
		block64.kc = block32.kc
	}
	if s := os.Getenv("NNKERN_TUNE_MC64"); s != "" {
		block64.mc = tuneInt("NNKERN_TUNE_MC64", s, 1, 1<<20)
	}
	if s := os.Getenv("NNKERN_TUNE_KC64"); s != "" {
		block64.kc = tuneInt("NNKERN_TUNE_KC64", s, 1, 1<<20)
	}
	if s := os.Getenv("NNKERN_TUNE_SPLIT"); s != "" {
		tuneSplit = tuneInt("NNKERN_TUNE_SPLIT", s, 0, 2)
	}
}

// tuneInt parses the value s of the knob name as an integer in [lo, hi],
// panicking with the name otherwise.
func tuneInt(name, s string, lo, hi int) int {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < lo || v > hi {
		panic(fmt.Sprintf("blas tests: %s=%q: want an integer in [%d, %d]", name, s, lo, hi))
	}
	return v
}

func TestTuneInt(t *testing.T) {
	if v := tuneInt("X", " 256", 1, 512); v != 256 {
		t.Errorf("tuneInt(256) = %d", v)
	}
	for _, s := range []string{"0", "256k", "", "-3", "600"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "NNKERN_TUNE_KC") {
					t.Errorf("tuneInt(%q): panic %v, want one naming NNKERN_TUNE_KC", s, r)
				}
			}()
			tuneInt("NNKERN_TUNE_KC", s, 1, 512)
		}()
	}
}
