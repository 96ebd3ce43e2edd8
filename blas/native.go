package blas

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/internal/pool"
	"github.com/nnkern/nnkern/kernels"
)

// The native backend follows the GotoBLAS/BLIS structure:
//
//	for jc := 0; jc < n; jc += nc          // B block (kc×nc) in L3
//	  for pc := 0; pc < k; pc += kc        // one rank-kc update
//	    [pack op(B)[pc:pc+kc, jc:jc+nc] into nr-column micro-panels]
//	    for ic := 0; ic < m; ic += mc      // A block (mc×kc) in L2
//	      [pack op(A)[ic:ic+mc, pc:pc+kc] into mr-row micro-panels]
//	      for jr := 0; jr < nc; jr += nr   // B micro-panel (kc×nr) in L1
//	        for ir := 0; ir < mc; ir += mr // in the assembly, one call
//	          micro-kernel: full tile straight into C; edge tile into a
//	          scratch tile, then merged with alpha/beta into C
//
// The micro-kernel loops over the full mr-row tiles of the A block
// itself (one Go call per B micro-panel and A block). Where B is packed
// and kc >= 256 it also prefetches the next B micro-panel into L2 while it
// works (see blas/_gen/gen.go): the kc×nc block of B lives in L3 there. A last column panel
// of at most nr/2 columns (n = 200 in float32 is 12·16 + 8) runs on a
// half-width kernel. kc is a constant per element type, halved for some
// shapes and strides (see kcFor): it sets the order of every sum.
//
// Packing is skipped where it does not pay: the micro-kernel reads A
// through two strides, so a row-major op(A) (NN, NT) is read in place
// unless the part is wide enough to amortise the copy; only partial
// panels (the last rows/columns) are then copied, zero-padded. op(B) is
// read in place when B is not transposed and the part has few rows.
// Packing buffers are 64-byte aligned and pooled.
//
// Parallelism: the m×n output is cut into parts along one dimension, at
// multiples of mr (rows) or nr (columns), chosen by a cost model (compute
// of the largest part plus the packing each part repeats); parts run as
// one step of internal/pool (the workers the fused losses and the cifar
// gather use too; the caller takes parts itself and never waits for a
// worker that has not started). Every element of C is computed by the same
// sequence of operations whatever the number of parts: k is never split
// and tile boundaries depend only on the shape. So results are
// bit-identical for any GOMAXPROCS or SetMaxWorkers cap (tested); the
// number of parts follows pool.Workers (the lower of the two).

// blocking holds the cache blocking parameters for one element size.
type blocking struct {
	kc, mc, nc int
}

// kc, the depth of one rank-kc update, is a constant per element type:
// it fixes the order in which each element of C is accumulated (kc
// products fused into a register accumulator from 0, then added to C),
// so it must not follow the caches or the ISA, or the same product would
// round differently on another machine or level (see the package
// documentation, Numerics). The values were chosen for the AVX2 kernels:
// float32's kc×16 micro-panel of B fills a 32 KiB L1 (fewer passes over C
// and kernel calls outweigh the A micro-panel lines that no longer fit
// beside it); float64 uses half of such an L1, as deeper blocks did not
// run faster. The AVX-512 kernels' float32 micro-panel (kc×32, 64 KiB)
// exceeds a 48 KiB L1 and is prefetched from L2 instead (blas/_gen). mc
// and nc only bound loops around whole kc-deep updates, so they may follow
// the caches.
const (
	kc32 = 512
	kc64 = 256
)

var block32, block64 blocking

func init() {
	l2, l3 := cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
	if l2 <= 0 {
		l2 = 512 << 10
	}
	if l3 <= 0 {
		// Unknown (some hypervisors hide the L3 from cpuid): assume a
		// 32 MiB L3, what every CPU of the machines nnkern runs on has
		// (a Zen 3/4/5 CCD; Intel server parts have more). nc only bounds
		// the B block; it does not change any result.
		l3 = 32 << 20
	}
	block32 = computeBlocking(l2, l3, 4, 16)
	block64 = computeBlocking(l2, l3, 8, 8)
}

