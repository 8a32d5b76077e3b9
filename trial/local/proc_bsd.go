//go:build unix && !linux

package local

import (
	"os/exec"
	"syscall"
)

// sysProcAttr starts a trial in a process group of its own. There is no
// parent-death signal on this system: a trial outlives a tune that is
// killed with SIGKILL.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitAndKillGroup waits for cmd, then kills what is left of its process
// group. Without waitid's WNOWAIT this happens only once the main process
// has been reaped and its output pipes closed (or WaitDelay has passed).
func waitAndKillGroup(cmd *exec.Cmd) error {
	err := cmd.Wait()
	_ = signalGroup(cmd.Process.Pid, syscall.SIGKILL)
	return err
}
