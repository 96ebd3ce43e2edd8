package blas

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestOverlaps compares overlaps with a brute-force element check on random
// views into one buffer: exact for equal strides, and never false when an
// element is shared (conservative for different strides).
func TestOverlaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]float64, 400)
	view := func(stride int) (Matrix[float64], map[int]bool) {
		rows, cols := rng.IntN(6), 1+rng.IntN(stride)
		if rows == 0 {
			return Matrix[float64]{Rows: 0, Cols: cols, Stride: stride}, nil
		}
		span := (rows-1)*stride + cols
		off := rng.IntN(len(buf) - span + 1)
		m := Matrix[float64]{Rows: rows, Cols: cols, Stride: stride, Data: buf[off : off+span]}
		el := map[int]bool{}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				el[off+i*stride+j] = true
			}
		}
		return m, el
	}
	same, diff := 0, 0
	for it := 0; it < 20000; it++ {
		s1 := 1 + rng.IntN(40)
		s2 := s1
		if it%3 == 0 {
			s2 = 1 + rng.IntN(40)
		}
		a, ea := view(s1)
		b, eb := view(s2)
		shared := false
		for k := range ea {
			if eb[k] {
				shared = true
				break
			}
		}
		got := Overlaps(a, b)
		if got != Overlaps(b, a) {
			t.Fatalf("overlaps not symmetric for %+v / %+v", a, b)
		}
		if s1 == s2 {
			if got != shared {
				t.Fatalf("stride %d: overlaps = %v, brute force %v (rows %d cols %d / rows %d cols %d, offsets %p %p)", s1, got, shared, a.Rows, a.Cols, b.Rows, b.Cols, a.Data, b.Data)
			}
			if shared {
				same++
			}
		} else if shared && !got {
			t.Fatalf("strides %d/%d: shared element not reported", s1, s2)
		} else if !shared && got {
			diff++
		}
	}
	if same < 1000 {
		t.Errorf("only %d overlapping equal-stride pairs drawn", same)
	}
	// Different arrays never overlap.
	if Overlaps(NewMatrix[float64](3, 3), NewMatrix[float64](3, 3)) {
		t.Error("two fresh matrices overlap")
	}
	t.Logf("%d equal-stride overlaps checked; %d conservative reports with different strides", same, diff)
}

func TestAliasPanics(t *testing.T) {
	m := NewMatrix[float64](6, 8)
	left, right := m.Slice(0, 6, 0, 4), m.Slice(0, 6, 4, 8)
	b := NewMatrix[float64](4, 4)
	// Disjoint column blocks of one matrix are fine.
	Gemm(false, false, 1, left, b, 0, right)
	Axpy(1, left, right)
	Axpy(2, left, left) // the same view: Y = 3·Y
	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { Gemm(false, false, 1, left, b, 0, left) }, "blas.Gemm: C overlaps A or B"},
		{func() { Gemm(false, false, 1, b, left.Slice(0, 4, 0, 4), 0, left.Slice(2, 6, 0, 4)) }, "blas.Gemm: C overlaps A or B"},
		{func() { Axpy(1, m.Slice(0, 4, 0, 4), m.Slice(1, 5, 1, 5)) }, "blas.Axpy: Y overlaps X"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tc.want) {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}
