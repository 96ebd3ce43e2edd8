package main

// eval and predict on hostile model files and image paths: one line and
// exit 1, never a panic, a hang or unbounded memory; class names from the
// file are escaped before they reach the terminal.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/npz"
	"github.com/nnkern/nnkern/internal/testenv"
)

// testSoftmax is a valid softmax model for side×side gray images.
func testSoftmax(classes []string) *npz.Model {
	d := side*side + 1
	w := make([]float32, d*10)
	for i := range w {
		w[i] = float32(i%7) * 0.01
	}
	return &npz.Model{Kind: "softmax", Classes: classes, Tensors: []npz.Tensor{
		{Name: "W", Shape: []int{d, 10}, Data: w},
		{Name: "mean", Shape: []int{side * side}, Data: make([]float64, side*side)},
		{Name: "image_shape", Shape: []int{3}, Data: []int64{side, side, 1}},
	}}
}

// storedNPZ writes m as a stored (uncompressed) zip; edit may change an
// entry's bytes and what the directory declares for it (size 0: the truth).
func storedNPZ(t *testing.T, m *npz.Model, edit func(name string, data []byte) (out []byte, crc uint32, size uint64)) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npz.EncodeModel(&b, m); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		d, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		crc, size := crc32.ChecksumIEEE(d), uint64(0)
		if edit != nil {
			d, crc, size = edit(f.Name, d)
		}
		if size == 0 {
			size = uint64(len(d))
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Store, CRC32: crc, CompressedSize64: size, UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// npyV1 writes a version 1 .npy array with the given header dict.
func npyV1(header string, data []byte) []byte {
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)+1))
	b.WriteString(header + "\n")
	b.Write(data)
	return b.Bytes()
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nnkernTimeout is nnkern with a deadline: a command that hangs (a FIFO)
// or reads without end (/dev/zero) is killed and reported.
func nnkernTimeout(t *testing.T, dir string, d time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NNKERN_DATA=", "NNKERN_CACHE="+filepath.Join(dir, ".cache"))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("nnkern %v: still running after %v (killed)", args, d)
		return result{-1, so.String(), se.String()}
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run nnkern %v: %v", args, err)
	}
	return result{code, so.String(), se.String()}
}

// Hostile models end eval and predict in one line naming the file and what
// it declared: NaN weights (they predicted "airplane NaN" and evaluated to
// chance with exit 0), 0 classes (eval panicked), a flipped byte under the
// zip CRC-32 (it predicted with different weights), a zip64 directory
// declaring a 64 GiB W (fatal error: out of memory).
func TestEvalPredictRefuseHostileModels(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 100, 40)
	img := filepath.Join(dir, "img.png")
	writePNG(t, img, side, side)

	nan := testSoftmax(nil)
	w := append([]float32(nil), nan.Tensors[0].Data.([]float32)...)
	w[15] = float32(math.NaN())
	nan.Tensors[0].Data = w
	models := map[string]struct {
		b    []byte
		want string
	}{
		"nan.npz": {storedNPZ(t, nan, nil), "W holds NaN at [1, 5]"},
		"zero-classes.npz": {storedNPZ(t, testSoftmax(nil), func(name string, d []byte) ([]byte, uint32, uint64) {
			if name == "W" {
				d = npyV1(fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 0), }", side*side+1), nil)
			}
			return d, crc32.ChecksumIEEE(d), 0
		}), "W has shape (37, 0)"},
		"flip.npz": {storedNPZ(t, testSoftmax(nil), func(name string, d []byte) ([]byte, uint32, uint64) {
			crc := crc32.ChecksumIEEE(d)
			if name == "W" {
				d[len(d)-100] ^= 0x10
			}
			return d, crc, 0
		}), "W: CRC-32 mismatch"},
		"zip64.npz": {storedNPZ(t, testSoftmax(nil), func(name string, d []byte) ([]byte, uint32, uint64) {
			if name == "W" {
				return d, crc32.ChecksumIEEE(d), 64 << 30
			}
			return d, crc32.ChecksumIEEE(d), 0
		}), "W: zip entry declares 68719476736 compressed bytes"},
	}
	for name, c := range models {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"eval", p, "--data", data, "--png", "-"}, {"predict", p, img}} {
			r := nnkernTimeout(t, dir, 20*time.Second, args...)
			checkOneLine(t, r, 1, c.want, args)
			if !strings.Contains(r.stderr, p) {
				t.Errorf("nnkern %v: error does not name the model: %q", args, r.stderr)
			}
		}
	}
	// The same model without the damage works.
	good := filepath.Join(dir, "good.npz")
	os.WriteFile(good, storedNPZ(t, testSoftmax(nil), nil), 0o644)
	if r := nnkernTimeout(t, dir, 20*time.Second, "predict", good, img); r.code != 0 {
		t.Errorf("predict on the intact model: exit %d, %q", r.code, r.stderr)
	}
}

