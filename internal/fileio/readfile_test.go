package fileio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/testenv"
)

// ReadFileLimit returns a file of at most limit bytes whole, and refuses a
// larger one, a FIFO or a directory before reading, naming the limit (and
// NNKERN_LOAD_LIMIT when the load budget is the limit).
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	data := []byte(strings.Repeat("0123456789", 100))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFileLimit(p, 1000); err != nil || string(b) != string(data) {
		t.Fatalf("ReadFileLimit(1000 bytes, limit 1000) = %d bytes, %v", len(b), err)
	}
	if _, err := ReadFileLimit(p, 999); err == nil || !strings.Contains(err.Error(), "1000 bytes, more than the 999") || strings.Contains(err.Error(), loadlimit.EnvVar) {
		t.Errorf("limit 999: %v", err)
	}
	t.Setenv(loadlimit.EnvVar, "512")
	if _, err := ReadFileLimit(p, 0); err == nil || !strings.Contains(err.Error(), "more than the 512") || !strings.Contains(err.Error(), loadlimit.EnvVar) {
		t.Errorf("budget 512: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	testenv.Mkfifo(t, fifo)
	err := testenv.FIFOReadReturns(t, fifo, func() error { _, err := ReadFileLimit(fifo, 0); return err })
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := ReadFileLimit(dir, 0); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
}
