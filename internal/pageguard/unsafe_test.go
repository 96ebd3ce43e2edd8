package pageguard

import "unsafe"

func unsafeAdd[T any](p *T, bytes int) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), bytes) }
