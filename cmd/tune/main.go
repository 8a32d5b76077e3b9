// Command tune runs Katib-compatible hyperparameter-tuning experiments.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/trial/local"
)

func main() {
	// When tune was started as a trial's mount helper, this sets up the
	// trial's mounts and becomes the trial's program; otherwise it returns
	// at once.
	local.RunMountHelper()
	// A write to a closed pipe (tune run | head) then fails with EPIPE
	// instead of killing tune with SIGPIPE, which would leave the
	// experiment Running: tune run goes on and records its end. Notify
	// rather than Ignore, so that trials do not inherit an ignored SIGPIPE.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// SIGHUP (a closed terminal or SSH session) is an interrupt like the
	// others: the experiment is recorded Stopped instead of left Running.
	// The signal is the context's cause, so that tune run can tell a
	// SIGTERM (its pod being deleted) from the others (--on-terminate).
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
	received := make(chan os.Signal, 1)
	signal.Notify(received, signals...)
	go func() {
		// The first signal cancels ctx: tune stops its trials and records
		// them. Restoring the default handling lets a second one end tune at
		// once (its trials die with it: see trial/local).
		sig := <-received
		cancel(&cli.SignalError{Signal: sig})
		signal.Reset(signals...)
	}()
	code := cli.Main(ctx, os.Args[1:], cli.System())
	cancel(nil)
	os.Exit(code)
}
