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

// packedStride is the length of one group of a packed W of c columns: 4
// vectors of 64 bytes for columns 0..7 (c >= 8) and one for the rest.
func packedStride[T kernels.Float](c int) int {
	return (4*(c/8) + 1) * 2 * packedGroup[T]()
}

// PackedLen returns the length of the packed form of a k×c W (Packable(c)).
func PackedLen[T kernels.Float](k, c int) int {
	g := packedGroup[T]()
	return (k + g - 1) / g * packedStride[T](c)
}

// PackedPos returns the index of W[p, j] in the packed form of a W of c
// columns (Packable(c)). Rows of W come in groups of G values of p (G = 4
// for float64, 8 for float32), each group packedStride long: for c >= 8,
// columns 0..7 of the group's rows in 4 vectors of 64 bytes (float64:
// vector t holds row G·g+t; float32: vector u holds rows G·g+2u and
// G·g+2u+1, column j of row G·g+2u+s at lane 2j+s), then one vector for
// the last c mod 8 columns, column 8q + j of row G·g + t at lane G·j + t.
// The elements no W[p, j] maps to (columns past c, rows past k in the last
// group) must be zero.
func PackedPos[T kernels.Float](c, p, j int) int {
	full, fs, inter, is := PackedRow[T](c, p)
	if q8 := c / 8 * 8; j < q8 {
		return full + fs*j
	} else {
		return inter + is*(j-q8)
	}
}

// PackedRow returns where row p of a W of c columns (Packable(c)) goes in
// the packed form: W[p, j] at full + fs·j for j < 8·(c/8), and at
// inter + is·(j - 8·(c/8)) for the last columns (PackedPos, a row at a
// time). For c < 8, full is the start of p's group.
func PackedRow[T kernels.Float](c, p int) (full, fs, inter, is int) {
	G := packedGroup[T]()
	g, t := p/G, p%G
	base := g * packedStride[T](c)
	inter = base + 4*2*G*(c/8) + t
	switch {
	case c < 8:
		return base, 1, inter, G
	case G == 4:
		return base + t*8, 1, inter, G
	default:
		return base + t/2*16 + t%2, 2, inter, G
	}
}

// PackRowsT writes rows [k0, k1) of a k×c W (Packable(c)), given as Wᵀ
// (c×k, row stride ldwt), into its packed form wp (PackedLen long): each
// element W[p, j] = wt[j·ldwt + p] to wp[PackedPos(c, p, j)], nothing
// else. A whole group of the float32 layout takes columns 0..7 as pairs of
// consecutive p, 8 bytes at a time, and the interleaved columns as runs of
// 8 consecutive p: copies of Wᵀ's rows rather than a scatter.
func PackRowsT[T kernels.Float](c, k0, k1 int, wt []T, ldwt int, wp []T) {
	G, st, q8 := packedGroup[T](), packedStride[T](c), c/8*8
	for p := k0; p < k1; {
		if p%G != 0 || p+G > k1 {
			full, fs, inter, is := PackedRow[T](c, p)
			for j := range q8 {
				wp[full+fs*j] = wt[j*ldwt+p]
			}
			for j := q8; j < c; j++ {
				wp[inter+is*(j-q8)] = wt[j*ldwt+p]
			}
			p++
			continue
		}
		grp := wp[p/G*st:][:st]
		for j := range q8 {
			row := wt[j*ldwt+p:][:G]
			if G == 8 {
				for u := range 4 {
					*(*uint64)(unsafe.Pointer(&grp[u*16+2*j])) = *(*uint64)(unsafe.Pointer(&row[2*u]))
				}
			} else {
				for t, v := range row {
					grp[t*8+j] = v
				}
			}
		}
		for j := q8; j < c; j++ {
			copy(grp[4*2*G*(q8/8)+G*(j-q8):][:G], wt[j*ldwt+p:][:G])
		}
		p += G
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
			full, fs, inter, is := PackedRow[T](c, p)
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
