package cifar

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/loadlimit"
	"github.com/nnkern/nnkern/internal/textesc"
)

// budget is the memory budget of one load: every buffer whose size comes
// from a file (a batch's records, an IDX file's dimensions, an image
// folder's image count × image size, the decoders' working memory) is
// taken from it before it is allocated. Readers first bound what a file
// declares by what its format can legitimately hold; the budget caps the
// sum, so that no combination of plausible-looking files can take more.
type budget struct {
	limit, used int64
}

// newBudget returns the budget of one load: opt bytes when positive, else
// NNKERN_LOAD_LIMIT, else loadlimit.Default.
func newBudget(opt int64) (*budget, error) {
	n, err := loadlimit.Budget(opt)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	return &budget{limit: n}, nil
}

// defaultBudget is the budget of the readers' unit entry points (tests and
// fuzzers), the default limit.
func defaultBudget() *budget { return &budget{limit: loadlimit.Default} }

// take reserves n bytes for what name declares; the error names both, the
// limit, and how to raise it.
func (b *budget) take(n int64, name, what string) error {
	if n < 0 || n > b.limit-b.used {
		inUse := ""
		if b.used > 0 {
			inUse = fmt.Sprintf(", %d bytes of it in use", b.used)
		}
		return fmt.Errorf("cifar: %s: %s (%d bytes) would exceed the %d-byte load limit%s (set %s or LoadOptions.MaxBytes for larger data)",
			name, what, n, b.limit, inUse, loadlimit.EnvVar)
	}
	b.used += n
	return nil
}

// release returns n bytes taken earlier (a buffer that was replaced).
func (b *budget) release(n int64) { b.used = max(b.used-n, 0) }

// remaining is what take can still grant.
func (b *budget) remaining() int64 { return b.limit - b.used }

// esc escapes a name that came from a file (a tar entry, a directory
// entry) for an error message.
func esc(s string) string { return textesc.Escape(s) }

// mulBounded returns the product of xs, or ok=false when it exceeds limit
// (or a factor is not positive), without overflowing.
func mulBounded(limit int64, xs ...int64) (int64, bool) {
	p := int64(1)
	for _, x := range xs {
		if x <= 0 || p > limit/x {
			return 0, false
		}
		p *= x
	}
	return p, p <= limit
}
