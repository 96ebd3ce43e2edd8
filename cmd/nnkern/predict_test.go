package main

// Tests of 'nnkern predict' on images drawn by the test.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPredict(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	// Class 3's pattern, drawn as a PNG.
	img := image.NewGray(image.Rect(0, 0, side, side))
	for p := 0; p < side*side; p++ {
		v := 70
		if (p*7+3*3)%10 < 3 {
			v += 120
		}
		img.SetGray(p%side, p/side, color.Gray{uint8(v)})
	}
	f := filepath.Join(dir, "three.png")
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(f, b.Bytes(), 0o644)
	r := mustRun(t, dir, nil, "predict", "-k", "2", filepath.Join(out, modelFile), f)
	if !strings.HasPrefix(r.stdout, f+": 3 ") || strings.Count(r.stdout, ",") != 1 {
		t.Errorf("predict: %q, want class 3 first and 2 entries", r.stdout)
	}
	// An image of another size is resized, and the line says so.
	big := image.NewGray(image.Rect(0, 0, side+1, side))
	b.Reset()
	png.Encode(&b, big)
	os.WriteFile(f, b.Bytes(), 0o644)
	r = mustRun(t, dir, nil, "predict", filepath.Join(out, modelFile), f)
	if want := fmt.Sprintf("(resized %dx%d → %dx%d, bilinear)\n", side+1, side, side, side); !strings.HasSuffix(r.stdout, want) {
		t.Errorf("predict of a %dx%d image: %q, want it to end in %q", side+1, side, r.stdout, want)
	}

	// A 100-byte PNG whose header claims 60000x60000 pixels is refused by
	// its declared size, before the decoder allocates 3.6 GB for it (Go
	// maps that lazily, so RSS would not show it; the message does).
	var bomb bytes.Buffer
	chunk := func(typ string, d []byte) {
		binary.Write(&bomb, binary.BigEndian, uint32(len(d)))
		bomb.WriteString(typ)
		bomb.Write(d)
		binary.Write(&bomb, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), d...)))
	}
	bomb.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 60000), 60000)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})
	chunk("IEND", nil)
	os.WriteFile(f, bomb.Bytes(), 0o644)
	cmd := exec.Command(binPath, "predict", filepath.Join(out, modelFile), f)
	var se bytes.Buffer
	cmd.Stderr = &se
	cmd.Run()
	// Decoding first failed with "not enough pixel data"; the size in the
	// message shows the header was checked before the decoder ran.
	checkOneLine(t, result{cmd.ProcessState.ExitCode(), "", se.String()}, 1, "60000x60000", nil)
}

// TestPredictResizes: a 64x64 PNG is resized to the model's input. A
// uniform image stays uniform under the bilinear filter, so its
// prediction must equal that of the same gray at the model's size; the
// class-3 pattern drawn at 64x64 (each model pixel a block) still reads
// as class 3. --json carries the same figures as the text.
func TestPredictResizes(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("twolayer", data, out)...)
	model := filepath.Join(out, modelFile)
	writePNG := func(name string, n int, at func(x, y int) uint8) string {
		img := image.NewGray(image.Rect(0, 0, n, n))
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				img.SetGray(x, y, color.Gray{at(x, y)})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gray := func(int, int) uint8 { return 123 }
	small, large := writePNG("gray6.png", side, gray), writePNG("gray64.png", 64, gray)
	var res predictResult
	decodeOne(t, "predict --json", mustRun(t, dir, nil, "predict", "--json", "-k", "10", model, small, large).stdout, &res)
	if len(res.Images) != 2 || res.Input != [3]int{side, side, 1} {
		t.Fatalf("predict --json: %+v", res)
	}
	if res.Images[0].ResizedFrom != nil || res.Images[1].ResizedFrom == nil || *res.Images[1].ResizedFrom != [2]int{64, 64} {
		t.Errorf("resized_from: %v and %v, want absent and [64 64]", res.Images[0].ResizedFrom, res.Images[1].ResizedFrom)
	}
	if a, b := res.Images[0].Top, res.Images[1].Top; fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 10 {
		t.Errorf("uniform gray: %dx%d gives %v, resized 64x64 gives %v", side, side, a, b)
	}
	text := mustRun(t, dir, nil, "predict", "-k", "1", model, large).stdout
	top := res.Images[1].Top[0]
	if want := fmt.Sprintf("%s: %s %.3f  (resized 64x64 → %dx%d, bilinear)\n", large, top.Class, top.Prob, side, side); text != want {
		t.Errorf("predict: %q, want %q", text, want)
	}
	three := writePNG("three64.png", 64, func(x, y int) uint8 {
		p := (y*side/64)*side + x*side/64
		if (p*7+3*3)%10 < 3 {
			return 190
		}
		return 70
	})
	if r := mustRun(t, dir, nil, "predict", "-k", "1", model, three); !strings.HasPrefix(r.stdout, three+": 3 ") {
		t.Errorf("class 3's pattern at 64x64: %q, want class 3", r.stdout)
	}
}