// computeBlocking returns the blocking for elements of size bytes and
// micro-panels nr columns wide: kc32 or kc64, and mc and nc from the L2
// and L3 sizes (bytes): the mc×kc block of A takes half of L2, at most
// maxABlock, and the kc×nc block of B a quarter of L3 (capped at 4096
// columns).
func computeBlocking(l2, l3, size, nr int) blocking {
	kc := kc64
	if size == 4 {
		kc = kc32
	}
	mc := min(l2/2, maxABlock) / (kc * size)
	mc = max(mr, mc/mr*mr)
	nc := l3 / 4 / (kc * size)
	nc = max(nr, min(nc, 4096)/nr*nr)
	return blocking{kc: kc, mc: mc, nc: nc}
}

// maxABlock caps the bytes of the packed block of A: with a 2 MiB L2
// (Intel Emerald Rapids) a block of half of it left too little room for
// the B panel and the C tiles streaming past, and a quarter ran 2048³
// 4–7% faster (docs/performance.md, tuning table). The AMD L2s the rule
// was measured on (512 KiB, 1 MiB) stay under the cap. mc changes no
// result (see kc32).
const maxABlock = 512 << 10

func blockingFor[T float]() blocking {
	if dtype.Is32[T]() {
		return block32
	}
	return block64
}

// Thresholds of the driver.
const (
	// parallelFlops is the work (2·m·n·k) below which Gemm runs on the
	// calling goroutine only.
	parallelFlops = 4 << 20
	// minPartFlops is the least work given to one goroutine.
	minPartFlops = 2 << 20
	// packCost is the cost of packing one element, in flop-equivalents,
	// for the partition cost model.
	packCost = 8
)

// Tuning switches (variables so benchmarks can compare the variants).
var (
	// op(B) is packed if transposed or if a part has at least this many
	// rows: packing costs more than it saves for the models' 200-row
	// products (200×3072×200 NN) and pays off for large ones (2048³).
	tunePackBRows = 512
	// op(A) is packed if a part has at least this many columns, or,
	// when A is transposed, this many at AVX2 (in place, a transposed A
	// micro-panel touches a new page every k step; packing pays once the
	// panel is reused for a few B micro-panels; see packAColsTN).
	tunePackACols   = 512
	tunePackAColsTN = 48
	// tuneSplit forces the parallel partition for tests: 0 cost model,
	// 1 rows, 2 columns.
	tuneSplit = 0
)

// packAColsTN returns the fewest columns of a part for which a transposed
// A is packed at ISA level lvl: tunePackAColsTN, except at AVX-512 on a
// CPU where reading the panel in place measured faster (tnInPlace512),
// which takes the rule for A not transposed (tunePackACols). In place, a
// transposed A micro-panel touches a new page, and the same L1 set, every
// k step; packing pays once the panel is reused for a few B micro-panels.
// It did on Zen 5 at the AVX2 level and on Intel Emerald Rapids at
// AVX-512 (3072×200×200 TN, one thread: f32 1.4×), but not on Zen 5 at
// AVX-512, whose kernel reads 12 rows of the in-place panel at once and
// ran the same product ~15% faster in place (docs/performance.md, tuning
// table). Packing moves data only, so this choice, unlike kc, may follow
// the CPU: it changes no result.
func packAColsTN(lvl kernels.Level) int {
	if lvl >= kernels.AVX512 && tnInPlace512 {
		return max(tunePackAColsTN, tunePackACols)
	}
	return tunePackAColsTN
}

// tnInPlace512 reports whether the AVX-512 kernels read a transposed A in
// place below tunePackACols columns: on AMD Zen 5 (family 0x1A), where
// that measured faster; not on Intel, where the in-place panel's L1 and
// TLB misses cost more than the packing. Zen 4 (family 0x19, AVX-512 on
// 256-bit units) was not measured and packs, as at AVX2.
var tnInPlace512 = cpuid.CPU.VendorID == cpuid.AMD && cpuid.CPU.Family >= 0x1A

