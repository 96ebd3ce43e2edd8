package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/internal/npz"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/nprand"
)

// randFile returns a valid model of kind for h×w×c images with C classes
// (and 5 hidden units), weights of type T drawn from a seeded generator.
func randFile[T float32 | float64](kind string, h, w, c, C int, seed uint32) *File {
	rng := nprand.New(seed)
	tensor := func(name string, shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		d := make([]T, n)
		for i := range d {
			d[i] = T(rng.StandardNormal())
		}
		return Tensor{Name: name, Shape: shape, Data: d}
	}
	D := h * w * c
	f := &File{Kind: kind, ImageShape: [3]int{h, w, c}, Mean: make([]float64, D)}
	for i := range f.Mean {
		f.Mean[i] = 255 * rng.RandomSample()
	}
	for k := 0; k < C; k++ {
		f.Classes = append(f.Classes, fmt.Sprintf("class %d é", k))
	}
	if kind == TwoLayer {
		f.Weights = []Tensor{tensor("W1", D, 5), tensor("b1", 5), tensor("W2", 5, C), tensor("b2", C)}
	} else {
		f.Weights = []Tensor{tensor("W", D+1, C)}
	}
	return f
}

// testFiles are one model of each kind and precision.
func testFiles() map[string]*File {
	out := map[string]*File{}
	for i, kind := range []string{Softmax, SVM, TwoLayer} {
		out[kind+"/f32"] = randFile[float32](kind, 2, 3, 3, 4, uint32(i))
		out[kind+"/f64"] = randFile[float64](kind, 3, 2, 1, 3, uint32(10+i))
	}
	return out
}

// Save then Load gives the same File back, weights in the kind's order,
// and saving the same model twice gives the same bytes.
func TestSaveLoadRoundTrip(t *testing.T) {
	for name, f := range testFiles() {
		dir := t.TempDir()
		p1, p2 := filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz")
		if err := f.Save(p1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := f.Save(p2); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b1, _ := os.ReadFile(p1)
		b2, _ := os.ReadFile(p2)
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s: same model, different bytes", name)
		}
		got, err := Load(p1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, got, f)
		}
		if got.Float64() != strings.HasSuffix(name, "f64") || got.Bias() != (f.Kind != TwoLayer) {
			t.Errorf("%s: Float64 %v, Bias %v", name, got.Float64(), got.Bias())
		}
		is := f.ImageShape
		wantDim := is[0] * is[1] * is[2]
		if f.Kind != TwoLayer {
			wantDim++
		}
		if got.Dim() != wantDim || got.NumClasses() != len(f.Classes) {
			t.Errorf("%s: Dim %d NumClasses %d, want %d %d", name, got.Dim(), got.NumClasses(), wantDim, len(f.Classes))
		}
	}
}

// Save writes the bytes `nnkern train` wrote before the model package
// existed: its weights as tensors, then "mean" (float64) and "image_shape"
// (int64), encoded by npz.EncodeModel.
func TestSaveWritesTheTrainerBytes(t *testing.T) {
	for name, f := range testFiles() {
		var old []npz.Tensor
		for _, w := range f.Weights {
			old = append(old, npz.Tensor{Name: w.Name, Shape: w.Shape, Data: w.Data})
		}
		is := f.ImageShape
		old = append(old,
			npz.Tensor{Name: "mean", Shape: []int{len(f.Mean)}, Data: append([]float64(nil), f.Mean...)},
			npz.Tensor{Name: "image_shape", Shape: []int{3}, Data: []int64{int64(is[0]), int64(is[1]), int64(is[2])}})
		var want bytes.Buffer
		if err := npz.EncodeModel(&want, &npz.Model{Kind: f.Kind, Classes: f.Classes, Tensors: old}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "model.npz")
		if err := f.Save(p); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: Save wrote %d bytes that differ from the trainer's %d", name, len(got), want.Len())
		}
	}
}

