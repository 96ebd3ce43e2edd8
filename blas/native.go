package blas

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/kernels"
)

// The native backend follows the GotoBLAS/BLIS structure with one
// simplification that pays on the model shapes: op(A) is never copied
// when it has full mr-row panels. The micro-kernel reads A through two
// strides, so a row-major A (NN) and a transposed A (TN, element (i, p) at
// a[p*lda+i]) are both read in place; only the last, partial row panel is
// packed (zero-padded). op(B) is read in place too when B is not
// transposed and the problem is small; otherwise each kc×nc block of op(B)
// is packed into nr-column panels in a 64-byte-aligned, pooled buffer.
//
// Loop nest per part (a contiguous range of mr-row panels of C):
//
//	for jc := 0; jc < n; jc += nc      // B block in L2
//	  for pc := 0; pc < k; pc += kc    // one rank-kc update
//	    [pack op(B)[pc:pc+kc, jc:jc+nc]]
//	    for ir := range row panels     // A micro-panel (mr×kc) stays in L1
//	      for jr := 0; jr < nc; jr += nr
//	        micro-kernel (full tile: straight into C; edge tile: into a
//	        scratch tile, then copied with alpha/beta into C)
//
// Parts run on separate goroutines. Every element of C is computed by the
// same sequence of operations whatever the number of parts (k is never
// split, tile boundaries depend only on the shape), so results are
// bit-identical for any GOMAXPROCS.

// blocking holds the cache blocking parameters for one element size.
type blocking struct {
	kc, nc int
}

var (
	block32, block64 blocking
)

func init() {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 512 << 10
	}
	block32 = computeBlocking(l1, l2, 4, 16)
	block64 = computeBlocking(l1, l2, 8, 8)
}

// computeBlocking derives kc and nc from the cache sizes: an nr-column
// micro-panel of B (kc·nr·size) takes half of L1 and the kc×nc block of B
// half of L2.
func computeBlocking(l1, l2, size, nr int) blocking {
	kc := l1 / 2 / (nr * size)
	kc = max(64, min(kc, 512)) &^ 7
	nc := l2 / 2 / (kc * size)
	nc = max(nr, nc/nr*nr)
	return blocking{kc: kc, nc: nc}
}

func blockingFor[T float]() blocking {
	var z T
	if unsafe.Sizeof(z) == 4 {
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
	// packBRows: op(B) is packed (even when it could be read in place) if
	// a part has at least this many rows to amortise the copy over.
	packBRows = 0
)

// nativeGemm is the native backend's Gemm on raw operands. Shapes are
// already checked; m, n > 0.
func nativeGemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	j := getJob[T]()
	j.tA, j.tB, j.m, j.n, j.k = tA, tB, m, n, k
	j.alpha, j.beta = alpha, beta
	j.a, j.lda, j.b, j.ldb, j.c, j.ldc = a, lda, b, ldb, c, ldc
	j.kern = microKernel[T](kernels.ISA())
	j.nr = nrOf[T]()
	j.blk = blockingFor[T]()

	panels := (m + mr - 1) / mr
	flops := 2 * float64(m) * float64(n) * float64(k)
	parts := 1
	if flops >= parallelFlops {
		parts = min(runtime.GOMAXPROCS(0), panels, max(1, int(flops/minPartFlops)))
	}
	j.parts = parts
	j.panels = panels
	if parts > 1 {
		startWorkers(parts - 1)
		j.wg.Add(parts - 1)
		for p := 1; p < parts; p++ {
			workCh <- task{j: j, part: p}
		}
	}
	j.runPart(0)
	if parts > 1 {
		j.wg.Wait()
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
	kern          kernelFunc[T]
	nr            int
	blk           blocking
	parts, panels int
	wg            sync.WaitGroup
}

// done implements runner.
func (j *job[T]) done() { j.wg.Done() }

// runPart computes the rows of C in part p: row panels
// [p·panels/parts, (p+1)·panels/parts).
func (j *job[T]) runPart(p int) {
	ws := getWorkspace[T](j.blk, j.nr)
	defer putWorkspace(ws)

	m, n, k, nr := j.m, j.n, j.k, j.nr
	kc, nc := j.blk.kc, j.blk.nc
	r0 := p * j.panels / j.parts * mr
	r1 := min(m, (p+1)*j.panels/j.parts*mr)
	if r0 >= r1 {
		return
	}
	rsA, csA := j.lda, 1
	if j.tA {
		rsA, csA = 1, j.lda
	}
	packB := j.tB || r1-r0 >= packBRows
	kern := j.kern
	tile := ws.tile[:mr*nr]

	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
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
				packBBlock(ws.b, j.b, j.ldb, false, pc, kcb, jc+ncb-rem, rem, nr)
			}
			for i := r0; i < r1; i += mr {
				mrb := min(mr, r1-i)
				var ap []T
				ars, acs := rsA, csA
				if mrb == mr {
					off := i*rsA + pc*csA
					ap = j.a[off : off+(mr-1)*rsA+(kcb-1)*csA+1]
				} else {
					packAEdge(ws.a, j.a, j.lda, j.tA, i, mrb, pc, kcb)
					ap, ars, acs = ws.a[:mr*kcb], 1, mr
				}
				for jr := 0; jr < ncb; jr += nr {
					nrb := min(nr, ncb-jr)
					var bp []T
					bcs := nr
					switch {
					case packB:
						bp = ws.b[jr*kcb : (jr+nr)*kcb]
					case nrb < nr:
						bp = ws.b[:nr*kcb]
					default:
						off := pc*j.ldb + jc + jr
						bp = j.b[off : off+(kcb-1)*j.ldb+nr]
						bcs = j.ldb
					}
					co := i*j.ldc + jc + jr
					if mrb == mr && nrb == nr {
						kern(kcb, ap, ars, acs, bp, bcs, j.c[co:co+(mr-1)*j.ldc+nr], j.ldc, j.alpha, beta, loadC)
						continue
					}
					// Edge tile: compute the full padded tile into scratch,
					// then merge the valid part.
					kern(kcb, ap, ars, acs, bp, bcs, tile, nr, j.alpha, 0, false)
					for ii := 0; ii < mrb; ii++ {
						crow := j.c[co+ii*j.ldc : co+ii*j.ldc+nrb]
						trow := tile[ii*nr : ii*nr+nrb]
						if loadC {
							for jj, t := range trow {
								crow[jj] = t + beta*crow[jj]
							}
						} else {
							copy(crow, trow)
						}
					}
				}
			}
		}
	}
}

