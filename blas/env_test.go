package blas

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEnvFirstUse checks, in fresh processes, that NNKERN_BLAS is applied
// whichever entry point the program calls first, and that a program's Use
// is not overridden by it afterwards.
func TestEnvFirstUse(t *testing.T) {
	if first := os.Getenv("NNKERN_BLAS_TEST_FIRST"); first != "" {
		envFirstUseChild(first)
		return
	}
	for _, tc := range []struct{ env, first, want string }{
		{"gonum", "Current", "gonum <nil>"},
		{"gonum", "EnvError", "gonum <nil>"},
		{"gonum", "Use", "native <nil>"}, // Use("native") after the environment
		{"gonum", "Gemm", "gonum <nil>"},
		{"nope", "EnvError", `native NNKERN_BLAS: blas: unknown or not compiled-in backend "nope"`},
		{"nope", "Gemm", `native NNKERN_BLAS: blas: unknown or not compiled-in backend "nope"`},
		{"", "Current", "native <nil>"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvFirstUse$")
		cmd.Env = append(os.Environ(), "NNKERN_BLAS="+tc.env, "NNKERN_BLAS_TEST_FIRST="+tc.first)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("NNKERN_BLAS=%s, %s first: %v\n%s", tc.env, tc.first, err, out)
		}
		got, _, _ := strings.Cut(string(out), "\n")
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("NNKERN_BLAS=%s, %s first: got %q, want it to start with %q", tc.env, tc.first, got, tc.want)
		}
	}
}

// envFirstUseChild calls the entry point first first, then prints the
// selected backend and EnvError on one line.
func envFirstUseChild(first string) {
	switch first {
	case "Current":
		Current()
	case "EnvError":
		EnvError()
	case "Use":
		if err := Use("native"); err != nil {
			os.Stdout.WriteString("Use: " + err.Error() + "\n")
			os.Exit(1)
		}
	case "Gemm":
		a := NewMatrix[float32](2, 2)
		Gemm(false, false, 1, a, a.Clone(), 0, NewMatrix[float32](2, 2))
	}
	err := EnvError()
	os.Stdout.WriteString(Current() + " " + errString(err) + "\n")
	os.Exit(0)
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
