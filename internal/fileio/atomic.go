// Package fileio holds nnkern's file primitives: crash-safe writes (a
// temporary file in the same directory, fsync, rename, directory fsync)
// and bounded reads of regular files, for the model files the library
// writes and the run directories of the CLI.
//
// Usage:
//
//	err := fileio.WriteFileAtomic("run/config.json", data, 0o644)
//	b, err := fileio.ReadFileLimit("run/config.json", 1<<20)
package fileio

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
