package skiplog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestSkipRecordsAndSkips: Skip appends one line naming the group, the
// reason and the test, and skips the test.
func TestSkipRecordsAndSkips(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips")
	t.Setenv(EnvVar, log)
	var sub *testing.T
	t.Run("inner", func(t *testing.T) {
		sub = t
		Skip(t, "numpy\tcross-checks", "no python3\nwith numpy")
		t.Error("Skip returned")
	})
	if !sub.Skipped() {
		t.Errorf("the subtest was not skipped")
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "numpy cross-checks\tno python3 with numpy\tTestSkipRecordsAndSkips/inner\n"
	if string(b) != want {
		t.Errorf("log = %q, want %q", b, want)
	}
}

// TestRecordUnset: without NNKERN_SKIP_LOG nothing is written anywhere.
func TestRecordUnset(t *testing.T) {
	t.Setenv(EnvVar, "")
	if err := Record("g", "r", "t"); err != nil {
		t.Fatal(err)
	}
}

// TestRecordConcurrent: lines appended from many goroutines (standing in
// for test processes) come out whole.
func TestRecordConcurrent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips")
	t.Setenv(EnvVar, log)
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Record(fmt.Sprintf("group %d", i), strings.Repeat("r", 200), "T"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	sort.Strings(lines)
	for _, l := range lines {
		if f := strings.Split(l, "\t"); len(f) != 3 || !strings.HasPrefix(f[0], "group ") || len(f[1]) != 200 || f[2] != "T" {
			t.Errorf("malformed line %q", l)
		}
	}
}

// fakeTB records Errorf and Skipf; Skipf stops the goroutine like the real one.
type fakeTB struct {
	testing.TB
	errors, skip string
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return "Fake" }
func (f *fakeTB) Errorf(format string, a ...any) {
	f.errors += fmt.Sprintf(format, a...)
}
func (f *fakeTB) Skipf(format string, a ...any) {
	f.skip = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// TestSkipUnwritableFails: a skip that cannot be logged fails the test
// instead of silently leaving the summary incomplete.
func TestSkipUnwritableFails(t *testing.T) {
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "no-such-dir", "skips"))
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Skip(f, "g", "r")
	}()
	<-done
	if f.errors == "" {
		t.Errorf("no error reported for an unwritable log")
	}
	if f.skip != "g: r" {
		t.Errorf("skip message %q, want %q", f.skip, "g: r")
	}
}
