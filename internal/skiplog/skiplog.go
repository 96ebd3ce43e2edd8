// Package skiplog records why tests were skipped, so that a whole test run
// (make test: several go test invocations, each running many test binaries
// in parallel) can end with one line naming every group of tests that did
// not run and why.
//
//	if py == "" {
//		skiplog.Skip(t, "numpy cross-checks", "no python3 with numpy")
//	}
//
// Skip appends one line to the file named by the environment variable
// NNKERN_SKIP_LOG (when it is set and not empty) and then skips the test
// with t.Skipf("group: reason"). Without NNKERN_SKIP_LOG it is just
// t.Skipf. The line is
//
//	group<TAB>reason<TAB>test name<NEWLINE>
//
// (tabs and newlines inside the fields are replaced by spaces), written
// with one write(2) on a file opened with O_APPEND, so concurrent test
// processes never interleave their lines. scripts/skip-summary.sh turns
// the file into the summary line ("skipped: numpy cross-checks (no python3
// with numpy; 14 tests)"). If the line cannot be written the test fails
// (t.Errorf) before it is skipped, so that a skip is never hidden from the
// summary.
//
// Use a short group that names what is not being checked ("numpy
// cross-checks", "isa=avx512 subtests") and a short reason ("CPU lacks
// AVX-512"); put longer details in the test log with t.Log before calling
// Skip, since every distinct reason appears in the summary.
//
// The package imports only the standard library, so that every package's
// tests can use it, package kernels' included.
package skiplog

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// EnvVar is the environment variable naming the skip log file.
const EnvVar = "NNKERN_SKIP_LOG"

// Skip records group and reason in the skip log (see the package
// documentation) and skips the test with t.Skipf("%s: %s", group, reason).
func Skip(t testing.TB, group, reason string) {
	t.Helper()
	if err := Record(group, reason, t.Name()); err != nil {
		t.Errorf("skiplog: %v (the skip below would be missing from the summary)", err)
	}
	t.Skipf("%s: %s", group, reason)
}

// Skipf is Skip with the reason formatted by fmt.Sprintf(format, args...).
func Skipf(t testing.TB, group, format string, args ...any) {
	t.Helper()
	Skip(t, group, fmt.Sprintf(format, args...))
}

// Record appends "group<TAB>reason<TAB>test" to the skip log without
// skipping anything: for a test that leaves out part of its work (a level
// it cannot run, say) and carries on. It does nothing and returns nil when
// NNKERN_SKIP_LOG is unset or empty.
func Record(group, reason, test string) error {
	path := os.Getenv(EnvVar)
	if path == "" {
		return nil
	}
	line := clean(group) + "\t" + clean(reason) + "\t" + clean(test) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	// One write of a short line on an O_APPEND file: the kernel appends
	// it atomically with respect to other appenders.
	_, err = f.Write([]byte(line))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s=%s: %v", EnvVar, path, err)
	}
	return nil
}

// clean makes s one field of one line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
