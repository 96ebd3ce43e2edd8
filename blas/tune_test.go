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
