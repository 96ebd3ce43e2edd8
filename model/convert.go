package model

import (
	"fmt"
	"math"

	"github.com/nnkern/nnkern/kernels"
)

// Values returns t's data as a new []T: a float32 weight widens to float64
// exactly, a float64 weight is rounded to the nearest float32 (ties to
// even). A float64 value beyond float32's range is an error naming the
// tensor and the index, as is Data of another type.
func Values[T kernels.Float](t Tensor) ([]T, error) {
	switch d := t.Data.(type) {
	case []float32:
		return convert[T](t, d)
	case []float64:
		return convert[T](t, d)
	}
	return nil, fmt.Errorf("weight %s holds %T, want []float32 or []float64", t.Name, t.Data)
}

func convert[T, S kernels.Float](t Tensor, d []S) ([]T, error) {
	out := make([]T, len(d))
	for i, v := range d {
		out[i] = T(v)
		if f := float64(out[i]); math.IsInf(f, 0) && !math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("weight %s holds %v at %s, beyond float32's range", t.Name, v, index(i, t.Shape))
		}
	}
	return out, nil
}

// CheckShape returns an error naming t unless its Shape is shape, where a
// negative size stands for any positive one, and Data is a []float32 or
// []float64 of that many values.
func (t Tensor) CheckShape(shape ...int) error {
	ok := len(t.Shape) == len(shape)
	n := 1
	for i := 0; ok && i < len(shape); i++ {
		ok = t.Shape[i] > 0 && (shape[i] < 0 || t.Shape[i] == shape[i])
		n *= t.Shape[i]
	}
	if !ok {
		return fmt.Errorf("weight %s has shape %v, want %s", t.Name, t.Shape, shapeString(shape))
	}
	var got int
	switch d := t.Data.(type) {
	case []float32:
		got = len(d)
	case []float64:
		got = len(d)
	default:
		return fmt.Errorf("weight %s holds %T, want []float32 or []float64", t.Name, t.Data)
	}
	if got != n {
		return fmt.Errorf("weight %s has %d values for shape %v", t.Name, got, t.Shape)
	}
	return nil
}

// shapeString writes a wanted shape, "any" for a negative size.
func shapeString(shape []int) string {
	s := "["
	for i, d := range shape {
		if i > 0 {
			s += " "
		}
		if d < 0 {
			s += "any"
		} else {
			s += fmt.Sprint(d)
		}
	}
	return s + "]"
}

// index writes flat index i of shape as [i] or [row, col].
func index(i int, shape []int) string {
	if len(shape) == 2 && shape[1] > 0 {
		return fmt.Sprintf("[%d, %d]", i/shape[1], i%shape[1])
	}
	return fmt.Sprintf("[%d]", i)
}

// Preprocess writes into dst the model's input row for one image: img's
// H·W·C values (HWC order, the order ImageShape gives) minus Mean, then a
// 1 when f.Bias(). dst must have f.Dim() values. The arithmetic is
// cifar.Gather's — T(pixel) − T(mean), one rounding — so a row prepared
// here is bit for bit the row training and `nnkern eval` use.
func Preprocess[T kernels.Float](f *File, dst []T, img []uint8) error {
	if d := f.ImageShape[0] * f.ImageShape[1] * f.ImageShape[2]; len(f.Mean) != d {
		return fmt.Errorf("model.Preprocess: Mean has %d values for %d×%d×%d images", len(f.Mean), f.ImageShape[0], f.ImageShape[1], f.ImageShape[2])
	}
	if len(img) != len(f.Mean) {
		return fmt.Errorf("model.Preprocess: the image has %d values, the %s model takes %d×%d×%d = %d", len(img), f.Kind, f.ImageShape[0], f.ImageShape[1], f.ImageShape[2], len(f.Mean))
	}
	if len(dst) != f.Dim() {
		return fmt.Errorf("model.Preprocess: dst has %d values, the %s model's rows have %d", len(dst), f.Kind, f.Dim())
	}
	for i, v := range img {
		dst[i] = T(v) - T(f.Mean[i])
	}
	if f.Bias() {
		dst[len(dst)-1] = 1
	}
	return nil
}
