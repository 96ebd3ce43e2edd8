package dtype_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

type myFloat32 float32

func TestIs32Size(t *testing.T) {
	if !dtype.Is32[float32]() || dtype.Is32[float64]() || !dtype.Is32[myFloat32]() {
		t.Error("Is32: want true for float32 and a type of its kind, false for float64")
	}
	if dtype.Size[float32]() != 4 || dtype.Size[float64]() != 8 || dtype.Size[myFloat32]() != 4 {
		t.Errorf("Size: %d, %d, %d; want 4, 8, 4", dtype.Size[float32](), dtype.Size[float64](), dtype.Size[myFloat32]())
	}
}

func TestPerType(t *testing.T) {
	var p dtype.PerType[[]string]
	a, b := dtype.Of[float32](&p), dtype.Of[float64](&p)
	if a == b {
		t.Fatal("float32 and float64 share a value")
	}
	if dtype.Of[float32](&p) != a || dtype.Of[myFloat32](&p) != a || dtype.Of[float64](&p) != b {
		t.Fatal("Of returns different values for the same element type")
	}
	*a = append(*a, "f32")
	*b = append(*b, "f64")
	if (*dtype.Of[float32](&p))[0] != "f32" || (*dtype.Of[float64](&p))[0] != "f64" {
		t.Fatal("values not kept per type")
	}
}

// workspace stands for a package's per-type scratch buffers.
type workspace[T dtype.Float] struct{ buf []T }

var pools dtype.PerType[sync.Pool]

// get returns a pooled workspace of T's, or a new one.
func get[T dtype.Float]() *workspace[T] {
	if ws, ok := dtype.Of[T](&pools).Get().(*workspace[T]); ok {
		return ws
	}
	return &workspace[T]{buf: make([]T, 8)}
}

func Example() {
	ws := get[float32]()
	ws.buf[0] = 1
	dtype.Of[float32](&pools).Put(ws)
	fmt.Println(dtype.Is32[float32](), dtype.Size[float64](), len(get[float64]().buf))
	// Output: true 8 8
}
