package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// maxCompletions bounds the names a completion offers, so that a store of
// thousands of trials does not flood the shell.
const maxCompletions = 500

// completeExperiments returns a completion for a command whose first
// argument names an experiment: the names of the store's experiments that
// start with what is typed, each described by its phase and trial count.
// Later arguments and a store that cannot be read complete with nothing
// (never with file names).
func completeExperiments(f *factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return experimentNames(cmd, f, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeTrials returns a completion for a command whose first argument
// names an experiment and whose later ones name its trials (tune describe
// EXP TRIAL, tune compare EXP TRIAL...): experiment names first, then the
// names of that experiment's trials not already given, each described by
// its state.
func completeTrials(f *factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return experimentNames(cmd, f, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
		return trialNames(cmd, f, args[0], args[1:], toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completionContext applies the environment and config file to f (as a
// command's run does; completion runs no hooks), and returns the context
// to read the store with; false when the configuration is invalid.
func completionContext(cmd *cobra.Command, f *factory) (context.Context, bool) {
	if err := loadConfig(cmd, f); err != nil {
		return nil, false
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return ctx, true
}

func experimentNames(cmd *cobra.Command, f *factory, prefix string) []cobra.Completion {
	ctx, ok := completionContext(cmd, f)
	if !ok {
		return nil
	}
	st, err := f.openStore(true)
	if err != nil {
		return nil
	}
	defer st.Close()
	recs, err := st.Experiments(ctx)
	if err != nil && len(recs) == 0 {
		return nil
	}
	var out []cobra.Completion
	for _, r := range recs {
		if strings.HasPrefix(r.Name, prefix) && len(out) < maxCompletions {
			out = append(out, cobra.CompletionWithDesc(r.Name, fmt.Sprintf("%s, %d trials", r.Status.Phase, r.Status.Trials)))
		}
	}
	return out
}

func trialNames(cmd *cobra.Command, f *factory, exp string, given []string, prefix string) []cobra.Completion {
	ctx, ok := completionContext(cmd, f)
	if !ok {
		return nil
	}
	st, err := f.openStore(true)
	if err != nil {
		return nil
	}
	defer st.Close()
	trials, err := st.Trials(ctx, exp)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, t := range trials {
		if !strings.HasPrefix(t.Name, prefix) || len(out) >= maxCompletions || slices.Contains(given, t.Name) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(t.Name, string(t.State)))
	}
	return out
}
