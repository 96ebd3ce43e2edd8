package gonumblas

import (
	"testing"

	"gonum.org/v1/gonum/blas/testblas"
)

// gonum's own conformance suite (gonum.org/v1/gonum/blas/testblas) on the
// overridden routines.

func TestDgemm(t *testing.T) { testblas.TestDgemm(t, Implementation{}) }
func TestDgemv(t *testing.T) { testblas.DgemvTest(t, Implementation{}) }
func TestDdot(t *testing.T)  { testblas.DdotTest(t, Implementation{}) }
func TestDaxpy(t *testing.T) { testblas.DaxpyTest(t, Implementation{}) }
func TestDscal(t *testing.T) { testblas.DscalTest(t, Implementation{}) }

// Routines gonum implements on top of the overridden ones' results or that
// LAPACK uses beside Dgemm: run on the embedded gonum code, checked here so
// that the embedding keeps them reachable.
func TestDtrsm(t *testing.T) { testblas.DtrsmTest(t, Implementation{}) }
func TestDsyrk(t *testing.T) { testblas.DsyrkTest(t, Implementation{}) }
func TestDger(t *testing.T)  { testblas.DgerTest(t, Implementation{}) }
