package runio

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/testenv"
)

func mkfifo(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	testenv.Mkfifo(t, p)
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
		err := testenv.FIFOReadReturns(t, p, func() error { return read(p) })
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

// FuzzCheckpoint feeds gob payloads, wrapped in the magic and a correct
// checksum (which anyone can compute, so the decoder sees whatever a
// hostile file holds), to UnmarshalCheckpoint. Its allocations stay within
// a multiple of the input (gob writes a float64 in as little as one byte,
// which decodes to eight, and slices grow as they fill) and a constant:
// gob sizes a slice from its declared length, up to 10 MB, before it reads
// the elements (encoding/gob via internal/saferio), and message lengths
// are checked against the payload first (checkGobFraming).
func FuzzCheckpoint(f *testing.F) {
	good, err := MarshalCheckpoint(&Checkpoint{Iteration: 7, LearningRate: 1e-3, RNG: []byte{1, 2, 3}, ConfigDigest: "abc",
		Tensors: []Tensor{{Name: "W", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
			{Name: "b", Shape: []int{2}, Data: []float32{0, 1}}, {Name: "n", Shape: []int{1}, Data: []int64{9}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[len(checkpointMagic) : len(good)-sha256.Size])
	zeros, _ := MarshalCheckpoint(&Checkpoint{Tensors: []Tensor{{Name: "W", Shape: []int{4096}, Data: make([]float64, 4096)}}})
	f.Add(zeros[len(checkpointMagic) : len(zeros)-sha256.Size])
	f.Fuzz(func(t *testing.T, payload []byte) {
		sum := sha256.Sum256(payload)
		data := append(append([]byte(checkpointMagic), payload...), sum[:]...)
		var c *Checkpoint
		var err error
		allocstest.Bound(t, "UnmarshalCheckpoint", 24*uint64(len(data))+11<<20, func() { c, err = UnmarshalCheckpoint(data) })
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		for _, tn := range c.Tensors {
			if n, _ := tn.DataLen(); n != tn.Len() {
				t.Fatalf("accepted tensor %q with %d elements for shape %v", tn.Name, n, tn.Shape)
			}
		}
	})
}

// FuzzMetrics feeds metrics files to the line splitter of ReadMetrics
// (and so of RepairMetrics). It keeps every complete line or refuses the
// file, and allocates at most one slice header per line beyond the file.
func FuzzMetrics(f *testing.F) {
	f.Add([]byte("{\"it\":0,\"loss\":2.3}\n{\"it\":1,\"loss\":2.2}\n{\"it\":2"))
	f.Add([]byte("{}\n{}\n{}\n"))
	f.Add([]byte("{\"a\":[[[[[[[[1]]]]]]]]}\nnot json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var lines [][]byte
		var torn bool
		var err error
		allocstest.Bound(t, "parseMetrics", 16*uint64(len(data))+64<<10, func() { lines, torn, err = parseMetrics("metrics.jsonl", data, 1<<62) })
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		n := 0
		for _, l := range lines {
			if !json.Valid(l) {
				t.Fatalf("returned a line that is not JSON: %q", l)
			}
			n += len(l) + 1
		}
		if want := bytes.Count(data, []byte{'\n'}); len(lines) != want {
			t.Fatalf("%d lines of %d complete ones", len(lines), want)
		}
		if torn != (n < len(data)) {
			t.Fatalf("torn = %v with %d of %d bytes in lines", torn, n, len(data))
		}
	})
}

// A checkpoint's tensor names and whatever gob reports about the stream
// come from the file: errors quote them escaped.
func TestCheckpointErrorsEscape(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;PWNED\a"
	encode := func(v any) []byte {
		var b bytes.Buffer
		b.WriteString(checkpointMagic)
		if err := gob.NewEncoder(&b).Encode(v); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b.Bytes()[len(checkpointMagic):])
		return append(b.Bytes(), sum[:]...)
	}
	// A tensor whose data does not fill its shape.
	bad := encode(&gobCheckpoint{Tensors: []gobTensor{{Name: hostile, Shape: []int{3}, F64: []float64{1}}}})
	// A stream of another type whose field has the name gob matches on.
	type other struct{ Tensors map[string]int }
	wrong := encode(&other{Tensors: map[string]int{hostile: 1}})
	for name, data := range map[string][]byte{"short tensor": bad, "other type": wrong} {
		_, err := UnmarshalCheckpoint(data)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if strings.ContainsAny(err.Error(), "\x1b\a") {
			t.Errorf("%s: raw control bytes in %q", name, err)
		}
	}
}

// A metrics file of many short lines is refused when the file and the
// slice headers of its lines together exceed the load budget, before the
// headers are made: "{}\n" lines take 3 bytes in the file and 27 in memory.
func TestMetricsLinesCountedAgainstBudget(t *testing.T) {
	t.Setenv(loadlimit.EnvVar, "1MiB")
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	if err := os.WriteFile(p, bytes.Repeat([]byte("{}\n"), 300_000), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	const bound = 2 << 20 // the 900 KB file and a little
	if n := allocstest.Bytes(bound, func() { _, _, err = ReadMetrics(p) }); n > bound {
		t.Errorf("ReadMetrics of 300,000 short lines allocated %d bytes (bound %d)", n, bound)
	}
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), loadlimit.EnvVar) {
		t.Errorf("got %v, want an error naming the file and %s", err, loadlimit.EnvVar)
	}
}
