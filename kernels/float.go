package kernels

// Float is the element type of every nnkern kernel, matrix and model.
type Float interface {
	float32 | float64
}
