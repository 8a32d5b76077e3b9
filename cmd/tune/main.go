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
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
