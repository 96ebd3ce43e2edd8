package loadlimit

import (
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/envcheck"
)

func TestParse(t *testing.T) {
	good := map[string]int64{"1": 1, "4096": 4096, "2K": 2048, "3MiB": 3 << 20, "1G": 1 << 30, " 5 GiB ": 5 << 30}
	for s, want := range good {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1", "1T", "abc", "1.5G", "99999999999G"} {
		if got, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", s, got)
		}
	}
}

func TestBudget(t *testing.T) {
	t.Setenv(EnvVar, "")
	if b, err := Budget(0); err != nil || b != Default {
		t.Fatalf("Budget(0) unset = %d, %v; want Default", b, err)
	}
	if b, err := Budget(123); err != nil || b != 123 {
		t.Fatalf("Budget(123) = %d, %v; the option wins", b, err)
	}
	t.Setenv(EnvVar, "1GiB")
	if b, err := Budget(0); err != nil || b != 1<<30 {
		t.Fatalf("Budget(0) with 1GiB = %d, %v", b, err)
	}
	t.Setenv(EnvVar, "lots")
	if _, err := Budget(0); err == nil {
		t.Fatal("a malformed NNKERN_LOAD_LIMIT was accepted")
	}
}

// TestEnvCheck: the check registered for kernels.EnvError reads
// NNKERN_LOAD_LIMIT when it runs, so a value set after start-up counts.
func TestEnvCheck(t *testing.T) {
	t.Setenv(EnvVar, "2GiB")
	if err := envcheck.All(); err != nil {
		t.Errorf("%s=2GiB: %v", EnvVar, err)
	}
	t.Setenv(EnvVar, "lots")
	if err := envcheck.All(); err == nil || !strings.Contains(err.Error(), EnvVar+`="lots"`) {
		t.Errorf("%s=lots: envcheck.All() = %v, want an error naming the variable and value", EnvVar, err)
	}
}
