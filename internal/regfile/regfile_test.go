package regfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nnkern/nnkern/internal/testenv"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, st, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "abc" || st.Size() != 3 {
		t.Errorf("Open(regular file): %q, size %d", b, st.Size())
	}
	fifo := filepath.Join(dir, "fifo")
	testenv.Mkfifo(t, fifo)
	for _, c := range []struct{ path, want string }{
		{dir, "not a regular file (a directory)"},
		{fifo, "not a regular file (a named pipe)"},
		{"/dev/null", "not a regular file (a character device)"},
		{filepath.Join(dir, "missing"), "no such file"},
	} {
		done := make(chan error, 1)
		go func() {
			f, _, err := Open(c.path)
			if f != nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			// The caller names the file: the error does not.
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), c.path) {
				t.Errorf("Open(%s) = %v, want an error with %q and without the path", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) still blocked after 5 s", c.path)
		}
	}
}

func TestOpenFS(t *testing.T) {
	fsys := fstest.MapFS{
		"a/f":    {Data: []byte("abc")},
		"a/fifo": {Mode: fs.ModeNamedPipe},
		"a/dev":  {Mode: fs.ModeDevice | fs.ModeCharDevice},
	}
	f, st, err := OpenFS(fsys, "a/f")
	if err != nil || st.Size() != 3 {
		t.Fatalf("OpenFS(a/f) = %v, %v", st, err)
	}
	f.Close()
	for name, want := range map[string]string{"a/fifo": "(a named pipe)", "a/dev": "(a character device)", "a": "(a directory)"} {
		if _, _, err := OpenFS(fsys, name); err == nil || !strings.Contains(err.Error(), "not a regular file "+want) {
			t.Errorf("OpenFS(%s) = %v, want %q", name, err, want)
		}
	}
}
