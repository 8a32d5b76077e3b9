package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/store"
)

// storeRecoverOptions are the inputs of tune store recover.
type storeRecoverOptions struct {
	to string
}

func newStoreCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Check the store file for damage, or copy what is readable to a new one",
		Args:  subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("%s: missing subcommand: check or recover", cmd.CommandPath())
		},
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Read the whole store and report every damaged part (exit 1 when damaged)",
		Long: `check reads the store read-only: every page of the bbolt file and every
experiment, status, trial and log record (each carries a checksum). It lists
each damaged part and exits 1 when there is one, 0 when the store is sound.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStoreCheck(cmd.Context(), f)
		},
	}
	ro := &storeRecoverOptions{}
	rec := &cobra.Command{
		Use:   "recover --to NEWFILE",
		Short: "Copy every readable experiment, trial and log entry to a new store file",
		Long: `recover reads the store read-only and copies every experiment, trial and
observation log entry that is intact into the new store NEWFILE, which must
not exist. It lists what it skipped. An experiment whose status is damaged is
copied as Stopped (ExperimentStoreError) with its counts rebuilt from its
trials. The damaged store is never written.`,
		Args: exactArgs(0, "no arguments (the new file is --to)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ro.to == "" {
				return usageErrorf("%s: --to NEWFILE is required", cmd.CommandPath())
			}
			return runStoreRecover(cmd.Context(), f, ro)
		},
	}
	rec.Flags().StringVar(&ro.to, "to", "", "the new store file to copy into (must not exist)")
	cmd.AddCommand(check, rec)
	return cmd
}

func runStoreCheck(ctx context.Context, f *factory) error {
	path := f.opts.storePath
	r, err := store.CheckFile(ctx, path, nil)
	if err != nil {
		return err
	}
	out := f.io.Out
	for _, d := range r.Damaged {
		fmt.Fprintln(out, "damaged: "+d)
	}
	fmt.Fprintf(out, "%s: %s, %s, %s intact\n", path, count(r.Experiments, "experiment"), count(r.Trials, "trial"), count(r.Logs, "log entry"))
	if len(r.Damaged) > 0 {
		fmt.Fprintf(out, "%s is damaged (%s); tune store recover --to NEWFILE copies what is readable\n", path, count(len(r.Damaged), "problem"))
		return &codeError{code: exitError}
	}
	fmt.Fprintf(out, "%s: no damage found\n", path)
	return nil
}

func runStoreRecover(ctx context.Context, f *factory, o *storeRecoverOptions) error {
	path := f.opts.storePath
	r, err := store.RecoverFile(ctx, path, o.to, nil)
	if err != nil {
		return err
	}
	for _, d := range r.Damaged {
		fmt.Fprintln(f.io.ErrOut, "skipped: "+d)
	}
	fmt.Fprintf(f.io.Out, "copied %s, %s, %s from %s to %s\n", count(r.Experiments, "experiment"), count(r.Trials, "trial"), count(r.Logs, "log entry"), path, o.to)
	if len(r.Damaged) > 0 {
		fmt.Fprintf(f.io.ErrOut, "%s not copied (listed above)\n", count(len(r.Damaged), "damaged part"))
	}
	return nil
}

// count writes n and the noun, in the plural unless n is 1 ("log entry"
// becomes "log entries").
func count(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
