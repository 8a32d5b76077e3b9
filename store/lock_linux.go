//go:build linux

package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Filesystems whose flock is a byte-range lock over the whole file, which
// an OFD lock on the data file would conflict with (statfs f_type).
const (
	nfsMagic  = 0x6969
	smbMagic  = 0x517b
	cifsMagic = 0xff534d42
	smb2Magic = 0xfe534d42
)

// useFlock reports whether the experiment locks of the data file at
// dataPath are flocks of the holder files rather than OFD locks.
func useFlock(dataPath string) bool {
	if flockOnly {
		return true
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dataPath, &fs); err == nil {
		switch uint32(fs.Type) {
		case nfsMagic, smbMagic, cifsMagic, smb2Magic:
			return true
		}
	}
	return false
}

// probeExperiment reports whether another open file description holds the
// lock lockExperiment takes, asking with F_OFD_GETLK, which takes nothing.
func probeExperiment(dataPath, infoPath, name string) (bool, error) {
	if useFlock(dataPath) {
		return probeFlock(infoPath)
	}
	f, err := os.Open(dataPath)
	if err != nil {
		return false, fmt.Errorf("probe lock of experiment %q: %w", name, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: nameOffset(name), Len: 1}
	for {
		err = unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, unix.EINVAL):
		// A kernel before 3.15 has no OFD locks: the holder used flock.
		return probeFlock(infoPath)
	case err != nil:
		return false, fmt.Errorf("probe lock of experiment %q: %s: %w", name, dataPath, err)
	}
	return lk.Type != unix.F_UNLCK, nil
}

// lockExperiment takes an OFD lock on one byte of the data file at
// dataPath; see [Store.LockExperiment].
func lockExperiment(dataPath, infoPath, name string) (*ExperimentLock, error) {
	if useFlock(dataPath) {
		return flockExperiment(infoPath, name)
	}
	f, err := os.OpenFile(dataPath, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: nameOffset(name), Len: 1}
	for {
		err = unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
		f.Close()
		return nil, busyError(name, infoPath)
	case errors.Is(err, unix.EINVAL):
		// A kernel before 3.15 has no OFD locks.
		f.Close()
		return flockExperiment(infoPath, name)
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("lock experiment %q: %s: %w", name, dataPath, err)
	}
	info, err := os.OpenFile(infoPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		unlockOFD(f)
		f.Close()
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	return &ExperimentLock{lock: f, info: info, unlock: func(f *os.File) error {
		return unlockOFD(f)
	}}, nil
}

// unlockOFD drops every OFD lock f's open file description holds.
func unlockOFD(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}
