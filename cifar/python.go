package cifar

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// pyBatch is one decoded python batch, still in the file's C×H×W layout.
type pyBatch struct {
	n      int
	chw    []byte // n*3072 bytes, CHW per image (may be a reused scratch buffer)
	labels []int64
}

// parsePythonBatch decodes a CIFAR-10 python batch pickle. alloc supplies
// the buffer for the big pixel string (may be nil); limit is what the
// pickle may materialise (unpickleLimit: <= 0 means the default budget).
func parsePythonBatch(r io.Reader, size int64, name string, alloc func(int) []byte, limit int64) (*pyBatch, error) {
	d, err := unpickleDict(r, size, name, alloc, limit)
	if err != nil {
		return nil, err
	}
	dv, ok := d.lookup("data")
	if !ok {
		return nil, fmt.Errorf("%s: batch has no 'data' key", name)
	}
	arr, ok := dv.(*pyArray)
	if !ok || !arr.built {
		return nil, fmt.Errorf("%s: 'data' is a %s, not a numpy array", name, typeName(dv))
	}
	if kind, size, _ := parseDtype(arr.dtype.str); kind != 'u' || size != 1 {
		return nil, fmt.Errorf("%s: 'data' has dtype %s, want uint8", name, arr.dtype.str)
	}
	var n int
	switch {
	case len(arr.shape) == 2 && arr.shape[1] == cifarDim:
		n = arr.shape[0]
	case len(arr.shape) == 4 && arr.shape[1] == cifarC && arr.shape[2] == cifarH && arr.shape[3] == cifarW:
		n = arr.shape[0]
	default:
		return nil, fmt.Errorf("%s: 'data' has shape %v, want (N, 3072)", name, arr.shape)
	}
	if arr.fortran && n > 1 {
		if len(arr.shape) != 2 {
			return nil, fmt.Errorf("%s: Fortran-ordered 'data' of shape %v is not supported", name, arr.shape)
		}
		c := make([]byte, len(arr.data))
		for i := 0; i < n; i++ {
			for j := 0; j < cifarDim; j++ {
				c[i*cifarDim+j] = arr.data[j*n+i]
			}
		}
		arr.data = c
	}
	lv, ok := d.lookup("labels")
	if !ok {
		return nil, fmt.Errorf("%s: batch has no 'labels' key", name)
	}
	labels, err := intList(lv)
	if err != nil {
		return nil, fmt.Errorf("%s: 'labels': %v", name, err)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%s: %d labels for %d images", name, len(labels), n)
	}
	return &pyBatch{n: n, chw: arr.data, labels: labels}, nil
}

// unpickleDict runs the pickle in r and returns its value, which must be a
// dict (both the batches and batches.meta are).
func unpickleDict(r io.Reader, size int64, name string, alloc func(int) []byte, limit int64) (*pyDict, error) {
	v, err := unpickleLimit(r, size, name, alloc, limit)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("%s: pickle holds a %s, not a dict", name, typeName(v))
	}
	return d, nil
}

