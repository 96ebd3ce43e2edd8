package main

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports training progress: a bar with ETA and the current loss
// on a terminal, the notebooks' "iteration i / n: loss x" lines (every 100
// iterations, with elapsed time and ETA) otherwise.
type progress struct {
	mode      progressMode
	e         *env
	total     int
	start     int
	t0        time.Time
	bar       *progressbar.ProgressBar
	lastPrint time.Time
}

func newProgress(e *env, mode progressMode, total, start int) *progress {
	p := &progress{mode: mode, e: e, total: total, start: start, t0: time.Now()}
	if mode == progressBar && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(e.stdout),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		p.bar.Set(start)
	}
	return p
}

func (p *progress) iter(it int, loss float64) {
	switch p.mode {
	case progressBar:
		if p.bar != nil {
			p.bar.Describe(fmt.Sprintf("loss %.4f", loss))
			p.bar.Set(it + 1)
		}
	case progressLines:
		if it%100 == 0 || it == p.total-1 {
			done := it + 1 - p.start
			el := time.Since(p.t0)
			eta := time.Duration(0)
			if done > 0 {
				eta = time.Duration(float64(el) / float64(done) * float64(p.total-it-1))
			}
			fmt.Fprintf(p.e.stdout, "iteration %d / %d: loss %f (%s elapsed, ETA %s)\n", it, p.total, loss, el.Round(time.Second), eta.Round(time.Second))
		}
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
