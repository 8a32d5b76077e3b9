package cli

import (
	"errors"
	"flag"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/suggest/bench"
)

// newBenchCommand is tune bench: benchmarks of tune's own parts.
func newBenchCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark tune's search algorithms",
		Args:  cobra.NoArgs,
	}
	suggest := &cobra.Command{
		Use:   "suggest [flags]",
		Short: "Compare search algorithms on test functions with known minima",
		Long: `Run search algorithms on test functions with known minima, in process,
and print the simple regret (best value found minus the minimum) at each
budget as markdown: the median and quartiles over the seeds, per function,
budget and parallelism, the share of seeds that found the right category
on the mixed functions, the share of late proposals on the box's boundary,
and the time per suggestion. Its flags (one dash or two) are listed by
tune bench suggest -h.`,
		Example: `  tune bench suggest -quick
  tune bench suggest -functions branin,decoy -algorithms tpe,bayesianoptimization -seeds 20
  tune bench suggest -seeds 10 -parallel 1,4,8 -raw runs.jsonl -o report.md`,
		// The benchmark's own flag set parses its arguments.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			err := bench.Run(c.Context(), args, f.io.Out, f.io.ErrOut)
			var usage *bench.UsageError
			switch {
			case errors.Is(err, flag.ErrHelp):
				return nil
			case errors.As(err, &usage):
				return usageErrorf("%v", usage)
			}
			return err
		},
	}
	cmd.AddCommand(suggest)
	return cmd
}
