package cli

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/tune-hpo/tune/trial"
)

// TestDetachOnTerminate: SIGTERM becomes trial.ErrDetached; Ctrl-C and
// SIGHUP keep their cause (the trials are stopped).
func TestDetachOnTerminate(t *testing.T) {
	for sig, want := range map[os.Signal]bool{syscall.SIGTERM: true, os.Interrupt: false, syscall.SIGHUP: false} {
		parent, cancel := context.WithCancelCause(context.Background())
		ctx, stop := detachOnTerminate(parent)
		cancel(&SignalError{Signal: sig})
		<-ctx.Done()
		if got := errors.Is(context.Cause(ctx), trial.ErrDetached); got != want {
			t.Errorf("%v: detached %v, want %v (cause %v)", sig, got, want, context.Cause(ctx))
		}
		stop()
	}
}
