package mnist

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The error `go mod download -json` reports carries text from the module
// proxy (a server): Dir's error escapes it. A stand-in go command on PATH
// plays the proxy's part.
func TestDirEscapesDownloadError(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = mod ]; then printf '%s\\n' '{\"Error\":\"404 Not Found: \\u001b[2J\\u001b]0;PWNED\\u0007\"}'; exit 1; fi\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	_, err := Dir(context.Background())
	if err == nil || !strings.Contains(err.Error(), "PWNED") {
		t.Fatalf("got %v, want the download error", err)
	}
	if strings.ContainsAny(err.Error(), "\x1b\a") {
		t.Fatalf("raw control bytes in %q", err)
	}
}
