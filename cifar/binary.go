package cifar

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// binaryRecord is the size of one record of the binary version: a label
// byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major).
const binaryRecord = 1 + cifarDim

// addBinary decodes binary batch k (size bytes) from r into its slot.
func (l *splitLoader) addBinary(k int, r io.Reader, size int64, name string) error {
	if size%binaryRecord != 0 {
		return fmt.Errorf("%s: size %d is not a multiple of the %d-byte record (1 label + 3072 pixels)", name, size, binaryRecord)
	}
	n := int(size / binaryRecord)
	x, y, err := l.slot(k, n, name)
	if err != nil {
		return err
	}
	return readBinaryRecords(r, name, n, x, y, l.alloc(min(n, 1024)*binaryRecord))
}

// readBinaryRecords reads n records into x (HWC) and y through buf.
func readBinaryRecords(r io.Reader, name string, n int, x []byte, y []uint8, buf []byte) error {
	per := len(buf) / binaryRecord
	for i := 0; i < n; i += per {
		m := min(per, n-i)
		if got, err := io.ReadFull(r, buf[:m*binaryRecord]); err != nil {
			return fmt.Errorf("%s: record %d: truncated file (%v)", name, i+got/binaryRecord, err)
		}
		for j := 0; j < m; j++ {
			rec := buf[j*binaryRecord : (j+1)*binaryRecord]
			y[i+j] = rec[0]
			chwToHWC(x[(i+j)*cifarDim:(i+j+1)*cifarDim], rec[1:], 1)
		}
	}
	return nil
}

// parseMetaTxt reads batches.meta.txt: one class name per line, surrounding
// whitespace trimmed, blank lines ignored.
func parseMetaTxt(r io.Reader, size int64, name string) ([]string, error) {
	if size > 1<<20 {
		return nil, fmt.Errorf("%s: %d bytes is too large for a class list", name, size)
	}
	var names []string
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			if len(s) > maxClassName {
				return nil, fmt.Errorf("%s: class name %d is %d bytes long (at most %d)", name, len(names)+1, len(s), maxClassName)
			}
			names = append(names, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(names) == 0 || len(names) > 256 {
		return nil, fmt.Errorf("%s: %d class names (want 1 to 256)", name, len(names))
	}
	return names, nil
}

// loadBinaryDir loads an extracted cifar-10-batches-bin directory.
func (s *loadSrc) loadBinaryDir(dir string) (*Dataset, error) {
	if err := s.checkRegular(dir, ".bin", "batches.meta.txt"); err != nil {
		return nil, err
	}
	l := s.newSplitLoader()
	for k, n := range batchNames {
		if err := s.withFile(s.join(dir, n+".bin"), func(r io.Reader, size int64, name string) error {
			return l.addBinary(k, r, size, name)
		}); err != nil {
			return nil, err
		}
	}
	if err := s.withFile(s.join(dir, "batches.meta.txt"), func(r io.Reader, size int64, name string) error {
		var err error
		l.classes, err = parseMetaTxt(r, size, name)
		return err
	}); err != nil {
		return nil, err
	}
	return l.dataset(dir, ".bin", false)
}

// WriteBinary writes s as CIFAR-10 binary records to w: per image one label
// byte then 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each plane
// row-major). The split must hold 32×32×3 images. Reading a binary batch
// and writing it back gives the identical bytes.
func WriteBinary(w io.Writer, s *Split) error {
	if s.H != cifarH || s.W != cifarW || s.C != cifarC {
		return fmt.Errorf("cifar.WriteBinary: images are %dx%dx%d, the binary format holds 32x32x3", s.H, s.W, s.C)
	}
	if err := s.Check(256); err != nil {
		return fmt.Errorf("cifar.WriteBinary: %w", err)
	}
	const per = 256
	buf := make([]byte, per*binaryRecord)
	for i := 0; i < s.N; i += per {
		m := min(per, s.N-i)
		for j := 0; j < m; j++ {
			rec := buf[j*binaryRecord : (j+1)*binaryRecord]
			rec[0] = s.Y[i+j]
			hwcToCHW(rec[1:], s.X[(i+j)*cifarDim:(i+j+1)*cifarDim], 1)
		}
		if _, err := w.Write(buf[:m*binaryRecord]); err != nil {
			return fmt.Errorf("cifar.WriteBinary: %w", err)
		}
	}
	return nil
}

// WriteBinaryDir writes ds in the official binary layout into dir (created
// if needed): data_batch_1.bin … data_batch_5.bin (the training split cut
// into five consecutive batches, the last taking the remainder),
// test_batch.bin and batches.meta.txt. Every file is written atomically.
func WriteBinaryDir(dir string, ds *Dataset) error {
	return writeDir(dir, ds, ".bin", func(w io.Writer, s *Split, _ string) error {
		return WriteBinary(w, s)
	}, func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(ds.ClassNames, "\n")+"\n")
		return err
	}, "batches.meta.txt")
}
