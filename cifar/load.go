package cifar

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nnkern/nnkern/internal/regfile"
)

// LoadOptions tune a load. The zero value is what Load uses.
type LoadOptions struct {
	// MaxBytes is the memory budget of the load: the most bytes the
	// readers may allocate for what the files declare (pixels, labels,
	// decoding buffers), checked before each allocation. Zero means the
	// NNKERN_LOAD_LIMIT environment variable (bytes, or with a K/M/G,
	// KiB/MiB/GiB suffix) when set, else 320 MiB: room for CIFAR-10 or
	// CIFAR-100 (about 215 MB at the peak), MNIST, or an image folder of
	// about 80,000 32×32 images. A dataset that needs more is refused with
	// an error naming the file, what it declared and the limit; raise the
	// limit for such data.
	MaxBytes int64
}

// Load reads a dataset from path, detecting its format:
//
//   - the python version: cifar-10-python.tar.gz, or an extracted
//     cifar-10-batches-py directory (data_batch_1..5, test_batch, batches.meta);
//   - the binary version: cifar-10-binary.tar.gz, or an extracted
//     cifar-10-batches-bin directory (data_batch_1..5.bin, test_batch.bin,
//     batches.meta.txt);
//   - a directory holding one of those extracted directories;
//   - a single batch file of either version (see below);
//   - an image folder: train/<class>/*.{png,jpg,jpeg} and test/<class>/...,
//     as a directory or a .tar / .tar.gz of one (classes are the sorted
//     folder names of train/; images are decoded in parallel; every image
//     must have the same size; gray images are promoted to RGB);
//   - MNIST-style IDX files: a directory holding train-images-idx3-ubyte,
//     train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
//     t10k-labels-idx1-ubyte, each optionally gzipped (.gz).
//
// The five training batches of the official layouts hold whole records,
// none of them empty, all as many as data_batch_1 except that data_batch_5
// may hold fewer — the layout WriteBinaryDir and WritePythonDir write (for
// fewer than 17 training images they leave the last batches empty, which
// is accepted in exactly that layout); the test batch is not empty. An
// official archive (its size and md5 match the published ones) must hold
// 10,000 records in every batch.
//
// A single batch file (data_batch_N or test_batch of either version: a
// name ending in .bin is read as the binary version, a pickle as the
// python version) loads as a dataset whose Train
// split (Test for test_batch) holds its records and whose other split is
// empty; the class names come from batches.meta or batches.meta.txt
// beside it, or are CIFAR-10's when there is none.
//
// Archives are streamed, never extracted to disk; a gzip stream is read to
// its end so that its CRC is verified. Only regular files are read as data
// (a FIFO, a device, or a link inside an archive is an error). Memory is
// bounded by the load limit (see LoadOptions.MaxBytes). Errors name the
// file and, where it applies, what it declared, the offset or the record.
func Load(path string) (*Dataset, error) { return LoadWith(path, LoadOptions{}) }

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*Dataset, error) {
	return load(osFS{}, path, filepath.Join, filepath.Dir, opts)
}

// LoadFS is Load on a file system: name is a slash-separated path in fsys
// (fs.ValidPath; "." is its root) naming a dataset directory, an archive
// or a batch file. It lets an embedder load from embed.FS, a zip file or
// any other fs.FS.
func LoadFS(fsys fs.FS, name string, opts LoadOptions) (*Dataset, error) {
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("cifar: %q: not a valid fs.FS path", name)
	}
	return load(fsys, name, path.Join, path.Dir, opts)
}

// loadSrc is where a load reads from: the operating system's files (paths
// as given) or an fs.FS (slash-separated names), with the load's budget.
type loadSrc struct {
	fsys   fs.FS
	join   func(elem ...string) string
	dir    func(string) string
	budget *budget
}

// osFS opens operating-system paths as they are (absolute or relative),
// which os.DirFS does not.
type osFS struct{}

func (osFS) Open(name string) (fs.File, error)          { return os.Open(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

func load(fsys fs.FS, p string, join func(...string) string, dir func(string) string, opts LoadOptions) (*Dataset, error) {
	b, err := newBudget(opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	s := &loadSrc{fsys: fsys, join: join, dir: dir, budget: b}
	st, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, pathError(err)
	}
	switch {
	case st.IsDir():
		return s.loadDir(p)
	case st.Mode().IsRegular():
		return s.loadFile(p, st.Size())
	}
	return nil, fmt.Errorf("cifar: %s: not a regular file or directory (%s)", esc(p), regfile.Describe(st.Mode()))
}

// pathError is err for an error message: the path of a *fs.PathError,
// which can end in a name read from a directory listing, escaped, and the
// cause kept for errors.Is.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cifar: %s %s: %w", pe.Op, esc(pe.Path), pe.Err)
	}
	return fmt.Errorf("cifar: %w", err)
}

// openRegular opens p, which must be a regular file (see regfile), and
// returns the file and its size.
func (s *loadSrc) openRegular(p string) (fs.File, int64, error) {
	var f fs.File
	var st fs.FileInfo
	var err error
	if _, isOS := s.fsys.(osFS); isOS {
		f, st, err = regfile.Open(p)
	} else {
		f, st, err = regfile.OpenFS(s.fsys, p)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cifar: %s: %w", esc(p), err)
	}
	return f, st.Size(), nil
}

