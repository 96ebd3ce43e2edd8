package cifar

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/nnkern/nnkern/internal/loadlimit"
)

// findIDX returns the name of the IDX file stem among a directory's
// entries (raw, .gz, or with the ".idx" spelling some mirrors use), or "".
func findIDX(names map[string]fs.DirEntry, stem string) string {
	alt := stem
	if i := len(stem) - len("-idx3-ubyte"); i > 0 {
		alt = stem[:i] + "." + stem[i+1:]
	}
	for _, s := range []string{stem, alt} {
		for _, ext := range []string{"", ".gz"} {
			if names[s+ext] != nil {
				return s + ext
			}
		}
	}
	return ""
}

// maxImagePixels bounds the pixels of one image (4096×4096) in every
// format with declared image dimensions (IDX, image folders): far above
// what these datasets hold, and small enough that the buffers for decoding
// one image stay a few hundred MB at worst.
const maxImagePixels = 1 << 24

// idxDims formats IDX dimensions the way errors name them: 60000x28x28.
func idxDims(dims []int64) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(s, "x")
}

// readIDX reads one IDX file: an unsigned-byte array of ndim dimensions.
// Its errors, and those of allow, are one line starting "cifar: name: ".
// size is the file's size when r is the file itself, or -1 when r is a
// decompressed stream (then r must end right after the data, and reading
// it to its end verifies the gzip CRC). Dimensions must be positive, an
// image at most maxImagePixels, and the data they declare is passed to
// allow (the format's and the load's bounds) before any allocation; a raw
// file must hold exactly that data.
func readIDX(r io.Reader, size int64, name string, ndim int, allow func(dims string, total int64) error) (dims []int, data []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("cifar: %s: truncated IDX header", name)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, nil, fmt.Errorf("cifar: %s: bad IDX magic % x", name, hdr)
	}
	if hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("cifar: %s: IDX element type 0x%02x, want 0x08 (unsigned byte)", name, hdr[2])
	}
	if int(hdr[3]) != ndim {
		return nil, nil, fmt.Errorf("cifar: %s: IDX has %d dimensions, want %d", name, hdr[3], ndim)
	}
	d64 := make([]int64, ndim)
	for i := range d64 {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("cifar: %s: truncated IDX header", name)
		}
		d64[i] = int64(binary.BigEndian.Uint32(b[:]))
	}
	ds := idxDims(d64)
	for _, d := range d64 {
		if d <= 0 {
			return nil, nil, fmt.Errorf("cifar: %s: IDX dimensions %s: every dimension must be positive", name, ds)
		}
	}
	if len(d64) > 1 {
		if _, ok := mulBounded(maxImagePixels, d64[1:]...); !ok {
			return nil, nil, fmt.Errorf("cifar: %s: IDX dimensions %s: images of more than %d pixels", name, ds, maxImagePixels)
		}
	}
	total, ok := mulBounded(1<<50, d64...)
	if !ok {
		return nil, nil, fmt.Errorf("cifar: %s: IDX dimensions %s are too large", name, ds)
	}
	hdrLen := int64(4 + 4*ndim)
	if size >= 0 && total != size-hdrLen {
		return nil, nil, fmt.Errorf("cifar: %s: IDX dimensions %s need %d data bytes, the file has %d", name, ds, total, size-hdrLen)
	}
	if allow != nil {
		if err := allow(ds, total); err != nil {
			return nil, nil, err
		}
	}
	dims = make([]int, ndim)
	for i, d := range d64 {
		dims[i] = int(d)
	}
	if size >= 0 {
		data = make([]byte, total)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, nil, fmt.Errorf("cifar: %s: truncated IDX data: %v", name, err)
		}
		return dims, data, nil
	}
	data = make([]byte, 0, min(total, 1<<20))
	for int64(len(data)) < total {
		// Grow by at most the bytes already read (doubling), so memory
		// follows the data that actually arrives.
		chunk := int(min(total-int64(len(data)), int64(max(len(data), 1<<20))))
		start := len(data)
		data = slices.Grow(data, chunk)[:start+chunk]
		if n, err := io.ReadFull(r, data[start:]); err != nil {
			return nil, nil, fmt.Errorf("cifar: %s: truncated IDX data: %d of %d bytes (%v)", name, int64(start+n), total, err)
		}
	}
	// The stream must end here; reading to its end verifies a gzip trailer.
	if n, err := io.Copy(io.Discard, r); err != nil {
		return nil, nil, fmt.Errorf("cifar: %s: after the %d IDX bytes: %w", name, total, err)
	} else if n > 0 {
		return nil, nil, fmt.Errorf("cifar: %s: %d bytes of trailing data after the %d IDX bytes", name, n, total)
	}
	return dims, data, nil
}

// readIDXFile reads the IDX file p, raw or gzipped, within the load's
// budget (and a gzipped file within what deflate can expand it to).
func (s *loadSrc) readIDXFile(p string, ndim int) ([]int, []byte, error) {
	st, err := s.openMaybeGzip(p, false)
	if err != nil {
		return nil, nil, err
	}
	defer st.close()
	size := int64(-1)
	if !st.gz {
		size = st.size
	}
	allow := func(dims string, total int64) error {
		if st.gz && total > st.size*loadlimit.DeflateRatio {
			return fmt.Errorf("cifar: %s: IDX dimensions %s need %d bytes, more than a %d-byte gzip file can hold", p, dims, total, st.size)
		}
		return s.budget.take(total, p, "IDX dimensions "+dims)
	}
	return readIDX(st.r, size, p, ndim, allow)
}

// idxSplit builds a split from an images file and a labels file.
func (s *loadSrc) idxSplit(imagesPath, labelsPath string, numClasses int) (Split, error) {
	dims, x, err := s.readIDXFile(imagesPath, 3)
	if err != nil {
		return Split{}, err
	}
	ldims, y, err := s.readIDXFile(labelsPath, 1)
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

// loadIDXDir loads MNIST-style IDX files (MNIST, Fashion-MNIST) from dir,
// whose entries are names: 10 classes named "0" … "9".
func (s *loadSrc) loadIDXDir(dir string, names map[string]fs.DirEntry) (*Dataset, error) {
	files := map[string]string{}
	for _, stem := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		n := findIDX(names, stem)
		if n == "" {
			return nil, fmt.Errorf("cifar: %s: %s[.gz] is missing", dir, stem)
		}
		files[stem] = s.join(dir, n)
	}
	const numClasses = 10
	ds := &Dataset{ClassNames: make([]string, numClasses)}
	for i := range ds.ClassNames {
		ds.ClassNames[i] = strconv.Itoa(i)
	}
	var err error
	if ds.Train, err = s.idxSplit(files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"], numClasses); err != nil {
		return nil, err
	}
	if ds.Test, err = s.idxSplit(files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"], numClasses); err != nil {
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
