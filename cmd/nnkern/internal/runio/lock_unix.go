//go:build unix

package runio

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

type lockImpl struct{ f *os.File }

// maxLockAttempts bounds the retries when the lock file is replaced
// between open and flock (its holder removed it while unlocking).
const maxLockAttempts = 10

func (li *lockImpl) lock(l *DirLock) error {
	for attempt := 0; attempt < maxLockAttempts; attempt++ {
		// No O_TRUNC: a process that fails to take the lock must not
		// touch the holder's file.
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return fmt.Errorf("lock %s: %w", l.dir, err)
		}
		if err := flockNB(f); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return &LockedError{Dir: l.dir, PID: readPID(l.path)}
			}
			return fmt.Errorf("lock %s: flock %s: %w", l.dir, l.path, err)
		}
		// The holder before us removes the file while it still holds the
		// lock, then releases it: we may have locked a file that is no
		// longer at l.path, and a third process may have created and
		// locked a new one. Only a lock on the file at the path counts.
		var fst, pst unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &fst); err != nil {
			f.Close()
			return fmt.Errorf("lock %s: %w", l.dir, err)
		}
		if err := unix.Lstat(l.path, &pst); err != nil || fst.Dev != pst.Dev || fst.Ino != pst.Ino {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		li.f = f
		return nil
	}
	return fmt.Errorf("lock %s: %s keeps being replaced", l.dir, l.path)
}

func flockNB(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

func (li *lockImpl) unlock(l *DirLock) error {
	if li.f == nil {
		return nil
	}
	// Remove before releasing (see lock): no other process can hold a
	// lock on this file now.
	err := os.Remove(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if cerr := li.f.Close(); err == nil {
		err = cerr
	}
	li.f = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.dir, err)
	}
	return nil
}

// readPID reads the process id a holder recorded, 0 if none.
func readPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	b := make([]byte, 32)
	n, _ := f.Read(b)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
