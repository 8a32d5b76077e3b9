package cli

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/plot"
)

// MainWithTrialCompletion is Main with one more command, "trialargs EXP
// TRIAL...", whose arguments complete with completeTrials, so that tests
// can drive that completion through cobra's __complete as a shell would.
func MainWithTrialCompletion(ctx context.Context, args []string, streams IOStreams) int {
	root := newRootCommand(streams, commandHooks{extra: func(f *factory) []*cobra.Command {
		return []*cobra.Command{{Use: "trialargs", Hidden: true, ValidArgsFunction: completeTrials(f),
			RunE: func(*cobra.Command, []string) error { return nil }}}
	}})
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		return exitCode(err)
	}
	return exitOK
}

// SetImportanceShares makes f the importance computation of tune plot
// --kind importance until restore is called.
func SetImportanceShares(f func(ctx context.Context, t *results.Table) (string, []plot.Share, error)) (restore func()) {
	old := importanceShares
	importanceShares = f
	return func() { importanceShares = old }
}

// ProgressBlock replays events into tune run's live progress for exp, as
// if the run had started at start, and returns the lines of its status
// block at now. What the progress prints goes to w.
func ProgressBlock(w io.Writer, exp *experiment.Experiment, events []experiment.Event, start, now time.Time) []string {
	p := newProgress(w, false, 80, exp)
	p.now = func() time.Time { return now }
	p.start = start
	for _, ev := range events {
		p.event(ev)
	}
	return p.block(now)
}

// ProgressLines replays events into tune run's plain (not live) progress
// for exp at now and returns what it printed.
func ProgressLines(exp *experiment.Experiment, events []experiment.Event, now time.Time) string {
	var b strings.Builder
	p := newProgress(&b, false, 0, exp)
	p.now = func() time.Time { return now }
	p.start = now
	for _, ev := range events {
		p.event(ev)
	}
	return b.String()
}
