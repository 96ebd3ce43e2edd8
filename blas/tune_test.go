package blas

import (
	"os"
	"strconv"
	"strings"
)

// Benchmark-only knobs of the native driver, to compare its variants on a
// machine without recompiling (test binaries only):
//
//	NNKERN_TUNE="packBRows,packACols"  pack op(B) / op(A) thresholds
//	NNKERN_TUNE_TN=cols                pack threshold for a transposed A
//	NNKERN_TUNE_MC=rows, NNKERN_TUNE_KC=k   float32 blocking (float64 mc = rows/2)
//	NNKERN_TUNE_MC64=rows, NNKERN_TUNE_KC64=k   float64 blocking alone
//	NNKERN_TUNE_SPLIT=0|1|2            parallel split: cost model, rows, columns
func init() {
	if s := os.Getenv("NNKERN_TUNE"); s != "" {
		f := strings.Split(s, ",")
		tunePackBRows, _ = strconv.Atoi(f[0])
		if len(f) > 1 {
			tunePackACols, _ = strconv.Atoi(f[1])
		}
	}
	if s := os.Getenv("NNKERN_TUNE_TN"); s != "" {
		tunePackAColsTN, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("NNKERN_TUNE_MC"); s != "" {
		block32.mc, _ = strconv.Atoi(s)
		block64.mc = block32.mc / 2 / mr * mr
	}
	if s := os.Getenv("NNKERN_TUNE_KC"); s != "" {
		block32.kc, _ = strconv.Atoi(s)
		block64.kc = block32.kc
	}
	if s := os.Getenv("NNKERN_TUNE_MC64"); s != "" {
		block64.mc, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("NNKERN_TUNE_KC64"); s != "" {
		block64.kc, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("NNKERN_TUNE_SPLIT"); s != "" {
		tuneSplit, _ = strconv.Atoi(s)
	}
}
