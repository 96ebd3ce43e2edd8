package cifar

// The container layer below the format readers: gzip, tar, and the checks
// that apply to every member whatever format it holds (sizes bounded by
// the archive, only regular files as data, the gzip CRC read to the end).

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"slices"

	"github.com/nnkern/nnkern/internal/loadlimit"
)

// Archive is one of the official CIFAR-10 archives.
type Archive struct {
	File    string // the name on the official site
	Variant string // "python" or "binary"
	Size    int64  // bytes
	MD5     string // hex digest
}

// officialArchives are the two official CIFAR-10 archives. An archive with
// one's size and md5 holds exactly five training batches and a test batch
// of 10,000 records each.
var officialArchives = []Archive{
	{"cifar-10-python.tar.gz", "python", 170498071, "c58f30108f718f92721af3b95e74349a"},
	{"cifar-10-binary.tar.gz", "binary", 170052171, "c32a1d4ab5d03f1284b67883e8d87530"},
}

// OfficialArchives returns the official CIFAR-10 archives with their
// published sizes and md5 sums (the one table the loader, the downloader
// and `nnkern data info` check against).
func OfficialArchives() []Archive { return slices.Clone(officialArchives) }

const officialBatch = 10000

// isGzip reports whether b starts with the gzip magic.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// isTar reports whether b starts with a ustar header block.
func isTar(b []byte) bool { return len(b) >= 512 && bytes.Equal(b[257:262], []byte("ustar")) }

// stream is a file's bytes, decompressed when the file is gzipped. Read it
// with r; finish reads what is left to the end, which is what makes gzip
// verify its trailer (CRC-32 and length): a reader that stops at the end
// of its content, as tar does, would otherwise never notice a corrupt
// stream.
type stream struct {
	name string
	size int64 // of the file on disk
	r    *bufio.Reader
	gz   bool
	f    fs.File
	sum  hash.Hash // md5 of the file's bytes, when asked for
}

// openMaybeGzip opens the regular file p of src and returns its
// (decompressed) stream; withMD5 also hashes the file's bytes.
func (s *loadSrc) openMaybeGzip(p string, withMD5 bool) (*stream, error) {
	f, size, err := s.openRegular(p)
	if err != nil {
		return nil, err
	}
	st := &stream{name: p, size: size, f: f}
	var raw io.Reader = f
	if withMD5 {
		st.sum = md5.New()
		raw = io.TeeReader(f, st.sum)
	}
	br := bufio.NewReaderSize(raw, 1<<16)
	if magic, _ := br.Peek(2); isGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cifar: %s: %w", p, err)
		}
		st.gz = true
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	st.r = br
	return st, nil
}

// finish reads the stream to its end, which verifies a gzip trailer.
func (st *stream) finish() error {
	if _, err := io.Copy(io.Discard, st.r); err != nil {
		return fmt.Errorf("cifar: %s: %w", st.name, err)
	}
	return nil
}

// md5 returns the hex md5 of the file after finish, or "".
func (st *stream) md5() string {
	if st.sum == nil {
		return ""
	}
	return hex.EncodeToString(st.sum.Sum(nil))
}

func (st *stream) close() error { return st.f.Close() }

// isOfficialSize reports whether a file of size bytes may be an official
// archive (then its md5 is worth computing).
func isOfficialSize(size int64) bool {
	for _, a := range officialArchives {
		if a.Size == size {
			return true
		}
	}
	return false
}

// isOfficial reports whether size and md5 are an official archive's.
func isOfficial(size int64, sum string) bool {
	for _, a := range officialArchives {
		if a.Size == size && a.MD5 == sum {
			return true
		}
	}
	return false
}

// tarBudget bounds the entry sizes a tar header may declare by what the
// archive file can hold (its size, times loadlimit.DeflateRatio if it is gzipped), so
// a lying or truncated archive cannot make a loader allocate more than a
// fixed multiple of the file's size.
type tarBudget struct {
	p           string
	limit, used int64
}

// newTarBudget returns the budget of an archive file of size bytes.
func newTarBudget(p string, size int64, gz bool) *tarBudget {
	limit := size
	if gz {
		limit = size*loadlimit.DeflateRatio + 1<<16
	}
	return &tarBudget{p: p, limit: limit}
}

// take accounts for the size hdr declares; it fails if the archive cannot
// hold that many more bytes.
func (b *tarBudget) take(hdr *tar.Header) error {
	if hdr.Size < 0 || hdr.Size > b.limit-b.used {
		return fmt.Errorf("cifar: %s: %s: entry declares %d bytes, more than the archive (at most %d bytes of content) can hold",
			b.p, esc(hdr.Name), hdr.Size, b.limit)
	}
	b.used += hdr.Size
	return nil
}

// tarPass is one pass over the members of a .tar or .tar.gz archive.
type tarPass struct {
	*stream
	tr     *tar.Reader
	budget *tarBudget
}

// openTar starts a pass over archive p (the file must hold a tar or a
// gzipped tar).
func (s *loadSrc) openTar(p string, withMD5 bool) (*tarPass, error) {
	st, err := s.openMaybeGzip(p, withMD5)
	if err != nil {
		return nil, err
	}
	if head, _ := st.r.Peek(512); !isTar(head) {
		st.close()
		if st.gz {
			return nil, fmt.Errorf("cifar: %s: a gzip file that holds no tar archive", p)
		}
		return nil, fmt.Errorf("cifar: %s: not a tar archive, tar.gz archive, CIFAR-10 batch or dataset directory", p)
	}
	return newTarPass(st), nil
}

// newTarPass starts a pass over the tar archive that st holds.
func newTarPass(st *stream) *tarPass {
	return &tarPass{stream: st, tr: tar.NewReader(st.r), budget: newTarBudget(st.name, st.size, st.gz)}
}

// next returns the next member and its cleaned name, or io.EOF after the
// last one; at io.EOF the rest of the stream has been read (gzip CRC
// verified).
func (t *tarPass) next() (*tar.Header, string, error) {
	hdr, err := t.tr.Next()
	if err == io.EOF {
		if err := t.finish(); err != nil {
			return nil, "", err
		}
		return nil, "", io.EOF
	}
	if err != nil {
		return nil, "", fmt.Errorf("cifar: %s: %w", t.name, err)
	}
	if err := t.budget.take(hdr); err != nil {
		return nil, "", err
	}
	return hdr, path.Clean(hdr.Name), nil
}

// dataMember checks that a member a reader is about to use as data (a
// batch, a class list, an image) is a regular file: a hard or symbolic
// link, a device or a FIFO in its place is an error, not an empty or
// skipped file.
func (t *tarPass) dataMember(hdr *tar.Header, name string) error {
	var what string
	switch hdr.Typeflag {
	case tar.TypeReg, '\x00': // '\x00' is the pre-POSIX regular file
		return nil
	case tar.TypeLink:
		what = "hard link to " + esc(hdr.Linkname)
	case tar.TypeSymlink:
		what = "symbolic link to " + esc(hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		what = "device"
	case tar.TypeFifo:
		what = "FIFO"
	case tar.TypeDir:
		what = "directory"
	default:
		what = fmt.Sprintf("member of type %q", hdr.Typeflag)
	}
	return fmt.Errorf("cifar: %s: %s: a %s in the archive, not a regular file", t.name, esc(name), what)
}
