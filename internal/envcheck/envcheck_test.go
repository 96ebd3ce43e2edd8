package envcheck

import (
	"errors"
	"testing"
)

func TestAllOrderAndUnwrap(t *testing.T) {
	mu.Lock()
	saved := checks
	checks = map[string]func() error{}
	mu.Unlock()
	t.Cleanup(func() { mu.Lock(); checks = saved; mu.Unlock() })

	if err := All(); err != nil {
		t.Fatalf("no checks: All() = %v", err)
	}
	errB, errA := errors.New("NNKERN_B: bad"), errors.New("NNKERN_A: bad")
	// registered out of name order, with one passing check between them
	Register("NNKERN_B", func() error { return errB })
	Register("NNKERN_C", func() error { return nil })
	Register("NNKERN_A", func() error { return errA })
	err := All()
	if err == nil {
		t.Fatal("All() = nil with two failing checks")
	}
	if got, want := err.Error(), "NNKERN_A: bad; NNKERN_B: bad"; got != want {
		t.Errorf("All() = %q, want %q", got, want)
	}
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("All() = %v does not unwrap to both errors", err)
	}
	Register("NNKERN_A", func() error { return nil }) // replaces the first
	if err := All(); err == nil || err.Error() != "NNKERN_B: bad" {
		t.Errorf("after replacing NNKERN_A's check: All() = %v, want NNKERN_B: bad", err)
	}
}