// packBBlock packs op(B)[pc:pc+kcb, jc:jc+ncb] into nr-column panels:
// panel q (columns jc+q·nr...) occupies dst[q·nr·kcb:], element (p, j) of
// the panel at p·nr+j; columns past ncb are zero.
func packBBlock[T float](dst, b []T, ldb int, tB bool, pc, kcb, jc, ncb, nr int) {
	for q := 0; q < ncb; q += nr {
		w := min(nr, ncb-q)
		panel := dst[q*kcb : q*kcb+nr*kcb]
		if !tB {
			for p := 0; p < kcb; p++ {
				src := b[(pc+p)*ldb+jc+q:]
				row := panel[p*nr : p*nr+nr]
				copy(row[:w], src[:w])
				clear(row[w:])
			}
			continue
		}
		// op(B)(p, j) = b[j*ldb+p]: read each column of op(B) contiguously.
		if w < nr {
			clear(panel)
		}
		for jj := 0; jj < w; jj++ {
			src := b[(jc+q+jj)*ldb+pc : (jc+q+jj)*ldb+pc+kcb]
			for p, v := range src {
				panel[p*nr+jj] = v
			}
		}
	}
}

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
	b, a, tile []T
	kc, nc     int
}

// alignedSlice returns a slice of n elements whose first element is
// 64-byte aligned.
func alignedSlice[T float](n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	buf := make([]T, n+64/size)
	off := 0
	for uintptr(unsafe.Pointer(&buf[off]))%64 != 0 {
		off++
	}
	return buf[off : off+n : off+n]
}

// freeList is a mutex-protected stack of reusable objects: unlike
// sync.Pool it never drops them, so steady-state calls do not allocate.
type freeList[E any] struct {
	mu    sync.Mutex
	items []*E
}

func (f *freeList[E]) get() *E {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		e := f.items[n-1]
		f.items = f.items[:n-1]
		return e
	}
	return new(E)
}

func (f *freeList[E]) put(e *E) {
	f.mu.Lock()
	f.items = append(f.items, e)
	f.mu.Unlock()
}

var (
	ws32   freeList[workspace[float32]]
	ws64   freeList[workspace[float64]]
	jobs32 freeList[job[float32]]
	jobs64 freeList[job[float64]]
)

func getWorkspace[T float](blk blocking, nr int) *workspace[T] {
	var z T
	var ws *workspace[T]
	if unsafe.Sizeof(z) == 4 {
		ws = (*workspace[T])(unsafe.Pointer(ws32.get()))
	} else {
		ws = (*workspace[T])(unsafe.Pointer(ws64.get()))
	}
	if ws.kc != blk.kc || ws.nc != blk.nc || ws.b == nil {
		ncr := (blk.nc + nr - 1) / nr * nr
		ws.b = alignedSlice[T](blk.kc * ncr)
		ws.a = alignedSlice[T](blk.kc * mr)
		ws.tile = alignedSlice[T](mr * nr)
		ws.kc, ws.nc = blk.kc, blk.nc
	}
	return ws
}

func putWorkspace[T float](ws *workspace[T]) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		ws32.put((*workspace[float32])(unsafe.Pointer(ws)))
	} else {
		ws64.put((*workspace[float64])(unsafe.Pointer(ws)))
	}
}

func getJob[T float]() *job[T] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return (*job[T])(unsafe.Pointer(jobs32.get()))
	}
	return (*job[T])(unsafe.Pointer(jobs64.get()))
}

func putJob[T float](j *job[T]) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		jobs32.put((*job[float32])(unsafe.Pointer(j)))
	} else {
		jobs64.put((*job[float64])(unsafe.Pointer(j)))
	}
}

// runner is a part of a job run by a worker goroutine.
type runner interface {
	runPart(p int)
	done()
}

type task struct {
	j    runner
	part int
}

var (
	workCh      = make(chan task, 256)
	workersMu   sync.Mutex
	workerCount int
)

// startWorkers makes sure at least n worker goroutines are running. They
// live for the life of the process, blocked on workCh when idle.
func startWorkers(n int) {
	workersMu.Lock()
	for workerCount < n {
		workerCount++
		go worker()
	}
	workersMu.Unlock()
}

func worker() {
	for t := range workCh {
		t.j.runPart(t.part)
		t.j.done()
	}
}
