package cifar

import (
	"errors"
	"fmt"
)

// Split is one part of a dataset: N images of H×W×C uint8 pixels with their
// labels. Images are stored in H×W×C order, row i is
// X[i*H*W*C : (i+1)*H*W*C]; Y[i] is its class index.
type Split struct {
	X          []uint8
	Y          []uint8
	N, H, W, C int
}

// Dataset is a training and a test split with the class names (label k is
// ClassNames[k]).
type Dataset struct {
	Train, Test Split
	ClassNames  []string
}

// Dim returns the number of values in one image, H*W*C.
func (s *Split) Dim() int { return s.H * s.W * s.C }

// Image returns the pixels of image i (H×W×C order), sharing s.X.
func (s *Split) Image(i int) []uint8 {
	d := s.Dim()
	return s.X[i*d : (i+1)*d : (i+1)*d]
}

// Labels returns the labels of s as ints (the trainers' y).
func Labels(s *Split) []int {
	y := make([]int, len(s.Y))
	for i, v := range s.Y {
		y[i] = int(v)
	}
	return y
}

// Check returns an error unless s is consistent: non-negative shape, len(X)
// == N*H*W*C, len(Y) == N, and every label < numClasses (when numClasses > 0).
func (s *Split) Check(numClasses int) error {
	if s.N < 0 || s.H < 0 || s.W < 0 || s.C < 0 {
		return fmt.Errorf("negative shape N=%d H=%d W=%d C=%d", s.N, s.H, s.W, s.C)
	}
	if len(s.X) != s.N*s.Dim() {
		return fmt.Errorf("len(X)=%d != N*H*W*C=%d*%d*%d*%d", len(s.X), s.N, s.H, s.W, s.C)
	}
	if len(s.Y) != s.N {
		return fmt.Errorf("len(Y)=%d != N=%d", len(s.Y), s.N)
	}
	if numClasses > 0 {
		for i, y := range s.Y {
			if int(y) >= numClasses {
				return fmt.Errorf("record %d: label %d >= number of classes %d", i, y, numClasses)
			}
		}
	}
	return nil
}

// Check validates both splits against the class names: consistent shapes,
// the same image size in both splits, labels < len(ClassNames).
func (d *Dataset) Check() error {
	if len(d.ClassNames) == 0 {
		return errors.New("cifar: dataset has no class names")
	}
	if err := d.Train.Check(len(d.ClassNames)); err != nil {
		return fmt.Errorf("cifar: train split: %w", err)
	}
	if err := d.Test.Check(len(d.ClassNames)); err != nil {
		return fmt.Errorf("cifar: test split: %w", err)
	}
	if d.Test.N > 0 && d.Train.N > 0 && (d.Train.H != d.Test.H || d.Train.W != d.Test.W || d.Train.C != d.Test.C) {
		return fmt.Errorf("cifar: train images are %dx%dx%d but test images are %dx%dx%d",
			d.Train.H, d.Train.W, d.Train.C, d.Test.H, d.Test.W, d.Test.C)
	}
	return nil
}

// Subset returns a new split holding copies of the rows idx of s, in that order.
// It panics if an index is out of range.
func (s *Split) Subset(idx []int) Split {
	d := s.Dim()
	out := Split{X: make([]uint8, len(idx)*d), Y: make([]uint8, len(idx)), N: len(idx), H: s.H, W: s.W, C: s.C}
	for r, i := range idx {
		if i < 0 || i >= s.N {
			panic(fmt.Sprintf("cifar.Split.Subset: index %d out of range [0,%d)", i, s.N))
		}
		copy(out.X[r*d:(r+1)*d], s.X[i*d:(i+1)*d])
		out.Y[r] = s.Y[i]
	}
	return out
}

// Slice returns the view of rows [i, j) of s, sharing its storage.
func (s *Split) Slice(i, j int) Split {
	if i < 0 || j < i || j > s.N {
		panic(fmt.Sprintf("cifar.Split.Slice: [%d:%d] out of range [0,%d]", i, j, s.N))
	}
	d := s.Dim()
	return Split{X: s.X[i*d : j*d : j*d], Y: s.Y[i:j:j], N: j - i, H: s.H, W: s.W, C: s.C}
}

// assembler collects the batches of one split, which may arrive in any order
// (a tar stream), into one contiguous buffer: every slot has room for the
// largest batch seen so far, and finish moves shorter batches up in place,
// so the split is never held twice.
type assembler struct {
	rowBytes int
	slots    []asmSlot
	n0       int    // rows of room per slot in big
	big      []byte // len(slots)*n0*rowBytes
	budget   *budget
}

type asmSlot struct {
	present bool
	n       int
	y       []uint8
}

func newAssembler(numSlots, rowBytes int, b *budget) *assembler {
	return &assembler{rowBytes: rowBytes, slots: make([]asmSlot, numSlots), budget: b}
}

// slot returns the pixel and label buffers for batch k with n rows, read
// from name; the memory is taken from the budget first.
func (a *assembler) slot(k, n int, name string) ([]byte, []uint8, error) {
	if n > a.n0 {
		size, ok := mulBounded(1<<62, int64(len(a.slots)), int64(n), int64(a.rowBytes))
		if !ok {
			size = -1
		}
		what := fmt.Sprintf("%d records", n)
		if len(a.slots) > 1 {
			what = fmt.Sprintf("%d records per batch, %d batches", n, len(a.slots))
		}
		if err := a.budget.take(size, name, what); err != nil {
			return nil, nil, err
		}
		big := make([]byte, size)
		for j, s := range a.slots {
			if s.present && s.n > 0 {
				copy(big[j*n*a.rowBytes:], a.big[j*a.n0*a.rowBytes:(j*a.n0+s.n)*a.rowBytes])
			}
		}
		a.budget.release(int64(len(a.big)))
		a.big, a.n0 = big, n
	}
	if err := a.budget.take(int64(n), name, fmt.Sprintf("%d labels", n)); err != nil {
		return nil, nil, err
	}
	s := &a.slots[k]
	s.present, s.n, s.y = true, n, make([]uint8, n)
	off := k * a.n0 * a.rowBytes
	return a.big[off : off+n*a.rowBytes], s.y, nil
}

// finish returns the concatenated pixels and labels of all slots in order.
// missing reports the first slot never filled (-1 if none).
func (a *assembler) finish() (x []byte, y []uint8, n, missing int) {
	missing = -1
	for k, s := range a.slots {
		if !s.present && missing < 0 {
			missing = k
		}
		n += s.n
	}
	if missing >= 0 {
		return nil, nil, 0, missing
	}
	y = make([]uint8, 0, n)
	at := 0
	for k, s := range a.slots {
		y = append(y, s.y...)
		// Moving rows toward the start never overwrites rows not yet moved.
		copy(a.big[at:], a.big[k*a.n0*a.rowBytes:(k*a.n0+s.n)*a.rowBytes])
		at += s.n * a.rowBytes
	}
	return a.big[:at:at], y, n, -1
}
