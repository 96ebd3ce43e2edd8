// Package cifar turns CIFAR-10 (and compatible image data) on disk into what
// the nnkern trainers consume.
//
// Load auto-detects every official CIFAR-10 format — the python version
// (cifar-10-python.tar.gz or the extracted cifar-10-batches-py/, read by a
// small safe pickle interpreter that never calls anything), the binary version
// (cifar-10-binary.tar.gz or cifar-10-batches-bin/), both archives streamed
// without extracting, an image folder (train/<class>/*.jpg, test/<class>/...
// as a directory, .tar or .tar.gz), MNIST-style IDX files, and a single
// batch file. LoadWith takes options (the load's memory limit,
// LoadOptions.MaxBytes; NNKERN_LOAD_LIMIT otherwise) and LoadFS reads from
// an fs.FS. Every size a file declares is checked against what its format
// can hold and against the load's budget before anything is allocated, so a
// hostile or corrupt file ends in a one-line error naming it. Pixels stay
// uint8 in memory, images in H×W×C order (the reference's
// reshape(N,3,32,32).transpose(0,2,3,1)).
//
// Prepare applies the course notebooks' preprocessing (train/val/test/dev
// splits, mean image, optional bias column) without materialising floats;
// Gather fills float mini-batches from row indices on the training hot path,
// and Materialize builds a whole split as a float matrix when wanted.
//
//	ds, err := cifar.Load("cifar-10-batches-py")
//	if err != nil { ... }
//	p, err := cifar.Prepare(ds, cifar.DefaultPrepareConfig())
//	if err != nil { ... }
//	src := cifar.NewSource[float32](p, &p.Train) // a train.Source[float32]
//	batch := blas.NewMatrix[float32](200, p.Dim())
//	src.Gather(batch, []int{3, 1, 4, 1, 5 /* ... 200 indices */})
//	Xval := cifar.Materialize[float64](p, &p.Val)
//
// Package cifar/download fetches the official archives (resumable, md5
// verified, with an idle timeout and retries), kept apart so that reading
// data links no networking code; WriteBinary, WritePython, WriteBinaryDir
// and WritePythonDir export data in the official layouts.
package cifar
