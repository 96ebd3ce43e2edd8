package runio

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
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

func testModel() *Model {
	return &Model{Kind: "twolayer", Classes: []string{"cat", "dog"}, Tensors: []Tensor{
		{Name: "W1", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "b1", Shape: []int{2}, Data: []float32{0.5, -0.5}},
		{Name: "W2", Shape: []int{2, 2}, Data: []float32{1, 0, 0, 1}},
		{Name: "b2", Shape: []int{2}, Data: []float32{0, 1}},
		{Name: "mean", Shape: []int{3}, Data: []float64{1.5, 2.5, 3.25}},
		{Name: "image_shape", Shape: []int{3}, Data: []int64{1, 3, 1}},
	}}
}

func TestModelRoundTripDeterministic(t *testing.T) {
	dir := t.TempDir()
	m := testModel()
	p1, p2 := filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz")
	if err := SaveModel(p1, m); err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(p2, m); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Fatal("same model, different bytes")
	}
	got, err := LoadModel(p1)
	if err != nil {
		t.Fatal(err)
	}
	// LoadModel returns the tensors in the order the kind needs them.
	want := map[string]Tensor{}
	for _, tt := range m.Tensors {
		want[tt.Name] = tt
	}
	if got.Kind != m.Kind || !reflect.DeepEqual(got.Classes, m.Classes) || len(got.Tensors) != len(m.Tensors) {
		t.Fatalf("got %+v", got)
	}
	for _, tt := range got.Tensors {
		if !reflect.DeepEqual(tt, want[tt.Name]) {
			t.Errorf("%s: got %+v want %+v", tt.Name, tt, want[tt.Name])
		}
	}
}

func TestLoadModelRejectsWrongKind(t *testing.T) {
	dir := t.TempDir()
	notnpz := filepath.Join(dir, "x.npz")
	os.WriteFile(notnpz, []byte("{}"), 0o644)
	m := testModel()
	m.Tensors = m.Tensors[1:] // no W1
	missing := filepath.Join(dir, "m.npz")
	if err := SaveModel(missing, m); err != nil {
		t.Fatal(err)
	}
	m2 := testModel()
	m2.Kind = "resnet"
	unknown := filepath.Join(dir, "u.npz")
	SaveModel(unknown, m2)
	for p, want := range map[string]string{notnpz: "not an npz", missing: `without "W1"`, unknown: "unknown model kind"} {
		_, err := LoadModel(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadModel(%s) = %v, want an error naming the file with %q", p, err, want)
		}
	}
}

func TestModelLoadsInNumpy(t *testing.T) {
	py := testenv.Python(t)
	p := filepath.Join(t.TempDir(), "model.npz")
	if err := SaveModel(p, testModel()); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
d = np.load(sys.argv[1])
assert str(d["kind"]) == "twolayer", d["kind"]
assert d["W1"].dtype == np.float32 and d["W1"].shape == (3, 2), d["W1"]
assert (d["W1"] == np.arange(1, 7, dtype=np.float32).reshape(3, 2)).all()
assert d["mean"].dtype == np.float64 and list(d["mean"]) == [1.5, 2.5, 3.25]
assert list(d["image_shape"]) == [1, 3, 1]
assert str(d["classes"]).split("\n") == ["cat", "dog"]
print("ok")
`
	out, err := exec.Command(py, "-c", script, p).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}

// rezip rewrites an npz archive, renaming every entry with rename and
// passing each entry's bytes through edit (both may be nil).
func rezip(t *testing.T, src []byte, rename func(string) string, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := f.Name
		if edit != nil {
			b = edit(name, b)
		}
		if rename != nil {
			name = rename(name)
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// numpy.savez names its entries "W1.npy"; LoadModel must read those too
// (it looked up "W1" only and called such a file not an nnkern model).
func TestLoadModelNumpySavezNames(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeModel(&b, testModel()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "savez.npz")
	os.WriteFile(p, rezip(t, b.Bytes(), func(n string) string { return n + ".npy" }, nil), 0o644)
	m, err := LoadModel(p)
	if err != nil {
		t.Fatalf("LoadModel of an archive with .npy entry names: %v", err)
	}
	want := testModel()
	if m.Kind != want.Kind || !reflect.DeepEqual(m.Classes, want.Classes) {
		t.Errorf("kind %q classes %q, want %q %q", m.Kind, m.Classes, want.Kind, want.Classes)
	}
	w1, _ := m.Tensor("W1")
	if !reflect.DeepEqual(w1, want.Tensors[0]) {
		t.Errorf("W1 = %+v, want %+v", w1, want.Tensors[0])
	}
}

// A .npy header whose shape claims more than the entry holds is an error
// naming the file and tensor, before anything is allocated (it made npyio
// allocate 800 GB); a malformed header is an error, not a panic.
func TestLoadModelDistrustsNpyHeader(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeModel(&b, testModel()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Same header length: "(3, 2)" -> "(9999999999,)" (40 GB of f4) eats
	// padding spaces.
	huge := rezip(t, b.Bytes(), nil, func(name string, x []byte) []byte {
		if name != "W1" {
			return x
		}
		i := bytes.Index(x, []byte("(3, 2)"))
		j := bytes.LastIndexByte(x[:bytes.IndexByte(x, '\n')], '}') + 1
		if i < 0 || j-i > 60 {
			t.Fatalf("unexpected npy header %q", x[:80])
		}
		hdr := append([]byte{}, x[:i]...)
		hdr = append(hdr, "(9999999999,), }"...)
		pad := bytes.IndexByte(x, '\n') - len(hdr)
		if pad < 0 {
			t.Fatalf("header too short to edit: %q", x[:80])
		}
		hdr = append(hdr, bytes.Repeat([]byte(" "), pad)...)
		return append(hdr, x[bytes.IndexByte(x, '\n'):]...)
	})
	// Header length field larger than the header.
	broken := rezip(t, b.Bytes(), nil, func(name string, x []byte) []byte {
		if name != "W1" {
			return x
		}
		x = append([]byte{}, x...)
		x[8], x[9] = 0xff, 0x7f
		return x
	})
	for name, data := range map[string][]byte{"huge.npz": huge, "broken.npz": broken} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		_, err := LoadModel(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadModel(%s) = %v, want an error naming the file", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
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