// A File that Load would refuse is not written: the error names the file
// and the problem, and nothing is left in the directory.
func TestSaveRefusesInvalidFiles(t *testing.T) {
	edit := func(f func(f *File)) *File { g := randFile[float32](TwoLayer, 2, 2, 1, 3, 7); f(g); return g }
	cases := map[string]struct {
		f    *File
		want string
	}{
		"kind":        {edit(func(f *File) { f.Kind = "resnet" }), `unknown model kind "resnet"`},
		"wrong names": {edit(func(f *File) { f.Kind = Softmax }), `"W1" is not part of a softmax model`},
		"NaN mean":    {edit(func(f *File) { f.Mean[1] = math.NaN() }), "mean holds NaN at [1]"},
		"Inf weight":  {edit(func(f *File) { f.Weights[2].Data.([]float32)[4] = float32(math.Inf(-1)) }), "W2 holds -Inf at [1, 1]"},
		"mean size":   {edit(func(f *File) { f.Mean = f.Mean[:3] }), "mean has shape (3,), want (4,)"},
		"channels":    {edit(func(f *File) { f.ImageShape = [3]int{1, 2, 2} }), "image_shape (1, 2, 2)"},
		"W1 rows":     {edit(func(f *File) { f.ImageShape = [3]int{1, 2, 1}; f.Mean = f.Mean[:2] }), "W1 has shape (4, 5), want (2, H)"},
		"classes":     {edit(func(f *File) { f.Classes = f.Classes[:2] }), "2 class names for 3 classes"},
	}
	for name, c := range cases {
		dir := t.TempDir()
		p := filepath.Join(dir, "model.npz")
		err := c.f.Save(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Save = %v, want an error naming the file with %q", name, err, c.want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: Save left %v", name, ents)
		}
	}
}

// leHex is the SHA-256 of v's little-endian bytes, as numpy's
// arr.tobytes() gives them.
func leHex(v any) string {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	s := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(s[:])
}

// numpy loads what Save writes with the dtypes, shapes and exact bytes of
// every array; what numpy.savez writes back from those arrays loads as the
// same File.
func TestSaveNumpyLoadRoundTrip(t *testing.T) {
	py := testenv.Python(t)
	// One python for every file: argv holds (saved, savez output) pairs.
	script := `
import sys, json, hashlib, numpy as np
for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):
    d = np.load(src)
    print("file", src)
    for k in sorted(d.files):
        a = d[k]
        if a.dtype.kind == "U":
            print(k, a.dtype.kind, a.shape, json.dumps(str(a), ensure_ascii=False))
        else:
            print(k, a.dtype.str, a.shape, hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest())
    np.savez(dst, **{k: d[k] for k in d.files})
`
	files := testFiles()
	dir := t.TempDir()
	args := []string{"-c", script}
	want := map[string]map[string]string{} // saved file -> array -> numpy's line
	for name, f := range files {
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".npz")
		if err := f.Save(p); err != nil {
			t.Fatal(err)
		}
		args = append(args, p, p+".savez.npz")
		dt := "<f4"
		if f.Float64() {
			dt = "<f8"
		}
		shape := func(s []int) string {
			if len(s) == 1 {
				return fmt.Sprintf("(%d,)", s[0])
			}
			return fmt.Sprintf("(%d, %d)", s[0], s[1])
		}
		is := f.ImageShape
		// %q quotes these names as JSON does.
		w := map[string]string{
			"kind":        fmt.Sprintf("kind U () %q", f.Kind),
			"classes":     fmt.Sprintf("classes U () %q", strings.Join(f.Classes, "\n")),
			"mean":        fmt.Sprintf("mean <f8 (%d,) %s", len(f.Mean), leHex(f.Mean)),
			"image_shape": fmt.Sprintf("image_shape <i8 (3,) %s", leHex([]int64{int64(is[0]), int64(is[1]), int64(is[2])})),
		}
		for _, wt := range f.Weights {
			w[wt.Name] = fmt.Sprintf("%s %s %s %s", wt.Name, dt, shape(wt.Shape), leHex(wt.Data))
		}
		want[p] = w
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	seen := map[string]int{}
	var cur string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p, ok := strings.CutPrefix(l, "file "); ok {
			cur = p
			continue
		}
		k, _, _ := strings.Cut(l, " ")
		seen[cur]++
		if want[cur][k] != l {
			t.Errorf("%s: numpy: %s\n    want %s", filepath.Base(cur), l, want[cur][k])
		}
	}
	for name, f := range files {
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".npz")
		if seen[p] != len(want[p]) {
			t.Errorf("%s: numpy saw %d arrays, want %d", name, seen[p], len(want[p]))
		}
		got, err := Load(p + ".savez.npz")
		if err != nil {
			t.Fatalf("%s: Load of numpy's savez: %v", name, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("%s: numpy's savez loads as\n %+v\nwant %+v", name, got, f)
		}
	}
}

