package npz

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/testenv"
)

// npzEntry is one member of a test archive. Unless overridden, the
// central directory declares the entry's true sizes and CRC-32.
type npzEntry struct {
	name    string
	data    []byte // uncompressed bytes
	deflate bool
	// When set, what the central directory declares instead of the truth.
	declU, declC *uint64
	crc          *uint32
	// raw, when set, is written as the entry's compressed bytes.
	raw []byte
}

// npzEntries returns the members of m as EncodeModel writes them, stored.
func npzEntries(t testing.TB, m *Model) []npzEntry {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out []npzEntry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		d, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, npzEntry{name: f.Name, data: d})
	}
	return out
}

func setEntry(es []npzEntry, name string, edit func(e *npzEntry)) []npzEntry {
	out := append([]npzEntry(nil), es...)
	for i := range out {
		if out[i].name == name {
			edit(&out[i])
			return out
		}
	}
	panic("no entry " + name)
}

func deflateBytes(t testing.TB, d []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(d)
	w.Close()
	return b.Bytes()
}

// buildNPZ writes the entries with archive/zip's raw mode, which takes the
// declared sizes and CRC as given (sizes of 4 GiB or more get zip64 extra
// fields in the central directory, as a zip64 writer would write them).
func buildNPZ(t testing.TB, es []npzEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		comp := e.raw
		method := zip.Store
		if e.deflate {
			method = zip.Deflate
			if comp == nil {
				comp = deflateBytes(t, e.data)
			}
		} else if comp == nil {
			comp = e.data
		}
		h := &zip.FileHeader{Name: e.name, Method: method, CRC32: crc32.ChecksumIEEE(e.data),
			UncompressedSize64: uint64(len(e.data)), CompressedSize64: uint64(len(comp))}
		if e.declU != nil {
			h.UncompressedSize64 = *e.declU
		}
		if e.declC != nil {
			h.CompressedSize64 = *e.declC
		}
		if e.crc != nil {
			h.CRC32 = *e.crc
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// npyBytes writes a version 1 .npy array; header is the dict literal.
func npyBytes(header string, data []byte) []byte {
	h := header
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func le[T float32 | float64 | int64](v ...T) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadCounted runs LoadModel and returns the bytes it allocated.
func loadCounted(p string) (*Model, error, uint64) {
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	m, err := LoadModel(p)
	runtime.ReadMemStats(&b)
	return m, err, b.TotalAlloc - a.TotalAlloc
}

// wantLoadError checks that LoadModel refuses p with a one-line error that
// names the file and holds every string in want, allocating under 16 MiB.
func wantLoadError(t *testing.T, p string, want ...string) {
	t.Helper()
	_, err, alloc := loadCounted(p)
	if alloc > 16<<20 {
		t.Errorf("LoadModel(%s) allocated %d bytes", filepath.Base(p), alloc)
	}
	if err == nil {
		t.Errorf("LoadModel(%s) succeeded, want an error with %q", filepath.Base(p), want)
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, p) {
		t.Errorf("LoadModel(%s): error is not one line naming the file: %q", filepath.Base(p), msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("LoadModel(%s) = %q, want it to mention %q", filepath.Base(p), msg, w)
		}
	}
	t.Logf("%s: %v (allocated %d bytes)", filepath.Base(p), err, alloc)
}

func u64(v uint64) *uint64 { return &v }

// A zip64 central directory that declares a 64 GiB stored W1 (with an npy
// header whose shape matches it) in a small file: the reader must compare
// the declared size with the bytes the file holds before allocating (it
// died with "fatal error: runtime: out of memory").
func TestLoadModelZip64LyingStoredSize(t *testing.T) {
	const declared = 64 << 30
	es := setEntry(npzEntries(t, testModel()), "W1", func(e *npzEntry) {
		hdr := npyBytes(fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (3, %d), }", (declared-128)/12), nil)
		e.data = append(hdr, le[float32](1, 2, 3, 4, 5, 6)...)
		e.declU, e.declC = u64(declared), u64(declared)
	})
	p := writeTemp(t, "zip64.npz", buildNPZ(t, es))
	wantLoadError(t, p, "W1", "68719476736")
}

// The npy header length field is a length: 0xfffffff0 made npyio allocate
// 4 GiB before it noticed the entry is 100 bytes long.
func TestLoadModelNpyHeaderLength(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		es := setEntry(npzEntries(t, testModel()), "W1", func(e *npzEntry) {
			e.data = append([]byte("\x93NUMPY\x02\x00\xf0\xff\xff\xff"), e.data[12:]...)
			e.deflate = deflate
		})
		p := writeTemp(t, fmt.Sprintf("hdrlen-%v.npz", deflate), buildNPZ(t, es))
		wantLoadError(t, p, "W1", "4294967280")
	}
}

// classesBomb returns a classes entry of n UTF-32 characters, deflated.
func classesBomb(t testing.TB, n int) npzEntry {
	hdr := npyBytes(fmt.Sprintf("{'descr': '<U%d', 'fortran_order': False, 'shape': (), }", n), nil)
	d := append(hdr, make([]byte, 4*n)...)
	return npzEntry{name: "classes", data: d, deflate: true}
}

// A deflate bomb as the class names: 16 MiB of characters in 16 KB. The two
// class names of the model take a few hundred bytes; the declared size must
// be refused before decompressing (a 1.4 MB bomb cost 3.3 GB). When the
// directory lies about the size instead, the read stops at the declared
// size and the entry is refused for holding more.
func TestLoadModelClassesBomb(t *testing.T) {
	const n = 4 << 20
	bomb := classesBomb(t, n)
	es := setEntry(npzEntries(t, testModel()), "classes", func(e *npzEntry) { *e = bomb })
	p := writeTemp(t, "bomb.npz", buildNPZ(t, es))
	wantLoadError(t, p, "classes", fmt.Sprint(n))

	// Two names of 50 characters, declared as such, whose deflate stream
	// goes on with 16 MiB: reading past the declared size is an error, not
	// a silent cut.
	lie := npzEntry{name: "classes", deflate: true,
		data: npyBytes("{'descr': '<U50', 'fortran_order': False, 'shape': (), }", make([]byte, 200))}
	lie.raw = deflateBytes(t, append(append([]byte(nil), lie.data...), make([]byte, 4*n)...))
	es = setEntry(npzEntries(t, testModel()), "classes", func(e *npzEntry) { *e = lie })
	p = writeTemp(t, "bomblie.npz", buildNPZ(t, es))
	wantLoadError(t, p, "classes", fmt.Sprintf("more than the %d bytes it declares", len(lie.data)))
}

// zip CRC-32s are checked: a flipped byte in W1's data (stored, so the
// archive still decompresses) loaded as different weights, exit 0; numpy
// says "Bad CRC-32". A CRC-32 field of 0 (archive/zip skips the check then)
// is checked too.
func TestLoadModelChecksCRC(t *testing.T) {
	good := npzEntries(t, testModel())
	flip := setEntry(good, "W1", func(e *npzEntry) {
		crc := crc32.ChecksumIEEE(e.data)
		e.data = append([]byte(nil), e.data...)
		e.data[len(e.data)-3] ^= 0x40
		e.crc = &crc
	})
	zero := setEntry(good, "W1", func(e *npzEntry) { e.crc = new(uint32) })
	deflated := setEntry(good, "W1", func(e *npzEntry) {
		crc := crc32.ChecksumIEEE(e.data) ^ 1
		e.deflate, e.crc = true, &crc
	})
	for name, es := range map[string][]npzEntry{"flip.npz": flip, "crc0.npz": zero, "deflated.npz": deflated} {
		wantLoadError(t, writeTemp(t, name, buildNPZ(t, es)), "W1", "CRC-32")
	}
	// The untouched archive, stored or deflated, loads.
	for _, es := range [][]npzEntry{good, setEntry(good, "W1", func(e *npzEntry) { e.deflate = true })} {
		if _, err := LoadModel(writeTemp(t, "good.npz", buildNPZ(t, es))); err != nil {
			t.Errorf("intact archive: %v", err)
		}
	}
}

// A model is finite: NaN or Inf weights or mean predicted "airplane NaN"
// and evaluated to chance with exit 0.
func TestLoadModelRejectsNonFinite(t *testing.T) {
	cases := []struct {
		tensor string
		i      int
		v      float64
		want   string
	}{
		{"W1", 3, math.NaN(), "W1 holds NaN at [1, 1]"},
		{"b2", 1, math.Inf(1), "b2 holds +Inf at [1]"},
		{"mean", 2, math.Inf(-1), "mean holds -Inf at [2]"},
	}
	for _, c := range cases {
		m := testModel()
		for i := range m.Tensors {
			if m.Tensors[i].Name != c.tensor {
				continue
			}
			switch d := m.Tensors[i].Data.(type) {
			case []float32:
				d = append([]float32(nil), d...)
				d[c.i] = float32(c.v)
				m.Tensors[i].Data = d
			case []float64:
				d = append([]float64(nil), d...)
				d[c.i] = c.v
				m.Tensors[i].Data = d
			}
		}
		wantLoadError(t, writeTemp(t, c.tensor+".npz", buildNPZ(t, npzEntries(t, m))), c.want)
	}
}

// Sizes are positive and consistent with each other: a model with 0
// classes made eval panic.
func TestLoadModelRejectsInconsistentShapes(t *testing.T) {
	edit := func(f func(m *Model)) *Model { m := testModel(); f(m); return m }
	set := func(m *Model, name string, shape []int, data any) {
		for i := range m.Tensors {
			if m.Tensors[i].Name == name {
				m.Tensors[i] = Tensor{Name: name, Shape: shape, Data: data}
			}
		}
	}
	// EncodeModel cannot write a (2, 0) matrix.
	empty := func(e *npzEntry, shape string) {
		e.data = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': "+shape+", }", nil)
	}
	zeroClasses := setEntry(npzEntries(t, edit(func(m *Model) { m.Classes = nil })), "W2", func(e *npzEntry) { empty(e, "(2, 0)") })
	zeroClasses = setEntry(zeroClasses, "b2", func(e *npzEntry) { empty(e, "(0,)") })
	wantLoadError(t, writeTemp(t, "zero-classes.npz", buildNPZ(t, zeroClasses)), "W2 has shape (2, 0)")
	zeroHidden := setEntry(npzEntries(t, testModel()), "W1", func(e *npzEntry) { empty(e, "(3, 0)") })
	wantLoadError(t, writeTemp(t, "zero-hidden.npz", buildNPZ(t, zeroHidden)), "W1 has shape (3, 0)")
	cases := map[string]struct {
		m    *Model
		want string
	}{
		"w1-rows": {edit(func(m *Model) {
			set(m, "W1", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
		}), "W1 has shape (2, 3), want (3, H)"},
		"b1-len": {edit(func(m *Model) {
			set(m, "b1", []int{3}, []float32{1, 2, 3})
		}), "b1 has shape (3,), want (2,)"},
		"dtype": {edit(func(m *Model) {
			set(m, "b2", []int{2}, []float64{1, 2})
		}), "b2 is <f8, W1 is <f4"},
		"class-names": {edit(func(m *Model) { m.Classes = []string{"a", "b", "c"} }), "3 class names for 2 classes"},
		"mean-len": {edit(func(m *Model) {
			set(m, "image_shape", []int{3}, []int64{1, 2, 1})
		}), "mean has shape (3,), want (2,)"},
		"image-shape": {edit(func(m *Model) {
			set(m, "image_shape", []int{3}, []int64{1, 3, 2})
		}), "image_shape (1, 3, 2)"},
	}
	for name, c := range cases {
		wantLoadError(t, writeTemp(t, name+".npz", buildNPZ(t, npzEntries(t, c.m))), c.want)
	}
}

// The sum of what the entries declare is held to the load budget before
// anything is read; the error names NNKERN_LOAD_LIMIT.
func TestLoadModelBudget(t *testing.T) {
	p := writeTemp(t, "model.npz", buildNPZ(t, npzEntries(t, testModel())))
	t.Setenv(loadlimit.EnvVar, "512")
	wantLoadError(t, p, "over the 512-byte load limit", loadlimit.EnvVar)
	t.Setenv(loadlimit.EnvVar, "")
	if _, err := LoadModel(p); err != nil {
		t.Fatalf("default budget: %v", err)
	}
}

// Only a regular file is a model: a FIFO blocked LoadModel forever (and
// /dev/zero read until memory ran out).
func TestLoadModelRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.npz")
	testenv.Mkfifo(t, fifo)
	done := make(chan error, 1)
	go func() { _, err := LoadModel(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("LoadModel(FIFO) = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("LoadModel(FIFO) still blocked after 3 s")
	}
	if _, err := LoadModel(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadModel(directory) = %v", err)
	}
}

// numpy.savez of a transposed array writes it in Fortran order; a float32
// mean is widened to float64 (what eval and predict use).
func TestLoadModelFortranOrderAndFloat32Mean(t *testing.T) {
	es := setEntry(npzEntries(t, testModel()), "W1", func(e *npzEntry) {
		// W1 is [[1 2] [3 4] [5 6]]: column-major 1 3 5 2 4 6.
		e.data = npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", le[float32](1, 3, 5, 2, 4, 6))
	})
	es = setEntry(es, "mean", func(e *npzEntry) {
		e.data = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", le[float32](1.5, 2.5, 3.25))
	})
	m, err := LoadModel(writeTemp(t, "f.npz", buildNPZ(t, es)))
	if err != nil {
		t.Fatal(err)
	}
	w1, _ := m.Tensor("W1")
	mean, _ := m.Tensor("mean")
	if !reflect.DeepEqual(w1.Data, []float32{1, 2, 3, 4, 5, 6}) || !reflect.DeepEqual(mean.Data, []float64{1.5, 2.5, 3.25}) {
		t.Errorf("W1 %v, mean %v", w1.Data, mean.Data)
	}
}

// FuzzModel feeds archives to the decoder with a 64 KiB budget and checks
// the bytes it allocates stay within twice the budget plus a multiple of
// the input size (the zip directory) and a constant (inflate windows);
// a model it accepts must survive EncodeModel, in npyio's bytes, and
// decode to itself.
func FuzzModel(f *testing.F) {
	var b bytes.Buffer
	EncodeModel(&b, testModel())
	f.Add(b.Bytes())
	good := npzEntries(f, testModel())
	f.Add(buildNPZ(f, good))
	f.Add(buildNPZ(f, setEntry(good, "classes", func(e *npzEntry) { *e = classesBomb(f, 1<<20) })))
	f.Add(buildNPZ(f, setEntry(good, "W1", func(e *npzEntry) { e.declU, e.declC = u64(64<<30), u64(64<<30) })))
	sm := &Model{Kind: "softmax", Tensors: []Tensor{
		{Name: "W", Shape: []int{3, 2}, Data: []float64{1, 2, 3, 4, 5, 6}},
		{Name: "mean", Shape: []int{2}, Data: []float64{0.5, 1}},
		{Name: "image_shape", Shape: []int{3}, Data: []int64{1, 2, 1}},
	}}
	b.Reset()
	EncodeModel(&b, sm)
	f.Add(b.Bytes())
	const budget = 64 << 10
	// Decoding is deterministic, so the fewest bytes of up to three
	// calls are judged (allocstest.Bytes): the fuzzing worker allocates
	// now and then on its own, in bursts.
	f.Fuzz(func(t *testing.T, data []byte) {
		var m *Model
		var err error
		limit := uint64(2*budget + 32*len(data) + 1<<20)
		best := allocstest.Bytes(limit, func() {
			m, err = decodeModel(bytes.NewReader(data), int64(len(data)), budget)
		})
		if best > limit {
			t.Fatalf("%d-byte input allocated %d bytes (limit %d); err %v", len(data), best, limit, err)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		var out, ref bytes.Buffer
		if err := EncodeModel(&out, m); err != nil {
			t.Fatalf("EncodeModel of a decoded model: %v", err)
		}
		if err := npyioEncode(&ref, m); err != nil || !bytes.Equal(out.Bytes(), ref.Bytes()) {
			t.Fatalf("EncodeModel and npyio's writer differ on a decoded model (npyio: %v)", err)
		}
		m2, err := decodeModel(bytes.NewReader(out.Bytes()), int64(out.Len()), budget)
		if err != nil {
			t.Fatalf("re-encoded model refused: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the model:\n%+v\n%+v", m, m2)
		}
	})
}

// What numpy itself writes loads: savez_compressed (deflated, version 1
// headers), a transposed W1 (Fortran order), a float32 mean and the class
// names as an array of strings. numpy refuses the flipped byte that
// LoadModel refuses too.
func TestLoadModelReadsNumpySavez(t *testing.T) {
	py := testenv.Python(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "np.npz")
	flip := setEntry(npzEntries(t, testModel()), "W1", func(e *npzEntry) {
		crc := crc32.ChecksumIEEE(e.data)
		e.data = append([]byte(nil), e.data...)
		e.data[len(e.data)-3] ^= 0x40
		e.crc = &crc
	})
	bad := writeTemp(t, "flip.npz", buildNPZ(t, flip))
	script := `
import sys, numpy as np
w1 = np.arange(1, 7, dtype=np.float32).reshape(2, 3).T
assert w1.flags.f_contiguous and not w1.flags.c_contiguous
np.savez_compressed(sys.argv[1], kind="twolayer", W1=w1, b1=np.float32([0.5, -0.5]),
    W2=np.eye(2, dtype=np.float32), b2=np.float32([0, 1]), mean=np.float32([1.5, 2.5, 3.25]),
    image_shape=np.array([1, 3, 1]), classes=np.array(["cat", "dög"]))
try:
    np.load(sys.argv[2])["W1"]
    print("flipped byte loaded")
except Exception as e:
    print(e)
`
	out, err := exec.Command(py, "-c", script, p, bad).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Bad CRC-32") {
		t.Errorf("numpy on the flipped byte: %s", out)
	}
	if _, err := LoadModel(bad); err == nil {
		t.Error("LoadModel accepted the flipped byte numpy refuses")
	}
	m, err := LoadModel(p)
	if err != nil {
		t.Fatal(err)
	}
	w1, _ := m.Tensor("W1")
	mean, _ := m.Tensor("mean")
	if m.Kind != "twolayer" || !reflect.DeepEqual(m.Classes, []string{"cat", "dög"}) ||
		!reflect.DeepEqual(w1.Data, []float32{1, 4, 2, 5, 3, 6}) || !reflect.DeepEqual(mean.Data, []float64{1.5, 2.5, 3.25}) {
		t.Errorf("numpy's archive read as %+v", m)
	}
}

// zip.NewReader allocates for every directory record; a model's directory
// is a few hundred bytes, so more than maxDirectory of it is refused
// before it is parsed (a 300 MB directory of empty entries would cost
// about 2 GB).
func TestLoadModelBoundsZipDirectory(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < 40000; i++ {
		if _, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("e%05d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	wantLoadError(t, writeTemp(t, "dir.npz", b.Bytes()), "zip directory is over 1048576 bytes")
}