// intList converts a list of ints or a 1-D integer array.
func intList(v any) ([]int64, error) {
	switch l := v.(type) {
	case *pyList:
		out := make([]int64, len(l.items))
		for i, it := range l.items {
			x, ok := it.(int64)
			if !ok {
				return nil, fmt.Errorf("item %d is a %s, not an int", i, typeName(it))
			}
			out[i] = x
		}
		return out, nil
	case *pyArray:
		if !l.built {
			return nil, fmt.Errorf("an array without data")
		}
		kind, size, err := parseDtype(l.dtype.str)
		if err != nil || len(l.shape) != 1 || l.dtype.endian == '>' {
			return nil, fmt.Errorf("array of shape %v dtype %s is not a 1-D little-endian int array", l.shape, l.dtype.str)
		}
		out := make([]int64, l.shape[0])
		for i := range out {
			b := l.data[i*size:]
			switch {
			case size == 1 && kind == 'u':
				out[i] = int64(b[0])
			case size == 1:
				out[i] = int64(int8(b[0]))
			case size == 2 && kind == 'u':
				out[i] = int64(binary.LittleEndian.Uint16(b))
			case size == 2:
				out[i] = int64(int16(binary.LittleEndian.Uint16(b)))
			case size == 4 && kind == 'u':
				out[i] = int64(binary.LittleEndian.Uint32(b))
			case size == 4:
				out[i] = int64(int32(binary.LittleEndian.Uint32(b)))
			default:
				out[i] = int64(binary.LittleEndian.Uint64(b))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s, not a list of ints", typeName(v))
}

// parsePythonMeta reads batches.meta: a dict whose 'label_names' lists the classes.
func parsePythonMeta(r io.Reader, size int64, name string) ([]string, error) {
	if size > 1<<20 {
		return nil, fmt.Errorf("%s: %d bytes is too large for a class list", name, size)
	}
	// At most 1 MiB of pickle: its own size bound (unpickleLimit) is far
	// below any load budget.
	d, err := unpickleDict(r, size, name, nil, 0)
	if err != nil {
		return nil, err
	}
	lv, ok := d.lookup("label_names")
	if !ok {
		return nil, fmt.Errorf("%s: no 'label_names' key", name)
	}
	l, ok := lv.(*pyList)
	if !ok {
		return nil, fmt.Errorf("%s: 'label_names' is a %s, not a list", name, typeName(lv))
	}
	names := make([]string, len(l.items))
	if len(l.items) == 0 || len(l.items) > 256 {
		return nil, fmt.Errorf("%s: %d class names (want 1 to 256)", name, len(l.items))
	}
	for i, it := range l.items {
		// The length before the copy: one memoised 1 MiB string fetched
		// 256 times would otherwise become 256 MiB of names.
		if n := strLen(it); n > maxClassName {
			return nil, fmt.Errorf("%s: label_names[%d] is %d bytes long (at most %d)", name, i, n, maxClassName)
		}
		s, ok := asString(it)
		if !ok {
			return nil, fmt.Errorf("%s: label_names[%d] is a %s", name, i, typeName(it))
		}
		names[i] = s
	}
	return names, nil
}

// maxClassName is the longest class name a dataset may give (bytes).
const maxClassName = 256

// strLen is the length of a pickled str, bytes or unicode value (0 for
// anything else).
func strLen(v any) int {
	switch s := v.(type) {
	case string:
		return len(s)
	case pyStr8:
		return len(s)
	case []byte:
		return len(s)
	}
	return 0
}

// chwToHWC transposes n images of 3×32×32 (CHW) into 32×32×3 (HWC).
func chwToHWC(dst, src []byte, n int) {
	const hw = cifarH * cifarW
	for i := 0; i < n; i++ {
		s := src[i*cifarDim : (i+1)*cifarDim : (i+1)*cifarDim]
		d := dst[i*cifarDim : (i+1)*cifarDim : (i+1)*cifarDim]
		r, g, b := s[:hw:hw], s[hw:2*hw:2*hw], s[2*hw:3*hw:3*hw]
		for p := 0; p < hw; p++ {
			q := d[3*p : 3*p+3 : 3*p+3]
			q[0], q[1], q[2] = r[p], g[p], b[p]
		}
	}
}

// hwcToCHW is the inverse of chwToHWC.
func hwcToCHW(dst, src []byte, n int) {
	const hw = cifarH * cifarW
	for i := 0; i < n; i++ {
		s := src[i*cifarDim : (i+1)*cifarDim : (i+1)*cifarDim]
		d := dst[i*cifarDim : (i+1)*cifarDim : (i+1)*cifarDim]
		r, g, b := d[:hw:hw], d[hw:2*hw:2*hw], d[2*hw:3*hw:3*hw]
		for p := 0; p < hw; p++ {
			q := s[3*p : 3*p+3 : 3*p+3]
			r[p], g[p], b[p] = q[0], q[1], q[2]
		}
	}
}

// addPython decodes python batch k (size bytes) from r into its slot.
func (l *splitLoader) addPython(k int, r io.Reader, size int64, name string) error {
	// The pickle's pixel string is at most the file's size and goes to the
	// scratch buffer (alloc): that much must fit in the budget.
	if size > int64(cap(l.scratch)) {
		if err := l.budget.take(size-int64(cap(l.scratch)), name, fmt.Sprintf("a %d-byte pickle", size)); err != nil {
			return err
		}
		l.budget.release(size - int64(cap(l.scratch)))
	}
	b, err := parsePythonBatch(r, size, name, l.alloc, max(l.budget.remaining(), 1))
	if err != nil {
		return err
	}
	x, y, err := l.slot(k, b.n, name)
	if err != nil {
		return err
	}
	for i, v := range b.labels {
		if v < 0 || v > 255 {
			return fmt.Errorf("%s: record %d: label %d out of range", name, i, v)
		}
		y[i] = uint8(v)
	}
	chwToHWC(x, b.chw, b.n)
	return nil
}

// loadPythonDir loads an extracted cifar-10-batches-py directory.
func (s *loadSrc) loadPythonDir(dir string) (*Dataset, error) {
	if err := s.checkRegular(dir, "", "batches.meta"); err != nil {
		return nil, err
	}
	l := s.newSplitLoader()
	for k, n := range batchNames {
		if err := s.withFile(s.join(dir, n), func(r io.Reader, size int64, name string) error {
			return l.addPython(k, r, size, name)
		}); err != nil {
			return nil, err
		}
	}
	if err := s.withFile(s.join(dir, "batches.meta"), func(r io.Reader, size int64, name string) error {
		var err error
		l.classes, err = parsePythonMeta(r, size, name)
		return err
	}); err != nil {
		return nil, err
	}
	return l.dataset(dir, "", false)
}

// ---- writer ----

// pickleWriter emits protocol-2 opcodes with a running memo counter, the
// way cPickle does.
type pickleWriter struct {
	w    *bufio.Writer
	memo uint32
	err  error
}

func (p *pickleWriter) raw(b ...byte) {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
}

func (p *pickleWriter) put() {
	if p.memo < 256 {
		p.raw('q', byte(p.memo))
	} else {
		p.raw('r', byte(p.memo), byte(p.memo>>8), byte(p.memo>>16), byte(p.memo>>24))
	}
	p.memo++
}

func (p *pickleWriter) str(s []byte) { // a Python 2 str
	if len(s) < 256 {
		p.raw('U', byte(len(s)))
	} else {
		n := uint32(len(s))
		p.raw('T', byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	p.raw(s...)
}

func (p *pickleWriter) int(v int64) {
	switch {
	case v >= 0 && v < 256:
		p.raw('K', byte(v))
	case v >= 0 && v < 65536:
		p.raw('M', byte(v), byte(v>>8))
	default:
		u := uint32(int32(v))
		p.raw('J', byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
}

func (p *pickleWriter) global(mod, name string) {
	p.raw('c')
	p.raw([]byte(mod + "\n" + name + "\n")...)
	p.put()
}

// strList writes a list of str, appended in groups of 1000 like cPickle.
func (p *pickleWriter) list(n int, item func(i int)) {
	p.raw(']')
	p.put()
	for i := 0; i < n; i += 1000 {
		j := min(i+1000, n)
		if j-i == 1 {
			item(i)
			p.raw('a')
			continue
		}
		p.raw('(')
		for k := i; k < j; k++ {
			item(k)
		}
		p.raw('e')
	}
}

// WritePython writes s as one CIFAR-10 python batch to w: a protocol-2
// pickle in the official cPickle layout, a dict with the keys batch_label,
// labels (a list of ints), data (a uint8 numpy array of shape (N, 3072),
// each row 1024 red, 1024 green, 1024 blue values) and filenames (synthesised
// as "image_NNNNNN.png" when filenames is nil; otherwise len(filenames) must
// be s.N). The split must hold 32×32×3 images. numpy reads the result
// with pickle.load(f, encoding='latin1').
func WritePython(w io.Writer, s *Split, batchLabel string, filenames []string) error {
	if s.H != cifarH || s.W != cifarW || s.C != cifarC {
		return fmt.Errorf("cifar.WritePython: images are %dx%dx%d, the python format holds 32x32x3", s.H, s.W, s.C)
	}
	if err := s.Check(256); err != nil {
		return fmt.Errorf("cifar.WritePython: %w", err)
	}
	if filenames != nil && len(filenames) != s.N {
		return fmt.Errorf("cifar.WritePython: %d filenames for %d images", len(filenames), s.N)
	}
	p := &pickleWriter{w: bufio.NewWriterSize(w, 1<<16), memo: 1}
	p.raw(0x80, 2, '}')
	p.put()
	p.raw('(')
	p.str([]byte("batch_label"))
	p.put()
	p.str([]byte(batchLabel))
	p.put()
	p.str([]byte("labels"))
	p.put()
	p.list(s.N, func(i int) { p.int(int64(s.Y[i])) })
	p.str([]byte("data"))
	p.put()
	p.global("numpy.core.multiarray", "_reconstruct")
	p.global("numpy", "ndarray")
	p.int(0)
	p.raw(0x85)
	p.put()
	p.str([]byte("b"))
	p.put()
	p.raw(0x87)
	p.put()
	p.raw('R')
	p.put()
	p.raw('(')
	p.int(1)
	p.int(int64(s.N))
	p.int(cifarDim)
	p.raw(0x86)
	p.put()
	p.global("numpy", "dtype")
	p.str([]byte("u1"))
	p.put()
	p.int(0)
	p.int(1)
	p.raw(0x87)
	p.put()
	p.raw('R')
	p.put()
	p.raw('(')
	p.int(3)
	p.str([]byte("|"))
	p.put()
	p.raw('N', 'N', 'N')
	p.int(-1)
	p.int(-1)
	p.int(0)
	p.raw('t')
	p.put()
	p.raw('b', 0x89)
	// The pixel string: BINSTRING header then the CHW bytes, converted in chunks.
	n := uint32(s.N * cifarDim)
	p.raw('T', byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	buf := make([]byte, 256*cifarDim)
	for i := 0; i < s.N; i += 256 {
		j := min(i+256, s.N)
		hwcToCHW(buf, s.X[i*cifarDim:j*cifarDim], j-i)
		p.raw(buf[:(j-i)*cifarDim]...)
	}
	p.put()
	p.raw('t')
	p.put()
	p.raw('b')
	p.str([]byte("filenames"))
	p.put()
	p.list(s.N, func(i int) {
		if filenames != nil {
			p.str([]byte(filenames[i]))
		} else {
			p.str(fmt.Appendf(nil, "image_%06d.png", i))
		}
		p.put()
	})
	p.raw('u', '.')
	if p.err == nil {
		p.err = p.w.Flush()
	}
	if p.err != nil {
		return fmt.Errorf("cifar.WritePython: %w", p.err)
	}
	return nil
}

// writePythonMeta writes batches.meta with the class names.
func writePythonMeta(w io.Writer, classes []string, perBatch int) error {
	p := &pickleWriter{w: bufio.NewWriter(w), memo: 1}
	p.raw(0x80, 2, '}')
	p.put()
	p.raw('(')
	p.str([]byte("num_cases_per_batch"))
	p.put()
	p.int(int64(perBatch))
	p.str([]byte("label_names"))
	p.put()
	p.list(len(classes), func(i int) { p.str([]byte(classes[i])); p.put() })
	p.str([]byte("num_vis"))
	p.put()
	p.int(cifarDim)
	p.raw('u', '.')
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}

// WritePythonDir writes ds in the official python layout into dir (created
// if needed): data_batch_1 … data_batch_5 (the training split cut into five
// consecutive batches, the last taking the remainder), test_batch and
// batches.meta. Every file is written atomically (temporary file, then rename).
func WritePythonDir(dir string, ds *Dataset) error {
	return writeDir(dir, ds, "", func(w io.Writer, s *Split, label string) error {
		return WritePython(w, s, label, nil)
	}, func(w io.Writer) error {
		return writePythonMeta(w, ds.ClassNames, (ds.Train.N+numTrainBatches-1)/numTrainBatches)
	}, "batches.meta")
}

func writeDir(dir string, ds *Dataset, suffix string, batch func(io.Writer, *Split, string) error, meta func(io.Writer) error, metaName string) error {
	if err := ds.Check(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	per := (ds.Train.N + numTrainBatches - 1) / numTrainBatches
	for k := 0; k < numTrainBatches; k++ {
		i, j := min(k*per, ds.Train.N), min((k+1)*per, ds.Train.N)
		sub := ds.Train.Slice(i, j)
		label := fmt.Sprintf("training batch %d of %d", k+1, numTrainBatches)
		if err := writeFileAtomic(filepath.Join(dir, batchNames[k]+suffix), func(w io.Writer) error {
			return batch(w, &sub, label)
		}); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, batchNames[5]+suffix), func(w io.Writer) error {
		return batch(w, &ds.Test, "testing batch 1 of 1")
	}); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, metaName), meta)
}

// writeFileAtomic writes path through a temporary file in the same directory
// and renames it into place only after a successful write and sync.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("cifar: writing %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	return nil
}
