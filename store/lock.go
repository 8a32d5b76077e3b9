package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrBusy is returned by [Store.LockExperiment] when another process holds
// the experiment's lock: it is being run, resumed or deleted right now.
var ErrBusy = errors.New("experiment is busy")

// ExperimentLock is an exclusive hold on one experiment of a store, taken by
// whoever writes it for longer than one call (tune run, tune resume, tune
// delete). The operating system releases it when the holding process ends,
// however it ends, so a crash never leaves a stale lock.
type ExperimentLock struct {
	// lock holds the kernel lock: the data file (an OFD lock) or the
	// holder file itself (flock).
	lock *os.File
	// info is the holder file, emptied on release; nil when it is lock.
	info   *os.File
	unlock func(*os.File) error
}

// flockOnly makes the experiment locks of every store flocks of the holder
// files, as on NFS (Linux only: elsewhere they always are); tests set it to
// cover that path on any filesystem.
var flockOnly = false

// lockHolder is what a holder file says about its holder, for messages.
type lockHolder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// LockDir returns the directory of the holder files of the store's
// experiment locks: [Store.RealPath] with ".locks" appended.
func (s *Store) LockDir() string { return s.realPath + ".locks" }

// LockExperiment takes the exclusive lock of the named experiment without
// waiting. When another process holds it, the error wraps [ErrBusy] and,
// when the holder recorded itself where this path leads, names it (pid,
// command line, since when). Readers and runs of other experiments go on.
//
// The lock belongs to the store's file, not to the path it was opened by:
// a symlink, a hard link or a path through ".." reach the same lock. On
// Linux it is an open-file-description lock (fcntl F_OFD_SETLK) on one byte
// of the data file far past its end, at 1<<62 plus a 61-bit FNV-1a hash of
// the name; such locks ignore bbolt's flock of the same file, are not
// dropped when another descriptor of the file is closed, and go when the
// process ends. On NFS and SMB, where flock is itself a byte-range lock, on
// Linux before 3.15 (no OFD locks) and on other unix systems, it is a flock
// of [Store.LockDir]/<experiment>.lock, which follows symlinks and ".." but
// not hard links. Where neither exists (Windows) it locks nothing.
//
// The holder's pid, command line and start time are written to
// [Store.LockDir]/<experiment>.lock for the error the next process gets;
// that file is emptied on [ExperimentLock.Release].
func (s *Store) LockExperiment(name string) (*ExperimentLock, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("lock experiment %q: invalid name", name)
	}
	if err := os.MkdirAll(s.LockDir(), 0o755); err != nil {
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	infoPath := filepath.Join(s.LockDir(), name+".lock")
	l, err := lockExperiment(s.realPath, infoPath, name)
	if err != nil {
		return nil, err
	}
	holder, _ := json.Marshal(lockHolder{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Since: time.Now().UTC().Truncate(time.Second)})
	if err := l.holderFile().Truncate(0); err == nil {
		if _, err := l.holderFile().WriteAt(append(holder, '\n'), 0); err != nil {
			l.Release()
			return nil, fmt.Errorf("lock experiment %q: write %s: %w", name, infoPath, err)
		}
	}
	return l, nil
}

// ExperimentLocked reports whether a process (this one included) holds the
// named experiment's lock ([Store.LockExperiment]) right now, that is
// whether a tune run, resume or delete is at work on it. A stored phase of
// Running with no holder means the runner died without recording its end.
//
// It takes no lock that a concurrent LockExperiment could meet, except on
// the flock fallback, where it holds a shared flock of the holder file for
// the duration of one system call; it creates and writes nothing, so it
// works on a store opened read-only. Where locks lock nothing (Windows) it
// reports true: whether a runner is at work cannot be told there.
func (s *Store) ExperimentLocked(name string) (bool, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return false, fmt.Errorf("probe lock of experiment %q: invalid name", name)
	}
	return probeExperiment(s.realPath, filepath.Join(s.LockDir(), name+".lock"), name)
}

// holderFile returns the file that records the holder.
func (l *ExperimentLock) holderFile() *os.File {
	if l.info != nil {
		return l.info
	}
	return l.lock
}

// nameOffset returns the byte of the data file locked for experiment name:
// 1<<62 plus a 61-bit hash, far past any real file's end and below the
// largest offset (1<<63-1).
func nameOffset(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return 1<<62 | int64(h.Sum64()&(1<<61-1))
}

// busyError describes the holder recorded in the holder file at infoPath.
func busyError(name, infoPath string) error {
	var h lockHolder
	data, err := os.ReadFile(infoPath)
	if err != nil || json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return fmt.Errorf("experiment %q: %w: another tune process holds its lock (perhaps through another path to the same store file)", name, ErrBusy)
	}
	return fmt.Errorf("experiment %q: %w: process %d (%s) has been running it since %s; wait for it to finish or stop it (kill %d)",
		name, ErrBusy, h.PID, h.Command, h.Since.Format(time.RFC3339), h.PID)
}

// Release gives the lock up. It is safe to call more than once.
func (l *ExperimentLock) Release() error {
	if l == nil || l.lock == nil {
		return nil
	}
	lf, info := l.lock, l.info
	l.lock, l.info = nil, nil
	// Empty the holder file while still holding the lock, so that the next
	// holder's record is never wiped.
	if info != nil {
		_ = info.Truncate(0)
		info.Close()
	} else {
		_ = lf.Truncate(0)
	}
	if err := l.unlock(lf); err != nil {
		lf.Close()
		return fmt.Errorf("unlock %s: %w", lf.Name(), err)
	}
	return lf.Close()
}

// flockExperiment takes the lock as a flock of the holder file at infoPath.
func flockExperiment(infoPath, name string) (*ExperimentLock, error) {
	f, err := os.OpenFile(infoPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	locked, err := tryFlock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock experiment %q: %s: %w", name, infoPath, err)
	}
	if !locked {
		f.Close()
		return nil, busyError(name, infoPath)
	}
	return &ExperimentLock{lock: f, unlock: unflock}, nil
}