// float32 weights widen to float64 exactly; float64 weights round to the
// nearest float32, ties to even (checked against the two float32
// neighbours of each value); a value past float32's range is an error
// naming the weight and the index.
func TestValuesConversion(t *testing.T) {
	rng := nprand.New(5)
	f32 := make([]float32, 1000)
	f64 := make([]float64, 1000)
	for i := range f64 {
		f64[i] = rng.StandardNormal() * math.Pow(2, float64(rng.Randint(-140, 120)))
		f32[i] = float32(rng.StandardNormal())
	}
	// Halfway cases between float32 neighbours, subnormals and the top of
	// the range.
	one := math.Float32frombits(math.Float32bits(1) + 1)
	f64 = append(f64, (1+float64(one))/2, (float64(one)+float64(math.Float32frombits(math.Float32bits(1)+2)))/2,
		1e-45, -3e-39, math.MaxFloat32, -math.MaxFloat32, 0, math.Copysign(0, -1))
	wide, err := Values[float64](Tensor{Name: "W", Shape: []int{len(f32)}, Data: f32})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range f32 {
		if wide[i] != float64(v) || float32(wide[i]) != v {
			t.Fatalf("widen %v: %v", v, wide[i])
		}
	}
	narrow, err := Values[float32](Tensor{Name: "W", Shape: []int{len(f64)}, Data: f64})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range f64 {
		if bad := nearestF32Mismatch(x, narrow[i]); bad != "" {
			t.Errorf("round %v (%#x): got %v (%#x): %s", x, math.Float64bits(x), narrow[i], math.Float32bits(narrow[i]), bad)
		}
	}
	same, err := Values[float32](Tensor{Name: "W", Shape: []int{len(f32)}, Data: f32})
	if err != nil || !reflect.DeepEqual(same, f32) || &same[0] == &f32[0] {
		t.Errorf("float32 to float32: not an equal copy (err %v)", err)
	}
	big := []float64{1, 2, 3, 4, 5, 3.5e38}
	_, err = Values[float32](Tensor{Name: "W2", Shape: []int{2, 3}, Data: big})
	if err == nil || !strings.Contains(err.Error(), "W2 holds 3.5e+38 at [1, 2], beyond float32's range") {
		t.Errorf("3.5e38 into float32: %v", err)
	}
	if v, err := Values[float64](Tensor{Name: "W2", Shape: []int{2, 3}, Data: big}); err != nil || !reflect.DeepEqual(v, big) {
		t.Errorf("float64 to float64: %v %v", v, err)
	}
	if _, err := Values[float32](Tensor{Name: "b", Shape: []int{1}, Data: []int64{1}}); err == nil || !strings.Contains(err.Error(), "b holds []int64") {
		t.Errorf("int64 data: %v", err)
	}
}