// halfKCRows is the number of rows of C below which kcFor halves kc for a
// non-transposed B whose rows are not whole cache lines. It is a constant,
// not tunePackBRows (which it matches), so that forcing the packing
// choices in tests or benchmarks cannot change the order of the sums.
const halfKCRows = 512

// kcFor returns the k depth of the blocks of one Gemm: the type's kc, or
// half of it when B is not transposed, C has fewer than halfKCRows rows
// (so op(B) is normally read in place) and a row of B (ldb) is not a whole
// number of cache lines: a micro-panel row then straddles two lines half
// the time, and half the depth keeps the micro-panel within L1. It
// depends on the shape and strides only, never on the machine, the ISA
// level or the parallel partition, so each element of C is summed in the
// same order everywhere.
func kcFor[T float](tB bool, m, ldb int) int {
	kc := blockingFor[T]().kc
	if !tB && m < halfKCRows && ldb*dtype.Size[T]()%64 != 0 {
		kc = max(64, kc/2&^7)
	}
	return kc
}

// nativeGemm is the native backend's Gemm on raw operands. Shapes are
// already checked; m, n, k > 0.
func nativeGemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	j := getJob[T]()
	j.tA, j.tB, j.m, j.n, j.k = tA, tB, m, n, k
	j.alpha, j.beta = alpha, beta
	j.a, j.lda, j.b, j.ldb, j.c, j.ldc = a, lda, b, ldb, c, ldc
	lvl := kernels.ISA()
	j.kern = microKernel[T](lvl, false)
	j.kernH = microKernel[T](lvl, true)
	nr := nrOf[T]() * widthAt(lvl)
	j.nr = nr
	j.packAColsTN = packAColsTN(lvl)
	j.blk = blockingFor[T]()
	j.blk.kc = kcFor[T](tB, m, ldb)
	j.blk.nc = max(nr, j.blk.nc/nr*nr)

	pm, pn := (m+mr-1)/mr, (n+nr-1)/nr
	flops := 2 * float64(m) * float64(n) * float64(k)
	parts := 1
	if flops >= parallelFlops {
		parts = min(pool.Workers(), max(pm, pn), max(1, int(flops/minPartFlops)))
	}
	j.parts, j.splitN, j.panels = parts, false, pm
	if parts > 1 {
		// Cost of splitting rows vs columns: the largest part's padded
		// compute plus the packing every part repeats. (The conversions
		// keep the compiler from fusing the sums into FMAs on some
		// GOAMD64 levels only, and the factor 2 is applied to k, not as
		// x·2 = x+x, which it would fuse too: the choice must not depend
		// on the build.)
		kk := float64(k)
		tM := float64(float64((pm+parts-1)/parts*mr) * float64(pn*nr) * float64(2*k))
		tN := float64(float64((pn+parts-1)/parts*nr) * float64(pm*mr) * float64(2*k))
		if tB || (m+parts-1)/parts >= tunePackBRows {
			tM += float64(float64(n) * kk * packCost)
			tN += float64(float64(n/parts) * kk * packCost)
		}
		if nc := (n + parts - 1) / parts; nc >= tunePackACols || (tA && nc >= j.packAColsTN) {
			tN += float64(float64(m) * kk * packCost)
			tM += float64(float64(m/parts) * kk * packCost)
		}
		if (tN < tM && tuneSplit == 0) || tuneSplit == 2 {
			j.splitN, j.panels = true, pn
		}
		j.parts = min(parts, j.panels)
	}
	if j.parts > 1 {
		if j.task == nil {
			j.task = j.runPart // bound once per pooled job: Run does not allocate
		}
		j.g.Run(j.parts, j.task)
	} else {
		j.runPart(0)
	}
	j.a, j.b, j.c = nil, nil, nil
	putJob(j)
}

