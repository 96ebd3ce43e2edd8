package bench

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseSizesAndShape(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{{"64..4096", []int{64, 128, 256, 512, 1024, 2048, 4096}}, {"8", []int{8}}, {" 1 .. 4 ", []int{1, 2, 4}}} {
		if got, err := parseSizes(c.in); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseSizes(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0..8", "3..8", "8..4", "64..100", "a..b", "1..33554432", "-2..4"} {
		if got, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) = %v, want an error", bad, got)
		}
	}
	if m, k, n, err := parseShape("200x3072X10"); err != nil || m != 200 || k != 3072 || n != 10 {
		t.Errorf("parseShape = %d %d %d %v", m, k, n, err)
	}
	for _, bad := range []string{"", "200x3072", "1x2x3x4", "0x1x1", "ax1x1", "-1x2x2"} {
		if _, _, _, err := parseShape(bad); err == nil {
			t.Errorf("parseShape(%q) accepted", bad)
		}
	}
}

// --shape and --sizes make the cases their names say, with every op,
// and the level-1 kernels at the sweep's lengths only with a --filter.
func TestCustomCases(t *testing.T) {
	cs, err := customCases("20x30x10", "NN,tt", "16..32", false)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range cs {
		names[c.Name()] = true
		if c.Family != "gemm" {
			t.Errorf("without a filter, --sizes made %s", c.Name())
		}
	}
	for _, op := range []string{"NN", "TT"} {
		for _, sh := range []string{"20x30x10", "16x16x16", "32x32x32"} {
			n := fmt.Sprintf("gemm/%s/f64/native/isa=generic/threads=1/%s", op, sh)
			if !names[n] {
				t.Errorf("no case %s", n)
			}
		}
	}
	cs, err = customCases("", "NN", "16..32", true)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, c := range cs {
		if c.Family == "kernels" {
			k++
			if !strings.HasSuffix(c.Name(), "/n=16") && !strings.HasSuffix(c.Name(), "/n=32") {
				t.Errorf("kernel case %s is not at a sweep length", c.Name())
			}
		}
	}
	if k == 0 {
		t.Error("--sizes with a filter made no kernel cases")
	}
	// Long vectors: GEMMs stop at maxGemmSweep, and without a filter the
	// sweep is refused rather than allocating gigabytes.
	cs, err = customCases("", "NN", "8192..65536", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Family == "gemm" && c.Shape != "8192x8192x8192" && c.Shape != "16384x16384x16384" {
			t.Errorf("GEMM beyond %d: %s", maxGemmSweep, c.Name())
		}
	}
	for _, bad := range [][3]string{{"1x2", "NN", ""}, {"1x2x3", "NX", ""}, {"", "NN", "5..8"}, {"", "NN", "1024..32768"}} {
		if _, err := customCases(bad[0], bad[1], bad[2], false); err == nil {
			t.Errorf("customCases(%q) accepted", bad)
		}
	}
}

// Every op runs (transposed B included): a smoke run of --shape with all four.
func TestMainShapeSmoke(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"--smoke", "--json", "--quiet", "--shape", "9x5x7", "--op", "NN,TN,NT,TT", "--threads", "1", "--filter", "/native/"}
	if code := Main(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rep, err := ReadJSON(&out)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, r := range rep.Results {
		if r.Shape != "9x5x7" || r.Error != "" {
			t.Errorf("%s: shape %q, error %q", r.Name, r.Shape, r.Error)
		}
		ops[r.Op] = true
	}
	if len(ops) != 4 {
		t.Errorf("ops run: %v", ops)
	}
	for _, args := range [][]string{{"--op", "TN"}, {"--shape", "1x2"}, {"--sizes", "3..9"}, {"--op", "XY", "--shape", "2x2x2"}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("Main(%q) = %d, stderr %q; want 2 and a message", args, code, errb.String())
		}
	}
}
