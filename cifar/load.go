package cifar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Load reads a dataset from path, detecting its format:
//
//   - the python version: cifar-10-python.tar.gz, or an extracted
//     cifar-10-batches-py directory (data_batch_1..5, test_batch, batches.meta);
//   - the binary version: cifar-10-binary.tar.gz, or an extracted
//     cifar-10-batches-bin directory (data_batch_1..5.bin, test_batch.bin,
//     batches.meta.txt);
//   - a directory holding one of those extracted directories;
//   - an image folder: train/<class>/*.{png,jpg,jpeg} and test/<class>/...,
//     as a directory or a .tar / .tar.gz of one (classes are the sorted
//     folder names of train/; images are decoded in parallel; every image
//     must have the same size; gray images are promoted to RGB);
//   - MNIST-style IDX files: a directory holding train-images-idx3-ubyte,
//     train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
//     t10k-labels-idx1-ubyte, each optionally gzipped (.gz).
//
// Archives are streamed, never extracted to disk. Errors name the file and,
// where it applies, the offset or record.
func Load(p string) (*Dataset, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if st.IsDir() {
		return loadDir(p)
	}
	return loadArchive(p)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func isDir(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }

func loadDir(dir string) (*Dataset, error) {
	switch {
	case exists(filepath.Join(dir, "data_batch_1")):
		return loadPythonDir(dir)
	case exists(filepath.Join(dir, "data_batch_1.bin")):
		return loadBinaryDir(dir)
	case isDir(filepath.Join(dir, "cifar-10-batches-py")):
		return loadPythonDir(filepath.Join(dir, "cifar-10-batches-py"))
	case isDir(filepath.Join(dir, "cifar-10-batches-bin")):
		return loadBinaryDir(filepath.Join(dir, "cifar-10-batches-bin"))
	case findIDX(dir, "train-images-idx3-ubyte") != "":
		return loadIDXDir(dir)
	case isDir(filepath.Join(dir, "train")):
		return loadImageFolderDir(dir)
	}
	return nil, fmt.Errorf("cifar: %s: no dataset found (want data_batch_1 (python), data_batch_1.bin (binary), "+
		"cifar-10-batches-py/, cifar-10-batches-bin/, train-images-idx3-ubyte[.gz] (IDX) or train/<class>/ (image folder))", dir)
}

// openMaybeGzip opens path and returns a reader of its (decompressed) bytes.
func openMaybeGzip(p string) (io.Reader, func() error, bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, false, fmt.Errorf("cifar: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, false, fmt.Errorf("cifar: %s: %w", p, err)
		}
		return bufio.NewReaderSize(zr, 1<<16), f.Close, true, nil
	}
	return br, f.Close, false, nil
}

// errImageFolder signals that a tar archive holds an image folder.
var errImageFolder = errors.New("image folder")

// maxInflate is deflate's maximum expansion: one compressed byte never
// decodes to more than 1032 bytes.
const maxInflate = 1032

// tarBudget bounds the entry sizes a tar header may declare by what the
// archive file can hold (its size, times maxInflate if it is gzipped), so
// a lying or truncated archive cannot make a loader allocate more than a
// fixed multiple of the file's size.
type tarBudget struct {
	p           string
	limit, used int64
}

// newTarBudget returns the budget of the archive file p.
func newTarBudget(p string, gz bool) (*tarBudget, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	limit := st.Size()
	if gz {
		limit = st.Size()*maxInflate + 1<<16
	}
	return &tarBudget{p: p, limit: limit}, nil
}

// take accounts for the size hdr declares; it fails if the archive cannot
// hold that many more bytes.
func (b *tarBudget) take(hdr *tar.Header) error {
	if hdr.Size < 0 || hdr.Size > b.limit-b.used {
		return fmt.Errorf("cifar: %s: %s: entry declares %d bytes, more than the archive (at most %d bytes of content) can hold",
			b.p, hdr.Name, hdr.Size, b.limit)
	}
	b.used += hdr.Size
	return nil
}

func loadArchive(p string) (*Dataset, error) {
	r, closeFn, gz, err := openMaybeGzip(p)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	budget, err := newTarBudget(p, gz)
	if err != nil {
		return nil, err
	}
	br := r.(*bufio.Reader)
	head, _ := br.Peek(512)
	if len(head) < 512 || !bytes.Equal(head[257:262], []byte("ustar")) {
		return nil, fmt.Errorf("cifar: %s: not a tar archive, tar.gz archive or dataset directory", p)
	}
	ds, err := loadTarStream(p, tar.NewReader(br), budget)
	if errors.Is(err, errImageFolder) {
		return loadImageFolderTar(p)
	}
	return ds, err
}

// loadTarStream reads an official python or binary archive in one pass.
func loadTarStream(p string, tr *tar.Reader, budget *tarBudget) (*Dataset, error) {
	l := newSplitLoader()
	format := ""
	seen := map[string]bool{} // batch base names already read
	setFormat := func(f, name string) error {
		if format != "" && format != f {
			return fmt.Errorf("cifar: %s: %s: archive mixes the python and binary formats", p, name)
		}
		format = f
		base := path.Base(name)
		if seen[base] {
			return fmt.Errorf("cifar: %s: %s: a second %s in the archive", p, name, base)
		}
		seen[base] = true
		return nil
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cifar: %s: %w", p, err)
		}
		if err := budget.take(hdr); err != nil {
			return nil, err
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		name := path.Clean(hdr.Name)
		where := p + ":" + name
		base := path.Base(name)
		if _, _, ok := imageEntry(name); ok {
			return nil, errImageFolder
		}
		switch {
		case batchIndex(base, "") >= 0:
			if err := setFormat("python", name); err != nil {
				return nil, err
			}
			if err := l.addPython(batchIndex(base, ""), tr, hdr.Size, where); err != nil {
				return nil, err
			}
		case batchIndex(base, ".bin") >= 0:
			if err := setFormat("binary", name); err != nil {
				return nil, err
			}
			if err := l.addBinary(batchIndex(base, ".bin"), tr, hdr.Size, where); err != nil {
				return nil, err
			}
		case base == "batches.meta":
			if l.classes, err = parsePythonMeta(tr, hdr.Size, where); err != nil {
				return nil, err
			}
		case base == "batches.meta.txt":
			if l.classes, err = parseMetaTxt(tr, hdr.Size, where); err != nil {
				return nil, err
			}
		}
	}
	if format == "" {
		return nil, fmt.Errorf("cifar: %s: archive holds no CIFAR-10 batches or image folder", p)
	}
	suffix := ""
	if format == "binary" {
		suffix = ".bin"
	}
	return l.dataset(p, suffix)
}

// imageEntry reports whether name is <...>/train|test/<class>/<file>.{png,jpg,jpeg}.
func imageEntry(name string) (split int, class string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) < 3 || !isImageName(parts[len(parts)-1]) {
		return 0, "", false
	}
	switch parts[len(parts)-3] {
	case "train":
		return 0, parts[len(parts)-2], true
	case "test":
		return 1, parts[len(parts)-2], true
	}
	return 0, "", false
}

func isImageName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}