// scaleC sets C = beta·C (C = 0 without reading it when beta == 0).
func scaleC[T float](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// job is one native Gemm call split into parts.
type job[T float] struct {
	tA, tB        bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	kern, kernH   kernelFunc[T] // nr and nr/2 columns wide
	packAColsTN   int           // packAColsTN of the level the kernels are for
	nr            int
	blk           blocking
	parts, panels int
	splitN        bool
	g             pool.Group // runs the parts on the shared worker pool
	task          func(int)  // j.runPart
}

// runPart computes part p of C: row panels (or column panels, if
// splitN) [p·panels/parts, (p+1)·panels/parts).
func (j *job[T]) runPart(p int) {
	m, n, k, nr := j.m, j.n, j.k, j.nr
	r0, r1, c0, c1 := 0, m, 0, n
	if j.splitN {
		c0 = p * j.panels / j.parts * nr
		c1 = min(n, (p+1)*j.panels/j.parts*nr)
	} else {
		r0 = p * j.panels / j.parts * mr
		r1 = min(m, (p+1)*j.panels/j.parts*mr)
	}
	if r0 >= r1 || c0 >= c1 {
		return
	}
	kc, mc, nc := j.blk.kc, j.blk.mc, j.blk.nc
	ws := getWorkspace[T]()
	defer putWorkspace(ws)
	kcm := min(kc, k)
	ws.b = grow(ws.b, kcm*((min(nc, c1-c0)+nr-1)/nr*nr))
	ws.a = grow(ws.a, kcm*((min(mc, r1-r0)+mr-1)/mr*mr))
	ws.bEdge = grow(ws.bEdge, kcm*nr)
	ws.aEdge = grow(ws.aEdge, kcm*mr)
	ws.tile = grow(ws.tile, mr*nr)
	rsA, csA := j.lda, 1
	if j.tA {
		rsA, csA = 1, j.lda
	}
	packB := j.tB || r1-r0 >= tunePackBRows
	packA := c1-c0 >= tunePackACols || (j.tA && c1-c0 >= j.packAColsTN)
	tile := ws.tile[:mr*nr]

	for jc := c0; jc < c1; jc += nc {
		ncb := min(nc, c1-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			beta, loadC := j.beta, j.beta != 0
			if pc > 0 {
				beta, loadC = 1, true
			}
			if packB {
				packBBlock(ws.b, j.b, j.ldb, j.tB, pc, kcb, jc, ncb, nr)
			} else if rem := ncb % nr; rem != 0 {
				// Only the last, partial column panel is packed.
				packBBlock(ws.bEdge, j.b, j.ldb, false, pc, kcb, jc+ncb-rem, rem, nr)
			}
			for ic := r0; ic < r1; ic += mc {
				mcb := min(mc, r1-ic)
				if packA {
					packABlock(ws.a, j.a, j.lda, j.tA, ic, mcb, pc, kcb)
				} else if rem := mcb % mr; rem != 0 {
					packAEdge(ws.aEdge, j.a, j.lda, j.tA, ic+mcb-rem, rem, pc, kcb)
				}
				for jr := 0; jr < ncb; jr += nr {
					nrb := min(nr, ncb-jr)
					var bp []T
					bcs := nr
					switch {
					case packB:
						bp = ws.b[jr*kcb : (jr+nr)*kcb]
					case nrb < nr:
						bp = ws.bEdge[:nr*kcb]
					default:
						off := pc*j.ldb + jc + jr
						bp = j.b[off : off+(kcb-1)*j.ldb+nr]
						bcs = j.ldb
					}
					// The last column panel, if at most nr/2 wide, goes
					// to the half-width kernel.
					kern, width := j.kern, nr
					if nrb <= nr/2 {
						kern, width = j.kernH, nr/2
					}
					// The full tiles of the block in one kernel call, then
					// the partial last one.
					if full := mcb / mr; full > 0 {
						var ap []T
						ars, acs, an := 1, mr, mr*kcb
						if packA {
							ap = ws.a[:full*mr*kcb]
						} else {
							off := ic*rsA + pc*csA
							ars, acs, an = rsA, csA, mr*rsA
							ap = j.a[off : off+(full-1)*an+(mr-1)*rsA+(kcb-1)*csA+1]
						}
						co := ic*j.ldc + jc + jr
						if nrb == width {
							kern(kcb, ap, ars, acs, bp, bcs, j.c[co:co+(full*mr-1)*j.ldc+width], j.ldc, full, an, j.alpha, beta, loadC)
						} else {
							// A partial panel: the tiles' sums go to
							// scratch, then are merged. The scratch holds
							// two half-width tiles, which the half-width
							// kernel runs at once (12 FMA chains, not 6).
							step, ldt := 1, nr
							if width < nr {
								step, ldt = 2, width
							}
							for t := 0; t < full; t += step {
								nt := min(step, full-t)
								kern(kcb, ap[t*an:], ars, acs, bp, bcs, tile, ldt, nt, an, 1, 0, false)
								mergeTile(j.c[co+t*mr*j.ldc:], j.ldc, tile, ldt, nt*mr, nrb, j.alpha, beta, loadC)
							}
						}
					}
					if mrb := mcb % mr; mrb != 0 {
						ir := mcb - mrb
						var ap []T
						if packA {
							ap = ws.a[ir*kcb : (ir+mr)*kcb]
						} else {
							ap = ws.aEdge[:mr*kcb]
						}
						// Edge tile: compute the full padded tile's sums
						// into scratch, then merge the valid part.
						kern(kcb, ap, 1, mr, bp, bcs, tile, nr, 1, 0, 1, 0, false)
						mergeTile(j.c[(ic+ir)*j.ldc+jc+jr:], j.ldc, tile, nr, mrb, nrb, j.alpha, beta, loadC)
					}
				}
			}
		}
	}
}

// mergeTile merges the top-left mrb×nrb part of the scratch tile (row
// stride ldt), which holds the raw sums acc of one k block (written by a
// micro-kernel with alpha = 1, exact), into C with the micro-kernels'
// formula: C = fma(alpha, acc, beta·C), beta·C rounded first, or
// C = alpha·acc if !loadC. It is written with kernels.FMA and explicit
// conversions, so that no build fuses or splits it differently; with
// alpha = 1 the product is exact and fma(1, acc, x) is the sum acc + x
// rounded once, so those cases (all later k blocks of C = A·B) need no FMA
// call per element.
func mergeTile[T float](c []T, ldc int, tile []T, ldt, mrb, nrb int, alpha, beta T, loadC bool) {
	for ii := 0; ii < mrb; ii++ {
		crow := c[ii*ldc : ii*ldc+nrb]
		trow := tile[ii*ldt : ii*ldt+nrb]
		switch {
		case !loadC && alpha == 1:
			copy(crow, trow)
		case !loadC:
			for jj, t := range trow {
				crow[jj] = T(alpha * t)
			}
		case alpha == 1 && beta == 1:
			for jj, t := range trow {
				crow[jj] += t
			}
		case alpha == 1:
			for jj, t := range trow {
				crow[jj] = t + T(beta*crow[jj])
			}
		default:
			for jj, t := range trow {
				crow[jj] = kernels.FMA(alpha, t, T(beta*crow[jj]))
			}
		}
	}
}

// packBBlock packs op(B)[pc:pc+kcb, jc:jc+ncb] into nr-column panels:
// panel q (columns jc+q·nr...) occupies dst[q·nr·kcb:], element (p, j) of
// the panel at p·nr+j; columns past ncb are zero.
func packBBlock[T float](dst, b []T, ldb int, tB bool, pc, kcb, jc, ncb, nr int) {
	full := ncb / nr * nr
	if !tB {
		// Full panels get one row of nr values per copy, packBRows rows
		// of B at a time: each panel then gets packBRows·nr contiguous
		// values per pass over the panels, while every row of B is still
		// read front to back. Row by row over all panels (one write
		// stream per panel), the 2048³ float64 block of B packed ~1.6×
		// slower; panel by panel over all rows, the rows of B are read
		// nr values at a time, a page apart (docs/performance.md).
		for p0 := 0; p0 < kcb; p0 += packBRows {
			p1 := min(kcb, p0+packBRows)
			for q := 0; q < full; q += nr {
				for p := p0; p < p1; p++ {
					copy(dst[q*kcb+p*nr:][:nr], b[(pc+p)*ldb+jc+q:][:nr])
				}
			}
		}
	} else {
		// op(B)(p, j) = b[j*ldb+p]: read each column of op(B) contiguously.
		for q := 0; q < full; q += nr {
			panel := dst[q*kcb : q*kcb+nr*kcb]
			for jj := 0; jj < nr; jj++ {
				src := b[(jc+q+jj)*ldb+pc : (jc+q+jj)*ldb+pc+kcb]
				for p, v := range src {
					panel[p*nr+jj] = v
				}
			}
		}
	}
	if w := ncb - full; w > 0 {
		panel := dst[full*kcb : full*kcb+nr*kcb]
		clear(panel)
		for jj := 0; jj < w; jj++ {
			for p := 0; p < kcb; p++ {
				if tB {
					panel[p*nr+jj] = b[(jc+full+jj)*ldb+pc+p]
				} else {
					panel[p*nr+jj] = b[(pc+p)*ldb+jc+full+jj]
				}
			}
		}
	}
}

// packBRows is how many rows of B packBBlock copies into each panel per
// pass over the panels.
const packBRows = 32

// packABlock packs op(A)[ic:ic+mcb, pc:pc+kcb] into mr-row micro-panels:
// panel q (rows ic+q·mr...) occupies dst[q·mr·kcb:], element (r, p) of
// the panel at p·mr+r; rows past mcb are zero.
func packABlock[T float](dst, a []T, lda int, tA bool, ic, mcb, pc, kcb int) {
	full := mcb / mr * mr
	if tA {
		packATransposed(dst, a, lda, ic, full, pc, kcb)
	} else {
		for q := 0; q < full; q += mr {
			d := dst[q*kcb : q*kcb+mr*kcb]
			i := ic + q
			s0 := a[(i+0)*lda+pc : (i+0)*lda+pc+kcb]
			s1 := a[(i+1)*lda+pc : (i+1)*lda+pc+kcb]
			s2 := a[(i+2)*lda+pc : (i+2)*lda+pc+kcb]
			s3 := a[(i+3)*lda+pc : (i+3)*lda+pc+kcb]
			s4 := a[(i+4)*lda+pc : (i+4)*lda+pc+kcb]
			s5 := a[(i+5)*lda+pc : (i+5)*lda+pc+kcb]
			for p := range s0 {
				dp := d[p*mr : p*mr+mr]
				dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
			}
		}
	}
	if full < mcb {
		packAEdge(dst[full*kcb:full*kcb+mr*kcb], a, lda, tA, ic+full, mcb-full, pc, kcb)
	}
}

// packATransposed packs the whole micro-panels of packABlock from a
// transposed A: row pc+p of A holds op(A)[ic:ic+full, pc+p] contiguously,
// and each panel takes mr consecutive values of every row. It copies a
// panel's mr values per row with two or three wide moves (16+8 bytes for
// float32, 3×16 for float64) through unsafe pointers, panel by panel so
// that a row's cache line serves the panels that share it before it
// leaves L1: element by element with bounds checks, packing took ~19% of
// 3072×200×200 TN at AVX-512 on Intel Emerald Rapids (docs/performance.md).
func packATransposed[T float](dst, a []T, lda, ic, full, pc, kcb int) {
	if full == 0 || kcb == 0 {
		return
	}
	// Bounds of everything the loops touch.
	_ = a[(pc+kcb-1)*lda+ic+full-1]
	_ = dst[full*kcb-1]
	if !unalignedMoves {
		packATransposedElems(dst, a, lda, ic, full, pc, kcb)
		return
	}
	size := dtype.Size[T]()
	pa, pd := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(dst))
	// mr values are 24 bytes of float32 or 48 of float64 (mr == 6,
	// checked by packPanelMR below).
	type pair struct{ x, y uint64 }
	for q := 0; q < full; q += mr {
		dp := unsafe.Add(pd, q*kcb*size)
		sp := unsafe.Add(pa, (pc*lda+ic+q)*size)
		for range kcb {
			*(*pair)(dp) = *(*pair)(sp)
			if size == 4 {
				*(*uint64)(unsafe.Add(dp, 16)) = *(*uint64)(unsafe.Add(sp, 16))
			} else {
				*(*pair)(unsafe.Add(dp, 16)) = *(*pair)(unsafe.Add(sp, 16))
				*(*pair)(unsafe.Add(dp, 32)) = *(*pair)(unsafe.Add(sp, 32))
			}
			dp = unsafe.Add(dp, mr*size)
			sp = unsafe.Add(sp, lda*size)
		}
	}
}

