package main

import (
	"encoding/json"
	"path/filepath"

	"github.com/nnkern/nnkern/cmd/nnkern/internal/runio"
	"github.com/nnkern/nnkern/cmd/nnkern/internal/viz"
	"github.com/nnkern/nnkern/kernels"
)

// writePlots draws loss.png and accuracy.png from metrics.jsonl (so a
// resumed run's plots cover the whole run) and weights.png from the model.
func writePlots[T kernels.Float](dir string, m model[T], rc *RunConfig) error {
	lines, _, err := runio.ReadMetrics(filepath.Join(dir, metricsFile))
	if err != nil {
		return err
	}
	var loss, tr, va viz.Series
	loss.Name, tr.Name, va.Name = "training loss", "train", "val"
	for _, l := range lines {
		var r metricRec
		if json.Unmarshal(l, &r) != nil || r.Final {
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
	s := rc.Settings
	if err := viz.LinePNG(filepath.Join(dir, "loss.png"), s.Model+": loss history", "iteration", "loss", loss); err != nil {
		return err
	}
	if err := viz.LinePNG(filepath.Join(dir, "accuracy.png"), s.Model+": classification accuracy history", "epoch", "accuracy", tr, va); err != nil {
		return err
	}
	data, kind := m.weightsImage(rc)
	h, w, c := rc.Data.ImageShape[0], rc.Data.ImageShape[1], rc.Data.ImageShape[2]
	d := h * w * c
	if c != 1 && c != 3 {
		return nil
	}
	if kind == "templates" {
		classes := len(data) / d
		return viz.SavePNG(filepath.Join(dir, "weights.png"), viz.Scale(viz.Templates(data, d, classes, h, w, c, 2), 4))
	}
	return viz.SavePNG(filepath.Join(dir, "weights.png"), viz.Scale(viz.Grid(data, len(data)/d, h, w, c, 3), 2))
}
