package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/internal/testenv"
)

// The hostile inputs of issue 15 that concern the dataset readers, each
// generated here (small, or with a small NNKERN_LOAD_LIMIT standing in for
// the default one) and each ending in a one-line error that names the file
// and what it declared, within a bounded number of allocated bytes.

// zeroReader yields zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// tarGzOfZeros writes a .tar.gz holding one regular entry name of size
// bytes of zeros (a gzip bomb: about 1 KB per MB) plus the given small
// entries, and returns its path.
func tarGzOfZeros(t *testing.T, name string, size int64, extra ...tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, e := range extra {
		tw.WriteHeader(&e.hdr)
		tw.Write(e.data)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), "bomb.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadBounded loads p and fails the test if that allocates more than limit
// bytes, panics, or takes longer than 20 s (a hang).
func loadBounded(t *testing.T, p string, limit uint64) (*Dataset, error) {
	t.Helper()
	type res struct {
		ds  *Dataset
		err error
	}
	done := make(chan res, 1)
	var grew uint64
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- res{nil, nil}
				t.Errorf("panic: %v", r)
			}
		}()
		var r res
		grew = heapGrowth(func() { r.ds, r.err = Load(p) })
		done <- r
	}()
	select {
	case r := <-done:
		t.Logf("err: %v; allocated %d bytes", r.err, grew)
		if grew > limit {
			t.Fatalf("allocated %d bytes (more than %d)", grew, limit)
		}
		return r.ds, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Load(%s) still running after 20 s", p)
	}
	return nil, nil
}

// Finding 3: a tar.gz bomb within deflate's 1032× ratio. An 8 MiB budget
// stands in for the default 320 MiB (the 896 KB archive holding a
// 900 MB batch is the same with the default).
func TestHostileTarGzBomb(t *testing.T) {
	t.Setenv(loadlimit.EnvVar, "8MiB")
	const records = 10000 // 30.7 MB of zero records in a ~30 KB archive
	p := tarGzOfZeros(t, "cifar-10-batches-bin/data_batch_1.bin", records*binaryRecord)
	st, _ := os.Stat(p)
	t.Logf("archive %d bytes", st.Size())
	_, err := loadBounded(t, p, 12<<20)
	wantErr(t, err, p, "data_batch_1.bin", "10000 records", "8388608-byte load limit", loadlimit.EnvVar)
}

// Finding 4: a gzipped IDX file declaring 2,700,000×28×28 images in 2 MB
// is refused from its header, before any allocation; and one whose zeros
// are really there is refused by a small budget.
func TestHostileIDXGzBomb(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 1))
	train, test := randomSplit(rng, 4, 28, 28, 1, 10), randomSplit(rng, 3, 28, 28, 1, 10)
	dir := t.TempDir()
	writeIDXDir(t, dir, &train, &test, true)
	p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	hdr := []byte{0, 0, 8, 3}
	hdr = binary.BigEndian.AppendUint32(hdr, 2_700_000)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	zw.Write(hdr)
	// 2.1 MB of random bytes: a gzip file large enough to hold the promised
	// 2.1 GB at deflate's best ratio, so only the budget can refuse it.
	noise := make([]byte, 2_100_000)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	zw.Write(noise)
	zw.Close()
	os.WriteFile(p, z.Bytes(), 0o644)
	_, err := loadBounded(t, dir, 16<<20)
	wantErr(t, err, p, "2700000x28x28", "load limit", loadlimit.EnvVar)

	// All the declared bytes present (4000 images of zeros), over an 8 MiB budget.
	t.Setenv(loadlimit.EnvVar, "8MiB")
	hdr = binary.BigEndian.AppendUint32([]byte{0, 0, 8, 3}, 12000)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	z.Reset()
	zw.Reset(&z)
	zw.Write(hdr)
	io.CopyN(zw, zeroReader{}, 12000*28*28)
	zw.Close()
	os.WriteFile(p, z.Bytes(), 0o644)
	_, err = loadBounded(t, dir, 12<<20)
	wantErr(t, err, p, "12000x28x28", "8388608-byte load limit")
}

