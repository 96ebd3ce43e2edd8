//go:build linux

package pageguard

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

var sink float64

// TestSlice: the slices have the asked length and are usable up to their
// last element; one element past the end (or before the start) faults.
// The faulting read runs in a child process (this test binary again).
func TestSlice(t *testing.T) {
	if mode := os.Getenv("PAGEGUARD_CHILD"); mode != "" {
		a := New(t)
		x := Slice[float64](a, 10, mode == "end")
		p := &x[:cap(x)][len(x)-1]
		if mode == "end" {
			sink = *(*float64)(unsafeAdd(p, 8)) // one past the end: must fault
		} else {
			sink = *(*float64)(unsafeAdd(&x[0], -8)) // one before the start
		}
		os.Exit(0) // not reached if the guard works
	}
	a := New(t)
	for _, atEnd := range []bool{false, true} {
		x := Slice[float32](a, 1000, atEnd)
		if len(x) != 1000 || cap(x) != 1000 {
			t.Fatalf("len %d cap %d, want 1000", len(x), cap(x))
		}
		for i := range x {
			x[i] = float32(i)
		}
		if x[999] != 999 {
			t.Fatal("last element not stored")
		}
	}
	for _, mode := range []string{"end", "start"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSlice$")
		cmd.Env = append(os.Environ(), "PAGEGUARD_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "fault") {
			t.Errorf("%s: reading past the slice did not fault (%v):\n%s", mode, err, out)
		}
	}
}
