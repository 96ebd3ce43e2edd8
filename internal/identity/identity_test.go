package identity_test

import (
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/identity"
	"github.com/nnkern/nnkern/kernels"
)

// TestIdentity runs the suite (identity.TestSuite over Components()) after
// checking that every kernel of package kernels has a component.
func TestIdentity(t *testing.T) {
	names := identity.Names()
	covered := map[string]bool{}
	for _, n := range names {
		if f := strings.Split(n, "/"); f[0] == "kernels" {
			covered[f[1]] = true
		}
	}
	for _, k := range kernels.Kernels() {
		if !covered[k] {
			t.Errorf("kernel %s has no identity component (add it to internal/identity)", k)
		}
	}

	identity.TestSuite(t, identity.Components())
}
