package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"testing/fstest"
)

// folderTar packs name → content into a tar (gzipped if gz).
func folderTar(gz bool, files ...[2]string) []byte {
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := tar.NewWriter(w)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	}
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg})
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// FuzzImageFolder loads small image-folder archives: no panic, a dataset
// that passes Check, and allocations bounded by the load limit (the
// dataset and the decoders' buffers are taken from it before they are
// allocated; decoding leaves garbage of a few times the dataset).
func FuzzImageFolder(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*37) | 1
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var p, j bytes.Buffer
	png.Encode(&p, img)
	jpeg.Encode(&j, img, nil)
	g := image.NewGray(image.Rect(0, 0, 3, 2))
	g.Set(1, 1, color.Gray{200})
	var gp bytes.Buffer
	png.Encode(&gp, g)
	for _, gz := range []bool{false, true} {
		f.Add(folderTar(gz, [2]string{"s/train/a/1.png", p.String()}, [2]string{"s/train/b/2.jpg", j.String()}, [2]string{"s/test/a/3.png", gp.String()}))
	}
	f.Add(folderTar(false, [2]string{"train/a/1.png", string(onebitPNG(100, 100))}, [2]string{"test/a/1.png", string(onebitPNG(100, 100))}))
	f.Add(folderTar(false, [2]string{"train/a/1.png", string(pngHeader(4096, 4096))}, [2]string{"test/a/1.png", string(pngHeader(4096, 4096))}))
	const limit = 4 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		mfs := fstest.MapFS{"a.tar": {Data: data}}
		var ds *Dataset
		var err error
		allocBound(t, "LoadFS", 4*limit+64*uint64(len(data))+4<<20, func() {
			ds, err = LoadFS(mfs, "a.tar", LoadOptions{MaxBytes: limit})
		})
		if err == nil {
			if cerr := ds.Check(); cerr != nil || ds.Train.N == 0 || ds.Test.N == 0 {
				t.Fatalf("loaded an inconsistent dataset: %v (train %d, test %d)", cerr, ds.Train.N, ds.Test.N)
			}
		}
	})
}
