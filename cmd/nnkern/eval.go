package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/viz"
	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/regfile"
	"github.com/nnkern/nnkern/internal/textesc"
	"github.com/nnkern/nnkern/kernels"
	modelfile "github.com/nnkern/nnkern/model"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/train"
	"github.com/nnkern/nnkern/twolayer"
	"golang.org/x/image/draw"
)

// loadedModel is a model file and its path.
type loadedModel struct {
	path    string
	f       *modelfile.File
	h, w, c int // f.ImageShape
}

// openModel loads a model file; model.Load has validated it (known kind,
// finite values, positive shapes consistent with each other, with the
// image shape and with the class names).
func openModel(path string) (*loadedModel, error) {
	f, err := modelfile.Load(path)
	if err != nil {
		return nil, err
	}
	is := f.ImageShape
	return &loadedModel{path: path, f: f, h: is[0], w: is[1], c: is[2]}, nil
}

// modelFileOf is the model file of a trained model: its weights (as
// checkpoints hold them), the mean image and class names of the prepared
// data, and the image shape.
func modelFileOf(kind string, weights []runio.Tensor, p *cifar.Prepared, shape [3]int) *modelfile.File {
	f := &modelfile.File{Kind: kind, Mean: p.Mean, ImageShape: shape, Classes: p.ClassNames}
	for _, t := range weights {
		f.Weights = append(f.Weights, modelfile.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
	}
	return f
}

// className is the printable name of class k: names come from the model
// file, so control characters are escaped.
func (lm *loadedModel) className(k int) string {
	if k < len(lm.f.Classes) {
		return textesc.Escape(lm.f.Classes[k])
	}
	return fmt.Sprint(k)
}

// predictSplit predicts the rows of s, prepared by p, with the model in
// the precision it was trained in: what eval reports, and what a library
// user gets from softmax.FromFile or twolayer.FromFile.
func predictSplit(lm *loadedModel, p *cifar.Prepared, s *cifar.Split) ([]int, error) {
	if lm.f.Float64() {
		return predictWith[float64](lm, p, s)
	}
	return predictWith[float32](lm, p, s)
}

func predictWith[T kernels.Float](lm *loadedModel, p *cifar.Prepared, s *cifar.Split) ([]int, error) {
	src := cifar.NewSource[T](p, s)
	if lm.f.Kind == modelfile.TwoLayer {
		n, err := twolayer.FromFile[T](lm.f)
		if err != nil {
			return nil, fmt.Errorf("model %s: %v", lm.path, err)
		}
		return n.PredictSource(src), nil
	}
	c, err := softmax.FromFile[T](lm.f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", lm.path, err)
	}
	return c.PredictSource(src), nil
}

// evalArgs are eval's flags and MODEL.
type evalArgs struct {
	model, data, split, png string
	json                    bool
	sizes                   splitSizes
	set                     map[string]bool // the flags given on the command line
}

// evalResult is what 'nnkern eval --json' prints (docs/cli-json.md).
type evalResult struct {
	// Model is the model file, Kind its kind (softmax, svm, twolayer).
	Model string `json:"model"`
	Kind  string `json:"kind"`
	// Data is the dataset path, DataFrom where it came from: "flag",
	// "NNKERN_DATA", "config.json" (the run directory's) or "cache".
	Data     string `json:"data"`
	DataFrom string `json:"data_from"`
	// Split is test, val or train; Images its number of rows.
	Split  string `json:"split"`
	Images int    `json:"images"`
	// Accuracy is the fraction of rows predicted right.
	Accuracy float64 `json:"accuracy"`
	// Classes are the class names, in label order.
	Classes []string `json:"classes"`
	// PerClass has one entry per class, in label order.
	PerClass []classAccuracy `json:"per_class"`
	// Confusion[true][predicted] counts rows.
	Confusion [][]int `json:"confusion"`
	// PNG is the confusion matrix image written, absent with --png -.
	PNG string `json:"png,omitempty"`
}

// classAccuracy is one class's accuracy (null when the split has no row
// of that class) over Images rows.
type classAccuracy struct {
	Class    string   `json:"class"`
	Accuracy *float64 `json:"accuracy"`
	Images   int      `json:"images"`
}

// evalData resolves eval's dataset: --data, else NNKERN_DATA, else the
// data path recorded in the config.json beside MODEL (a model in its run
// directory), else the cache. It returns the path and where it came from.
func evalData(ctx context.Context, e *env, a *evalArgs) (string, string, error) {
	switch {
	case a.data != "":
		p, err := requireData(ctx, e, a.data)
		return p, "flag", err
	case e.getenv("NNKERN_DATA") != "":
		p, err := requireData(ctx, e, "")
		return p, "NNKERN_DATA", err
	}
	cfg := filepath.Join(filepath.Dir(a.model), "config.json")
	if rc, err := readRunConfig(cfg); err == nil && rc.Data.Path != "" {
		p, err := findData(ctx, e, rc.Data.Path)
		if err != nil {
			return "", "", fmt.Errorf("%v (the data path in %s; pass --data PATH)", err, cfg)
		}
		return p, "config.json", nil
	}
	p, err := requireData(ctx, e, "")
	return p, "cache", err
}

func runEval(e *env, args []string) error {
	a, err := parseEvalArgs(e, args)
	if err != nil {
		return err
	}
	lm, err := openModel(a.model)
	if err != nil {
		return err
	}
	dataPath, dataFrom, err := evalData(context.Background(), e, a)
	if err != nil {
		return err
	}
	ld, err := loadDataset(dataPath)
	if err != nil {
		return err
	}
	tr := ld.DS.Train
	if tr.H != lm.h || tr.W != lm.w || tr.C != lm.c {
		return fmt.Errorf("model %s expects %dx%dx%d images, data %s has %dx%dx%d", lm.path, lm.h, lm.w, lm.c, dataPath, tr.H, tr.W, tr.C)
	}
	p, err := evalSplits(lm, ld.DS, a)
	if err != nil {
		return err
	}
	s := map[string]*cifar.Split{"test": &p.Test, "val": &p.Val, "train": &p.Train}[a.split]
	pred, err := predictSplit(lm, p, s)
	if err != nil {
		return err
	}
	y := cifar.Labels(s)
	C := lm.f.NumClasses()
	conf, bad := confusionMatrix(C, y, pred)
	if bad >= 0 {
		return fmt.Errorf("data %s: label %d at %s row %d, the model has %d classes", dataPath, y[bad], a.split, bad, C)
	}
	names := make([]string, len(conf))
	for k := range names {
		names[k] = lm.className(k)
	}
	png := a.png
	if png == "" {
		png = filepath.Join(filepath.Dir(lm.path), "confusion.png")
	}
	if png != "-" {
		if err := viz.ConfusionPNG(png, fmt.Sprintf("%s on %s (accuracy %.3f)", lm.f.Kind, a.split, train.Accuracy(pred, y)), conf, names); err != nil {
			return err
		}
	}
	w := e.stdout
	if a.json {
		r := &evalResult{Model: lm.path, Kind: string(lm.f.Kind), Data: dataPath, DataFrom: dataFrom, Split: a.split,
			Images: len(y), Accuracy: train.Accuracy(pred, y), Confusion: conf}
		for k, row := range conf {
			// Raw names: JSON escapes what a terminal would not show.
			name := fmt.Sprint(k)
			if k < len(lm.f.Classes) {
				name = lm.f.Classes[k]
			}
			r.Classes = append(r.Classes, name)
			ca := classAccuracy{Class: name}
			for _, v := range row {
				ca.Images += v
			}
			if ca.Images > 0 {
				acc := float64(row[k]) / float64(ca.Images)
				ca.Accuracy = &acc
			}
			r.PerClass = append(r.PerClass, ca)
		}
		if png != "-" {
			r.PNG = png
		}
		return writeJSON(w, r)
	}
	if dataFrom == "config.json" {
		fmt.Fprintf(w, "data from the run's config.json: %s\n", dataPath)
	}
	fmt.Fprintf(w, "model %s (%s), data %s, split %s: %d images\n", lm.path, lm.f.Kind, dataPath, a.split, len(y))
	fmt.Fprintf(w, "accuracy: %.4f\n\n", train.Accuracy(pred, y))
	printConfusion(w, conf, names)
	if png != "-" {
		fmt.Fprintf(w, "\nwrote %s\n", png)
	}
	return nil
}

// parseEvalArgs parses eval's command line and checks what it can
// without reading a file.
func parseEvalArgs(e *env, args []string) (*evalArgs, error) {
	fs := newFlags(e, "eval", "MODEL [--data PATH] [--split test|val|train] [--json]",
		"Evaluates a model.npz on a dataset split: accuracy, per-class accuracy and the\nconfusion matrix (text, and confusion.png).")
	a := &evalArgs{}
	fs.StringVar(&a.data, "data", "", "dataset `path` (default $NNKERN_DATA, then the data path in the config.json beside MODEL,\nthen the cache)")
	fs.BoolVar(&a.json, "json", false, "print one JSON object (fields: docs/cli-json.md) instead of text")
	fs.StringVar(&a.split, "split", "test", "split: test, val or train")
	fs.StringVar(&a.png, "png", "", "confusion matrix image (default confusion.png beside MODEL; \"-\" for none)")
	fs.IntVar(&a.sizes.Train, "num-train", 49000, "training rows (val follows them); default: the run's config.json beside MODEL, if any")
	fs.IntVar(&a.sizes.Val, "num-val", 1000, "validation rows (default: as for --num-train)")
	fs.IntVar(&a.sizes.Test, "num-test", 1000, "test rows (default: as for --num-train)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("eval: want one MODEL file, got %d arguments (see 'nnkern eval -h')", len(pos))
	}
	if a.split != "test" && a.split != "val" && a.split != "train" {
		return nil, usagef("--split %q: want test, val or train", a.split)
	}
	if a.sizes.Train <= 0 || a.sizes.Val < 0 || a.sizes.Test < 0 {
		return nil, usagef("--num-train/--num-val/--num-test must be positive")
	}
	a.model, a.set = pos[0], setFlags(fs)
	return a, nil
}

// evalSplits prepares the train, val and test splits of ds for the model:
// the sizes given on the command line, else the run's own (its
// config.json, when the model sits in its run directory), else the
// flags' defaults; the model's mean image and bias column.
func evalSplits(lm *loadedModel, ds *cifar.Dataset, a *evalArgs) (*cifar.Prepared, error) {
	req, set := a.sizes, a.set
	if rc, err := readRunConfig(filepath.Join(filepath.Dir(lm.path), "config.json")); err == nil {
		if !set["num-train"] {
			req.Train, set["num-train"] = rc.Settings.NumTrain, true
		}
		if !set["num-val"] {
			req.Val, set["num-val"] = rc.Settings.NumVal, true
		}
		if !set["num-test"] {
			req.Test, set["num-test"] = rc.Settings.NumTest, true
		}
	}
	sizes, err := resolveSizes(ds, req, set)
	if err != nil {
		return nil, err
	}
	p := &cifar.Prepared{Mean: lm.f.Mean, Bias: lm.f.Bias(), ClassNames: ds.ClassNames}
	p.Train = subSplit(&ds.Train, 0, sizes.Train)
	p.Val = subSplit(&ds.Train, sizes.Train, sizes.Train+sizes.Val)
	p.Test = subSplit(&ds.Test, 0, sizes.Test)
	return p, nil
}

// confusionMatrix counts predictions by true class (rows) and predicted
// class (columns) for C classes. It returns the first row whose label is
// not below C, or -1.
func confusionMatrix(C int, y, pred []int) ([][]int, int) {
	conf := make([][]int, C)
	for i := range conf {
		conf[i] = make([]int, C)
	}
	for i := range y {
		if y[i] >= C {
			return nil, i
		}
		conf[y[i]][pred[i]]++
	}
	return conf, -1
}

// printConfusion prints the per-class accuracies and the confusion matrix
// under the class names.
func printConfusion(w io.Writer, conf [][]int, names []string) {
	C := len(conf)
	fmt.Fprintf(w, "per-class accuracy:\n")
	for k := 0; k < C; k++ {
		tot := 0
		for _, v := range conf[k] {
			tot += v
		}
		acc := math.NaN()
		if tot > 0 {
			acc = float64(conf[k][k]) / float64(tot)
		}
		fmt.Fprintf(w, "  %-12s %.4f  (%d images)\n", names[k], acc, tot)
	}
	fmt.Fprintf(w, "\nconfusion matrix (rows: true class, columns: predicted):\n%12s", "")
	for k := 0; k < C; k++ {
		fmt.Fprintf(w, " %6.6s", names[k])
	}
	fmt.Fprintln(w)
	for r := 0; r < C; r++ {
		fmt.Fprintf(w, "%12.12s", names[r])
		for c := 0; c < C; c++ {
			fmt.Fprintf(w, " %6d", conf[r][c])
		}
		fmt.Fprintln(w)
	}
}

// scores computes the model's class scores for one preprocessed row x
// (float64, with the bias column for linear models).
func (lm *loadedModel) scores(x []float64) []float64 {
	get := func(name string) []float64 {
		t, _ := lm.f.Weight(name)
		v, _ := modelfile.Values[float64](t) // widening: exact, no error
		return v
	}
	affine := func(x, W, b []float64, cols int) []float64 {
		out := make([]float64, cols)
		if b != nil {
			copy(out, b)
		}
		for d, xv := range x {
			row := W[d*cols : (d+1)*cols]
			for j := range out {
				out[j] += float64(xv * row[j])
			}
		}
		return out
	}
	C := lm.f.NumClasses()
	if lm.f.Kind != modelfile.TwoLayer {
		return affine(x, get("W"), nil, C)
	}
	b1 := get("b1")
	h := affine(x, get("W1"), b1, len(b1))
	for i := range h {
		h[i] = math.Max(h[i], 0)
	}
	return affine(h, get("W2"), get("b2"), C)
}

// predictResult is what 'nnkern predict --json' prints (docs/cli-json.md).
type predictResult struct {
	// Model is the model file, Kind its kind; Input is the image size the
	// model takes, [width, height, channels].
	Model string `json:"model"`
	Kind  string `json:"kind"`
	Input [3]int `json:"input"`
	// Images has one entry per IMAGE argument, in order.
	Images []imagePrediction `json:"images"`
}

// imagePrediction is one image's top-k classes.
type imagePrediction struct {
	// Path is the image file.
	Path string `json:"path"`
	// ResizedFrom is the image's own [width, height] when it was resized
	// to the model's input (bilinear, area-averaging when shrinking);
	// absent when it had the model's size.
	ResizedFrom *[2]int `json:"resized_from,omitempty"`
	// Top are the k most probable classes, most probable first.
	Top []classProb `json:"top"`
}

// classProb is a class (its label index and name) and its probability
// (a softmax of the scores, for an SVM too).
type classProb struct {
	Index int     `json:"index"`
	Class string  `json:"class"`
	Prob  float64 `json:"prob"`
}

func runPredict(e *env, args []string) error {
	fs := newFlags(e, "predict", "MODEL IMAGE... [-k N] [--json]",
		"Prints the top-k classes with softmax probabilities for PNG or JPEG images (for an SVM\n"+
			"the probabilities are a softmax of its scores). An image of another size than the\n"+
			"model's input is resized to it, aspect ratio not kept (golang.org/x/image/draw's\n"+
			"BiLinear: a tent filter widened by the shrink factor, so shrinking averages every\n"+
			"source pixel under an output pixel instead of aliasing), and the output says so.")
	var k int
	fs.IntVar(&k, "k", 3, "number of classes to print per image")
	asJSON := fs.Bool("json", false, "print one JSON object (fields: docs/cli-json.md) instead of text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("predict: want MODEL and at least one IMAGE (see 'nnkern predict -h')")
	}
	if k <= 0 {
		return usagef("-k %d: must be positive", k)
	}
	lm, err := openModel(pos[0])
	if err != nil {
		return err
	}
	res := &predictResult{Model: lm.path, Kind: string(lm.f.Kind), Input: [3]int{lm.w, lm.h, lm.c}}
	for _, path := range pos[1:] {
		x, from, err := readImage(path, lm)
		if err != nil {
			return err
		}
		row := make([]float64, lm.f.Dim())
		if err := modelfile.Preprocess(lm.f, row, x); err != nil {
			return fmt.Errorf("image %s: %v", path, err)
		}
		s := lm.scores(row)
		mx := math.Inf(-1)
		for _, v := range s {
			mx = math.Max(mx, v)
		}
		sum := 0.0
		prob := make([]float64, len(s))
		for i, v := range s {
			prob[i] = math.Exp(v - mx)
			sum += prob[i]
		}
		idx := make([]int, len(s))
		for i := range idx {
			idx[i] = i
			prob[i] /= sum
		}
		sort.SliceStable(idx, func(a, b int) bool { return prob[idx[a]] > prob[idx[b]] })
		ip := imagePrediction{Path: path, ResizedFrom: from}
		var parts []string
		for _, c := range idx[:min(k, len(idx))] {
			name := fmt.Sprint(c)
			if c < len(lm.f.Classes) {
				name = lm.f.Classes[c]
			}
			ip.Top = append(ip.Top, classProb{Index: c, Class: name, Prob: prob[c]})
			parts = append(parts, fmt.Sprintf("%s %.3f", lm.className(c), prob[c]))
		}
		res.Images = append(res.Images, ip)
		if *asJSON {
			continue
		}
		line := fmt.Sprintf("%s: %s", path, strings.Join(parts, ", "))
		if from != nil {
			line += fmt.Sprintf("  (resized %dx%d → %dx%d, bilinear)", from[0], from[1], lm.w, lm.h)
		}
		fmt.Fprintln(e.stdout, line)
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	return nil
}

// maxImageFile bounds an image file before it is read: a PNG or JPEG
// photo takes a few MB, and metadata (EXIF, ICC profiles) rarely more
// than a few MB.
const maxImageFile = 64 << 20

// bytesPerDecodedPixel is the most a decoded pixel takes (16-bit RGBA).
const bytesPerDecodedPixel = 8

// readImage decodes a PNG or JPEG into HWC uint8 values of the model's
// shape (gray for one channel, RGB for three), resizing an image of
// another size with draw.BiLinear; it returns the image's own [width,
// height] when it resized, else nil. Only a regular file of at most
// maxImageFile bytes is read (a FIFO would block, /dev/zero never ends),
// and the pixel size its header declares must fit the load budget
// (NNKERN_LOAD_LIMIT) before anything is decoded.
func readImage(path string, lm *loadedModel) ([]uint8, *[2]int, error) {
	f, st, err := regfile.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	if st.Size() > maxImageFile {
		return nil, nil, fmt.Errorf("image %s: %d bytes, over the %d a PNG or JPEG photo may take", path, st.Size(), maxImageFile)
	}
	r := io.NewSectionReader(f, 0, st.Size())
	// The decoder allocates the declared size up front, so a tiny file
	// claiming 60000x60000 pixels would cost gigabytes: the header's size
	// is checked against the budget first.
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: not a PNG or JPEG image: %v", path, err)
	}
	budget, err := loadlimit.Budget(0)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > budget/bytesPerDecodedPixel {
		return nil, nil, fmt.Errorf("image %s: %s of %dx%d pixels, over the load budget of %d bytes (%s) decoded", path, format, cfg.Width, cfg.Height, budget, loadlimit.EnvVar)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("image %s: %v", path, err)
	}
	img, format, err := image.Decode(r)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: not a PNG or JPEG image: %v", path, err)
	}
	var from *[2]int
	if b := img.Bounds(); b.Dx() != lm.w || b.Dy() != lm.h {
		from = &[2]int{b.Dx(), b.Dy()}
		dst := image.NewRGBA(image.Rect(0, 0, lm.w, lm.h))
		draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img = dst
	}
	b := img.Bounds()
	out := make([]uint8, 0, lm.h*lm.w*lm.c)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if lm.c == 1 {
				out = append(out, color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
				continue
			}
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
	return out, from, nil
}

func errUnwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
