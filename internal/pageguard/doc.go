// Package pageguard gives tests memory that ends right before, or starts
// right after, a page that faults on any access, so that a kernel that
// reads or writes even one byte outside the slice it was given kills the
// test binary with SIGSEGV. The guard bands of ordinary tests catch writes
// outside a slice; these catch reads. Linux only:
//
//	a := pageguard.New(t)                      // unmapped at the end of the test
//	x := pageguard.Slice[float32](a, 100, true) // 100 elements ending at a guard page
package pageguard
