package envcheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// guestMain is a program that embeds nnkern as a server would: it imports
// kernels, blas (unused before EnvError: NNKERN_BLAS is read lazily), the
// models and cifar (which link the worker pool and the load limit), asks
// kernels.EnvError once, then computes on the pool anyway.
const guestMain = `package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/softmax"
)

var _ = cifar.LoadFS

func main() {
	err := kernels.EnvError()
	var each interface{ Unwrap() []error }
	n := 0
	if errors.As(err, &each) {
		n = len(each.Unwrap())
	}
	fmt.Printf("%d errors: %v\n", n, err)

	runtime.GOMAXPROCS(2)
	a := blas.NewMatrix[float32](300, 300)
	c := blas.NewMatrix[float32](300, 300)
	blas.Gemm(false, false, 1, a, a, 0, c)
	W := blas.NewMatrix[float32](300, 10)
	loss, _ := softmax.Loss(W, a, make([]int, 300), 0)
	fmt.Printf("loss %.4f\n", loss)
}
`

// TestGuestProgram builds guestMain in a module of its own (a replace of
// nnkern to this tree, no network: GOPROXY=off) and runs it with a bad
// value of every NNKERN_* variable the library reads: it must write
// nothing to stderr, and its one kernels.EnvError call must name all four,
// one wrapped error each. With good values EnvError is nil.
func TestGuestProgram(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		skiplog.Skip(t, "guest program", "no go command in PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module guest\n\ngo 1.26.0\n\nrequire github.com/nnkern/nnkern v0.0.0\n\nreplace github.com/nnkern/nnkern => " + root + "\n"
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(guestMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "guest")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the guest program: %v\n%s", err, out)
	}

	run := func(env ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "NNKERN_ISA=", "NNKERN_BLAS=", "NNKERN_POOL_SPIN=", "NNKERN_LOAD_LIMIT=")
		cmd.Env = append(cmd.Env, env...)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			t.Fatalf("guest program with %v: %v\nstdout:\n%s\nstderr:\n%s", env, err, so.String(), se.String())
		}
		return so.String(), se.String()
	}

	bad := []string{"NNKERN_ISA=bogus", "NNKERN_BLAS=nope", "NNKERN_POOL_SPIN=fast", "NNKERN_LOAD_LIMIT=lots"}
	stdout, stderr := run(bad...)
	if stderr != "" {
		t.Errorf("with %v the guest program's stderr is %q, want nothing", bad, stderr)
	}
	first, _, _ := strings.Cut(stdout, "\n")
	if !strings.HasPrefix(first, "4 errors: ") {
		t.Errorf("with %v kernels.EnvError() gives %q, want 4 errors", bad, first)
	}
	for _, kv := range bad {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.Contains(first, name) || !strings.Contains(first, val) {
			t.Errorf("kernels.EnvError() = %q does not name %s and its value %q", first, name, val)
		}
	}
	if !strings.Contains(stdout, "\nloss ") {
		t.Errorf("the guest program did not compute after EnvError:\n%s", stdout)
	}

	good := []string{"NNKERN_ISA=generic", "NNKERN_BLAS=gonum", "NNKERN_POOL_SPIN=0", "NNKERN_LOAD_LIMIT=1GiB"}
	if stdout, stderr := run(good...); !strings.HasPrefix(stdout, "0 errors: <nil>\n") || stderr != "" {
		t.Errorf("with %v: stdout %q, stderr %q; want EnvError nil and no stderr", good, stdout, stderr)
	}
}
