package npz

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/testenv"
)

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

// encodeFile writes m with EncodeModel, which writes what SaveModel would
// refuse: the reader's own tests need such files.
func encodeFile(t *testing.T, path string, m *Model) {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadModelRejectsWrongKind(t *testing.T) {
	dir := t.TempDir()
	notnpz := filepath.Join(dir, "x.npz")
	os.WriteFile(notnpz, []byte("{}"), 0o644)
	m := testModel()
	m.Tensors = m.Tensors[1:] // no W1
	missing := filepath.Join(dir, "m.npz")
	encodeFile(t, missing, m)
	m2 := testModel()
	m2.Kind = "resnet"
	unknown := filepath.Join(dir, "u.npz")
	encodeFile(t, unknown, m2)
	for p, want := range map[string]string{notnpz: "not an npz", missing: `without "W1"`, unknown: "unknown model kind"} {
		_, err := LoadModel(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadModel(%s) = %v, want an error naming the file with %q", p, err, want)
		}
	}
}

// SaveModel writes only what LoadModel reads back: a model the reader
// would refuse is an error naming the file, and no file (nor temporary
// file) is left behind.
func TestSaveModelRefusesWhatLoadRefuses(t *testing.T) {
	edit := func(f func(m *Model)) *Model { m := testModel(); f(m); return m }
	set := func(m *Model, name string, data any) {
		for i := range m.Tensors {
			if m.Tensors[i].Name == name {
				m.Tensors[i].Data = data
			}
		}
	}
	cases := map[string]struct {
		m    *Model
		want string
	}{
		"unknown kind":  {edit(func(m *Model) { m.Kind = "resnet" }), `unknown model kind "resnet"`},
		"missing W1":    {edit(func(m *Model) { m.Tensors = m.Tensors[1:] }), `without "W1"`},
		"stray tensor":  {edit(func(m *Model) { m.Tensors = append(m.Tensors, Tensor{Name: "W", Shape: []int{1}, Data: []float32{1}}) }), `tensor "W" is not part of a twolayer model`},
		"twice":         {edit(func(m *Model) { m.Tensors = append(m.Tensors, m.Tensors[0]) }), `two tensors named "W1"`},
		"NaN":           {edit(func(m *Model) { set(m, "b2", []float32{0, float32(math.NaN())}) }), "b2 holds NaN at [1]"},
		"shape":         {edit(func(m *Model) { set(m, "b1", []float32{1, 2, 3}); m.Tensors[1].Shape = []int{3} }), "b1 has shape (3,), want (2,)"},
		"data length":   {edit(func(m *Model) { set(m, "b1", []float32{1, 2, 3}) }), "tensor b1: 3 elements for shape [2]"},
		"mixed dtypes":  {edit(func(m *Model) { set(m, "b2", []float64{0, 1}) }), "b2 is <f8, W1 is <f4"},
		"class count":   {edit(func(m *Model) { m.Classes = []string{"cat"} }), "1 class names for 2 classes"},
		"newline class": {edit(func(m *Model) { m.Classes = []string{"cat", "hot\ndog"} }), "class name 1"},
		"int weights":   {edit(func(m *Model) { m.Tensors[0].Data = []int64{1, 2, 3, 4, 5, 6} }), "W1 is <i8"},
	}
	for name, c := range cases {
		dir := t.TempDir()
		p := filepath.Join(dir, "model.npz")
		err := SaveModel(p, c.m)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: SaveModel = %v, want one line naming the file with %q", name, err, c.want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: SaveModel left %v", name, ents)
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

// The fields of an .npy header come from the file: errors quote them
// escaped (an unknown key, a dtype).
func TestNpyHeaderFieldsEscaped(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;PWNED\a"
	good := npzEntries(t, testModel())
	for name, header := range map[string]string{
		"descr":       "{'descr': '" + hostile + "', 'fortran_order': False, 'shape': (1,), }",
		"unknown key": "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), '" + hostile + "': 1, }",
	} {
		data := buildNPZ(t, setEntry(good, "b2", func(e *npzEntry) { e.data = npyBytes(header, make([]byte, 8)) }))
		_, err := decodeModel(bytes.NewReader(data), int64(len(data)), 1<<20)
		if err == nil || !strings.Contains(err.Error(), "PWNED") {
			t.Fatalf("%s: got %v, want an error quoting the field", name, err)
		}
		if strings.ContainsAny(err.Error(), "\x1b\a") {
			t.Errorf("%s: raw control bytes in %q", name, err)
		}
	}
}
