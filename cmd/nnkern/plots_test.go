package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// metricsFor writes the metrics.jsonl lines of a run of iters iterations
// with an epoch of perEpoch iterations, as the trainer does: an accuracy
// line at every epoch boundary, a loss line per iteration, a final line.
func metricsFor(t *testing.T, iters, perEpoch int) [][]byte {
	t.Helper()
	var out [][]byte
	add := func(r metricRec) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for it := 0; it < iters; it++ {
		if it%perEpoch == 0 {
			e := it / perEpoch
			add(metricRec{It: it, Epoch: &e, TrainAcc: fp(0.1 + 0.01*float64(e)), ValAcc: fp(0.1 + 0.009*float64(e))})
		}
		add(metricRec{It: it, Loss: fp(700 / float64(it+1))})
	}
	add(metricRec{It: iters, TrainAcc: fp(0.25), ValAcc: fp(0.24), TestAcc: fp(0.23), Final: true})
	return out
}

func TestPlanPlots(t *testing.T) {
	s := Settings{Model: "softmax", NumTrain: 4900, Batch: 200} // 24 iterations an epoch
	for _, tc := range []struct {
		iters          int
		lossMsg        bool
		accMsg, accSub string // accMsg: in the message; accSub: in the title of the curve
		checks         int
	}{
		{iters: 0, lossMsg: true, accMsg: "--iters 0"},
		{iters: 5, accMsg: "one check, at iteration 0: train 0.100, val 0.100"},
		{iters: 24, accMsg: "24 iterations, 1 epoch (an epoch is 24 iterations)"},
		{iters: 25, accSub: "(25 iterations, 1 epoch)", checks: 2},
		{iters: 150, accSub: "(150 iterations, 6.2 epochs)", checks: 7},
	} {
		pl := planPlots(metricsFor(t, tc.iters, 24), s)
		name := fmt.Sprintf("%d iterations", tc.iters)
		if (len(pl.loss.msg) > 0) != tc.lossMsg {
			t.Errorf("%s: loss message %q", name, pl.loss.msg)
		}
		if !tc.lossMsg && (len(pl.loss.series) != 1 || len(pl.loss.series[0].X) != tc.iters) {
			t.Errorf("%s: loss series %+v", name, pl.loss.series)
		}
		msg := strings.Join(pl.acc.msg, "\n")
		if tc.accMsg != "" {
			if !strings.Contains(msg, tc.accMsg) || pl.acc.series != nil {
				t.Errorf("%s: accuracy.png says %q, want a message with %q and no curve", name, msg, tc.accMsg)
			}
			if tc.iters > 0 && (!strings.Contains(msg, "after training: train 0.250, val 0.240, test 0.230") || !strings.Contains(msg, "a curve needs a run of more than 24 iterations")) {
				t.Errorf("%s: message %q lacks the final accuracies", name, msg)
			}
			continue
		}
		if msg != "" || len(pl.acc.series) != 2 || len(pl.acc.series[0].X) != tc.checks || !strings.Contains(pl.acc.title, tc.accSub) {
			t.Errorf("%s: accuracy chart %q msg %q series %d, want %d checks and %q in the title", name, pl.acc.title, msg, len(pl.acc.series), tc.checks, tc.accSub)
		}
	}
}
