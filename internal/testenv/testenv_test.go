package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
