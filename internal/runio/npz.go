package runio

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
)

// Model is what model.npz holds: the model kind ("softmax", "svm" or
// "twolayer"), the tensors (W, or W1, b1, W2, b2; the mean image "mean";
// "image_shape" as H, W, C) and the class names.
type Model struct {
	Kind    string
	Classes []string
	Tensors []Tensor
}

// Tensor returns the named tensor, or false.
func (m *Model) Tensor(name string) (Tensor, bool) {
	for _, t := range m.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

func nested[T any](d []T, shape []int) any {
	switch len(shape) {
	case 1:
		return d
	case 2:
		rows := make([][]T, shape[0])
		for i := range rows {
			rows[i] = d[i*shape[1] : (i+1)*shape[1] : (i+1)*shape[1]]
		}
		return rows
	}
	panic(fmt.Sprintf("runio: tensor rank %d not supported", len(shape)))
}

// EncodeModel writes m as an npz archive (zip of .npy files, keys sorted,
// no timestamps: the same model always gives the same bytes). The archive
// loads with numpy.load; "kind" is a 0-d unicode array, "classes" a
// newline-joined string.
func EncodeModel(w io.Writer, m *Model) error {
	zw := npz.NewWriter(w)
	vals := map[string]any{"kind": m.Kind}
	if len(m.Classes) > 0 {
		s := ""
		for i, c := range m.Classes {
			if i > 0 {
				s += "\n"
			}
			s += c
		}
		vals["classes"] = s
	}
	for _, t := range m.Tensors {
		n, err := t.dataLen()
		if err != nil {
			return err
		}
		if n != t.Len() || len(t.Shape) < 1 || len(t.Shape) > 2 {
			return fmt.Errorf("tensor %s: %d elements for shape %v", t.Name, n, t.Shape)
		}
		switch d := t.Data.(type) {
		case []float32:
			vals[t.Name] = nested(d, t.Shape)
		case []float64:
			vals[t.Name] = nested(d, t.Shape)
		case []int64:
			vals[t.Name] = nested(d, t.Shape)
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := zw.Write(k, vals[k]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// SaveModel writes m to path atomically.
func SaveModel(path string, m *Model) error {
	return WriteAtomic(path, 0o644, func(w io.Writer) error { return EncodeModel(w, m) })
}

// LoadModel reads a model.npz written by SaveModel (or by numpy with the
// same keys). It checks the kind and that the tensors it needs are present.
func LoadModel(path string) (_ *Model, err error) {
	// npyio panics on some malformed .npy headers; a corrupt file is an
	// error naming it, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("model %s: corrupt npy entry: %v", path, p)
		}
	}()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	r, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("model %s: not an npz archive: %v", path, err)
	}
	defer r.Close()
	// What each zip entry can decompress to: its declared size, itself
	// bounded by deflate's maximum ratio (about 1032:1) over the bytes the
	// file really holds for it.
	sizes := map[string]uint64{}
	if zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
		for _, f := range zr.File {
			sizes[f.Name] = min(f.UncompressedSize64, 1100*f.CompressedSize64+1024)
		}
	}
	// Entries as npyio writes them ("W") or as numpy.savez does ("W.npy");
	// entry maps the array name to the zip entry.
	entry := map[string]string{}
	for _, k := range r.Keys() {
		entry[strings.TrimSuffix(k, ".npy")] = k
	}
	has := func(name string) bool { _, ok := entry[name]; return ok }
	if !has("kind") {
		return nil, fmt.Errorf("model %s: no \"kind\" entry: not an nnkern model file", path)
	}
	m := &Model{}
	if err := r.Read(entry["kind"], &m.Kind); err != nil {
		return nil, fmt.Errorf("model %s: kind: %v", path, err)
	}
	var need []string
	switch m.Kind {
	case "softmax", "svm":
		need = []string{"W", "mean", "image_shape"}
	case "twolayer":
		need = []string{"W1", "b1", "W2", "b2", "mean", "image_shape"}
	default:
		return nil, fmt.Errorf("model %s: unknown model kind %q", path, m.Kind)
	}
	if has("classes") {
		var s string
		if err := r.Read(entry["classes"], &s); err != nil {
			return nil, fmt.Errorf("model %s: classes: %v", path, err)
		}
		m.Classes = splitLines(s)
	}
	for _, name := range need {
		if !has(name) {
			return nil, fmt.Errorf("model %s: %s model without %q", path, m.Kind, name)
		}
		key := entry[name]
		h := r.Header(key)
		if h == nil {
			return nil, fmt.Errorf("model %s: %s: not a valid .npy entry", path, name)
		}
		shape := append([]int(nil), h.Descr.Shape...)
		// The .npy header's shape is a length field: trust it only as far
		// as the entry can hold (npyio allocates it before reading).
		if err := checkShapeFits(shape, sizes[key]); err != nil {
			return nil, fmt.Errorf("model %s: %s: %v", path, name, err)
		}
		t := Tensor{Name: name, Shape: shape}
		var rerr error
		switch strings.Trim(h.Descr.Type, "'\"") {
		case "<f4":
			var d []float32
			rerr = r.Read(key, &d)
			t.Data = d
		case "<f8":
			var d []float64
			rerr = r.Read(key, &d)
			t.Data = d
		case "<i8":
			var d []int64
			rerr = r.Read(key, &d)
			t.Data = d
		default:
			return nil, fmt.Errorf("model %s: %s has unsupported dtype %s", path, name, h.Descr.Type)
		}
		if rerr != nil {
			return nil, fmt.Errorf("model %s: %s: %v", path, name, rerr)
		}
		if n, _ := t.dataLen(); n != t.Len() {
			return nil, fmt.Errorf("model %s: %s has %d elements for shape %v", path, name, n, shape)
		}
		m.Tensors = append(m.Tensors, t)
	}
	return m, nil
}

// checkShapeFits reports an error unless shape is non-negative and its
// elements (at most 8 bytes each) fit in limit bytes.
func checkShapeFits(shape []int, limit uint64) error {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/uint64(d) {
			return fmt.Errorf("shape %v is larger than the entry (%d bytes)", shape, limit)
		}
		n *= uint64(d)
	}
	if n > limit/4 { // f4 is the smallest dtype LoadModel accepts
		return fmt.Errorf("shape %v is larger than the entry (%d bytes)", shape, limit)
	}
	return nil
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