// onebitPNG returns a 1-bit gray PNG of w×h black pixels: a few KB that
// decode to w*h pixels (the image-folder bomb of finding 5).
func onebitPNG(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		c := append([]byte(typ), data...)
		b.Write(c)
		b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(c)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	chunk("IHDR", append(ihdr, 1, 0, 0, 0, 0)) // bit depth 1, gray
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+(w+7)/8) // filter byte 0, then zero bits
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// Finding 5: 1-bit PNGs whose header dimensions decode to far more than
// the budget are refused from DecodeConfig, before decoding, both from a
// directory and from an archive.
func TestHostilePNGBomb(t *testing.T) {
	t.Setenv(loadlimit.EnvVar, "16MiB")
	png := onebitPNG(3000, 3000) // 27 MB of RGB per image from ~1 KB
	dir := t.TempDir()
	for _, f := range []string{"train/a/1.png", "train/a/2.png", "test/a/1.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), png, 0o644)
	}
	for _, p := range []string{dir, tarDir(t, dir, "set", true)} {
		_, err := loadBounded(t, p, 8<<20)
		wantErr(t, err, p, "1.png", "3 images of 3000x3000", "16777216-byte load limit")
	}
}

// Finding 5, the per-image cap: one image larger than any image an image
// folder may hold is refused whatever the budget.
func TestHostilePNGPixelCap(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train/a/1.png", "test/a/1.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), pngHeader(14000, 14000), 0o644)
	}
	_, err := loadBounded(t, dir, 8<<20)
	wantErr(t, err, "train/a/1.png", "14000x14000", "pixels")
}

// Finding 7a: a FIFO in place of a data file is refused, not opened (the
// open would wait for a writer forever).
func TestHostileFIFO(t *testing.T) {
	for _, name := range []string{"data_batch_1.bin", "batches.meta.txt"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteBinaryDir(dir, randomDataset(5, 10, 2)); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, name)
			os.Remove(p)
			testenv.Mkfifo(t, p)
			// Release a reader blocked in open (the old behaviour) when the test ends.
			defer func() {
				if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			}()
			_, err := loadBounded(t, dir, 8<<20)
			wantErr(t, err, p, "not a regular file")
		})
	}
}

// Findings 7a and 9: tar members that are not regular files may not stand
// in for data members; a hard link named data_batch_1.bin was read as an
// empty batch.
func TestHostileTarLinks(t *testing.T) {
	dir := t.TempDir()
	if err := WriteBinaryDir(dir, randomDataset(6, 10, 2)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ  byte
		what string
	}{{tar.TypeLink, "hard link"}, {tar.TypeSymlink, "symbolic link"}, {tar.TypeChar, "device"}, {tar.TypeFifo, "FIFO"}} {
		var entries []tarEntry
		for _, n := range []string{"data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"} {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			entries = append(entries, tarEntry{tar.Header{Name: "b/" + n, Size: int64(len(b)), Typeflag: tar.TypeReg}, b})
		}
		entries = append(entries, tarEntry{tar.Header{Name: "b/data_batch_1.bin", Linkname: "b/data_batch_2.bin", Typeflag: c.typ}, nil})
		p := rawTar(t, false, entries...)
		_, err := loadBounded(t, p, 8<<20)
		wantErr(t, err, p, "b/data_batch_1.bin", c.what, "not a regular file")
	}
}

// Finding 8a: the gzip trailer's CRC is verified (the tar reader stops at
// the end-of-archive blocks, before the trailer).
func TestHostileGzipCRC(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
	if err := WriteBinaryDir(dir, randomDataset(7, 10, 2)); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []bool{false, true} {
		var p string
		if folder {
			d := t.TempDir()
			makeFolder(t, d, []string{"a", "b"}, 2, 1, 3, 3)
			p = tarDir(t, d, "set", true)
		} else {
			p = tarDir(t, dir, "cifar-10-batches-bin", true)
		}
		b, _ := os.ReadFile(p)
		b[len(b)-8] ^= 0x01 // the CRC-32 of the trailer
		os.WriteFile(p, b, 0o644)
		_, err := loadBounded(t, p, 8<<20)
		wantErr(t, err, p, "checksum")
	}
}

// Finding 8a on the shared archive: one flipped byte in the deflate data of
// cifar10-jpeg.tar.gz (an offset where the stream still decodes, to other
// pixels) is refused.
func TestHostileGzipCRCReal(t *testing.T) {
	src := testenv.SharedFile(t, "data/cifar10-jpeg.tar.gz")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cifar10-jpeg.tar.gz")
	b[flippedOffset] ^= 0x10
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	wantErr(t, err, p, "checksum")
}

// flippedOffset is a byte of the shared archive's deflate data whose flip
// still decodes (checked once with the old reader: it loaded, exit 0).
const flippedOffset = 9_000_000

