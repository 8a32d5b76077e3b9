//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tryFlock takes an exclusive flock on f without waiting; false means
// another open file description holds it.
func tryFlock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, err
	}
}

func unflock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// probeFlock reports whether another open file description holds a flock
// of the holder file at infoPath. It takes a shared lock, which needs only
// read access (NFS emulates flock with byte-range locks), and drops it at
// once; no holder file means no holder.
func probeFlock(infoPath string) (bool, error) {
	f, err := os.Open(infoPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe lock: %w", err)
	}
	defer f.Close()
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		switch {
		case err == nil:
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			return false, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, fmt.Errorf("probe lock: %s: %w", infoPath, err)
	}
}
