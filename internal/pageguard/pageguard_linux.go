//go:build linux

package pageguard

import (
	"syscall"
	"testing"
	"unsafe"
)

// Arena hands out memory that touches a PROT_NONE page; every mapping is
// unmapped when the test that made the Arena ends.
type Arena struct {
	t    testing.TB
	maps [][]byte
}

// New returns an Arena for t.
func New(t testing.TB) *Arena {
	a := &Arena{t: t}
	t.Cleanup(a.Free)
	return a
}

// Free unmaps everything the Arena has handed out so far (a test that
// makes many small slices in a loop frees them as it goes: the kernel
// limits the number of mappings of a process).
func (a *Arena) Free() {
	for _, m := range a.maps {
		syscall.Munmap(m)
	}
	a.maps = nil
}

// Bytes returns n bytes (zero) between two PROT_NONE pages: ending at
// the page after them (atEnd) or starting right after the page before.
// Its capacity is n.
func (a *Arena) Bytes(n int, atEnd bool) []byte {
	ps := syscall.Getpagesize()
	data := max(ps, (n+ps-1)/ps*ps)
	m, err := syscall.Mmap(-1, 0, data+2*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		a.t.Fatalf("pageguard: mmap: %v", err)
	}
	a.maps = append(a.maps, m)
	if err := syscall.Mprotect(m[:ps], syscall.PROT_NONE); err != nil {
		a.t.Fatalf("pageguard: mprotect: %v", err)
	}
	if err := syscall.Mprotect(m[ps+data:], syscall.PROT_NONE); err != nil {
		a.t.Fatalf("pageguard: mprotect: %v", err)
	}
	if atEnd {
		return m[ps+data-n : ps+data : ps+data]
	}
	return m[ps : ps+n : ps+n]
}

// Slice returns n zero elements of T placed as Bytes places n·size bytes.
func Slice[T ~float32 | ~float64](a *Arena, n int, atEnd bool) []T {
	var z T
	b := a.Bytes(n*int(unsafe.Sizeof(z)), atEnd)
	if n == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), 0)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}
