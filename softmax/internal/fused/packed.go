package fused

import (
	"fmt"
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// Packable reports whether MulAddPacked takes a W of c columns: c = 8q + r
// with q ∈ {0, 1} and r ∈ {1, 2} (1, 2, 9 or 10 columns; 10 is CIFAR-10's
// classes). Those are the widths whose last columns MulAdd pads to a
// whole vector at the largest cost: 10 columns fill 10 of 16 float64 ZMM
// lanes, and MulAddPacked runs them as 1.25 vectors (float32: 10 of 16
// lanes, as 0.625 vectors, no lane of padding).
func Packable(c int) bool {
	return c >= 1 && c <= 10 && c%8 >= 1 && c%8 <= 2
}

// packedGroup is the number of values of p (rows of W) per group of the
// packed layout, 32 bytes of a row of A: 4 float64 or 8 float32. It is
// also the number of lane sums of an interleaved column.
func packedGroup[T kernels.Float]() int {
	return 32 / dtype.Size[T]()
}

// packedParts returns the lengths of the two parts of the packed form of
// a k×c W: columns 0..7 (4 vectors of 64 bytes per group, c >= 8) and the
// interleaved columns (one vector per group).
func packedParts[T kernels.Float](k, c int) (n8, nI int) {
	G := packedGroup[T]()
	groups := (k + G - 1) / G
	return groups * 4 * 2 * G * (c / 8), groups * 2 * G
}

// PackedLen returns the length of the packed form of a k×c W (Packable(c)).
func PackedLen[T kernels.Float](k, c int) int {
	n8, nI := packedParts[T](k, c)
	return n8 + nI
}

// PackedPos returns the index of W[p, j] in the packed form of a k×c W
// (Packable(c)). Rows of W come in groups of G values of p (G = 4 for
// float64, 8 for float32), and the packed form in two parts. The first
// (for c >= 8) holds columns 0..7, 8 values per row of W in row order:
// float64 W[p, j] at 8p + j, float32 rows in pairs (p even, p + 1) with
// the pair's values of each column side by side, W[p, j] at 16·(p/2) +
// 2j + p mod 2. The second holds, per group g, one vector of 2G values
// for the last c mod 8 columns: column 8q + j of row G·g + t at 2G·g +
// G·j + t. The elements no W[p, j] maps to (columns past c, rows past k
// in the last group) must be zero.
func PackedPos[T kernels.Float](k, c, p, j int) int {
	full, fs, inter, is := PackedRow[T](k, c, p)
	if q8 := c / 8 * 8; j < q8 {
		return full + fs*j
	}
	return inter + is*(j-c/8*8)
}

// PackedRow returns where row p of a k×c W (Packable(c)) goes in the
// packed form: W[p, j] at full + fs·j for j < 8·(c/8), and at
// inter + is·(j - 8·(c/8)) for the last columns (PackedPos, a row at a
// time).
func PackedRow[T kernels.Float](k, c, p int) (full, fs, inter, is int) {
	G := packedGroup[T]()
	n8, _ := packedParts[T](k, c)
	inter = n8 + p/G*2*G + p%G
	if G == 4 {
		return 8 * p, 1, inter, G
	}
	return p/2*16 + p%2, 2, inter, G
}

// PackRowsT writes rows [k0, k1) of a k×c W (Packable(c)), given as Wᵀ
// (c×k, row stride ldwt), into its packed form wp (PackedLen long): each
// element W[p, j] = wt[j·ldwt + p] to wp[PackedPos(k, c, p, j)], nothing
// else. Columns 0..7 of whole float32 pairs of rows (float64: of rows)
// go by one Transpose of Wᵀ's 8 rows read as float64 (a pair of float32
// values being one float64's bits, which Transpose only moves), and the
// interleaved columns of whole groups as runs of G values of Wᵀ's rows:
// no element-by-element scatter but at the ends of the range.
func PackRowsT[T kernels.Float](k, c, k0, k1 int, wt []T, ldwt int, wp []T) {
	G, q8 := packedGroup[T](), c/8*8
	n8, _ := packedParts[T](k, c)
	// [lo, hi): the rows of [k0, k1) in whole runs of n rows
	whole := func(n int) (lo, hi int) {
		lo, hi = (k0+n-1)/n*n, k1/n*n
		if lo >= hi {
			return k1, k1
		}
		return lo, hi
	}
	if q8 > 0 {
		h := 8 / dtype.Size[T]() // rows of W per float64 of a row of Wᵀ
		p0, p1 := whole(h)
		for p := k0; p < k1; p++ {
			if p < p0 || p >= p1 {
				full, fs, _, _ := PackedRow[T](k, c, p)
				for j := range q8 {
					wp[full+fs*j] = wt[j*ldwt+p]
				}
			}
		}
		switch {
		case p0 == p1:
		case h == 1:
			Transpose(8, p1-p0, wt[p0:], ldwt, wp[8*p0:], 8)
		case ldwt%2 == 0 && uintptr(unsafe.Pointer(&wt[0]))%8 == 0 && uintptr(unsafe.Pointer(&wp[0]))%8 == 0:
			wt64 := unsafe.Slice((*float64)(unsafe.Pointer(&wt[0])), len(wt)/2)
			w64 := unsafe.Slice((*float64)(unsafe.Pointer(&wp[0])), n8/2)
			Transpose(8, (p1-p0)/2, wt64[p0/2:], ldwt/2, w64[p0/2*8:], 8)
		default:
			for p := p0; p < p1; p++ {
				full, fs, _, _ := PackedRow[T](k, c, p)
				for j := range q8 {
					wp[full+fs*j] = wt[j*ldwt+p]
				}
			}
		}
	}
	g0, g1 := whole(G)
	for p := k0; p < k1; p++ {
		if p < g0 || p >= g1 {
			_, _, inter, is := PackedRow[T](k, c, p)
			for j := q8; j < c; j++ {
				wp[inter+is*(j-q8)] = wt[j*ldwt+p]
			}
		}
	}
	if g0 == g1 {
		return
	}
	// A group's run of a column is 32 bytes: moved as 4 uint64 (a copy
	// call per run took most of the packing's time) when the rows allow.
	size := dtype.Size[T]()
	if uintptr(unsafe.Pointer(&wt[0]))%8 == 0 && uintptr(unsafe.Pointer(&wp[0]))%8 == 0 && ldwt*size%8 == 0 && n8*size%8 == 0 {
		u := func(x []T, i int) []uint64 { // x[i:] as uint64
			return unsafe.Slice((*uint64)(unsafe.Pointer(&x[i])), (len(x)-i)*size/8)
		}
		dst := u(wp, n8+2*g0)
		for j := q8; j < c; j++ {
			interleaveRuns(dst[4*(j-q8):], u(wt, j*ldwt+g0), (g1-g0)/G)
		}
		return
	}
	for g := g0; g < g1; g += G {
		dst := wp[n8+2*g:]
		for j := q8; j < c; j++ {
			copy(dst[G*(j-q8):][:G], wt[j*ldwt+g:][:G])
		}
	}
}

// interleaveRuns copies n runs of 4 values of src, one after the other,
// into dst 8 values apart: run g to dst[8g : 8g+4].
func interleaveRuns(dst, src []uint64, n int) {
	for g := range n {
		d, s := dst[8*g:][:4], src[4*g:][:4]
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
	}
}

// MulAddPacked computes, for i < m and j < c (Packable(c)),
//
//	s[i*lds+j] += Σ_{p<k} a[i*lda+p] · W[p, j]
//
// with W in the packed form of PackedPos (b, PackedLen(k, c) long), in
// exactly this order on every ISA level (fma rounds x·y+z once; G = 4 for
// float64, 8 for float32):
//
//	columns j < 8·(c/8), float64 as MulAdd:
//	  s := +0; for p := 0; p < k; p++ { s = fma(a[i*lda+p], W[p, j], s) }
//	  s[i*lds+j] += s
//	float32 with two sums, of the even and of the odd p:
//	  for h < 2: e[h] := +0; for p := h; p < k; p += 2 { e[h] = fma(a[i*lda+p], W[p, j], e[h]) }
//	  s[i*lds+j] += e[0] + e[1]
//	the last c mod 8 columns, with G lane sums:
//	  for t < G: l[t] := +0; for p := t; p < k; p += G { l[t] = fma(a[i*lda+p], W[p, j], l[t]) }
//	  s[i*lds+j] += (l[0] + l[1]) + (l[2] + l[3])                                  (float64)
//	  s[i*lds+j] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))  (float32)
//
// so every level gives the same bits. It writes only columns below c of
// s. It panics, naming the argument, if a size is bad or a slice too
// short; s must not share memory with a or b.
func MulAddPacked[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) {
	if !Packable(c) {
		panic(fmt.Sprintf("fused.MulAddPacked: c=%d is not 1, 2, 9 or 10", c))
	}
	if m < 0 || k < 0 || lda < 0 || lds < c {
		panic(fmt.Sprintf("fused.MulAddPacked: bad sizes m=%d k=%d lda=%d lds=%d (c=%d)", m, k, lda, lds, c))
	}
	if m == 0 {
		return
	}
	if need := (m-1)*lds + c; len(s) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(s)=%d < %d for m=%d c=%d lds=%d", len(s), need, m, c, lds))
	}
	if k == 0 {
		return
	}
	if need := (m-1)*lda + k; len(a) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(a)=%d < %d for m=%d k=%d lda=%d", len(a), need, m, k, lda))
	}
	if need := PackedLen[T](k, c); len(b) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(b)=%d < %d for k=%d c=%d", len(b), need, k, c))
	}
	if kernels.ISA() >= kernels.AVX2 && mulAddPackedAsm(m, c, k, a, lda, b, s, lds) {
		return
	}
	mulAddPackedGeneric(m, c, k, a, lda, b, s, lds)
}

