package blas

import (
	"os"
	"strconv"
	"strings"
)

// Temporary: NNKERN_TUNE="packBRows,packACols" for benchmark comparisons.
func init() {
	s := os.Getenv("NNKERN_TUNE")
	if s == "" {
		return
	}
	f := strings.Split(s, ",")
	tunePackBRows, _ = strconv.Atoi(f[0])
	tunePackACols, _ = strconv.Atoi(f[1])
}

func init() {
	if s := os.Getenv("NNKERN_TUNE_TN"); s != "" {
		tunePackAColsTN, _ = strconv.Atoi(s)
	}
}

func init() {
	if s := os.Getenv("NNKERN_TUNE_MC"); s != "" {
		block32.mc, _ = strconv.Atoi(s)
		block64.mc = block32.mc / 2 / mr * mr
	}
	if s := os.Getenv("NNKERN_TUNE_KC"); s != "" {
		block32.kc, _ = strconv.Atoi(s)
		block64.kc = block32.kc
	}
}
