package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/viz"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// writePlots draws loss.png and accuracy.png from metrics.jsonl (so a
// resumed run's plots cover the whole run) and weights.png from the model.
func writePlots[T kernels.Float](dir string, m model[T], rc *RunConfig) error {
	lines, _, err := runio.ReadMetrics(filepath.Join(dir, metricsFile))
	if err != nil {
		return err
	}
	pl := planPlots(lines, rc.Settings)
	untrained := len(pl.loss.msg) > 0
	if err := pl.loss.write(filepath.Join(dir, "loss.png")); err != nil {
		return err
	}
	if err := pl.acc.write(filepath.Join(dir, "accuracy.png")); err != nil {
		return err
	}
	return writeWeights(dir, m, rc, untrained)
}

// chart is one line chart, or a message in its place (msg not empty).
type chart struct {
	title, xlabel, ylabel string
	series                []viz.Series
	msg                   []string
}

func (c chart) write(path string) error {
	if len(c.msg) > 0 {
		return viz.MessagePNG(path, c.title, c.msg...)
	}
	return viz.LinePNG(path, c.title, c.xlabel, c.ylabel, c.series...)
}

// runPlots are a run's loss and accuracy charts.
type runPlots struct{ loss, acc chart }

// planPlots decides what loss.png and accuracy.png show, from the lines of
// metrics.jsonl.
//
// A run without iterations (--iters 0) still gets both files, each saying
// in words that there is nothing to plot (and the untrained model's
// accuracies), so a run directory always holds the same files and no empty
// axes mislead. The accuracy is checked at every epoch boundary (iterations
// 0, E, 2E, …); a run of at most E iterations has a single check, and
// accuracy.png then states it and the final accuracies instead of drawing
// a one-point curve.
func planPlots(lines [][]byte, s Settings) runPlots {
	var loss, tr, va viz.Series
	loss.Name, tr.Name, va.Name = "training loss", "train", "val"
	var final *metricRec
	for _, l := range lines {
		var r metricRec
		if json.Unmarshal(l, &r) != nil {
			continue
		}
		if r.Final {
			final = &r
			continue
		}
		if r.Loss != nil {
			loss.X = append(loss.X, float64(r.It))
			loss.Y = append(loss.Y, *r.Loss)
		}
		if r.Epoch != nil && r.TrainAcc != nil && r.ValAcc != nil {
			tr.X = append(tr.X, float64(*r.Epoch))
			tr.Y = append(tr.Y, *r.TrainAcc)
			va.X = append(va.X, float64(*r.Epoch))
			va.Y = append(va.Y, *r.ValAcc)
		}
	}
	perEpoch := train.EpochLength(s.NumTrain, s.Batch)
	iters := len(loss.X)
	finalAcc := ""
	if final != nil && final.TrainAcc != nil && final.ValAcc != nil {
		finalAcc = fmt.Sprintf("train %.3f, val %.3f", *final.TrainAcc, *final.ValAcc)
		if final.TestAcc != nil {
			finalAcc += fmt.Sprintf(", test %.3f", *final.TestAcc)
		}
	}
	pl := runPlots{
		loss: chart{title: s.Model + ": loss history", xlabel: "iteration", ylabel: "loss"},
		acc:  chart{title: s.Model + ": classification accuracy", xlabel: "epoch", ylabel: "accuracy"},
	}
	if iters == 0 {
		pl.loss.msg = []string{"no training iterations (--iters 0): no loss to plot"}
		pl.acc.msg = []string{"no training iterations (--iters 0): no accuracy history"}
		if finalAcc != "" {
			pl.acc.msg = append(pl.acc.msg, "the untrained model: "+finalAcc)
		}
		return pl
	}
	pl.loss.title += " (" + plural(iters, "iteration") + ")"
	pl.loss.series = []viz.Series{loss}
	span := plural(iters, "iteration") + ", " + epochsText(float64(iters)/float64(perEpoch))
	if len(tr.X) >= 2 {
		pl.acc.title += " (" + span + ")"
		pl.acc.series = []viz.Series{tr, va}
		return pl
	}
	pl.acc.msg = []string{
		fmt.Sprintf("%s (an epoch is %s)", span, plural(perEpoch, "iteration")),
		fmt.Sprintf("accuracy is checked at iterations 0, %d, %d, …", perEpoch, 2*perEpoch),
	}
	if len(tr.X) == 1 {
		pl.acc.msg = append(pl.acc.msg, fmt.Sprintf("one check, at iteration %d: train %.3f, val %.3f", int(tr.X[0])*perEpoch, tr.Y[0], va.Y[0]))
	} else {
		pl.acc.msg = append(pl.acc.msg, "no checks")
	}
	pl.acc.msg = append(pl.acc.msg, "a curve needs a run of more than "+plural(perEpoch, "iteration"))
	if finalAcc != "" {
		pl.acc.msg = append(pl.acc.msg, "after training: "+finalAcc)
	}
	return pl
}

// writeWeights draws weights.png: a linear classifier's templates, one per
// class with its name, or the two-layer net's first-layer weights as a grid.
// An untrained model (--iters 0) says so in the title.
func writeWeights[T kernels.Float](dir string, m model[T], rc *RunConfig, untrained bool) error {
	note := ""
	if untrained {
		note = ", untrained (--iters 0)"
	}
	s := rc.Settings
	data, kind := m.weightsImage(rc)
	h, w, c := rc.Data.ImageShape[0], rc.Data.ImageShape[1], rc.Data.ImageShape[2]
	d := h * w * c
	if c != 1 && c != 3 {
		return nil
	}
	path := filepath.Join(dir, "weights.png")
	if kind == "templates" {
		const scale, pad = 4, 2
		classes := len(data) / d
		names := make([]string, classes)
		for k := range names {
			names[k] = fmt.Sprintf("class %d", k)
			if k < len(rc.Data.Classes) {
				names[k] = rc.Data.Classes[k]
			}
		}
		img := viz.Scale(viz.Templates(data, d, classes, h, w, c, pad), scale)
		title := fmt.Sprintf("%s: the weights of each class as an image (one colour scale for all%s)", s.Model, note)
		return viz.SavePNG(path, viz.Labelled(img, title, names, w*scale, (w+pad)*scale))
	}
	const scale, pad = 2, 3
	n := len(data) / d
	img := viz.Scale(viz.Grid(data, n, h, w, c, pad), scale)
	title := fmt.Sprintf("%s: first-layer weights, %s (each scaled on its own%s)", s.Model, plural(n, "hidden unit"), note)
	return viz.SavePNG(path, viz.Labelled(img, title, nil, 0, 0))
}

// plural is "1 epoch", "2 epochs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// epochsText writes a number of epochs with a decimal (two below one):
// "0.02 epochs", "1 epoch", "6.2 epochs".
func epochsText(e float64) string {
	n := strconv.FormatFloat(e, 'f', 2, 64)
	if e >= 1 {
		n = strings.TrimSuffix(strconv.FormatFloat(e, 'f', 1, 64), ".0")
	}
	if n == "1" {
		return "1 epoch"
	}
	return n + " epochs"
}
