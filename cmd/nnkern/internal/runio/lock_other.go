//go:build !unix

package runio

// lockImpl is a no-op where flock(2) is not available: run directories
// are not locked there.
type lockImpl struct{}

func (lockImpl) lock(*DirLock) error   { return nil }
func (lockImpl) unlock(*DirLock) error { return nil }
