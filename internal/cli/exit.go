package cli

import (
	"errors"
	"fmt"

	"github.com/tune-hpo/tune/experiment"
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
