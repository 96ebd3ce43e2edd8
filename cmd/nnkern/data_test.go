package main

import (
	"testing"

	"github.com/nnkern/nnkern/cifar"
)

func TestShuffleClassSortedSplits(t *testing.T) {
	mk := func(y ...uint8) *cifar.Split {
		return &cifar.Split{X: make([]uint8, len(y)), Y: y, N: len(y), H: 1, W: 1, C: 1}
	}
	for _, c := range []struct {
		s    *cifar.Split
		want bool
	}{
		{mk(0, 0, 1, 1, 2, 2), true},
		{mk(0, 1, 0, 1), false},
		{mk(3, 3, 3), false}, // one class: nothing to fix
		{mk(), false},
	} {
		if got := sortedByClass(c.s); got != c.want {
			t.Errorf("sortedByClass(%v) = %v, want %v", c.s.Y, got, c.want)
		}
	}
	// A class-sorted 20-class dataset: after loadDataset's shuffle the last
	// rows (the validation set) mix classes.
	ds := &cifar.Dataset{ClassNames: make([]string, 4)}
	y := make([]uint8, 400)
	for i := range y {
		y[i] = uint8(i / 100)
		_ = i
	}
	ds.Train = cifar.Split{X: make([]uint8, 400), Y: y, N: 400, H: 1, W: 1, C: 1}
	cifar.Shuffle(&ds.Train, shuffleSeed)
	seen := map[uint8]bool{}
	for _, v := range ds.Train.Y[350:] {
		seen[v] = true
	}
	if len(seen) < 3 {
		t.Errorf("the last 50 rows after the shuffle hold %d classes", len(seen))
	}
}
