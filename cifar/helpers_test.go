package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var testClasses = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// randomSplit returns n random h×w×c images with labels < classes.
func randomSplit(rng *rand.Rand, n, h, w, c, classes int) Split {
	s := Split{X: make([]uint8, n*h*w*c), Y: make([]uint8, n), N: n, H: h, W: w, C: c}
	for i := range s.X {
		s.X[i] = uint8(rng.IntN(256))
	}
	for i := range s.Y {
		s.Y[i] = uint8(rng.IntN(classes))
	}
	return s
}

// randomDataset returns a 32×32×3 dataset with ntrain/ntest random images.
func randomDataset(seed uint64, ntrain, ntest int) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	return &Dataset{
		Train:      randomSplit(rng, ntrain, 32, 32, 3, 10),
		Test:       randomSplit(rng, ntest, 32, 32, 3, 10),
		ClassNames: append([]string(nil), testClasses...),
	}
}

// tarDir packs the files under dir into a tar (gzipped if gz) archive,
// every name prefixed with prefix, in sorted order, and returns its path.
func tarDir(t testing.TB, dir, prefix string, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := (*tar.Writer)(nil)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(w)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.ToSlash(filepath.Join(prefix, rel))
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		zw.Close()
	}
	ext := ".tar"
	if gz {
		ext = ".tar.gz"
	}
	out := filepath.Join(t.TempDir(), "archive"+ext)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func equalSplit(t testing.TB, what string, got, want *Split) {
	t.Helper()
	if got.N != want.N || got.H != want.H || got.W != want.W || got.C != want.C {
		t.Fatalf("%s: shape N=%d %dx%dx%d, want N=%d %dx%dx%d", what, got.N, got.H, got.W, got.C, want.N, want.H, want.W, want.C)
	}
	if !bytes.Equal(got.Y, want.Y) {
		t.Fatalf("%s: labels differ", what)
	}
	if !bytes.Equal(got.X, want.X) {
		for i := range got.X {
			if got.X[i] != want.X[i] {
				t.Fatalf("%s: pixels differ first at byte %d (image %d): %d != %d", what, i, i/want.Dim(), got.X[i], want.X[i])
			}
		}
	}
}

func equalDataset(t testing.TB, got, want *Dataset) {
	t.Helper()
	equalSplit(t, "train", &got.Train, &want.Train)
	equalSplit(t, "test", &got.Test, &want.Test)
	if strings.Join(got.ClassNames, ",") != strings.Join(want.ClassNames, ",") {
		t.Fatalf("classes %q, want %q", got.ClassNames, want.ClassNames)
	}
}

func wantErr(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error %q is not one line", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
