package download_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/cifar/download"
)

// Fetch the python archive (from a mirror here), Ctrl-C leaving the bytes
// so far for the next call to resume, then load it.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	path, err := download.CIFAR10(ctx, "data", "python", download.Options{
		URL: "https://mirror.example.org/cifar/cifar-10-python.tar.gz",
		Progress: func(done, total int64) {
			fmt.Fprintf(os.Stderr, "\r%d / %d bytes", done, total)
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ds, err := cifar.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(ds.Train.N, "training images")
}
