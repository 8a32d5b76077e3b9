//go:build unix

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tune-hpo/tune/trial"
)

// start runs the planned process to its end and reports how it ended.
func (e *Executor) start(ctx context.Context, path string, p *plan, env []string, stdout, stderr io.Writer, tail *tailBuffer) (trial.Result, error) {
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = p.argv
	cmd.Dir = p.dir
	cmd.Env = env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = sysProcAttr()
	var cancelled atomic.Bool
	cmd.Cancel = func() error {
		cancelled.Store(true)
		return signalGroup(cmd.Process.Pid, syscall.SIGTERM)
	}
	// After KillGrace exec sends SIGKILL to the leader; once the leader is
	// gone the rest of its group is killed below.
	cmd.WaitDelay = e.killGrace

	// The parent-death signal (sysProcAttr) fires when the thread that
	// started the child exits, not only when tune does. Go ends a thread
	// only when a goroutine locked to it exits, so keeping this goroutine
	// locked to its thread until the child is reaped keeps that thread
	// alive exactly as long as the child needs it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return startError(err), nil
	}
	pid := cmd.Process.Pid
	// As when a container's main process ends, whatever it left behind in
	// its process group goes with it.
	err := waitAndKillGroup(cmd)
	state := cmd.ProcessState
	if state == nil {
		return trial.Result{}, fmt.Errorf("wait for trial process %d: %w", pid, err)
	}
	ws, _ := state.Sys().(syscall.WaitStatus)
	var code int
	switch {
	case ws.Exited():
		code = ws.ExitStatus()
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	default:
		code = state.ExitCode()
	}
	switch {
	case cancelled.Load():
		return killed("stopped", context.Cause(ctx), &code), nil
	case ws.Signaled():
		sig := ws.Signal()
		msg := fmt.Sprintf("killed by signal %s (%s)", unix.SignalName(sig), sig)
		return trial.Result{State: trial.Failed, Reason: "Signal", Message: withTail(msg, tail), ExitCode: &code}, nil
	case code == 0:
		// err may be exec.ErrWaitDelay: a process that escaped the group
		// kept the output open. The trial still succeeded.
		return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
	default:
		msg := fmt.Sprintf("exit code %d", code)
		return trial.Result{State: trial.Failed, Reason: "Error", Message: withTail(msg, tail), ExitCode: &code}, nil
	}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	if err != nil {
		return fmt.Errorf("signal process group %d: %w", pid, err)
	}
	return nil
}
