package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// tarEntry is one header (and its content, possibly shorter than Size) of a
// hand-built archive.
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

// rawTar writes entries without tar.Writer's size check, so a header may
// declare more bytes than follow (a truncated or lying archive).
func rawTar(t *testing.T, gz bool, entries ...tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range entries {
		var hb bytes.Buffer
		tw := tar.NewWriter(&hb)
		h := e.hdr
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Flush()            // fails (content missing) after the header blocks are out
		buf.Write(hb.Bytes()) // the header, with any PAX/GNU extension blocks
		buf.Write(e.data)
		if pad := len(e.data) % 512; pad != 0 {
			buf.Write(make([]byte, 512-pad))
		}
	}
	out := buf.Bytes()
	name := "a.tar"
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(out)
		zw.Close()
		out, name = z.Bytes(), "a.tar.gz"
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// heapGrowth runs f and returns how much the total allocated bytes grew.
func heapGrowth(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// pngHeader returns a PNG signature and IHDR chunk declaring a w×h RGB
// image, and nothing else: a few dozen bytes that claim a huge image.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(ihdr))))
	b.Write(chunk)
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
	return b.Bytes()
}

func TestAdversarialArchives(t *testing.T) {
	const limit = 64 << 20 // no case may allocate more than this
	for _, gz := range []bool{false, true} {
		reg := func(name string, size int64, data []byte) tarEntry {
			return tarEntry{tar.Header{Name: name, Size: size, Typeflag: tar.TypeReg}, data}
		}
		cases := []struct {
			name    string
			entries []tarEntry
			want    []string
		}{
			{"huge binary batch", []tarEntry{reg("cifar-10-batches-bin/data_batch_1.bin", 3073*10000*1000, make([]byte, 3073))},
				[]string{"data_batch_1.bin"}},
			{"huge pickle", []tarEntry{reg("cifar-10-batches-py/data_batch_1", 1<<40, []byte("\x80\x02}q\x01(U\x04dataq\x02T\xff\xff\xff\x7f"))},
				[]string{"data_batch_1"}},
			{"huge meta", []tarEntry{reg("cifar-10-batches-bin/batches.meta.txt", 1<<40, []byte("cat\n"))},
				[]string{"batches.meta.txt"}},
			{"huge image", []tarEntry{reg("train/a/1.png", 1<<40, pngHeader(2, 2))},
				[]string{"train/a/1.png"}},
			{"image claims huge size", []tarEntry{reg("train/a/1.png", int64(len(pngHeader(1<<20, 1<<20))), pngHeader(1<<20, 1<<20)), reg("test/a/1.png", int64(len(pngHeader(1<<20, 1<<20))), pngHeader(1<<20, 1<<20))},
				[]string{"train/a/1.png"}},
			{"zero-size image", []tarEntry{reg("train/a/1.png", int64(len(pngHeader(0, 0))), pngHeader(0, 0)), reg("test/a/1.png", int64(len(pngHeader(0, 0))), pngHeader(0, 0))},
				[]string{"train/a/1.png"}},
			{"traversal names only", []tarEntry{reg("../../etc/passwd", 4, []byte("root"))},
				[]string{"a.tar"}},
			{"symlink batch", []tarEntry{{tar.Header{Name: "cifar-10-batches-bin/data_batch_1.bin", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}, nil}},
				[]string{"a.tar"}},
			{"empty archive", nil, []string{"a.tar"}},
			{"duplicate batch", []tarEntry{reg("cifar-10-batches-bin/data_batch_1.bin", 3073, make([]byte, 3073)), reg("other/data_batch_1.bin", 3073, make([]byte, 3073))},
				[]string{"other/data_batch_1.bin", "a second data_batch_1.bin"}},
		}
		for _, c := range cases {
			name := c.name
			if gz {
				name += " gz"
			}
			t.Run(name, func(t *testing.T) {
				p := rawTar(t, gz, c.entries...)
				var err error
				grew := heapGrowth(func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("panic: %v", r)
						}
					}()
					_, err = Load(p)
				})
				t.Logf("err: %v; allocated %d bytes", err, grew)
				wantErr(t, err, append([]string{p}, c.want...)...)
				if grew > limit {
					t.Fatalf("allocated %d bytes for a %s archive", grew, name)
				}
			})
		}
	}
}

func TestAdversarialFolders(t *testing.T) {
	t.Run("image claims huge size", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"train/a/1.png", "test/a/1.png"} {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
			os.WriteFile(filepath.Join(dir, f), pngHeader(1<<20, 1<<20), 0o644)
		}
		var err error
		grew := heapGrowth(func() { _, err = Load(dir) })
		wantErr(t, err, "train/a/1.png")
		if grew > 64<<20 {
			t.Fatalf("allocated %d bytes", grew)
		}
	})
	t.Run("symlinked image", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), image.NewGray(image.Rect(0, 0, 2, 2)))
		writePNG(t, filepath.Join(dir, "test", "a", "1.png"), image.NewGray(image.Rect(0, 0, 2, 2)))
		if err := os.Symlink("/etc/passwd", filepath.Join(dir, "train", "a", "2.png")); err != nil {
			skiplog.Skipf(t, "symlink checks", "cannot create a symlink: %v", err)
		}
		ds, err := Load(dir)
		if err != nil || ds.Train.N != 1 {
			t.Fatalf("a symlink among the images is not skipped: %v", err)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir)
		wantErr(t, err, dir)
	})
}
