//go:build unix

package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Lock is an exclusive claim on one piece of work (a training run, a
// simulation), held as a flock(2) on a small file that names the holder's
// process. The kernel drops the claim when the holder exits, however it
// exits, so a killed process never leaves a stale claim behind.
type Lock struct {
	path string
	f    *os.File
}

// ErrLocked is wrapped by TryLock's error when another process holds the
// claim.
var ErrLocked = errors.New("held by another process")

// TryLock claims path without waiting. When another process holds it, the
// error wraps ErrLocked and names that process.
func TryLock(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				holder := strings.TrimSpace(string(b[:n]))
				if holder == "" {
					holder = "?"
				}
				return nil, fmt.Errorf("%s: %w (pid %s)", path, ErrLocked, holder)
			}
			return nil, fmt.Errorf("%s: lock: %w", path, err)
		}
		// The holder before us may have removed the file between our open
		// and our flock: then we hold a lock on a file nobody else sees.
		// Retry on the file now at path.
		var a, b syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &a) != nil || syscall.Stat(path, &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &Lock{path: path, f: f}, nil
	}
}

// Unlock removes the claim file and releases the claim.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}
