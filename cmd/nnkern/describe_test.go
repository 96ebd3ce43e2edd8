package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestDescribeFigures: the settings in a configuration's name are the
// shortest figures that parse back to the exact values (1e-07, not
// 1.000000e-07, and no rounding away of a 7th digit).
func TestDescribeFigures(t *testing.T) {
	for _, s := range []Settings{
		{Model: "softmax", LR: 1e-7, Reg: 2.5e4, Iters: 1500},
		{Model: "svm", LR: 1.2345678912e-6, Reg: 0, Iters: 1},
		{Model: "twolayer", Hidden: 200, LR: 1e-3, Decay: 0.95, Reg: 0.05, Iters: 2000},
	} {
		d := describe(s)
		f := strings.Fields(d)
		vals := map[string]float64{"lr": s.LR, "reg": s.Reg, "decay": s.Decay}
		seen := 0
		for i := 0; i+1 < len(f); i++ {
			want, ok := vals[f[i]]
			if !ok {
				continue
			}
			seen++
			got, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil || got != want {
				t.Errorf("describe %q: %s %q reads back as %v (%v), want %v", d, f[i], f[i+1], got, err, want)
			}
			if short := strconv.FormatFloat(want, 'g', -1, 64); f[i+1] != short {
				t.Errorf("describe %q: %s %q, want the shortest form %q", d, f[i], f[i+1], short)
			}
		}
		if want := map[bool]int{true: 3, false: 2}[s.Model == "twolayer"]; seen != want {
			t.Errorf("describe %q: %d of lr/reg/decay, want %d", d, seen, want)
		}
	}
	if d := describe(Settings{Model: "softmax", LR: 1e-7, Reg: 2.5e4, Iters: 1500}); d != "lr 1e-07 reg 25000 iters 1500" {
		t.Errorf("describe: %q", d)
	}
}