// mulAddPackedGeneric is MulAddPacked in plain Go, in its order: every
// chain of a row (a column below 8q, or its even or odd half in float32,
// or a lane t of an interleaved column) advances in increasing p, p
// outermost.
func mulAddPackedGeneric[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) {
	q8, G := c/8*8, packedGroup[T]()
	var acc [2][8]T // [p parity (float32) or 0][column]
	var l [2][8]T   // [interleaved column][lane]
	for i := 0; i < m; i++ {
		ai, si := a[i*lda:][:k], s[i*lds:][:c]
		acc, l = [2][8]T{}, [2][8]T{}
		for p, av := range ai {
			full, fs, inter, is := PackedRow[T](k, c, p)
			h := p % 2 * (fs - 1) // float32's chain of p's parity
			for j := range q8 {
				acc[h][j] = kernels.FMA(av, b[full+fs*j], acc[h][j])
			}
			t := p % G
			for j := range c - q8 {
				l[j][t] = kernels.FMA(av, b[inter+is*j], l[j][t])
			}
		}
		for j := range q8 {
			if G == 4 {
				si[j] += acc[0][j]
			} else {
				si[j] += acc[0][j] + acc[1][j]
			}
		}
		for j := range c - q8 {
			v := l[j]
			if G == 4 {
				si[q8+j] += (v[0] + v[1]) + (v[2] + v[3])
			} else {
				si[q8+j] += ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
			}
		}
	}
}
