package cifar

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNetworkDeps keeps the network out of what a cifar.Load user links
// (downloading lives in cifar/download): net/http and crypto/tls alone
// more than doubled the size of a program that only loads data.
func TestNoNetworkDeps(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to list the dependencies")
	}
	out, err := exec.Command(gotool, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %q", deps)
	}
	for _, d := range deps {
		if d == "net/http" || d == "crypto/tls" {
			t.Errorf("package cifar depends on %s", d)
		}
	}
}
