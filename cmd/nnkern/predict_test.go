package main

// Tests of 'nnkern predict' on images drawn by the test.

import (
	"bytes"
	"encoding/binary"
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
	big := image.NewGray(image.Rect(0, 0, side+1, side))
	b.Reset()
	png.Encode(&b, big)
	os.WriteFile(f, b.Bytes(), 0o644)
	r = nnkern(t, dir, nil, "predict", filepath.Join(out, modelFile), f)
	checkOneLine(t, r, 1, "7x6", nil)

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