// Finding 9: short data. Batches hold whole records, none is empty, all of
// data_batch_1's size except that data_batch_5 may be shorter.
func TestHostileShortBatches(t *testing.T) {
	ds := randomDataset(8, 50, 10) // 10 records per training batch
	mk := func(t *testing.T, python bool) string {
		dir := t.TempDir()
		var err error
		if python {
			err = WritePythonDir(dir, ds)
		} else {
			err = WriteBinaryDir(dir, ds)
		}
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("empty data_batch_1.bin", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "data_batch_1.bin")
		os.WriteFile(p, nil, 0o644)
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "no records")
	})
	t.Run("data_batch_1.bin linked to /dev/zero", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "data_batch_1.bin")
		os.Remove(p)
		if err := os.Symlink("/dev/zero", p); err != nil {
			skiplog.Skipf(t, "symlink checks", "symlink: %v", err)
		}
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "not a regular file")
	})
	t.Run("batch cut short", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "data_batch_3.bin")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:5*binaryRecord], 0o644)
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "5 records", "data_batch_1.bin holds 10")
	})
	t.Run("python batch cut short", func(t *testing.T) {
		dir := mk(t, true)
		p := filepath.Join(dir, "data_batch_2")
		sub := ds.Train.Slice(0, 4)
		var b bytes.Buffer
		WritePython(&b, &sub, "short", nil)
		os.WriteFile(p, b.Bytes(), 0o644)
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "4 records", "data_batch_1 holds 10")
	})
	t.Run("empty test batch", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "test_batch.bin")
		os.WriteFile(p, nil, 0o644)
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "no records")
	})
	t.Run("empty last batch", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "data_batch_5.bin")
		os.WriteFile(p, nil, 0o644)
		_, err := loadBounded(t, dir, 8<<20)
		wantErr(t, err, p, "no records")
	})
}

// What WriteBinaryDir and WritePythonDir write loads back for every
// training size, including the small ones whose last batches are empty.
func TestWrittenBatchSizesLoad(t *testing.T) {
	for n := 1; n <= 23; n++ {
		ds := randomDataset(uint64(n), n, 2)
		dir := t.TempDir()
		if err := WriteBinaryDir(dir, ds); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatalf("%d training images: %v", n, err)
		}
		equalDataset(t, got, ds)
	}
}

// Finding 10: IDX dimensions must be positive, bounded, and match the data
// present; (4, 2^31, 2^31) overflowed to zero bytes, (5, 0, 0) loaded.
func TestHostileIDXDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 1))
	train, test := randomSplit(rng, 4, 28, 28, 1, 10), randomSplit(rng, 3, 28, 28, 1, 10)
	for _, c := range []struct {
		dims []uint32
		want string
	}{
		{[]uint32{4, 1 << 31, 1 << 31}, "4x2147483648x2147483648"},
		{[]uint32{5, 0, 0}, "5x0x0"},
		{[]uint32{0, 28, 28}, "0x28x28"},
	} {
		for _, gz := range []bool{false, true} {
			dir := t.TempDir()
			writeIDXDir(t, dir, &train, &test, gz)
			name := "train-images-idx3-ubyte"
			hdr := []byte{0, 0, 8, 3}
			for _, d := range c.dims {
				hdr = binary.BigEndian.AppendUint32(hdr, d)
			}
			if gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(hdr)
				zw.Close()
				hdr, name = z.Bytes(), name+".gz"
			}
			p := filepath.Join(dir, name)
			os.WriteFile(p, hdr, 0o644)
			_, err := loadBounded(t, dir, 8<<20)
			wantErr(t, err, p, c.want)
		}
	}
}

// Finding 16, the tar half: names of tar entries are escaped in errors.
func TestHostileTarNameEscaped(t *testing.T) {
	name := "cifar-10-batches-bin/\x1b]0;PWNED\a\x1b[2J/data_batch_1.bin"
	p := rawTar(t, false, tarEntry{tar.Header{Name: name, Size: 5, Typeflag: tar.TypeReg}, []byte("12345")})
	_, err := loadBounded(t, p, 8<<20)
	wantErr(t, err, p, `\x1b]0;PWNED\x07\x1b[2J/data_batch_1.bin`)
	if strings.ContainsAny(err.Error(), "\x1b\a") {
		t.Fatalf("raw control characters in %q", err)
	}
}
