package runio

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/loadlimit"
)

// withinTime runs f and fails t if it has not returned after two seconds
// (a reader that opens a FIFO waits for a writer forever). The blocked
// open is released by opening the FIFO for writing.
func withinTime(t *testing.T, fifo string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatalf("still reading %s after 2 s", fifo)
		return nil
	}
}

func mkfifo(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

// A FIFO planted as a run's checkpoint or metrics file is refused in one
// line naming it, not waited on.
func TestRunFilesFIFO(t *testing.T) {
	for name, read := range map[string]func(p string) error{
		"checkpoint.gob": func(p string) error { _, err := LoadCheckpoint(p); return err },
		"metrics.jsonl":  func(p string) error { _, _, err := ReadMetrics(p); return err },
		"sweep.jsonl":    func(p string) error { _, err := RepairMetrics(p, nil); return err },
	} {
		p := mkfifo(t, name)
		err := withinTime(t, p, func() error { return read(p) })
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "named pipe") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line error naming the file and the named pipe", name, err)
		}
	}
}

// A run file larger than the load budget is refused before it is read,
// with an error naming the file, its size and the limit.
func TestRunFilesOverBudget(t *testing.T) {
	t.Setenv(loadlimit.EnvVar, "64KiB")
	dir := t.TempDir()
	ck, err := MarshalCheckpoint(&Checkpoint{Tensors: []Tensor{{Name: "W", Shape: []int{20000}, Data: make([]float64, 20000)}}})
	if err != nil {
		t.Fatal(err)
	}
	line := `{"it":1,"loss":2.5}` + "\n"
	for name, c := range map[string]struct {
		data []byte
		read func(p string) error
	}{
		"checkpoint.gob": {append(ck, make([]byte, 100<<10)...), func(p string) error { _, err := LoadCheckpoint(p); return err }},
		"metrics.jsonl":  {[]byte(strings.Repeat(line, 5000)), func(p string) error { _, _, err := ReadMetrics(p); return err }},
		"sweep.jsonl":    {[]byte(strings.Repeat(line, 5000) + "{"), func(p string) error { _, err := RepairMetrics(p, nil); return err }},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := c.read(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), loadlimit.EnvVar) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line error naming the file and %s", name, err, loadlimit.EnvVar)
		}
	}
}