// checkRegular checks, before any is read, that the batch files (with
// suffix) and the class list of an official-layout directory are regular
// files, so that a FIFO or device among them is refused at once.
func (s *loadSrc) checkRegular(dir, suffix, meta string) error {
	for _, n := range append(batchNames[:], meta) {
		if n != meta {
			n += suffix
		}
		p := s.join(dir, n)
		st, err := fs.Stat(s.fsys, p)
		if err != nil {
			return pathError(err)
		}
		if err := regfile.Check(st.Mode()); err != nil {
			return fmt.Errorf("cifar: %s: %w", esc(p), err)
		}
	}
	return nil
}

// withFile opens the regular file p and calls f with its contents and size.
func (s *loadSrc) withFile(p string, f func(r io.Reader, size int64, name string) error) error {
	fh, size, err := s.openRegular(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	return f(fh, size, p)
}

// loadDir detects the format of a directory from one listing of it and
// hands it to that format's reader.
func (s *loadSrc) loadDir(dir string) (*Dataset, error) {
	list, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		return nil, pathError(err)
	}
	names := make(map[string]fs.DirEntry, len(list))
	for _, e := range list {
		names[e.Name()] = e
	}
	isDir := func(n string) bool {
		e := names[n]
		switch {
		case e == nil:
			return false
		case e.IsDir():
			return true
		case e.Type()&fs.ModeSymlink != 0:
			st, err := fs.Stat(s.fsys, s.join(dir, n))
			return err == nil && st.IsDir()
		}
		return false
	}
	switch {
	case names["data_batch_1"] != nil:
		return s.loadPythonDir(dir)
	case names["data_batch_1.bin"] != nil:
		return s.loadBinaryDir(dir)
	case isDir("cifar-10-batches-py"):
		return s.loadPythonDir(s.join(dir, "cifar-10-batches-py"))
	case isDir("cifar-10-batches-bin"):
		return s.loadBinaryDir(s.join(dir, "cifar-10-batches-bin"))
	case findIDX(names, "train-images-idx3-ubyte") != "":
		return s.loadIDXDir(dir, names)
	case isDir("train"):
		return s.loadImageFolderDir(dir)
	}
	return nil, fmt.Errorf("cifar: %s: no dataset found (want data_batch_1 (python), data_batch_1.bin (binary), "+
		"cifar-10-batches-py/, cifar-10-batches-bin/, train-images-idx3-ubyte[.gz] (IDX) or train/<class>/ (image folder))", dir)
}

// loadFile detects the format of a file from its first bytes: a tar or
// gzipped tar archive, else a single batch.
func (s *loadSrc) loadFile(p string, size int64) (*Dataset, error) {
	st, err := s.openMaybeGzip(p, isOfficialSize(size))
	if err != nil {
		return nil, err
	}
	defer st.close()
	head, _ := st.r.Peek(512)
	switch {
	case isTar(head):
		return s.loadArchive(newTarPass(st))
	case st.gz:
		return nil, fmt.Errorf("cifar: %s: a gzip file that holds no tar archive", p)
	}
	return s.loadBatchFile(st, head)
}

// loadArchive reads an archive in one pass when it holds an official
// dataset; when it holds an image folder that pass lists the images and a
// second one decodes them.
func (s *loadSrc) loadArchive(t *tarPass) (*Dataset, error) {
	p := t.name
	mark := s.budget.used
	l := s.newSplitLoader()
	var images *imageListing // non-nil once the archive turned out to be an image folder
	format := ""
	seen := map[string]bool{} // batch base names already read
	setFormat := func(f, name string) error {
		if format != "" && format != f {
			return fmt.Errorf("cifar: %s: %s: archive mixes the python and binary formats", p, esc(name))
		}
		format = f
		base := path.Base(name)
		if seen[base] {
			return fmt.Errorf("cifar: %s: %s: a second %s in the archive", p, esc(name), esc(base))
		}
		seen[base] = true
		return nil
	}
	for {
		hdr, name, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if split, class, ok := imageEntry(name); ok {
			if images == nil {
				// Batches read so far were other files of an image folder.
				l, s.budget.used = nil, mark
				images = s.newImageListing(p)
			}
			if err := t.dataMember(hdr, name); err != nil {
				return nil, err
			}
			if err := images.addTarMember(t, hdr, name, split, class); err != nil {
				return nil, err
			}
			continue
		}
		if images != nil {
			continue
		}
		base := path.Base(name)
		where := p + ":" + esc(name)
		k, suffix := batchIndex(base, ""), ""
		if k < 0 {
			k, suffix = batchIndex(base, ".bin"), ".bin"
		}
		if k < 0 && base != "batches.meta" && base != "batches.meta.txt" {
			continue
		}
		if err := t.dataMember(hdr, name); err != nil {
			return nil, err
		}
		switch {
		case k >= 0 && suffix == "":
			if err := setFormat("python", name); err != nil {
				return nil, err
			}
			err = l.addPython(k, t.tr, hdr.Size, where)
		case k >= 0:
			if err := setFormat("binary", name); err != nil {
				return nil, err
			}
			err = l.addBinary(k, t.tr, hdr.Size, where)
		case base == "batches.meta":
			l.classes, err = parsePythonMeta(t.tr, hdr.Size, where)
		default:
			l.classes, err = parseMetaTxt(t.tr, hdr.Size, where)
		}
		if err != nil {
			return nil, err
		}
	}
	if images != nil {
		return s.loadImageFolderTar(images)
	}
	if format == "" {
		return nil, fmt.Errorf("cifar: %s: archive holds no CIFAR-10 batches or image folder", p)
	}
	suffix := ""
	if format == "binary" {
		suffix = ".bin"
	}
	return l.dataset(p, suffix, isOfficial(t.size, t.md5()))
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
