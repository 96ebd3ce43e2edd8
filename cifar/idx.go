package cifar

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// findIDX returns the path of the IDX file stem in dir (raw, .gz, or with
// the ".idx" spelling some mirrors use), or "".
func findIDX(dir, stem string) string {
	alt := stem
	if i := len(stem) - len("-idx3-ubyte"); i > 0 {
		alt = stem[:i] + "." + stem[i+1:]
	}
	for _, s := range []string{stem, alt} {
		for _, ext := range []string{"", ".gz"} {
			if p := filepath.Join(dir, s+ext); exists(p) {
				return p
			}
		}
	}
	return ""
}

// readIDX reads one IDX file (optionally gzipped): an unsigned-byte array
// of ndim dimensions. It never allocates more than the file holds: for a
// raw file the declared size must match the file size; a gzipped file's
// buffer grows only as decompressed bytes arrive.
func readIDX(r io.Reader, size int64, name string, ndim int) (dims []int, data []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%s: truncated IDX header", name)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, nil, fmt.Errorf("%s: bad IDX magic % x", name, hdr)
	}
	if hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("%s: IDX element type 0x%02x, want 0x08 (unsigned byte)", name, hdr[2])
	}
	if int(hdr[3]) != ndim {
		return nil, nil, fmt.Errorf("%s: IDX has %d dimensions, want %d", name, hdr[3], ndim)
	}
	dims = make([]int, ndim)
	total := uint64(1)
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%s: truncated IDX header", name)
		}
		dims[i] = int(binary.BigEndian.Uint32(b[:]))
		total *= uint64(dims[i])
	}
	if total > 1<<34 {
		return nil, nil, fmt.Errorf("%s: IDX dimensions %v are too large", name, dims)
	}
	hdrLen := int64(4 + 4*ndim)
	if size >= 0 {
		if int64(total) != size-hdrLen {
			return nil, nil, fmt.Errorf("%s: IDX dimensions %v need %d data bytes, the file has %d", name, dims, total, size-hdrLen)
		}
		data = make([]byte, total)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, nil, fmt.Errorf("%s: truncated IDX data: %v", name, err)
		}
		return dims, data, nil
	}
	data = make([]byte, 0, min(total, 1<<20))
	for uint64(len(data)) < total {
		// Grow by at most the bytes already read (doubling).
		chunk := int(min(total-uint64(len(data)), uint64(max(len(data), 1<<20))))
		start := len(data)
		data = slices.Grow(data, chunk)[:start+chunk]
		if n, err := io.ReadFull(r, data[start:]); err != nil {
			return nil, nil, fmt.Errorf("%s: truncated IDX data: %d of %d bytes (%v)", name, int64(start+n), total, err)
		}
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, nil, fmt.Errorf("%s: trailing data after the %d IDX bytes", name, total)
	}
	return dims, data, nil
}

func readIDXFile(p string, ndim int) ([]int, []byte, error) {
	r, closeFn, gz, err := openMaybeGzip(p)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	size := int64(-1)
	if !gz {
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("cifar: %w", err)
		}
		size = st.Size()
	}
	dims, data, err := readIDX(r, size, p, ndim)
	if err != nil {
		return nil, nil, fmt.Errorf("cifar: %w", err)
	}
	return dims, data, nil
}

// idxSplit builds a split from an images file and a labels file.
func idxSplit(imagesPath, labelsPath string, numClasses int) (Split, error) {
	dims, x, err := readIDXFile(imagesPath, 3)
	if err != nil {
		return Split{}, err
	}
	ldims, y, err := readIDXFile(labelsPath, 1)
	if err != nil {
		return Split{}, err
	}
	if ldims[0] != dims[0] {
		return Split{}, fmt.Errorf("cifar: %s has %d labels for the %d images of %s", labelsPath, ldims[0], dims[0], imagesPath)
	}
	for i, v := range y {
		if int(v) >= numClasses {
			return Split{}, fmt.Errorf("cifar: %s: record %d: label %d >= number of classes %d", labelsPath, i, v, numClasses)
		}
	}
	return Split{X: x, Y: y, N: dims[0], H: dims[1], W: dims[2], C: 1}, nil
}

// loadIDXDir loads MNIST-style IDX files (MNIST, Fashion-MNIST): 10 classes
// named "0" … "9".
func loadIDXDir(dir string) (*Dataset, error) {
	files := map[string]string{}
	for _, stem := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		p := findIDX(dir, stem)
		if p == "" {
			return nil, fmt.Errorf("cifar: %s: %s[.gz] is missing", dir, stem)
		}
		files[stem] = p
	}
	const numClasses = 10
	ds := &Dataset{ClassNames: make([]string, numClasses)}
	for i := range ds.ClassNames {
		ds.ClassNames[i] = strconv.Itoa(i)
	}
	var err error
	if ds.Train, err = idxSplit(files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"], numClasses); err != nil {
		return nil, err
	}
	if ds.Test, err = idxSplit(files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"], numClasses); err != nil {
		return nil, err
	}
	if ds.Train.H != ds.Test.H || ds.Train.W != ds.Test.W {
		return nil, fmt.Errorf("cifar: %s: train images are %dx%d, test images %dx%d", dir, ds.Train.H, ds.Train.W, ds.Test.H, ds.Test.W)
	}
	return ds, nil
}

// WriteIDX writes s as an IDX images file (ubyte, N×H×W; C must be 1) to
// images and its labels to labels (raw, not gzipped).
func WriteIDX(images, labels io.Writer, s *Split) error {
	if s.C != 1 {
		return fmt.Errorf("cifar.WriteIDX: images have %d channels, IDX holds gray images", s.C)
	}
	if err := s.Check(256); err != nil {
		return fmt.Errorf("cifar.WriteIDX: %w", err)
	}
	h := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 3}, uint32(s.N))
	h = binary.BigEndian.AppendUint32(h, uint32(s.H))
	h = binary.BigEndian.AppendUint32(h, uint32(s.W))
	if _, err := images.Write(append(h, s.X...)); err != nil {
		return fmt.Errorf("cifar.WriteIDX: %w", err)
	}
	l := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, uint32(s.N))
	if _, err := labels.Write(append(l, s.Y...)); err != nil {
		return fmt.Errorf("cifar.WriteIDX: %w", err)
	}
	return nil
}
