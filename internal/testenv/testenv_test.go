package testenv

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// fakeTB records Fatalf and Skipf and, like the real ones, stops the
// goroutine that calls them (run it with call).
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.fatal = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, a ...any) {
	f.skip = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// call runs fn on its own goroutine and waits for it to return or stop.
func call(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// TestSharedFile: a missing shared file skips the test, and records the
// skip in the skip log (internal/skiplog), unless NNKERN_REQUIRE_SHARED is
// set (as CI sets it), which makes it a failure.
func TestSharedFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NNKERN_SHARED", dir)
	// The fake skips below must not reach make test's skip log.
	skips := filepath.Join(t.TempDir(), "skips")
	t.Setenv(skiplog.EnvVar, skips)
	for _, c := range []struct {
		rel, require      string
		wantFatal, wantSk bool
	}{
		{"present", "", false, false},
		{"present", "1", false, false},
		{"missing", "", false, true},
		{"missing", "1", true, false},
	} {
		t.Setenv("NNKERN_REQUIRE_SHARED", c.require)
		f := &fakeTB{TB: t}
		var p string
		call(func() { p = SharedFile(f, c.rel) })
		if (f.fatal != "") != c.wantFatal || (f.skip != "") != c.wantSk {
			t.Errorf("%s with NNKERN_REQUIRE_SHARED=%q: fatal %q, skip %q", c.rel, c.require, f.fatal, f.skip)
		}
		if want := filepath.Join(dir, c.rel); p != want && !c.wantFatal && !c.wantSk {
			t.Errorf("SharedFile(%q) = %q, want %q", c.rel, p, want)
		}
	}
	b, _ := os.ReadFile(skips)
	if want := "shared data tests\tmissing not found (NNKERN_SHARED)\t" + t.Name() + "\n"; string(b) != want {
		t.Errorf("skip log %q, want %q", b, want)
	}
}

// strided is a rows×cols view with a row stride, as blas.Matrix is.
type strided struct {
	rows, cols, stride int
	data               []float64
}

func (m strided) Dims() (int, int)    { return m.rows, m.cols }
func (m strided) At(i, j int) float64 { return m.data[i*m.stride+j] }

// TestEncMat checks EncMat's line on a strided view: the shape, then the
// view's elements only, in row-major order, each parsing back exactly.
func TestEncMat(t *testing.T) {
	m := strided{rows: 2, cols: 3, stride: 4, data: []float64{0.1, -2, 3e-300, 99, 1.0 / 3, 5, -0.0, 99}}
	var b bytes.Buffer
	EncMat(&b, m)
	line := b.String()
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("EncMat wrote %q, want one line", line)
	}
	f := strings.Fields(line)
	if len(f) != 2+6 || f[0] != "2" || f[1] != "3" {
		t.Fatalf("EncMat wrote %q, want 2 3 and 6 values", line)
	}
	got := ParseFloats(t, strings.Join(f[2:], " "))
	want := []float64{0.1, -2, 3e-300, 1.0 / 3, 5, -0.0}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("value %d: %v, want %v", i, got[i], want[i])
		}
	}
}
