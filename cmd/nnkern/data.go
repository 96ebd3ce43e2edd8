package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/mnist"
)

// cacheDir is where fetched datasets live: $NNKERN_CACHE, else
// os.UserCacheDir()/nnkern.
func cacheDir(e *env) string {
	if d := e.getenv("NNKERN_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "nnkern-cache")
	}
	return filepath.Join(d, "nnkern")
}

// cachedCandidates are the dataset names looked for in the cache directory,
// best first.
var cachedCandidates = []string{
	"cifar-10-batches-py", "cifar-10-python.tar.gz",
	"cifar-10-batches-bin", "cifar-10-binary.tar.gz",
	"cifar10-jpeg.tar.gz", "cifar10-jpeg",
}

// findData resolves the dataset path: the flag, else NNKERN_DATA, else a
// dataset in the cache directory. "mnist" names the offline MNIST copy in
// the Go module cache. It returns "" and no error if nothing is found.
func findData(ctx context.Context, e *env, flagVal string) (string, error) {
	p := flagVal
	if p == "" {
		p = e.getenv("NNKERN_DATA")
	}
	if p == "mnist" {
		return mnist.Dir(ctx)
	}
	if p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("data %s: %w", p, errors.Unwrap(err))
		}
		return p, nil
	}
	cd := cacheDir(e)
	for _, c := range cachedCandidates {
		if _, err := os.Stat(filepath.Join(cd, c)); err == nil {
			return filepath.Join(cd, c), nil
		}
	}
	return "", nil
}

// requireData is findData that fails when there is no dataset.
func requireData(ctx context.Context, e *env, flagVal string) (string, error) {
	p, err := findData(ctx, e, flagVal)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", fmt.Errorf("no dataset: pass --data PATH (a CIFAR-10 archive, directory or image folder, or \"mnist\"), set NNKERN_DATA, or run 'nnkern data fetch cifar10' (cache: %s)", cacheDir(e))
	}
	return p, nil
}

// loaded is a dataset read from disk with its content checksum.
type loaded struct {
	Path     string
	DS       *cifar.Dataset
	SHA256   string
	Load     time.Duration
	Shuffled bool // the splits were sorted by class and have been shuffled
}

// shuffleSeed is the fixed seed of the shuffle applied to class-sorted
// splits (image folders load class by class): cifar.Shuffle, i.e. the
// rows in np.random.seed(0); np.random.permutation(N) order.
const shuffleSeed = 0

// sortedByClass reports whether the labels never decrease and take more
// than one value: the order an image folder loads in, where the last
// training rows (the validation set) would all be one class.
func sortedByClass(s *cifar.Split) bool {
	for i := 1; i < s.N; i++ {
		if s.Y[i] < s.Y[i-1] {
			return false
		}
	}
	return s.N > 1 && s.Y[0] != s.Y[s.N-1]
}

func loadDataset(path string) (*loaded, error) {
	t0 := time.Now()
	ds, err := cifar.Load(path)
	if err != nil {
		return nil, dataError(err, path)
	}
	if ds.Train.N == 0 {
		return nil, fmt.Errorf("data %s: no training images", path)
	}
	ld := &loaded{Path: path, DS: ds, SHA256: datasetSHA256(ds)}
	for _, sp := range []*cifar.Split{&ds.Train, &ds.Test} {
		if sortedByClass(sp) {
			cifar.Shuffle(sp, shuffleSeed)
			ld.Shuffled = true
		}
	}
	ld.Load = time.Since(t0)
	return ld, nil
}

// dataError is cifar.Load's error for the CLI: "data PATH: ..." unless the
// error already names the file (it then names the member or batch too, as
// in "PATH/data_batch_1: ..."), when it is only prefixed with "data".
func dataError(err error, path string) error {
	msg := strings.TrimPrefix(err.Error(), "cifar: ")
	if strings.Contains(msg, path) {
		return &wrapped{msg: "data " + msg, err: err}
	}
	return &wrapped{msg: "data " + path + ": " + msg, err: err}
}

// wrapped is an error with its own text that still unwraps to err.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// datasetSHA256 hashes the decoded content (dimensions, pixels, labels,
// class names), so the same data in any on-disk format has one checksum.
func datasetSHA256(ds *cifar.Dataset) string {
	h := sha256.New()
	for _, s := range []*cifar.Split{&ds.Train, &ds.Test} {
		var dims [32]byte
		binary.LittleEndian.PutUint64(dims[0:], uint64(s.N))
		binary.LittleEndian.PutUint64(dims[8:], uint64(s.H))
		binary.LittleEndian.PutUint64(dims[16:], uint64(s.W))
		binary.LittleEndian.PutUint64(dims[24:], uint64(s.C))
		h.Write(dims[:])
		h.Write(s.X)
		h.Write(s.Y)
	}
	h.Write([]byte(strings.Join(ds.ClassNames, "\n")))
	return hex.EncodeToString(h.Sum(nil))
}

// splitSizes holds the notebooks' split sizes, shrunk for small datasets.
type splitSizes struct{ Train, Val, Test int }

// resolveSizes applies the notebooks' 49000/1000/1000 defaults, shrinking
// those the user did not set to fit a smaller dataset.
func resolveSizes(ds *cifar.Dataset, req splitSizes, set map[string]bool) (splitSizes, error) {
	s := req
	n := ds.Train.N
	if !set["num-val"] && s.Val >= n {
		s.Val = max(1, n/10)
	}
	if !set["num-train"] && s.Train+s.Val > n {
		s.Train = n - s.Val
	}
	if !set["num-test"] && s.Test > ds.Test.N {
		s.Test = ds.Test.N
	}
	if s.Train <= 0 || s.Train+s.Val > n {
		return s, usagef("--num-train %d + --num-val %d: the dataset has %d training images", s.Train, s.Val, n)
	}
	if s.Test > ds.Test.N {
		return s, usagef("--num-test %d: the dataset has %d test images", s.Test, ds.Test.N)
	}
	return s, nil
}

func prepare(ds *cifar.Dataset, s splitSizes, bias bool, seed uint32) (*cifar.Prepared, error) {
	cfg := cifar.DefaultPrepareConfig()
	cfg.NumTraining, cfg.NumValidation, cfg.NumTest = s.Train, s.Val, s.Test
	cfg.NumDev = min(cfg.NumDev, s.Train)
	cfg.Bias = bias
	cfg.Seed = seed
	p, err := cifar.Prepare(ds, cfg)
	if err != nil {
		return nil, fmt.Errorf("prepare data: %w", err)
	}
	return p, nil
}

// subSplit returns rows [a, b) of s (sharing memory).
func subSplit(s *cifar.Split, a, b int) cifar.Split {
	sz := s.H * s.W * s.C
	return cifar.Split{X: s.X[a*sz : b*sz], Y: s.Y[a:b], N: b - a, H: s.H, W: s.W, C: s.C}
}
