package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A failing check makes gradcheck exit 1 with a line that counts the
// failures, and the table marks it FAIL; passing checks return no error.
func TestGradcheckReportExitCode(t *testing.T) {
	ok := gcRow{name: "passes", relErr: 1e-9, threshold: 1e-8, ok: true}
	bad := gcRow{name: "fails", relErr: 1e-3, threshold: 1e-8, ok: false}

	var out bytes.Buffer
	if err := reportGC(&out, []gcRow{ok, ok}); err != nil {
		t.Fatalf("all checks pass: got error %v", err)
	}
	out.Reset()
	err := reportGC(&out, []gcRow{ok, bad, ok})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("one check fails: got %v, want an exit status 1 error", err)
	}
	if !strings.Contains(ee.msg, "1 of 3 checks failed") {
		t.Errorf("error %q does not count the failures", ee.msg)
	}
	if !strings.Contains(out.String(), "FAIL") || strings.Count(out.String(), "FAIL") != 1 {
		t.Errorf("table should mark exactly one FAIL:\n%s", out.String())
	}
}

func TestGradcheckTwoLayer(t *testing.T) {
	r := mustRun(t, t.TempDir(), nil, "gradcheck", "twolayer")
	if strings.Contains(r.stdout, "FAIL") || strings.Count(r.stdout, " ok") < 5 {
		t.Errorf("gradcheck output:\n%s", r.stdout)
	}
}
