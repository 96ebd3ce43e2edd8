//go:build unix

package runio

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the child of TestLockDirStaleAfterKill9: with
// RUNIO_LOCK_DIR set it takes that directory's lock, says so, and waits to
// be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("RUNIO_LOCK_DIR"); dir != "" {
		if _, err := LockDir(dir); err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		time.Sleep(2 * time.Minute) // killed long before
		os.Exit(4)
	}
	os.Exit(m.Run())
}

func TestLockDirExcludesSecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, LockFile))
	_, err = LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second LockDir: %v, want a LockedError naming %s and pid %d", err, dir, os.Getpid())
	}
	after, _ := os.ReadFile(filepath.Join(dir, LockFile))
	if string(before) != string(after) {
		t.Errorf("a refused LockDir changed the lock file: %q -> %q", before, after)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unlock left the lock file: %v", err)
	}
	l2, err := LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after Unlock: %v", err)
	}
	l2.Unlock()
	l2.Unlock() // twice is fine
}

// TestLockDirStaleAfterKill9: a process killed with SIGKILL while it holds
// the lock leaves the lock file behind, but not the lock.
func TestLockDirStaleAfterKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNIO_LOCK_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Fatalf("LockDir while the child holds it: %v, want a LockedError with pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err != nil {
		t.Fatalf("the killed child's lock file: %v (the test wants the stale-file case)", err)
	}
	l, err := LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after the holder was killed with SIGKILL: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, LockFile))
	if strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid %d", b, os.Getpid())
	}
	l.Unlock()
}
