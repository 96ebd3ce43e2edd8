package mnist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The paths in Dir's errors come from environment variables and the go
// command's environment file, which anyone who can set them chooses: the
// errors escape them, so a path cannot clear the terminal or set its title.
func TestDirEscapesPaths(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;PWNED\a"
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{"GOMODCACHE", func(t *testing.T, root string) {
			t.Setenv("GOMODCACHE", filepath.Join(root, hostile))
		}},
		{"GOPATH", func(t *testing.T, root string) {
			t.Setenv("GOPATH", filepath.Join(root, hostile))
		}},
		{"GOMODCACHE in GOENV file", func(t *testing.T, root string) {
			p := filepath.Join(root, hostile+"env")
			if err := os.WriteFile(p, []byte("GOMODCACHE="+filepath.Join(root, hostile)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GOENV", p)
		}},
		{"unreadable GOENV file", func(t *testing.T, root string) {
			p := filepath.Join(root, hostile+"env")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GOENV", p)
		}},
		{"relative GOMODCACHE", func(t *testing.T, root string) {
			t.Setenv("GOMODCACHE", hostile)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, _ := isolate(t)
			c.setup(t, root)
			_, err := Dir(context.Background())
			if err == nil || !strings.Contains(err.Error(), "PWNED") {
				t.Fatalf("got %v, want an error naming the path", err)
			}
			if strings.ContainsAny(err.Error(), "\x1b\a") {
				t.Fatalf("raw control bytes in %q", err)
			}
		})
	}
}