// packATransposedElems is packATransposed element by element, for
// GOARCHs without unalignedMoves.
func packATransposedElems[T float](dst, a []T, lda, ic, full, pc, kcb int) {
	for q := 0; q < full; q += mr {
		d := dst[q*kcb : q*kcb+mr*kcb]
		off := pc*lda + ic + q
		for p := 0; p+mr <= len(d); p += mr {
			s, dp := a[off:off+mr], d[p:p+mr]
			dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = s[0], s[1], s[2], s[3], s[4], s[5]
			off += lda
		}
	}
}

// unalignedMoves reports whether GOARCH loads and stores a uint64 at any
// 4-byte boundary at full speed (packATransposed's moves of float32 are
// only that aligned); elsewhere (mips, riscv64, ...) such an access traps
// or is emulated, and the packing copies element by element.
const unalignedMoves = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" || runtime.GOARCH == "386" ||
	runtime.GOARCH == "ppc64le" || runtime.GOARCH == "ppc64" || runtime.GOARCH == "s390x"

// packPanelMR fails to compile unless mr == 6, the panel height
// packATransposed's moves are written for.
const packPanelMR = uint(mr-6) + uint(6-mr)

// packAEdge packs the partial row panel op(A)[i:i+mrb, pc:pc+kcb] into
// dst (element (r, p) at p·mr+r), zero-padding rows mrb..mr-1.
func packAEdge[T float](dst, a []T, lda int, tA bool, i, mrb, pc, kcb int) {
	d := dst[:mr*kcb]
	clear(d)
	for r := 0; r < mrb; r++ {
		for p := 0; p < kcb; p++ {
			if tA {
				d[p*mr+r] = a[(pc+p)*lda+i+r]
			} else {
				d[p*mr+r] = a[(i+r)*lda+pc+p]
			}
		}
	}
}

