// Package runio holds the file formats of an nnkern run directory and the
// crash-safe ways they are written: atomic files (temp file, fsync, rename,
// directory fsync), an append-only metrics.jsonl that never keeps a torn
// line, checksummed checkpoints, and numpy-loadable model.npz archives.
//
// Usage:
//
//	err := runio.WriteFileAtomic("run/config.json", data, 0o644)
//	m, err := runio.OpenMetrics("run/metrics.jsonl")
//	m.Add(map[string]any{"it": 10, "loss": 2.3})
//	err = m.Sync() // one write(2) of whole lines, then fsync
package runio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path so that a reader (or a crash) sees
// either the old file or the complete new one: it writes a temporary file in
// the same directory, fsyncs it, renames it over path and fsyncs the
// directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for content produced by a function. If fill
// returns an error nothing at path changes and the temporary file is removed.
func WriteAtomic(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var buf bytes.Buffer
	if err = fill(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir fsyncs a directory so a rename in it is durable. Errors are
// ignored: some file systems do not support it and the rename has happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// CheckWritableDir creates dir (and parents) if needed and verifies that a
// file can be created in it, so a run fails before training, not after.
func CheckWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".nnkern-probe*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}
