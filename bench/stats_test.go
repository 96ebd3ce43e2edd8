package bench

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		in                       []float64
		median, min, max, q1, q3 float64
	}{
		// numpy: np.percentile([...], [25, 50, 75]) with the default linear method.
		{"one", []float64{7}, 7, 7, 7, 7, 7},
		{"two", []float64{4, 2}, 3, 2, 4, 2.5, 3.5},
		{"odd", []float64{5, 1, 3, 2, 4}, 3, 1, 5, 2, 4},
		{"even", []float64{10, 40, 20, 30}, 25, 10, 40, 17.5, 32.5},
		{"outlier", []float64{1, 1, 1, 1, 100}, 1, 1, 100, 1, 1},
		{"seven", []float64{9, 3, 7, 1, 5, 11, 13}, 7, 1, 13, 4, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			s := Summarize(in)
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("Summarize modified its input: %v", in)
				}
			}
			got := []float64{s.Median, s.Min, s.Max, s.Q1, s.Q3}
			want := []float64{tc.median, tc.min, tc.max, tc.q1, tc.q3}
			for i, name := range []string{"median", "min", "max", "q1", "q3"} {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Errorf("%s = %v, want %v", name, got[i], want[i])
				}
			}
			if s.N != len(tc.in) {
				t.Errorf("N = %d, want %d", s.N, len(tc.in))
			}
			if w := (tc.q3 - tc.q1) / tc.median; math.Abs(s.IQRRel-w) > 1e-12 {
				t.Errorf("IQRRel = %v, want %v", s.IQRRel, w)
			}
			if w := (tc.max - tc.min) / tc.median; math.Abs(s.RangeRel-w) > 1e-12 {
				t.Errorf("RangeRel = %v, want %v", s.RangeRel, w)
			}
		})
	}
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", s)
	}
}

func TestQuantileEnds(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	if q := Quantile(s, 0); q != 1 {
		t.Errorf("Quantile(0) = %v", q)
	}
	if q := Quantile(s, 1); q != 4 {
		t.Errorf("Quantile(1) = %v", q)
	}
	if q := Quantile(s, 1.0/3); math.Abs(q-2) > 1e-12 {
		t.Errorf("Quantile(1/3) = %v, want 2", q)
	}
	if q := Quantile(nil, 0.5); !math.IsNaN(q) {
		t.Errorf("Quantile(nil) = %v, want NaN", q)
	}
}
