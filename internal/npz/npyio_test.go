package npz

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	npyio "codeberg.org/sbinet/npyio/npz"

	"github.com/nnkern/nnkern/nprand"
)

// npyioEncode is EncodeModel as it was written on npyio's npz writer: the
// reference for the bytes of a model file.
func npyioEncode(w io.Writer, m *Model) error {
	nested := func(d any, shape []int) any {
		if len(shape) == 1 {
			return d
		}
		switch d := d.(type) {
		case []float32:
			return rows(d, shape[1])
		case []float64:
			return rows(d, shape[1])
		case []int64:
			return rows(d, shape[1])
		}
		panic("unreachable")
	}
	zw := npyio.NewWriter(w)
	vals := map[string]any{"kind": m.Kind}
	if len(m.Classes) > 0 {
		vals["classes"] = strings.Join(m.Classes, "\n")
	}
	for _, t := range m.Tensors {
		vals[t.Name] = nested(t.Data, t.Shape)
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

func rows[T any](d []T, cols int) [][]T {
	out := make([][]T, len(d)/cols)
	for i := range out {
		out[i] = d[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return out
}

// randModel is a model of kind with random weights of type T, for
// h×w×c images and C classes, named or not.
func randModel[T float32 | float64](kind string, h, w, c, hidden, C int, names bool, seed uint32) *Model {
	rng := nprand.New(seed)
	tensor := func(name string, shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		d := make([]T, n)
		for i := range d {
			d[i] = T(rng.StandardNormal())
		}
		return Tensor{Name: name, Shape: shape, Data: d}
	}
	D := h * w * c
	m := &Model{Kind: kind}
	if kind == "twolayer" {
		m.Tensors = []Tensor{tensor("W1", D, hidden), tensor("b1", hidden), tensor("W2", hidden, C), tensor("b2", C)}
	} else {
		m.Tensors = []Tensor{tensor("W", D+1, C)}
	}
	mean := make([]float64, D)
	for i := range mean {
		mean[i] = 255 * rng.RandomSample()
	}
	m.Tensors = append(m.Tensors, Tensor{Name: "mean", Shape: []int{D}, Data: mean},
		Tensor{Name: "image_shape", Shape: []int{3}, Data: []int64{int64(h), int64(w), int64(c)}})
	if names {
		for k := 0; k < C; k++ {
			m.Classes = append(m.Classes, fmt.Sprintf("clâss %d %s", k, strings.Repeat("x", k)))
		}
	}
	return m
}

// EncodeModel writes, byte for byte, what npyio's npz writer wrote for
// the same model: every kind and dtype, header lengths across the
// padding's cycle, class names with and without non-ASCII characters.
func TestEncodeModelMatchesNpyio(t *testing.T) {
	models := []*Model{testModel()}
	for i, kind := range []string{"softmax", "svm", "twolayer"} {
		for C := 1; C <= 12; C += 5 {
			models = append(models,
				randModel[float32](kind, 2+i, 3, 3, 4+C, C, C%2 == 0, uint32(10*i+C)),
				randModel[float64](kind, 3, 1+C, 1, 7, C, C%2 == 1, uint32(100+10*i+C)))
		}
	}
	ascii := testModel()
	ascii.Classes = []string{"airplane", "automobile"}
	models = append(models, ascii)
	for i, m := range models {
		var got, want bytes.Buffer
		if err := EncodeModel(&got, m); err != nil {
			t.Fatal(err)
		}
		if err := npyioEncode(&want, m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("model %d (%s, %d classes): EncodeModel wrote %d bytes that differ from npyio's %d", i, m.Kind, len(m.Classes), got.Len(), want.Len())
		}
	}
}
