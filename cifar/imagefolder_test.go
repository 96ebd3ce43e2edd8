package cifar

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func writePNG(t testing.TB, p string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder writes an image folder of random PNGs (h×w), per split and
// class nimg images, and returns the expected dataset (classes sorted,
// files sorted within a class).
func makeFolder(t testing.TB, dir string, classes []string, ntrain, ntest, h, w int) *Dataset {
	rng := rand.New(rand.NewPCG(21, 2))
	want := &Dataset{ClassNames: classes}
	for si, sp := range []struct {
		name string
		n    int
		s    *Split
	}{{"train", ntrain, &want.Train}, {"test", ntest, &want.Test}} {
		*sp.s = Split{H: h, W: w, C: 3}
		for ci, c := range classes {
			for k := 0; k < sp.n; k++ {
				img := image.NewNRGBA(image.Rect(0, 0, w, h))
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						px := color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
						img.SetNRGBA(x, y, px)
						sp.s.X = append(sp.s.X, px.R, px.G, px.B)
					}
				}
				// Alternate plain NRGBA and paletted-free RGBA storage.
				var im image.Image = img
				if k%2 == 1 {
					rgba := image.NewRGBA(img.Rect)
					copy(rgba.Pix, img.Pix)
					im = rgba
				}
				writePNG(t, filepath.Join(dir, sp.name, c, fmt.Sprintf("%04d.png", k)), im)
				sp.s.Y = append(sp.s.Y, uint8(ci))
				sp.s.N++
			}
		}
		_ = si
	}
	return want
}

func TestImageFolder(t *testing.T) {
	dir := t.TempDir()
	want := makeFolder(t, dir, []string{"apple", "banana", "cherry"}, 4, 2, 5, 7)
	os.WriteFile(filepath.Join(dir, "train", "apple", ".DS_Store"), []byte("x"), 0o644) // ignored
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("x"), 0o644)
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	equalDataset(t, got, want)
	for _, gz := range []bool{false, true} {
		got, err := Load(tarDir(t, dir, "myset", gz))
		if err != nil {
			t.Fatal(err)
		}
		equalDataset(t, got, want)
	}
}

func TestImageFolderGrayAndJPEG(t *testing.T) {
	dir := t.TempDir()
	g := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 17)
	}
	writePNG(t, filepath.Join(dir, "train", "a", "g.png"), g)
	writePNG(t, filepath.Join(dir, "test", "a", "g.png"), g)
	rgb := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 5)
		if i%4 == 3 {
			rgb.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, rgb, &jpeg.Options{Quality: 90})
	os.MkdirAll(filepath.Join(dir, "train", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "train", "b", "c.JPEG"), buf.Bytes(), 0o644)
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 2 || ds.Train.C != 3 || ds.Train.H != 3 || ds.Train.W != 4 || ds.Test.N != 1 {
		t.Fatalf("shape %+v", ds.Train)
	}
	for i := 0; i < 12; i++ { // gray promoted to RGB
		px := ds.Train.Image(0)[3*i : 3*i+3]
		if px[0] != g.Pix[i] || px[1] != g.Pix[i] || px[2] != g.Pix[i] {
			t.Fatalf("gray pixel %d = %v, want %d", i, px, g.Pix[i])
		}
	}
	// The JPEG decodes to what the standard library's decoder gives.
	dec, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	for y := 0; y < 3; y++ {
		for x := 0; x < 4; x++ {
			r, gg, b, _ := dec.At(x, y).RGBA()
			px := ds.Train.Image(1)[3*(y*4+x):]
			if px[0] != uint8(r>>8) || px[1] != uint8(gg>>8) || px[2] != uint8(b>>8) {
				t.Fatalf("jpeg pixel (%d,%d) = %v, want %d %d %d", x, y, px[:3], r>>8, gg>>8, b>>8)
			}
		}
	}
	if ds.Train.Y[0] != 0 || ds.Train.Y[1] != 1 || fmt.Sprint(ds.ClassNames) != "[a b]" {
		t.Fatalf("labels %v classes %v", ds.Train.Y, ds.ClassNames)
	}
}

func TestImageFolderErrors(t *testing.T) {
	small := image.NewGray(image.Rect(0, 0, 2, 2))
	big := image.NewGray(image.Rect(0, 0, 3, 2))
	t.Run("mixed sizes", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), small)
		writePNG(t, filepath.Join(dir, "train", "a", "2.png"), big)
		writePNG(t, filepath.Join(dir, "test", "a", "1.png"), small)
		_, err := Load(dir)
		wantErr(t, err, "train/a/2.png", "image is 3x2 but the others are 2x2")
		_, err = Load(tarDir(t, dir, "", true))
		wantErr(t, err, "train/a/2.png", "image is 3x2 but the others are 2x2")
	})
	t.Run("empty folder", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "train"), 0o755)
		os.MkdirAll(filepath.Join(dir, "test"), 0o755)
		_, err := Load(dir)
		wantErr(t, err, dir, "no images in train/<class>/")
	})
	t.Run("class without images", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), small)
		writePNG(t, filepath.Join(dir, "test", "a", "1.png"), small)
		os.MkdirAll(filepath.Join(dir, "train", "b"), 0o755)
		os.WriteFile(filepath.Join(dir, "train", "b", "notes.txt"), []byte("x"), 0o644)
		_, err := Load(dir)
		wantErr(t, err, filepath.Join("train", "b"), "class folder has no images")
	})
	t.Run("corrupt image", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), small)
		writePNG(t, filepath.Join(dir, "test", "a", "1.png"), small)
		os.WriteFile(filepath.Join(dir, "train", "a", "2.png"), []byte("\x89PNG garbage"), 0o644)
		_, err := Load(dir)
		wantErr(t, err, "train/a/2.png")
		_, err = Load(tarDir(t, dir, "x", false))
		wantErr(t, err, "train/a/2.png")
	})
	t.Run("unknown test class", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), small)
		writePNG(t, filepath.Join(dir, "test", "z", "1.png"), small)
		_, err := Load(dir)
		wantErr(t, err, "test/z/1.png", `class "z" has no train/ folder`)
	})
	t.Run("transparent", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), image.NewNRGBA(image.Rect(0, 0, 2, 2)))
		writePNG(t, filepath.Join(dir, "test", "a", "1.png"), small)
		_, err := Load(dir)
		wantErr(t, err, "train/a/1.png", "transparent")
	})
	t.Run("no test", func(t *testing.T) {
		dir := t.TempDir()
		writePNG(t, filepath.Join(dir, "train", "a", "1.png"), small)
		_, err := Load(dir)
		wantErr(t, err, "test")
	})
}
