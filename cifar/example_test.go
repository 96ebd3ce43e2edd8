package cifar_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

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

// tinyDataset writes a small dataset in the binary layout under dir.
func tinyDataset(dir string) {
	const ntrain, ntest = 60, 10
	ds := &cifar.Dataset{
		Train:      cifar.Split{X: make([]uint8, ntrain*3072), Y: make([]uint8, ntrain), N: ntrain, H: 32, W: 32, C: 3},
		Test:       cifar.Split{X: make([]uint8, ntest*3072), Y: make([]uint8, ntest), N: ntest, H: 32, W: 32, C: 3},
		ClassNames: []string{"cat", "dog"},
	}
	if err := cifar.WriteBinaryDir(filepath.Join(dir, "cifar-10-batches-bin"), ds); err != nil {
		log.Fatal(err)
	}
}

// The load limit bounds the memory a load may take for what the files
// declare; a dataset larger than the default 320 MiB needs a larger one
// (here a small limit stands in for a large dataset).
func ExampleLoadWith() {
	dir, err := os.MkdirTemp("", "cifar-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tinyDataset(dir)

	_, err = cifar.LoadWith(dir, cifar.LoadOptions{MaxBytes: 64 << 10})
	fmt.Println("refused by the limit:", err != nil && strings.Contains(err.Error(), "load limit"))
	ds, err := cifar.LoadWith(dir, cifar.LoadOptions{MaxBytes: 1 << 30})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train", ds.Train.N, "test", ds.Test.N)
	// Output:
	// refused by the limit: true
	// train 60 test 10
}

// LoadFS reads a dataset from any fs.FS: here os.DirFS, equally an
// embed.FS or a zip.Reader.
func ExampleLoadFS() {
	dir, err := os.MkdirTemp("", "cifar-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tinyDataset(dir)

	ds, err := cifar.LoadFS(os.DirFS(dir), "cifar-10-batches-bin", cifar.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train", ds.Train.N, "test", ds.Test.N, "classes", ds.ClassNames)
	// Output:
	// train 60 test 10 classes [cat dog]
}
