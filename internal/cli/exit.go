package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// Exit codes, chosen here only.
const (
	exitOK          = 0   // success; for run: the experiment Succeeded
	exitError       = 1   // an error; for run: the experiment Failed
	exitInvalid     = 2   // invalid input: usage, flags, an invalid experiment file
	exitInterrupted = 130 // interrupted by SIGINT/SIGTERM
)

// codeError carries an exit code. With a nil err, Main prints nothing more.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *codeError) Unwrap() error { return e.err }

// SignalError is the cause of the context given to [Main] when a signal
// interrupts tune.
type SignalError struct {
	Signal os.Signal
}

func (e *SignalError) Error() string { return "received " + e.Signal.String() }

// detachOnTerminate returns a context done when ctx is, whose cause is
// [trial.ErrDetached] when ctx was cancelled by SIGTERM (tune's pod being
// deleted or its node drained: the trials are left to the cluster), and
// ctx's cause otherwise; stop releases it.
func detachOnTerminate(ctx context.Context) (out context.Context, stop func()) {
	out, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	after := context.AfterFunc(ctx, func() {
		cause := context.Cause(ctx)
		if se, ok := errors.AsType[*SignalError](cause); ok && se.Signal == syscall.SIGTERM {
			cause = trial.ErrDetached
		}
		cancel(cause)
	})
	return out, func() { after(); cancel(nil) }
}

// usageErrorf reports invalid input: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &codeError{code: exitInvalid, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ee *codeError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, experiment.ErrInvalid), errors.Is(err, experiment.ErrUnsupported), errors.Is(err, experiment.ErrSpecChanged), errors.Is(err, experiment.ErrNotRestartable):
		return exitInvalid
	}
	return exitError
}
