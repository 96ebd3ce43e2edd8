package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
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
		skiplog.Skip(t, "numpy cross-checks", "no python3 with numpy (tried $NNKERN_PYTHON, python3, /usr/bin/python3)")
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

// NumPyIO is Python source that tests append to their numpy scripts: mat(line)
// parses a matrix written by EncMat, and out(*arrays) prints each array as
// one line of float.hex values, which ParseFloats reads back exactly.
const NumPyIO = `
def mat(s):
    v = s.split()
    r, c = int(v[0]), int(v[1])
    return np.array([float.fromhex(x) for x in v[2:]]).reshape(r, c)
def out(*xs):
    for x in xs:
        print(' '.join(float(v).hex() for v in np.ravel(x)))
`

// Matrix is what EncMat reads: a blas.Matrix[float64] is one (and a
// gonum mat.Matrix). An interface rather than blas's type keeps this
// package below every package whose tests use it.
type Matrix interface {
	Dims() (rows, cols int)
	At(i, j int) float64
}

// EncMat writes m as one line for NumPyIO's mat: "rows cols" and then every
// element in row-major order as an exact hexadecimal float.
func EncMat(b *bytes.Buffer, m Matrix) {
	rows, cols := m.Dims()
	fmt.Fprintf(b, "%d %d", rows, cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			b.WriteString(" " + strconv.FormatFloat(m.At(i, j), 'x', -1, 64))
		}
	}
	b.WriteByte('\n')
}

// EncInts writes v as one line of space-separated integers.
func EncInts(b *bytes.Buffer, v []int) {
	for i, x := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte('\n')
}

// ParseFloats parses one line printed by NumPyIO's out, failing the test on
// a malformed value.
func ParseFloats(t testing.TB, line string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(line) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("numpy output %q: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}
