package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomicReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	for _, s := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(p)
	if string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	failErr := errors.New("boom")
	err := WriteAtomic(p, 0o644, func(w io.Writer) error { w.Write([]byte("partial")); return failErr })
	if !errors.Is(err, failErr) {
		t.Fatalf("err = %v", err)
	}
	b, _ = os.ReadFile(p)
	if string(b) != "two" {
		t.Fatalf("failed write damaged the file: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}
