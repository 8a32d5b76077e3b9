package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/internal/importance"
	"github.com/tune-hpo/tune/internal/output"
)

// importanceOptions are the inputs of tune importance.
type importanceOptions struct {
	f      *factory
	name   string
	format string
	pairs  bool
	seed   uint64
	trees  int
	metric string
	params []string
}

// fewTrials is the number of trials below which importance warns that
// its estimate is rough.
const fewTrials = 10

func newImportanceCommand(f *factory) *cobra.Command {
	o := &importanceOptions{f: f}
	cmd := &cobra.Command{
		Use:   "importance EXPERIMENT",
		Short: "Show how much of the objective's variance each parameter explains (fANOVA)",
		Long: `Show each parameter's share of the objective's variance over the search
space, most important first, computed with fANOVA over a random forest
(Hutter, Hoos and Leyton-Brown 2014; Optuna's default importance
evaluator): a forest of regression trees is fitted on the succeeded
trials, each tree's prediction is decomposed exactly into main effects
and interactions over the space (uniform on each parameter's search
scale: logarithmic for logUniform parameters; categories weigh equally),
and the main effects' mean fractions of variance are normalised to sum
to 1. --pairs adds the pairwise interactions to the reported terms (all
terms are then normalised together). STD is the spread over the trees.

The result depends on the trials the search chose: a parameter the
search barely varied cannot show much importance. Equal --seed gives
equal results.

  tune importance mnist
  tune importance mnist --pairs -o json`,
		Args: exactArgs(1, "EXPERIMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runImportance(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.format, "output", "o", string(output.Table), "output format: "+documentFormats)
	fl.BoolVar(&o.pairs, "pairs", false, "also report the interaction of each pair of parameters")
	fl.Uint64Var(&o.seed, "seed", 0, "seed of the random forest")
	fl.IntVar(&o.trees, "trees", 64, "number of trees in the forest (1 to 1024)")
	fl.StringVar(&o.metric, "metric", "", "metric to explain (default the objective)")
	fl.StringSliceVar(&o.params, "params", nil, "only these parameters, comma-separated (default all)")
	return cmd
}

// importanceView is what tune importance -o json|yaml prints.
type importanceView struct {
	Experiment  string            `json:"experiment"`
	Metric      string            `json:"metric"`
	Method      string            `json:"method"`
	Trials      int               `json:"trials"`
	Skipped     int               `json:"skipped,omitempty"`
	Trees       int               `json:"trees"`
	Seed        uint64            `json:"seed"`
	Constant    bool              `json:"constant,omitempty"`
	Importances []importance.Term `json:"importances"`
	Notes       []string          `json:"notes,omitempty"`
}

func runImportance(ctx context.Context, o *importanceOptions) error {
	format, err := documentFormat(o.format)
	if err != nil {
		return err
	}
	if o.trees < 1 || o.trees > 1024 {
		return usageErrorf("--trees %d: want 1 to 1024", o.trees)
	}
	st, tab, err := o.f.readTable(ctx, o.name)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.metric != "" && !slices.Contains(tab.Metrics, o.metric) {
		return usageErrorf("--metric %q: not a metric of experiment %s (allowed: %s)", o.metric, o.name, strings.Join(tab.Metrics, ", "))
	}
	for _, p := range o.params {
		if tab.Param(p) < 0 {
			names := make([]string, len(tab.Space))
			for i, sp := range tab.Space {
				names[i] = sp.Name
			}
			return usageErrorf("--params: %q is not a parameter of experiment %s (allowed: %s)", p, o.name, strings.Join(names, ", "))
		}
	}
	in, err := importance.Encode(tab, o.metric, o.params)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", o.name, err)
	}
	res, err := importance.EvaluateContext(ctx, in.Space, in.X, in.Y, importance.Options{Trees: o.trees, Seed: o.seed, Pairs: o.pairs})
	if errors.Is(err, importance.ErrTooFewTrials) {
		return fmt.Errorf("experiment %s has %d succeeded trial(s) with %s; importance needs at least 2", o.name, len(in.Y), in.Metric)
	}
	if err != nil {
		return fmt.Errorf("experiment %s: %w", o.name, err)
	}
	view := importanceView{
		Experiment: o.name, Metric: in.Metric, Method: "fanova", Trials: res.Trials, Skipped: in.Skipped,
		Trees: res.Trees, Seed: res.Seed, Constant: res.Constant, Importances: res.Terms,
	}
	if res.Constant {
		view.Notes = append(view.Notes, fmt.Sprintf("%s is the same in all %d trials: no parameter explains any of it", in.Metric, res.Trials))
	}
	if in.Skipped > 0 {
		view.Notes = append(view.Notes, fmt.Sprintf("%d succeeded trial(s) left out: a parameter value outside the search space or a value of %s that is not finite", in.Skipped, in.Metric))
	}
	if res.Trials < fewTrials && !res.Constant {
		view.Notes = append(view.Notes, fmt.Sprintf("only %d trials: the importances are rough", res.Trials))
	}
	if format != output.Table {
		return writeData(o.f.io.Out, format, view, false)
	}
	for _, n := range view.Notes {
		fmt.Fprintln(o.f.io.ErrOut, escapeControl("tune: note: "+n, false))
	}
	header := []string{"PARAMETER", "IMPORTANCE", "STD", ""}
	if o.pairs {
		header[0] = "PARAMETERS"
	}
	rows := make([][]string, len(res.Terms))
	for i, t := range res.Terms {
		rows[i] = []string{t.Name(), fmt.Sprintf("%.3f", t.Importance), fmt.Sprintf("%.3f", t.Std), bar(t.Importance, 30)}
	}
	if err := output.WriteTable(o.f.io.Out, header, escapeRows(rows)); err != nil {
		return err
	}
	fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("fANOVA of %s over %d trials, %d trees, seed %d", in.Metric, res.Trials, res.Trees, res.Seed), false))
	return nil
}

// bar draws share (0 to 1) as a bar of up to width eighth-block cells.
func bar(share float64, width int) string {
	if !(share > 0) {
		return ""
	}
	eighths := int(share*float64(width*8) + 0.5)
	blocks := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + blocks[eighths%8]
}
