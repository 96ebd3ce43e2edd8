package cifar_test

import (
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

// Source feeds the trainers directly.
var (
	_ softmax.Source[float32]  = (*cifar.Source[float32])(nil)
	_ softmax.Source[float64]  = (*cifar.Source[float64])(nil)
	_ twolayer.Source[float32] = (*cifar.Source[float32])(nil)
)
