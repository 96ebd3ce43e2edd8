package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/textesc"
)

func runDataExport(e *env, args []string) error {
	fs := newFlags(e, "data export", "--data PATH --format binary|python --out DIR [--train N] [--test N]",
		"Writes a dataset (or its first N training and test images) in the official CIFAR-10\n"+
			"binary or python layout (data_batch_1..5, test_batch, batches.meta[.txt]), e.g. to\n"+
			"hand a subset to the numpy reference code. The binary format holds 32x32x3 images only.")
	var data, format, out string
	var ntrain, ntest int
	fs.StringVar(&data, "data", "", "dataset `path` (default $NNKERN_DATA, then the cache)")
	fs.StringVar(&format, "format", "python", "output format: binary or python")
	fs.StringVar(&out, "out", "", "output `directory` (required)")
	fs.IntVar(&ntrain, "train", 0, "export only the first N training images (0: all)")
	fs.IntVar(&ntest, "test", 0, "export only the first N test images (0: all)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("data export: unexpected argument %q (the dataset goes in --data)", pos[0])
	}
	if out == "" {
		return usagef("data export: --out DIR is required")
	}
	if format != "binary" && format != "python" {
		return usagef("--format %q: want binary or python", format)
	}
	if ntrain < 0 || ntest < 0 {
		return usagef("--train/--test must be >= 0")
	}
	if err := checkWritableDir(out); err != nil {
		return err
	}
	path, err := requireData(context.Background(), e, data)
	if err != nil {
		return err
	}
	ld, err := loadDataset(path)
	if err != nil {
		return err
	}
	ds := *ld.DS
	if ntrain > 0 {
		if ntrain > ds.Train.N {
			return usagef("--train %d: the dataset has %d training images", ntrain, ds.Train.N)
		}
		ds.Train = subSplit(&ds.Train, 0, ntrain)
	}
	if ntest > 0 {
		if ntest > ds.Test.N {
			return usagef("--test %d: the dataset has %d test images", ntest, ds.Test.N)
		}
		ds.Test = subSplit(&ds.Test, 0, ntest)
	}
	if format == "binary" {
		err = cifar.WriteBinaryDir(out, &ds)
	} else {
		err = cifar.WritePythonDir(out, &ds)
	}
	if err != nil {
		return fmt.Errorf("data export %s: %w", out, err)
	}
	ents, _ := os.ReadDir(out)
	fmt.Fprintf(e.stdout, "wrote %d training and %d test images (%s format) to %s:", ds.Train.N, ds.Test.N, format, out)
	for _, en := range ents {
		fmt.Fprintf(e.stdout, " %s", textesc.Escape(en.Name()))
	}
	fmt.Fprintln(e.stdout)
	return nil
}
