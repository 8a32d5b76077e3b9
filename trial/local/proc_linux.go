package local

import (
	"errors"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr starts a trial in a process group of its own, so that it and
// everything it starts can be signalled together, and has the kernel kill
// it if tune dies. Only the trial's main process gets the parent-death
// signal: processes it starts do not inherit it, and are left to the
// process-group kill when tune ends normally.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitAndKillGroup waits for cmd's process to exit, kills what is left of
// its process group, and then reaps it with cmd.Wait. The group is killed
// after the leader exits but before it is reaped, while the group id cannot
// have been reused, and before cmd.Wait waits for the output pipes that the
// group's other processes may hold open.
func waitAndKillGroup(cmd *exec.Cmd) error {
	pid := cmd.Process.Pid
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	_ = signalGroup(pid, syscall.SIGKILL)
	return cmd.Wait()
}
