package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
)

var (
	pythonOnce sync.Once
	pythonPath string
)

// findNumPy returns the first python3 that can import numpy: $NNKERN_PYTHON,
// then python3 on PATH, then /usr/bin/python3.
func findNumPy() string {
	pythonOnce.Do(func() {
		var cands []string
		if p := os.Getenv("NNKERN_PYTHON"); p != "" {
			cands = append(cands, p)
		}
		if p, err := exec.LookPath("python3"); err == nil {
			cands = append(cands, p)
		}
		cands = append(cands, "/usr/bin/python3")
		for _, c := range cands {
			if exec.Command(c, "-c", "import numpy").Run() == nil {
				pythonPath = c
				return
			}
		}
	})
	return pythonPath
}

// Python returns the path of a python3 that can import numpy. The test is
// skipped when there is none; with NNKERN_REQUIRE_NUMPY set (CI sets it)
// that is a failure instead.
func Python(t testing.TB) string {
	t.Helper()
	py := findNumPy()
	if py == "" {
		if os.Getenv("NNKERN_REQUIRE_NUMPY") != "" {
			t.Fatalf("testenv: no python3 with numpy found (NNKERN_REQUIRE_NUMPY is set)")
		}
		t.Skipf("testenv: no python3 with numpy found (tried $NNKERN_PYTHON, python3, /usr/bin/python3); skipping the numpy cross-check")
	}
	return py
}

// NumPy runs the Python script with a python3 that has numpy, passing
// stdin, and returns its standard output. The test is skipped when no such
// python3 exists; set NNKERN_REQUIRE_NUMPY=1 (CI should) to make that a
// failure instead. A failing script fails the test with its stderr.
func NumPy(t testing.TB, script string, stdin []byte) []byte {
	t.Helper()
	py := Python(t)
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: numpy script failed: %v\n%s", err, stderr.String())
	}
	return out
}
