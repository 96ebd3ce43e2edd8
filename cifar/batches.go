package cifar

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// The official layouts (python and binary) share their shape: five training
// batches, a test batch and a class list. splitLoader assembles the batches
// as a reader decodes them, in whatever order they come (a tar stream), and
// checks that their sizes add up.

// The CIFAR-10 image geometry of the python and binary formats.
const (
	cifarH, cifarW, cifarC = 32, 32, 3
	cifarDim               = cifarH * cifarW * cifarC // 3072
	numTrainBatches        = 5
)

// batchNames are the six batch files of both official formats, in order
// (five training batches then the test batch), without the .bin suffix.
var batchNames = [...]string{"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}

// cifar10Classes are CIFAR-10's class names, for a single batch loaded
// without its batches.meta.
var cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// batchIndex maps a batch file's base name to its slot: 0..4 training, 5 test; -1 otherwise.
func batchIndex(base, suffix string) int {
	for i, n := range batchNames {
		if base == n+suffix {
			return i
		}
	}
	return -1
}

// splitLoader assembles the six batches of an official-format dataset.
type splitLoader struct {
	train, test *assembler
	scratch     []byte
	classes     []string
	budget      *budget
	names       [len(batchNames)]string // where each batch was read from
}

// newSplitLoader returns a loader with the default budget (the unit entry
// point of tests and fuzzers); loads use loadSrc.newSplitLoader.
func newSplitLoader() *splitLoader { return newSplitLoaderBudget(defaultBudget()) }

func newSplitLoaderBudget(b *budget) *splitLoader {
	return &splitLoader{train: newAssembler(numTrainBatches, cifarDim, b), test: newAssembler(1, cifarDim, b), budget: b}
}

func (s *loadSrc) newSplitLoader() *splitLoader { return newSplitLoaderBudget(s.budget) }

// alloc returns a scratch buffer of n bytes, reused across batches. The
// caller has checked n against the budget (see addPython); growth is
// accounted for here.
func (l *splitLoader) alloc(n int) []byte {
	if cap(l.scratch) < n {
		l.budget.release(int64(cap(l.scratch)))
		l.budget.used += int64(n)
		l.scratch = make([]byte, n)
	}
	return l.scratch[:n]
}

// slot returns the buffers for batch k (0..4 training, 5 test) of n
// records, read from name.
func (l *splitLoader) slot(k, n int, name string) ([]byte, []uint8, error) {
	l.names[k] = name
	if err := l.earlySize(k, n, name); err != nil {
		return nil, nil, err
	}
	if k < numTrainBatches {
		return l.train.slot(min(k, len(l.train.slots)-1), n, name)
	}
	return l.test.slot(0, n, name)
}

func (l *splitLoader) dataset(where, suffix string, official bool) (*Dataset, error) {
	ds := &Dataset{ClassNames: l.classes}
	x, y, n, miss := l.train.finish()
	if miss >= 0 {
		return nil, fmt.Errorf("%s: %s%s is missing", where, batchNames[miss], suffix)
	}
	ds.Train = Split{X: x, Y: y, N: n, H: cifarH, W: cifarW, C: cifarC}
	x, y, n, miss = l.test.finish()
	if miss >= 0 {
		return nil, fmt.Errorf("%s: test_batch%s is missing", where, suffix)
	}
	ds.Test = Split{X: x, Y: y, N: n, H: cifarH, W: cifarW, C: cifarC}
	if ds.ClassNames == nil {
		return nil, fmt.Errorf("%s: the batches.meta file with the class names is missing", where)
	}
	if err := l.checkSizes(suffix, official); err != nil {
		return nil, err
	}
	if err := l.checkLabels(ds, where, suffix); err != nil {
		return nil, err
	}
	return ds, nil
}

// earlySize refuses, before its memory is allocated, a batch that
// checkSizes would refuse whatever the other batches hold: an empty
// data_batch_1 or test batch, or (once data_batch_1 is known and too large
// for WriteBinaryDir's small-split layout) a training batch of another size.
func (l *splitLoader) earlySize(k, n int, name string) error {
	if n == 0 && (k == 0 || k == numTrainBatches) {
		return fmt.Errorf("cifar: %s: no records (an empty batch)", name)
	}
	if k == 0 || k >= numTrainBatches || len(l.train.slots) != numTrainBatches || !l.train.slots[0].present {
		return nil
	}
	n0 := l.train.slots[0].n
	if n0 <= 4 || n == n0 || k == numTrainBatches-1 && n > 0 && n < n0 {
		return nil // a small split's layout, or a size checkSizes accepts
	}
	if n == 0 {
		return fmt.Errorf("cifar: %s: no records (an empty batch)", name)
	}
	first := path.Base(filepath.ToSlash(l.names[0]))
	last := batchNames[numTrainBatches-1] + strings.TrimPrefix(first, batchNames[0])
	return fmt.Errorf("cifar: %s: %d records, but %s holds %d: the training batches must be of one size (only %s may be shorter)",
		name, n, first, n0, last)
}

// checkSizes enforces that the batches' sizes add up: whole records (the
// readers checked that), none empty, every training batch as large as
// data_batch_1 except that data_batch_5 may be shorter — or exactly the
// layout WriteBinaryDir/WritePythonDir write for a small training split,
// whose last batches are empty — and 10,000 records each in an official
// archive.
func (l *splitLoader) checkSizes(suffix string, official bool) error {
	var sizes [len(batchNames)]int
	total := 0
	for k, s := range l.train.slots {
		sizes[k] = s.n
		total += s.n
	}
	sizes[numTrainBatches] = l.test.slots[0].n
	per := (total + numTrainBatches - 1) / numTrainBatches
	written := total > 0 // the sizes writeDir gives total records
	for k := range numTrainBatches {
		if sizes[k] != min((k+1)*per, total)-min(k*per, total) {
			written = false
		}
	}
	for k, n := range sizes {
		switch {
		case official && n != officialBatch:
			return fmt.Errorf("cifar: %s: %d records, but the official archive's batches hold %d each", l.names[k], n, officialBatch)
		case k < numTrainBatches && written:
		case n == 0:
			return fmt.Errorf("cifar: %s: no records (an empty batch)", l.names[k])
		case k > 0 && k < numTrainBatches-1 && n != sizes[0]:
			return fmt.Errorf("cifar: %s: %d records, but %s%s holds %d: the training batches must be of one size (only %s%s may be shorter)",
				l.names[k], n, batchNames[0], suffix, sizes[0], batchNames[numTrainBatches-1], suffix)
		case k == numTrainBatches-1 && n > sizes[0]:
			return fmt.Errorf("cifar: %s: %d records, more than the %d of %s%s: the training batches must be of one size (only %s%s may be shorter)",
				l.names[k], n, sizes[0], batchNames[0], suffix, batchNames[numTrainBatches-1], suffix)
		}
	}
	return nil
}

// checkLabels reports the first label >= the number of classes, naming the
// batch file and record.
func (l *splitLoader) checkLabels(ds *Dataset, where, suffix string) error {
	nc := len(ds.ClassNames)
	check := func(y []uint8, file string) error {
		for i, v := range y {
			if int(v) >= nc {
				return fmt.Errorf("%s: %s%s: record %d: label %d >= number of classes %d", where, file, suffix, i, v, nc)
			}
		}
		return nil
	}
	for k, s := range l.train.slots {
		if err := check(s.y, batchNames[k]); err != nil {
			return err
		}
	}
	return check(l.test.slots[0].y, batchNames[5])
}

// loadBatchFile loads a single batch file (either version) as a dataset
// with one split; head is the start of the file.
func (s *loadSrc) loadBatchFile(st *stream, head []byte) (*Dataset, error) {
	p := st.name
	base := path.Base(filepath.ToSlash(p))
	// A binary batch has no magic of its own: only its name tells (any
	// file of 3073·k bytes would otherwise load as k images).
	isBatch := strings.HasPrefix(base, "data_batch_") || strings.HasPrefix(base, "test_batch")
	binary := strings.HasSuffix(base, ".bin")
	if !isBatch || !binary && (len(head) == 0 || head[0] != 0x80) {
		return nil, fmt.Errorf("cifar: %s: not a tar archive, tar.gz archive, CIFAR-10 batch (data_batch_N or test_batch, .bin for the binary version) or dataset directory", p)
	}
	l := s.newSplitLoader()
	l.train = newAssembler(1, cifarDim, s.budget)
	k, metaName := 0, "batches.meta"
	if strings.HasPrefix(base, "test_batch") {
		k = numTrainBatches
	}
	var err error
	if binary {
		metaName = "batches.meta.txt"
		err = l.addBinary(k, st.r, st.size, p)
	} else {
		err = l.addPython(k, st.r, st.size, p)
	}
	if err != nil {
		return nil, err
	}
	a := l.train
	if k == numTrainBatches {
		a = l.test
	}
	x, y, n, _ := a.finish()
	if n == 0 {
		return nil, fmt.Errorf("cifar: %s: no records (an empty batch)", p)
	}
	split := Split{X: x, Y: y, N: n, H: cifarH, W: cifarW, C: cifarC}
	ds := &Dataset{Train: split, Test: Split{H: cifarH, W: cifarW, C: cifarC}, ClassNames: append([]string(nil), cifar10Classes...)}
	if k == numTrainBatches {
		ds.Train, ds.Test = ds.Test, ds.Train
	}
	mp := s.join(s.dir(p), metaName)
	if _, err := fs.Stat(s.fsys, mp); err == nil {
		if err := s.withFile(mp, func(r io.Reader, size int64, name string) error {
			var err error
			if binary {
				ds.ClassNames, err = parseMetaTxt(r, size, name)
			} else {
				ds.ClassNames, err = parsePythonMeta(r, size, name)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	for i, v := range split.Y {
		if int(v) >= len(ds.ClassNames) {
			return nil, fmt.Errorf("cifar: %s: record %d: label %d >= number of classes %d", p, i, v, len(ds.ClassNames))
		}
	}
	return ds, nil
}
