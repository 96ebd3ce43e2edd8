package runio

import (
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
func LoadModel(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	r, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("model %s: not an npz archive: %v", path, err)
	}
	defer r.Close()
	has := map[string]bool{}
	for _, k := range r.Keys() {
		has[k] = true
	}
	if !has["kind"] {
		return nil, fmt.Errorf("model %s: no \"kind\" entry: not an nnkern model file", path)
	}
	m := &Model{}
	if err := r.Read("kind", &m.Kind); err != nil {
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
	if has["classes"] {
		var s string
		if err := r.Read("classes", &s); err != nil {
			return nil, fmt.Errorf("model %s: classes: %v", path, err)
		}
		m.Classes = splitLines(s)
	}
	for _, name := range need {
		if !has[name] {
			return nil, fmt.Errorf("model %s: %s model without %q", path, m.Kind, name)
		}
		h := r.Header(name)
		shape := append([]int(nil), h.Descr.Shape...)
		t := Tensor{Name: name, Shape: shape}
		var rerr error
		switch strings.Trim(h.Descr.Type, "'\"") {
		case "<f4":
			var d []float32
			rerr = r.Read(name, &d)
			t.Data = d
		case "<f8":
			var d []float64
			rerr = r.Read(name, &d)
			t.Data = d
		case "<i8":
			var d []int64
			rerr = r.Read(name, &d)
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
