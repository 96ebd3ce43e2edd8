// Package envcheck collects the checks of the NNKERN_* environment
// variables that nnkern's library packages read, so that one function,
// kernels.EnvError, reports every bad value of a program's packages and
// none of them has to print a warning.
//
// A package that reads a variable registers a check for it when it is
// initialized; the check returns the variable's error, or nil, and applies
// a lazily read variable first (blas's NNKERN_BLAS), so a variable is
// checked whether or not its package has been used yet:
//
//	func init() { envcheck.Register("NNKERN_POOL_SPIN", func() error { return envErr }) }
//
//	err := envcheck.All() // every registered check, in name order
//
// Only packages linked into the program register, so All checks exactly
// the variables the program can read.
package envcheck

import (
	"slices"
	"strings"
	"sync"
)

var (
	mu     sync.Mutex
	checks = map[string]func() error{}
)

// Register adds the check of the environment variable name. A second
// registration of a name replaces the first (a test may stub a check).
func Register(name string, check func() error) {
	mu.Lock()
	defer mu.Unlock()
	checks[name] = check
}

// All runs every registered check, in the order of the variables' names
// (the order does not depend on which package was initialized first), and
// returns their errors as one, or nil if all passed. The result unwraps
// to the single errors (errors.Is, errors.As); its message joins theirs
// with "; " so that it stays one line.
func All() error {
	mu.Lock()
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	fs := make([]func() error, 0, len(names))
	slices.Sort(names)
	for _, n := range names {
		fs = append(fs, checks[n])
	}
	mu.Unlock()
	// The checks run outside the lock: one may run a package's lazy
	// set-up (a sync.Once) that must not wait on this mutex.
	var errs []error
	for _, f := range fs {
		if err := f(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return joined(errs)
}

// joined is errors.Join with a one-line message.
type joined []error

func (e joined) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (e joined) Unwrap() []error { return e }