// Class names are text from the file: eval and predict print them with
// their control characters escaped (eval printed `\e[2J\e]0;PWNED\a` raw).
func TestEvalPredictEscapeClassNames(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 100, 40)
	img := filepath.Join(dir, "img.png")
	writePNG(t, img, side, side)
	names := []string{"\x1b[2J\x1b]0;PWNED\a", "b", "c", "d", "e", "f", "g", "h", "i", "j\u202ek"}
	p := filepath.Join(dir, "model.npz")
	if err := npz.SaveModel(p, testSoftmax(names)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"predict", "-k", "10", p, img}, {"eval", p, "--data", data, "--png", "-"}} {
		r := mustRun(t, dir, nil, args...)
		if strings.ContainsAny(r.stdout, "\x1b\a\u202e") {
			t.Errorf("nnkern %v printed a control character from the model file:\n%q", args, r.stdout)
		}
		if !strings.Contains(r.stdout, `\x1b[2J`) {
			t.Errorf("nnkern %v: the escaped class name is missing:\n%q", args, r.stdout)
		}
	}
}

// Only regular files are read: a FIFO as the model or the image hung in
// open, /dev/zero as the model was read until memory ran out (3 GB at
// 19 s), and an image file is bounded in size before it is read.
func TestPredictRefusesNonRegularAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img.png")
	writePNG(t, img, side, side)
	model := filepath.Join(dir, "model.npz")
	if err := npz.SaveModel(model, testSoftmax(nil)); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	testenv.Mkfifo(t, fifo)
	huge := filepath.Join(dir, "huge.png")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30) // sparse: a GiB of file, no disk
	f.Close()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"predict", "/dev/zero", img}, "model /dev/zero: not a regular file (a character device)"},
		{[]string{"predict", fifo, img}, "not a regular file (a named pipe)"},
		{[]string{"predict", model, fifo}, "image " + fifo + ": not a regular file (a named pipe)"},
		{[]string{"predict", model, "/dev/zero"}, "image /dev/zero: not a regular file"},
		{[]string{"predict", model, huge}, "image " + huge + ": 1073741824 bytes"},
		{[]string{"eval", fifo, "--data", dir}, "not a regular file (a named pipe)"},
	}
	for _, c := range cases {
		r := nnkernTimeout(t, dir, 10*time.Second, c.args...)
		checkOneLine(t, r, 1, c.want, c.args)
	}

	// eval reads the split sizes from the config.json beside the model
	// when there is one: a FIFO there hung it; now it is passed over as a
	// missing config.json is.
	run := filepath.Join(dir, "run")
	os.Mkdir(run, 0o755)
	if err := npz.SaveModel(filepath.Join(run, modelFile), testSoftmax(nil)); err != nil {
		t.Fatal(err)
	}
	testenv.Mkfifo(t, filepath.Join(run, "config.json"))
	data := synthData(t, dir, 60, 20)
	args := []string{"eval", filepath.Join(run, modelFile), "--data", data}
	if r := nnkernTimeout(t, dir, 10*time.Second, args...); r.code != 0 {
		t.Errorf("nnkern %v with config.json a FIFO: exit %d, stderr %q", args, r.code, r.stderr)
	}
}
