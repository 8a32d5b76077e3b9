package store

import (
	"encoding/json"
	"errors"
	"fmt"
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
	f *os.File
}

// lockHolder is what a lock file says about its holder, for messages.
type lockHolder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// LockDir returns the directory holding the store's experiment locks: the
// store's path with ".locks" appended.
func (s *Store) LockDir() string { return s.path + ".locks" }

// LockExperiment takes the exclusive lock of the named experiment without
// waiting. When another process holds it, the error wraps [ErrBusy] and
// names that process (its pid, command line and since when). The lock is a
// file in [Store.LockDir] locked with flock(2); the data file itself is not
// held, so readers and runs of other experiments go on.
func (s *Store) LockExperiment(name string) (*ExperimentLock, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("lock experiment %q: invalid name", name)
	}
	if err := os.MkdirAll(s.LockDir(), 0o755); err != nil {
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	path := filepath.Join(s.LockDir(), name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock experiment %q: %w", name, err)
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock experiment %q: %s: %w", name, path, err)
	}
	if !locked {
		defer f.Close()
		return nil, busyError(name, f)
	}
	holder, _ := json.Marshal(lockHolder{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Since: time.Now().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(holder, '\n'), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock experiment %q: write %s: %w", name, path, err)
		}
	}
	return &ExperimentLock{f: f}, nil
}

// busyError describes the holder recorded in the lock file f.
func busyError(name string, f *os.File) error {
	var h lockHolder
	data := make([]byte, 4096)
	n, _ := f.ReadAt(data, 0)
	if json.Unmarshal(data[:n], &h) != nil || h.PID == 0 {
		return fmt.Errorf("experiment %q: %w: another tune process holds %s", name, ErrBusy, f.Name())
	}
	return fmt.Errorf("experiment %q: %w: process %d (%s) has been running it since %s; wait for it to finish or stop it (kill %d)",
		name, ErrBusy, h.PID, h.Command, h.Since.Format(time.RFC3339), h.PID)
}

// Release gives the lock up. It is safe to call more than once.
func (l *ExperimentLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	if err := unlock(f); err != nil {
		f.Close()
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return f.Close()
}
