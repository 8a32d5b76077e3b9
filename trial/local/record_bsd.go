//go:build unix && !linux

package local

import (
	"errors"
	"fmt"
	"syscall"
)

// newRecord describes the process group led by pid. Without /proc only the
// group id is known.
func newRecord(pid int) (*processRecord, error) {
	return &processRecord{PGID: pid}, nil
}

// liveMembers returns 0 when the process group rec describes has no member
// left and -1 (some, how many unknown) otherwise. It cannot tell rec's
// group from a later one that reuses its id.
func liveMembers(rec *processRecord) (int, error) {
	err := syscall.Kill(-rec.PGID, 0)
	switch {
	case err == nil:
		return -1, nil
	case errors.Is(err, syscall.ESRCH):
		return 0, nil
	default:
		return 0, fmt.Errorf("look for process group %d: %w", rec.PGID, err)
	}
}
