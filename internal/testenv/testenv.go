// Package testenv locates test inputs that live outside the repository,
// such as ../shared/data/cifar10-jpeg.tar.gz beside the project root, and
// runs numpy cross-checks. Both skip the test when what they need is
// missing, unless CI's NNKERN_REQUIRE_SHARED=1 / NNKERN_REQUIRE_NUMPY=1
// turn the skip into a failure:
//
//	p := testenv.SharedFile(t, "data/cifar10-jpeg.tar.gz")
//	out := testenv.NumPy(t, "import numpy as np; print(np.random.RandomState(0).rand())", nil)
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// ModuleRoot returns the directory holding the module's go.mod, found by
// walking up from the working directory, or "" if there is none.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SharedFile returns the path of rel inside the shared directory: the
// directory named by NNKERN_SHARED, else ../shared beside the module root.
// The test is skipped, with the path it looked for, if the file is absent;
// set NNKERN_REQUIRE_SHARED=1 (CI does) to make that a failure instead.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("NNKERN_SHARED")
	if dir == "" {
		root := ModuleRoot()
		if root == "" {
			t.Fatalf("testenv: no go.mod above the working directory")
		}
		dir = filepath.Join(root, "..", "shared")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("NNKERN_REQUIRE_SHARED") != "" {
			t.Fatalf("testenv: %s: %v (NNKERN_REQUIRE_SHARED is set)", p, err)
		}
		t.Logf("testenv: %s not found; set NNKERN_SHARED to the shared directory", p)
		skiplog.Skipf(t, "shared data tests", "%s not found (NNKERN_SHARED)", rel)
	}
	return p
}

// FIFOReadReturns runs f, a read of the FIFO fifo that should refuse it
// without opening it, and fails t if f has not returned after two seconds
// (opening a FIFO waits for a writer forever); the blocked open is then
// released by opening the FIFO for writing. It returns f's error.
func FIFOReadReturns(t testing.TB, fifo string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		// The reader waits in its open, so this one does not block.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatalf("still reading %s after 2 s", fifo)
		return nil
	}
}

// Mkfifo makes a FIFO at path with mkfifo(1), so that the tests using one
// compile on every GOOS; the test is skipped where there is no mkfifo.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	if out, err := exec.Command("mkfifo", path).CombinedOutput(); err != nil {
		t.Logf("mkfifo %s: %v %s", path, err, out)
		skiplog.Skip(t, "FIFO checks", "mkfifo(1) failed")
	}
}
