package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--filter", "("},
		{"--dtype", "f16"},
		{"--threads", "0"},
		{"--threads", "x"},
		{"--time", "-1s"},
		{"--json", "--markdown"},
		{"--no-such-flag"},
		{"extra"},
		{"--filter", "^no-such-case$"},
	} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 2 {
			t.Errorf("Main(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if errb.Len() == 0 {
			t.Errorf("Main(%q): no message on stderr", args)
		}
	}
}

func TestMainList(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--list", "--filter", "^gemm/", "--dtype", "f32", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Fields(out.String())
	if len(lines) == 0 {
		t.Fatal("--list printed nothing")
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "gemm/") || !strings.Contains(l, "/f32/") || !strings.Contains(l, "/threads=1/") {
			t.Errorf("--list printed %q", l)
		}
	}
}

func TestMainJSONSmoke(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"--smoke", "--json", "--quiet", "--filter", "^(kernels/Dot|gemm/NN/f64)"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rep, err := ReadJSON(&out)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Smoke || len(rep.Results) == 0 {
		t.Errorf("smoke=%v, %d results", rep.Smoke, len(rep.Results))
	}
	if !strings.HasPrefix(rep.Command, "nnkern bench ") {
		t.Errorf("command %q", rep.Command)
	}
}

func TestMainReport(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--smoke", "--json", "--quiet", "--filter", "^kernels/Sum/"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if code := Main([]string{"--report", path, "--markdown"}, &md, &errb); code != 0 {
		t.Fatalf("--report: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(md.String(), "| Sum | n=3072 |") {
		t.Errorf("rendered markdown lacks the Sum rows:\n%s", md.String())
	}
	if code := Main([]string{"--report", filepath.Join(t.TempDir(), "missing.json")}, &md, &errb); code != 1 {
		t.Errorf("--report of a missing file: exit %d, want 1", code)
	}
}
