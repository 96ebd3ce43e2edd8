// Package regfile opens the files nnkern reads as data, which must be
// regular files: opening a FIFO waits for a writer, and a device such as
// /dev/zero never ends. The type is checked before the open (Stat) and
// again on the open file, in case the name was replaced in between.
//
//	f, st, err := regfile.Open(path) // or regfile.OpenFS(fsys, name)
//	if err != nil {
//		return fmt.Errorf("model %s: %w", path, err) // errors do not repeat the path
//	}
//	defer f.Close()
package regfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Open opens the operating system's file path for reading if it is a
// regular file, and returns it with its information (the size is the open
// file's). Errors do not repeat path.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, st, err := open(os.Stat, func(n string) (fs.File, error) { return os.Open(n) }, path, true)
	if err != nil {
		return nil, nil, err
	}
	return f.(*os.File), st, nil
}

// OpenFS is Open for the file name of fsys.
func OpenFS(fsys fs.FS, name string) (fs.File, fs.FileInfo, error) {
	return open(func(n string) (fs.FileInfo, error) { return fs.Stat(fsys, n) }, fsys.Open, name, false)
}

// open checks name's type with stat, opens it and checks the open file;
// sameFile says whether os.SameFile can tell whether they are one file
// (it can for the operating system's files only).
func open(stat func(string) (fs.FileInfo, error), openFile func(string) (fs.File, error), name string, sameFile bool) (fs.File, fs.FileInfo, error) {
	st, err := stat(name)
	if err != nil {
		return nil, nil, unwrapPath(err)
	}
	if err := Check(st.Mode()); err != nil {
		return nil, nil, err
	}
	f, err := openFile(name)
	if err != nil {
		return nil, nil, unwrapPath(err)
	}
	st2, err := f.Stat()
	if err == nil && (!st2.Mode().IsRegular() || sameFile && !os.SameFile(st, st2)) {
		err = errors.New("replaced while being opened")
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st2, nil
}

// Check returns nil for a regular file's mode, else an error saying what
// the file is instead: "not a regular file (a named pipe)".
func Check(m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	return fmt.Errorf("not a regular file (%s)", Describe(m))
}

// Describe names the type of a file that is not a regular file: "a
// directory", "a named pipe", "a character device", ...
func Describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	}
	return "mode " + m.String()
}

// unwrapPath drops the operation and path fs.PathError adds (the caller
// names the file).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
