// Package loadlimit holds the one memory budget every file reader of nnkern
// enforces before it allocates: the most bytes a single load (a dataset, a
// model file, a file of a run directory) may materialise.
//
// Readers derive a tighter bound from what their format can legitimately
// hold (a CIFAR-10 batch is 10,000 records, a model's tensors have the shapes
// its header gives) and never exceed Budget on top of that, so a hostile or
// corrupt file ends in an error before memory is spent on it. Users with
// legitimately larger data raise the budget with NNKERN_LOAD_LIMIT (bytes,
// or with a KiB/MiB/GiB suffix) or the MaxBytes field of a reader's options.
// A malformed NNKERN_LOAD_LIMIT fails every load that reads it, and
// kernels.EnvError reports it up front.
//
//	budget, err := loadlimit.Budget(opts.MaxBytes)
//	if err != nil { return err }
//	if declared > budget { return fmt.Errorf("%s: declares %d bytes, over the %d-byte load limit (%s)", name, declared, budget, loadlimit.EnvVar) }
package loadlimit

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nnkern/nnkern/internal/envcheck"
)

// EnvVar is the environment variable that overrides Default.
const EnvVar = "NNKERN_LOAD_LIMIT"

// Default is the budget when neither an option nor EnvVar sets one: room for
// CIFAR-10/100, MNIST or an image folder of ~80,000 32×32 RGB images
// (pixels stay uint8) with the peak RSS of a load below 500 MB.
const Default int64 = 320 << 20

// DeflateRatio is deflate's maximum expansion (a 258-byte match in two
// bits): no compressed byte of a gzip stream or a zip entry decodes to more
// than 1032 bytes, so a compressed file of n bytes holds at most
// n*DeflateRatio bytes, whatever its headers declare.
const DeflateRatio = 1032

// Budget returns the byte budget of one load: opt when it is positive,
// else EnvVar when set, else Default. A malformed EnvVar is an error naming
// the variable, not a silent fallback.
func Budget(opt int64) (int64, error) {
	if opt > 0 {
		return opt, nil
	}
	v, ok := os.LookupEnv(EnvVar)
	if !ok || v == "" {
		return Default, nil
	}
	n, err := Parse(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", EnvVar, v, err)
	}
	return n, nil
}

// EnvVar is read at every load (a program may set it after start-up); its
// check reads it again, so kernels.EnvError reports a bad value before the
// first load fails on it.
func init() {
	envcheck.Register(EnvVar, func() error {
		_, err := Budget(0)
		return err
	})
}

// Parse reads a positive byte count: digits with an optional suffix K, M, G
// (or KiB, MiB, GiB; powers of 1024).
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix []string
		m      int64
	}{{[]string{"GiB", "G"}, 1 << 30}, {[]string{"MiB", "M"}, 1 << 20}, {[]string{"KiB", "K"}, 1 << 10}} {
		for _, suf := range u.suffix {
			if strings.HasSuffix(t, suf) {
				t, mult = strings.TrimSuffix(t, suf), u.m
				goto parsed
			}
		}
	}
parsed:
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive byte count such as 2GiB")
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("byte count too large")
	}
	return n * mult, nil
}