// nearestF32Mismatch checks that r is the float32 nearest x, ties to the
// even significand, by comparing the exact distances (in float64, where
// the difference of a float64 and a nearby float32 is exact for these
// magnitudes) to r's neighbours.
func nearestF32Mismatch(x float64, r float32) string {
	if math.IsInf(float64(r), 0) {
		return "overflow"
	}
	d := math.Abs(x - float64(r))
	for _, n := range []float32{math.Nextafter32(r, float32(math.Inf(1))), math.Nextafter32(r, float32(math.Inf(-1)))} {
		dn := math.Abs(x - float64(n))
		switch {
		case dn < d:
			return fmt.Sprintf("%v is nearer", n)
		case dn == d && d != 0 && math.Float32bits(r)&1 == 1:
			return fmt.Sprintf("a tie, and %v has the even significand", n)
		}
	}
	return ""
}

// Preprocess gives, bit for bit, the rows cifar.Gather gives for a
// Prepared built from the file (what training and `nnkern eval` feed the
// models), in both precisions, with and without the bias column.
func TestPreprocessMatchesGather(t *testing.T) {
	for _, kind := range []string{Softmax, TwoLayer} {
		f := randFile[float32](kind, 4, 3, 3, 2, 3)
		rng := nprand.New(9)
		const n = 7
		s := cifar.Split{N: n, H: 4, W: 3, C: 3, X: make([]uint8, n*36), Y: make([]uint8, n)}
		for i := range s.X {
			s.X[i] = uint8(rng.Randint(0, 256))
		}
		p := &cifar.Prepared{Mean: f.Mean, Bias: f.Bias()}
		idx := []int{0, 1, 2, 3, 4, 5, 6}
		g32 := blas.NewMatrix[float32](n, p.Dim())
		g64 := blas.NewMatrix[float64](n, p.Dim())
		cifar.Gather(p, &s, idx, g32)
		cifar.Gather(p, &s, idx, g64)
		for i := 0; i < n; i++ {
			img := s.X[i*36 : (i+1)*36]
			r32 := make([]float32, f.Dim())
			r64 := make([]float64, f.Dim())
			if err := Preprocess(f, r32, img); err != nil {
				t.Fatal(err)
			}
			if err := Preprocess(f, r64, img); err != nil {
				t.Fatal(err)
			}
			for j := range r32 {
				if math.Float32bits(r32[j]) != math.Float32bits(g32.At(i, j)) || math.Float64bits(r64[j]) != math.Float64bits(g64.At(i, j)) {
					t.Fatalf("%s row %d col %d: Preprocess %v %v, Gather %v %v", kind, i, j, r32[j], r64[j], g32.At(i, j), g64.At(i, j))
				}
			}
		}
		if err := Preprocess(f, make([]float32, f.Dim()), s.X[:35]); err == nil || !strings.Contains(err.Error(), "35 values") {
			t.Errorf("%s: short image: %v", kind, err)
		}
		if err := Preprocess(f, make([]float32, 36+2), s.X[:36]); err == nil || !strings.Contains(err.Error(), "dst has 38 values") {
			t.Errorf("%s: long dst: %v", kind, err)
		}
	}
}

// CheckShape: a negative size matches any positive one; the data must
// fill the shape.
func TestCheckShape(t *testing.T) {
	w := Tensor{Name: "W", Shape: []int{3, 2}, Data: make([]float32, 6)}
	for _, c := range []struct {
		t     Tensor
		shape []int
		want  string
	}{
		{w, []int{3, -1}, ""},
		{w, []int{3, 2}, ""},
		{w, []int{4, -1}, "weight W has shape [3 2], want [4 any]"},
		{w, []int{3}, "want [3]"},
		{Tensor{Name: "W", Shape: []int{3, 0}, Data: []float32{}}, []int{3, -1}, "shape [3 0]"},
		{Tensor{Name: "b", Shape: []int{3}, Data: make([]float64, 2)}, []int{3}, "weight b has 2 values for shape [3]"},
		{Tensor{Name: "b", Shape: []int{3}, Data: make([]int, 3)}, []int{3}, "b holds []int"},
	} {
		err := c.t.CheckShape(c.shape...)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s %v CheckShape(%v) = %v, want %q", c.t.Name, c.t.Shape, c.shape, err, c.want)
		}
	}
}
