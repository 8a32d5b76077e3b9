// Command tune runs Katib-compatible hyperparameter-tuning experiments.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tune-hpo/tune/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal cancels ctx: tune stops its trials and records
		// them. Restoring the default handling lets a second one end tune at
		// once (its trials die with it: see trial/local).
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