// workspace holds one goroutine's packing buffers.
type workspace[T float] struct {
	b, a, bEdge, aEdge, tile []T
}

// alignedSlice returns a slice of n elements whose first element is
// 64-byte aligned.
func alignedSlice[T float](n int) []T {
	buf := make([]T, n+64/dtype.Size[T]())
	off := 0
	for uintptr(unsafe.Pointer(&buf[off]))%64 != 0 {
		off++
	}
	return buf[off : off+n : off+n]
}

// freeList is a mutex-protected stack of reusable *E for one E: unlike
// sync.Pool it never drops them, so steady-state calls do not allocate.
// The lists below hold one per element type (dtype.PerType).
type freeList struct {
	mu    sync.Mutex
	items []any
}

// take returns an *E from f (which holds only *E), or a new one.
func take[E any](f *freeList) *E {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		e := f.items[n-1].(*E)
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		return e
	}
	return new(E)
}

func (f *freeList) put(e any) {
	f.mu.Lock()
	f.items = append(f.items, e)
	f.mu.Unlock()
}

var workspaceLists, jobLists dtype.PerType[freeList]

func getWorkspace[T float]() *workspace[T] { return take[workspace[T]](dtype.Of[T](&workspaceLists)) }

// grow returns buf if it holds n elements, else a new aligned slice of n
// (buffers grow to what the largest call needed, at most the blocking
// sizes, and are then reused).
func grow[T float](buf []T, n int) []T {
	if len(buf) >= n {
		return buf
	}
	return alignedSlice[T](n)
}

func putWorkspace[T float](ws *workspace[T]) { dtype.Of[T](&workspaceLists).put(ws) }

func getJob[T float]() *job[T] { return take[job[T]](dtype.Of[T](&jobLists)) }

func putJob[T float](j *job[T]) { dtype.Of[T](&jobLists).put(j) }
