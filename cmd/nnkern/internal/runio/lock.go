package runio

import (
	"fmt"
	"path/filepath"
)

// LockFile is the name of the lock file LockDir takes inside a run
// directory.
const LockFile = ".nnkern.lock"

// DirLock is an exclusive lock on a run directory, held from LockDir to
// Unlock. It is an flock(2) on dir/.nnkern.lock: the kernel drops it when
// the process ends however it ends (kill -9 included), so a lock is never
// stale. Only nnkern processes that take it are excluded; it is advisory.
type DirLock struct {
	dir  string
	path string
	impl lockImpl
}

// LockedError reports a run directory whose lock another process holds.
type LockedError struct {
	Dir string
	// PID is the holder's process id as it recorded it, 0 if unknown.
	PID int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s: another nnkern run (pid %d) holds it (%s)", e.Dir, e.PID, LockFile)
	}
	return fmt.Sprintf("%s: another nnkern run holds it (%s)", e.Dir, LockFile)
}

// LockDir takes the exclusive lock of the existing directory dir without
// waiting. If another process holds it, it returns a *LockedError and
// changes nothing in dir. Otherwise it records this process's id in the
// lock file; Unlock releases the lock and removes the file.
func LockDir(dir string) (*DirLock, error) {
	l := &DirLock{dir: dir, path: filepath.Join(dir, LockFile)}
	if err := l.impl.lock(l); err != nil {
		return nil, err
	}
	return l, nil
}

// Unlock removes the lock file and releases the lock. It is safe to call
// more than once and on a nil *DirLock.
func (l *DirLock) Unlock() error {
	if l == nil {
		return nil
	}
	return l.impl.unlock(l)
}
