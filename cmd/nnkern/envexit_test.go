package main

import (
	"strings"
	"testing"
)

// TestBadEnvExits2 runs nnkern with a bad value of each NNKERN_* variable
// the library reads, alone and all at once: every run exits 2 before the
// command runs, with one line naming each bad variable (kernels.EnvError
// is the one check), and nothing on stdout.
func TestBadEnvExits2(t *testing.T) {
	dir := t.TempDir()
	bad := []string{"NNKERN_ISA=bogus", "NNKERN_BLAS=nope", "NNKERN_POOL_SPIN=fast", "NNKERN_LOAD_LIMIT=lots"}
	for _, env := range append([][]string{bad}, [][]string{{bad[0]}, {bad[1]}, {bad[2]}, {bad[3]}}...) {
		r := nnkern(t, dir, env, "cpuinfo")
		checkOneLine(t, r, 2, "", env)
		for _, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			if !strings.Contains(r.stderr, name) {
				t.Errorf("%v: stderr %q does not name %s", env, r.stderr, name)
			}
		}
		if r.stdout != "" {
			t.Errorf("%v: the command ran (stdout %q)", env, r.stdout)
		}
	}
}
