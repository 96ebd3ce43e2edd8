package cifar

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/nnkern/nnkern/internal/loadlimit"
)

// LoadOptions.MaxBytes wins over NNKERN_LOAD_LIMIT, in both directions.
func TestLoadWithMaxBytes(t *testing.T) {
	ds := randomDataset(31, 50, 10)
	dir := t.TempDir()
	if err := WriteBinaryDir(dir, ds); err != nil {
		t.Fatal(err)
	}
	t.Setenv(loadlimit.EnvVar, "1K")
	_, err := Load(dir)
	wantErr(t, err, "data_batch_1.bin", "10 records per batch, 5 batches", "1024-byte load limit", loadlimit.EnvVar)
	got, err := LoadWith(dir, LoadOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, got, ds)
	t.Setenv(loadlimit.EnvVar, "")
	_, err = LoadWith(dir, LoadOptions{MaxBytes: 200_000})
	wantErr(t, err, "test_batch.bin", "200000-byte load limit", "in use")
	t.Setenv(loadlimit.EnvVar, "lots")
	_, err = Load(dir)
	wantErr(t, err, loadlimit.EnvVar, "lots")
}

// LoadFS reads every layout from an fs.FS.
func TestLoadFS(t *testing.T) {
	ds := randomDataset(32, 23, 4)
	root := t.TempDir()
	if err := WriteBinaryDir(filepath.Join(root, "cifar-10-batches-bin"), ds); err != nil {
		t.Fatal(err)
	}
	if err := WritePythonDir(filepath.Join(root, "py"), ds); err != nil {
		t.Fatal(err)
	}
	arc, _ := os.ReadFile(tarDir(t, filepath.Join(root, "py"), "cifar-10-batches-py", true))
	os.WriteFile(filepath.Join(root, "py.tar.gz"), arc, 0o644)
	folder := filepath.Join(root, "folder")
	want := makeFolder(t, folder, []string{"a", "b"}, 2, 1, 3, 4)
	mfs := fstest.MapFS{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			b, _ := os.ReadFile(p)
			mfs[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b, Mode: 0o644}
		}
		return err
	})
	for _, name := range []string{".", "cifar-10-batches-bin", "py", "py.tar.gz"} {
		got, err := LoadFS(mfs, name, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		equalDataset(t, got, ds)
	}
	got, err := LoadFS(mfs, "folder", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, got, want)
	for _, bad := range []string{"/abs", "../up", "nope"} {
		_, err := LoadFS(mfs, bad, LoadOptions{})
		wantErr(t, err, bad)
	}
	// A FIFO in an fs.FS is refused like one on disk.
	mfs["fifo/data_batch_1.bin"] = &fstest.MapFile{Mode: os.ModeNamedPipe}
	_, err = LoadFS(mfs, "fifo", LoadOptions{})
	wantErr(t, err, "fifo/data_batch_1.bin", "not a regular file")
}

// A single batch file loads as one split, with the class names beside it
// or CIFAR-10's.
func TestLoadBatchFile(t *testing.T) {
	ds := randomDataset(33, 12, 5)
	for _, format := range []string{"bin", "py"} {
		dir := t.TempDir()
		suffix, meta := "", "batches.meta"
		var err error
		if format == "bin" {
			suffix, meta = ".bin", "batches.meta.txt"
			err = WriteBinaryDir(dir, ds)
		} else {
			err = WritePythonDir(dir, ds)
		}
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, meta), nil, 0o644) // replaced below
		if format == "bin" {
			os.WriteFile(filepath.Join(dir, meta), []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"), 0o644)
		} else {
			var b bytes.Buffer
			writePythonMeta(&b, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, 3)
			os.WriteFile(filepath.Join(dir, meta), b.Bytes(), 0o644)
		}
		got, err := Load(filepath.Join(dir, "data_batch_2"+suffix))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		wantTrain := ds.Train.Slice(3, 6)
		equalSplit(t, format+" data_batch_2", &got.Train, &wantTrain)
		if got.Test.N != 0 || got.ClassNames[0] != "a" {
			t.Fatalf("%s: test N %d, classes %v", format, got.Test.N, got.ClassNames)
		}
		os.Remove(filepath.Join(dir, meta))
		got, err = Load(filepath.Join(dir, "test_batch"+suffix))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		equalSplit(t, format+" test_batch", &got.Test, &ds.Test)
		if got.Train.N != 0 || got.ClassNames[9] != "truck" {
			t.Fatalf("%s: train N %d, classes %v", format, got.Train.N, got.ClassNames)
		}
	}
	junk := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(junk, []byte("hello"), 0o644)
	_, err := Load(junk)
	wantErr(t, err, junk, "not a tar archive")
	// Only a batch's name tells a binary batch: another file of 3073·k
	// bytes (or a pickle of another name) is not taken for one.
	for _, name := range []string{"weights.bin", "model.pkl"} {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, append([]byte{0x80}, make([]byte, 2*binaryRecord-1)...), 0o644)
		_, err = Load(p)
		wantErr(t, err, p, "not a tar archive", "data_batch_N or test_batch")
	}
}

// An archive whose size and md5 are an official one's must hold 10,000
// records per batch (the check is exercised by registering a generated
// archive as official).
func TestOfficialArchiveBatchSizes(t *testing.T) {
	dir := t.TempDir()
	if err := WriteBinaryDir(dir, randomDataset(34, 50, 10)); err != nil {
		t.Fatal(err)
	}
	p := tarDir(t, dir, "cifar-10-batches-bin", true)
	b, _ := os.ReadFile(p)
	sum := md5.Sum(b)
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	saved := officialArchives
	defer func() { officialArchives = saved }()
	officialArchives = append(slices.Clone(officialArchives), Archive{"test.tar.gz", "binary", int64(len(b)), hex.EncodeToString(sum[:])})
	_, err := Load(p)
	wantErr(t, err, p, "data_batch_1.bin: 10 records, but the official archive's batches hold 10000 each")
}
