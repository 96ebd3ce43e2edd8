package bench

import (
	"math"
	"sort"
)

// Stats summarises the per-operation times (nanoseconds) of the timed
// samples of one case.
type Stats struct {
	// N is the number of samples.
	N int `json:"samples"`
	// Median, Min, Max, Q1 and Q3 are in nanoseconds per operation. The
	// quartiles interpolate linearly between order statistics (numpy's
	// default "linear" method).
	Median float64 `json:"median_ns"`
	Min    float64 `json:"min_ns"`
	Max    float64 `json:"max_ns"`
	Q1     float64 `json:"q1_ns"`
	Q3     float64 `json:"q3_ns"`
	// IQRRel is (Q3 − Q1) / Median, the spread the reports show.
	IQRRel float64 `json:"iqr_rel"`
	// RangeRel is (Max − Min) / Median.
	RangeRel float64 `json:"range_rel"`
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the sorted slice s by
// linear interpolation between the closest ranks; NaN for an empty slice.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if q <= 0 {
		return sorted[0]
	}
	if q >= 1 {
		return sorted[n-1]
	}
	// Rounded where it is defined: arm64 fuses h - lo into one
	// FNMSUBD(q, n-1, lo) even though h also feeds Floor.
	h := float64(q * float64(n-1))
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= n {
		return sorted[n-1]
	}
	return sorted[i] + float64((h-lo)*(sorted[i+1]-sorted[i]))
}

// Summarize computes the Stats of samples (not modified). All fields are
// zero for an empty slice (so that the JSON encoding never meets a NaN).
func Summarize(samples []float64) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	st := Stats{
		N:      len(s),
		Median: Quantile(s, 0.5),
		Min:    s[0],
		Max:    s[len(s)-1],
		Q1:     Quantile(s, 0.25),
		Q3:     Quantile(s, 0.75),
	}
	if st.Median > 0 {
		st.IQRRel = (st.Q3 - st.Q1) / st.Median
		st.RangeRel = (st.Max - st.Min) / st.Median
	}
	return st
}
