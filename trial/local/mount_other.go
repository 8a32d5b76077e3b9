//go:build !linux

package local

import (
	"errors"
	"os/exec"

	"github.com/tune-hpo/tune/trial"
)

// RunMountHelper returns at once: trials get mounts only on Linux. See the
// Linux version for what it does there; a program named as
// [Options.MountHelper] calls it first thing in main on every system.
func RunMountHelper() {}

// errMountsUnsupported is the probe's answer on this system.
var errMountsUnsupported = errors.New("mounts need Linux (user and mount namespaces)")

func (e *Executor) defaultMountProbe() (mountMode, error) {
	return mountMode{}, errMountsUnsupported
}

func (e *Executor) wrapMounts(*exec.Cmd, string, []trial.Mount) (*helperStart, error) {
	return nil, errMountsUnsupported
}
