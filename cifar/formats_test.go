package cifar

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// loadEverywhere loads the official-layout directory dir as it is, through
// its parent, and as a .tar and a .tar.gz, and compares each with want.
func loadEverywhere(t *testing.T, dir string, want *Dataset) {
	t.Helper()
	paths := []string{dir, filepath.Dir(dir)}
	for _, gz := range []bool{false, true} {
		paths = append(paths, tarDir(t, dir, filepath.Base(dir), gz))
	}
	for _, p := range paths {
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		equalDataset(t, got, want)
	}
}

func TestPythonDirRoundTrip(t *testing.T) {
	ds := randomDataset(1, 53, 7) // 53 does not divide into 5 batches evenly
	dir := filepath.Join(t.TempDir(), "cifar-10-batches-py")
	if err := WritePythonDir(dir, ds); err != nil {
		t.Fatal(err)
	}
	loadEverywhere(t, dir, ds)
}

func TestBinaryDirRoundTrip(t *testing.T) {
	ds := randomDataset(2, 50, 10)
	dir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
	if err := WriteBinaryDir(dir, ds); err != nil {
		t.Fatal(err)
	}
	loadEverywhere(t, dir, ds)
	// Byte-identical round trip: load, write again, compare every file.
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	dir2 := filepath.Join(t.TempDir(), "again")
	if err := WriteBinaryDir(dir2, got); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"data_batch_1.bin", "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"} {
		a, _ := os.ReadFile(filepath.Join(dir, n))
		b, _ := os.ReadFile(filepath.Join(dir2, n))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s: round trip is not byte-identical (%d vs %d bytes)", n, len(a), len(b))
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "data_batch_1.bin")); st.Size() != 10*binaryRecord {
		t.Fatalf("data_batch_1.bin has %d bytes, want %d", st.Size(), 10*binaryRecord)
	}
}

// TestBinaryLayout checks the record layout against the format description
// directly: label byte, then the red, green and blue planes, row-major.
func TestBinaryLayout(t *testing.T) {
	ds := randomDataset(3, 2, 1)
	var buf bytes.Buffer
	if err := WriteBinary(&buf, &ds.Train); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 2*binaryRecord {
		t.Fatalf("%d bytes", len(b))
	}
	for i := 0; i < 2; i++ {
		rec := b[i*binaryRecord:]
		if rec[0] != ds.Train.Y[i] {
			t.Fatalf("label of record %d", i)
		}
		img := ds.Train.Image(i)
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				for c := 0; c < 3; c++ {
					if rec[1+c*1024+y*32+x] != img[(y*32+x)*3+c] {
						t.Fatalf("record %d pixel (%d,%d,%d)", i, y, x, c)
					}
				}
			}
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	ds := randomDataset(4, 10, 5)
	mk := func(t *testing.T) string {
		dir := t.TempDir()
		if err := WriteBinaryDir(dir, ds); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("size", func(t *testing.T) {
		dir := mk(t)
		f := filepath.Join(dir, "data_batch_3.bin")
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:len(b)-5], 0o644)
		_, err := Load(dir)
		wantErr(t, err, "data_batch_3.bin", "not a multiple of the 3073-byte record")
	})
	t.Run("label", func(t *testing.T) {
		dir := mk(t)
		f := filepath.Join(dir, "test_batch.bin")
		b, _ := os.ReadFile(f)
		b[3*binaryRecord] = 10
		os.WriteFile(f, b, 0o644)
		_, err := Load(dir)
		wantErr(t, err, "test_batch.bin", "record 3", "label 10 >= number of classes 10")
	})
	t.Run("missing", func(t *testing.T) {
		dir := mk(t)
		os.Remove(filepath.Join(dir, "data_batch_4.bin"))
		_, err := Load(dir)
		wantErr(t, err, "data_batch_4.bin")
	})
	t.Run("truncated-tar", func(t *testing.T) {
		dir := mk(t)
		arc := tarDir(t, dir, "cifar-10-batches-bin", false)
		b, _ := os.ReadFile(arc)
		os.WriteFile(arc, b[:1536+4000], 0o644) // meta.txt entry (1024 bytes), then data_batch_1.bin header (512)
		// An uncompressed archive cannot hold the size the header declares:
		// refused before reading.
		_, err := Load(arc)
		wantErr(t, err, "data_batch_1.bin", "entry declares 6146 bytes, more than the archive")
		// A gzipped one could: the records run out.
		gzArc := tarDir(t, dir, "cifar-10-batches-bin", true)
		b, _ = os.ReadFile(gzArc)
		os.WriteFile(gzArc, b[:len(b)/3], 0o644)
		_, err = Load(gzArc)
		wantErr(t, err, "data_batch_", "record ", "truncated")
	})
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	wantErr(t, err, dir, "no dataset found")
	f := filepath.Join(dir, "junk.tar.gz")
	os.WriteFile(f, []byte("hello world"), 0o644)
	_, err = Load(f)
	wantErr(t, err, f)
	_, err = Load(filepath.Join(dir, "nope"))
	wantErr(t, err, "nope")
}

// TestArchiveOrder: batches may come in any order in an archive, and the
// batches may differ in size; the splits still assemble in batch order.
func TestArchiveOrder(t *testing.T) {
	ds := randomDataset(13, 23, 4) // batches of 5,5,5,5,3
	for _, format := range []string{"py", "bin"} {
		dir := t.TempDir()
		var err error
		if format == "py" {
			err = WritePythonDir(dir, ds)
		} else {
			err = WriteBinaryDir(dir, ds)
		}
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := len(entries) - 1; i >= 0; i-- { // reverse order
			b, _ := os.ReadFile(filepath.Join(dir, entries[i].Name()))
			tw.WriteHeader(&tar.Header{Name: "d/" + entries[i].Name(), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
			tw.Write(b)
		}
		tw.Close()
		arc := filepath.Join(t.TempDir(), "x.tar")
		os.WriteFile(arc, buf.Bytes(), 0o644)
		got, err := Load(arc)
		if err != nil {
			t.Fatal(err)
		}
		equalDataset(t, got, ds)
	}
}
