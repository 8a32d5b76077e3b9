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

// start runs the planned process as attempt n to its end and reports how it
// ended.
func (e *Executor) start(ctx context.Context, n int, path string, p *plan, env []string, stdout, stderr io.Writer, tail *tailBuffer) (trial.Result, error) {
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = p.argv
	cmd.Dir = p.dir
	cmd.Env = env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = sysProcAttr()
	var ctr *containerRun
	if e.runtime.container() {
		// The process is the runtime's client; mounts are its --mount.
		r, err := e.containerCommand(p, n, env, os.Environ())
		if err != nil {
			return startError(err), nil
		}
		defer r.close()
		ctr = r
		cmd.Args, cmd.Env, cmd.Dir = r.argv, r.env, ""
		fmt.Fprintf(stderr, "tune: %s container %s, image %s\n", e.runtime, r.name, p.image)
	}
	var helper *helperStart
	if len(p.mounts) > 0 && ctr == nil {
		if ok, _ := e.MountsSupported(); ok {
			h, err := e.wrapMounts(cmd, path, p.mounts)
			if err != nil {
				return startError(err), nil
			}
			defer h.close()
			helper = h
		}
	}
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
		if ctx.Err() != nil {
			return stopped(ctx, "stopped before start", during(n), nil, nil), nil
		}
		return startFailure(err)
	}
	pid := cmd.Process.Pid
	if helper != nil {
		// The helper becomes the trial's program (same pid, group and
		// parent-death signal) unless it fails first.
		if err := helper.wait(); err != nil {
			_ = signalGroup(pid, syscall.SIGKILL)
			_ = waitAndKillGroup(cmd)
			if ctx.Err() != nil {
				return stopped(ctx, "stopped before start", during(n), nil, nil), nil
			}
			var he *helperError
			if errors.As(err, &he) && he.stage == "mount" {
				// Not the trial's fault: run it as if mounts were not
				// supported, and say so where its user looks.
				fmt.Fprintf(stderr, "tune: %v; the trial runs without its mounts\n", err)
				q := *p
				q.mounts = nil
				return e.start(ctx, n, path, &q, env, stdout, stderr, tail)
			}
			return startError(err), nil
		}
	}
	if p.recordDir != "" {
		var ref *containerRef
		if ctr != nil {
			ref = &containerRef{Runtime: e.runtime, Name: ctr.name}
		}
		if err := recordProcess(p.recordDir, pid, p.owner, ref); err != nil {
			// Without the record a runner that dies could leave the
			// group behind unnoticed: give up on this attempt.
			_ = signalGroup(pid, syscall.SIGKILL)
			_ = waitAndKillGroup(cmd)
			if ctr != nil {
				_, _ = removeContainer(ctx, e.runtime, ctr.name, 0)
			}
			return startFailure(err)
		}
		// The group is gone by the time this runs. A record left behind
		// when emptying it fails is harmless: Recover finds no live
		// process that matches it.
		defer clearRecord(p.recordDir)
	}
	if ctr != nil {
		// The client's SIGTERM reaches the container through its signal
		// proxy; whatever outlives the client (it was killed after the
		// grace, or it died) is removed by name,
		// before the record goes.
		defer func() {
			if cancelled.Load() || cmd.ProcessState == nil || !cmd.ProcessState.Exited() {
				_, _ = removeContainer(ctx, e.runtime, ctr.name, 0)
			}
		}()
	}
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
		return stopped(ctx, "stopped", during(n), &code, tail), nil
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

// startFailure is the outcome of a process that could not be started: an
// error when tune itself ran out of file descriptors, memory, processes or
// disk (the runner then stops the experiment rather than charge the trial),
// a failed trial (StartError) otherwise.
func startFailure(err error) (trial.Result, error) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, errno) {
			return trial.Result{}, fmt.Errorf("cannot start trial process: %w", err)
		}
	}
	return startError(err), nil
}

// termGroup sends SIGTERM to process group pgid.
func termGroup(pgid int) error { return signalGroup(pgid, syscall.SIGTERM) }

// killGroup sends SIGKILL to process group pgid.
func killGroup(pgid int) error { return signalGroup(pgid, syscall.SIGKILL) }

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
