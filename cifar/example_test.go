package cifar_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
)

// A tiny dataset in the official binary layout: written, loaded back,
// prepared the notebooks' way and gathered into a float32 mini-batch.
func Example() {
	dir, err := os.MkdirTemp("", "cifar-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	const ntrain, ntest = 60, 10
	ds := &cifar.Dataset{
		Train:      cifar.Split{X: make([]uint8, ntrain*3072), Y: make([]uint8, ntrain), N: ntrain, H: 32, W: 32, C: 3},
		Test:       cifar.Split{X: make([]uint8, ntest*3072), Y: make([]uint8, ntest), N: ntest, H: 32, W: 32, C: 3},
		ClassNames: []string{"cat", "dog"},
	}
	for i := range ds.Train.X {
		ds.Train.X[i] = uint8(i % 251)
	}
	for i := range ds.Train.Y {
		ds.Train.Y[i] = uint8(i % 2)
	}
	if err := cifar.WriteBinaryDir(filepath.Join(dir, "cifar-10-batches-bin"), ds); err != nil {
		log.Fatal(err)
	}

	loaded, err := cifar.Load(dir) // finds cifar-10-batches-bin/ inside
	if err != nil {
		log.Fatal(err)
	}
	p, err := cifar.Prepare(loaded, cifar.PrepareConfig{NumTraining: 50, NumValidation: 10, NumTest: 10, NumDev: 5, Bias: true})
	if err != nil {
		log.Fatal(err)
	}
	src := cifar.NewSource[float32](p, &p.Train)
	batch := blas.NewMatrix[float32](4, src.Cols())
	src.Gather(batch, []int{0, 7, 7, 49})
	fmt.Println("train", p.Train.N, "val", p.Val.N, "test", p.Test.N, "dev", p.Dev.N)
	fmt.Println("batch", batch.Rows, "x", batch.Cols, "bias column", batch.At(3, 3072))
	fmt.Println("labels", cifar.Labels(&p.Val)[:4], "classes", p.ClassNames)
	// Output:
	// train 50 val 10 test 10 dev 5
	// batch 4 x 3073 bias column 1
	// labels [0 1 0 1] classes [cat dog]
}
