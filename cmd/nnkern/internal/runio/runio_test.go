package runio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/testenv"
)

func TestMetricsRepairDropsTornLineAndFiltered(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	m, err := OpenMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		m.Add(map[string]int{"it": i})
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"it": 5, "lo`) // a torn line
	f.Close()
	lines, torn, err := ReadMetrics(p)
	if err != nil || !torn || len(lines) != 5 {
		t.Fatalf("ReadMetrics: %d lines, torn %v, err %v", len(lines), torn, err)
	}
	n, err := RepairMetrics(p, func(l []byte) bool { return !bytes.Contains(l, []byte(`"it":4`)) })
	if err != nil || n != 2 {
		t.Fatalf("RepairMetrics dropped %d, err %v", n, err)
	}
	b, _ := os.ReadFile(p)
	want := "{\"it\":0}\n{\"it\":1}\n{\"it\":2}\n{\"it\":3}\n"
	if string(b) != want {
		t.Fatalf("after repair %q, want %q", b, want)
	}
	if n, err := RepairMetrics(filepath.Join(t.TempDir(), "none"), nil); n != 0 || err != nil {
		t.Fatalf("missing file: %d %v", n, err)
	}
}

func TestCheckpointRoundTripAndCorruption(t *testing.T) {
	c := &Checkpoint{Iteration: 7, LearningRate: 0.00095, RNG: []byte{1, 2, 3}, ConfigDigest: "abc",
		Tensors: []Tensor{
			{Name: "W1", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
			{Name: "b1", Shape: []int{3}, Data: []float64{0.5, -1, 2}},
			{Name: "e", Shape: []int{0}, Data: []float64{}},
		}}
	b, err := MarshalCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	for _, bad := range [][]byte{b[:len(b)-1], b[:10], append(append([]byte{}, b[:40]...), b[41:]...)} {
		if _, err := UnmarshalCheckpoint(bad); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("corrupt checkpoint (%d bytes): err = %v", len(bad), err)
		}
	}
	flip := append([]byte{}, b...)
	flip[len(flip)/2] ^= 1
	if _, err := UnmarshalCheckpoint(flip); !errors.Is(err, ErrCorruptCheckpoint) {
		t.Errorf("bit flip: err = %v", err)
	}
	if _, err := MarshalCheckpoint(&Checkpoint{Tensors: []Tensor{{Name: "x", Shape: []int{3}, Data: []float32{1}}}}); err == nil {
		t.Error("shape/data mismatch accepted")
	}
}

// TestReadMetricsRefusesDamagedLine: a complete line that is not JSON
// (damage, not a killed write) is an error naming the line; nothing after
// it is dropped silently, and RepairMetrics leaves the file as it was.
func TestReadMetricsRefusesDamagedLine(t *testing.T) {
	for _, bad := range []string{`{"it":2,"loss":1.`, `xx`, ``, `[1]`, `{"it":2}{`} {
		p := filepath.Join(t.TempDir(), "metrics.jsonl")
		content := "{\"it\":0}\n{\"it\":1}\n" + bad + "\n{\"it\":3}\n{\"it\":4}\n"
		os.WriteFile(p, []byte(content), 0o644)
		lines, _, err := ReadMetrics(p)
		var me *MetricsError
		if !errors.As(err, &me) || me.Line != 3 || me.Path != p || !strings.Contains(err.Error(), p+" line 3") {
			t.Errorf("damaged line %q: ReadMetrics gave %d lines, err %v; want a MetricsError at line 3", bad, len(lines), err)
		}
		if n, err := RepairMetrics(p, nil); n != 0 || !errors.As(err, &me) {
			t.Errorf("damaged line %q: RepairMetrics dropped %d, err %v", bad, n, err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("damaged line %q: RepairMetrics changed the file to %q", bad, b)
		}
	}
}

// The run directory's readers take only regular files of at most the load
// limit: a FIFO as checkpoint.bin or metrics.jsonl blocked --resume
// forever, and a device was read until memory ran out.
func TestRunFilesRefuseNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	testenv.Mkfifo(t, fifo)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 2048), 0o644)
	t.Setenv(loadlimit.EnvVar, "1KiB")
	for _, c := range []struct {
		path, want string
	}{{fifo, "not a regular file (a named pipe)"}, {big, "2048 bytes, more than the 1024"}} {
		done := make(chan [2]error, 1)
		go func() {
			_, err1 := LoadCheckpoint(c.path)
			_, _, err2 := ReadMetrics(c.path)
			done <- [2]error{err1, err2}
		}()
		select {
		case errs := <-done:
			for i, err := range errs {
				if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s of %s: %v, want an error naming it with %q", []string{"LoadCheckpoint", "ReadMetrics"}[i], c.path, err, c.want)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("LoadCheckpoint or ReadMetrics of %s still blocked after 5 s", c.path)
		}
	}
}
