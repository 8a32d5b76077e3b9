package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/internal/plot"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// nearBestTolerance is the relative distance to the final best within
// which tune compare's "time to 95 % of best" counts a value as reached.
const nearBestTolerance = 0.05

// bestAfterPercents are the points, in percent of an experiment's trials,
// at which tune compare shows the best value so far.
var bestAfterPercents = []int{10, 25, 50, 100}

type compareOptions struct {
	f           *factory
	format      string
	experiments bool
	color       string
	plotFile    string
	args        []string
}

func newCompareCommand(f *factory) *cobra.Command {
	o := &compareOptions{f: f}
	cmd := &cobra.Command{
		Use:   "compare EXPERIMENT TRIAL TRIAL... | EXPERIMENT EXPERIMENT...",
		Short: "Put trials of one experiment, or several experiments, side by side",
		Long: `Put trials of one experiment side by side, one column per trial: their
status, parameters (those that differ marked with * and, on a terminal,
highlighted), each metric's value chosen by its strategy and its curve
from the observation log (first, best and last value, number of values),
and how long they ran. TRIAL is a trial's name (mnist-0003) or number (3).

Or put experiments side by side: algorithm, trials by state, the best
value and its trial, the best value after the first 10, 25, 50 and 100 %
of the trials (in creation order), the time from the experiment's start
until a finished trial first came within 5 % of the final best, and the
total time trials ran.

The arguments are trials when every one after the first names a trial of
the first experiment (a name or a number), and experiments when they all
name experiments in the store; trials win when both hold. --experiments
reads them as experiments.`,
		Example: "  tune compare mnist 3 7 12\n  tune compare mnist-random mnist-bayes\n  tune compare --experiments a b -o json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErrorf("%s: want an experiment and at least two of its trials, or at least two experiments", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.args = args
			return runCompare(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "output", "o", string(output.Table), "output format: "+documentFormats)
	cmd.Flags().BoolVar(&o.experiments, "experiments", false, "read every argument as an experiment name")
	cmd.Flags().StringVar(&o.plotFile, "plot", "", "with experiments: also draw their best-so-far curves on one plot to this .png or .svg file")
	cmd.Flags().StringVar(&o.color, "color", "auto", "highlight differing parameters: auto (on a terminal, unless NO_COLOR is set), always or never")
	return cmd
}

func runCompare(ctx context.Context, o *compareOptions) error {
	format, err := documentFormat(o.format)
	if err != nil {
		return err
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageErrorf("--color: unknown value %q (allowed: auto, always, never)", o.color)
	}
	var plotFormat plot.Format
	if o.plotFile != "" {
		if plotFormat, err = plot.FormatOf(o.plotFile); err != nil {
			return usageErrorf("--plot: %v", err)
		}
	}
	st, err := o.f.readStore()
	if err != nil {
		return err
	}
	defer st.Close()
	if !o.experiments {
		trials, err := compareTrialArgs(ctx, st, o.args)
		if err != nil {
			return err
		}
		if trials != nil {
			if o.plotFile != "" {
				return usageErrorf("--plot draws experiments' best-so-far curves: name experiments, not trials (or add --experiments)")
			}
			if len(trials) < 2 {
				return usageErrorf("compare: %s is one trial of %s; name at least two (or two experiments)", o.args[1], o.args[0])
			}
			return compareTrials(ctx, o, st, format, trials)
		}
	}
	if len(o.args) < 2 {
		return usageErrorf("compare --experiments: name at least two experiments")
	}
	tables := make([]*results.Table, len(o.args))
	for i, name := range o.args {
		tab, err := results.Load(ctx, st, name)
		if err != nil {
			return notFoundHint(err, name)
		}
		tables[i] = tab
	}
	if o.plotFile != "" {
		if err := plotBestSoFar(o, tables, plotFormat); err != nil {
			return err
		}
	}
	return compareExperiments(o, format, tables)
}

// plotBestSoFar draws the experiments' best-so-far curves to o.plotFile.
func plotBestSoFar(o *compareOptions, tables []*results.Table, format plot.Format) error {
	studies := make([]*plot.Study, len(tables))
	for i, t := range tables {
		studies[i] = studyOf(t, nil)
	}
	fig, err := plot.BestSoFar(studies)
	if err != nil {
		return noValueHint(err, tables...)
	}
	var buf bytes.Buffer
	if err := plot.Render(&buf, fig, format, plotDefaultWidth, plotDefaultHeight); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := writeFileAtomic(o.plotFile, buf.Bytes()); err != nil {
		return fmt.Errorf("--plot %s: %w", o.plotFile, err)
	}
	fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("wrote %s (best so far, %dx%d)", o.plotFile, plotDefaultWidth, plotDefaultHeight), false))
	return nil
}

// compareTrialArgs returns the trials of experiment args[0] that args[1:]
// name, or nil when they are not all its trials while every argument
// names an experiment. Otherwise, it fails naming the arguments that are
// neither.
func compareTrialArgs(ctx context.Context, st *store.Store, args []string) ([]*trial.Trial, error) {
	exists := func(name string) (bool, error) {
		_, err := st.Experiment(ctx, name)
		if errors.Is(err, experiment.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	first, err := exists(args[0])
	if err != nil {
		return nil, err
	}
	var trials []*trial.Trial
	var notTrials []string
	if first {
		for _, ref := range args[1:] {
			name, err := trialRefName(args[0], ref)
			if err != nil {
				return nil, err
			}
			t, err := st.Trial(ctx, args[0], name)
			switch {
			case errors.Is(err, experiment.ErrNotFound):
				notTrials = append(notTrials, ref)
			case err != nil:
				return nil, err
			default:
				trials = append(trials, t)
			}
		}
		if len(notTrials) == 0 {
			return trials, nil
		}
	}
	var notExperiments []string
	for _, a := range args {
		ok, err := exists(a)
		if err != nil {
			return nil, err
		}
		if !ok {
			notExperiments = append(notExperiments, a)
		}
	}
	if len(notExperiments) == 0 {
		return nil, nil
	}
	if !first {
		return nil, fmt.Errorf("compare: no experiment named %s in the store (tune get experiments lists them)", quoteList(notExperiments))
	}
	var neither []string
	for _, a := range notTrials {
		if slices.Contains(notExperiments, a) {
			neither = append(neither, a)
		}
	}
	if len(neither) > 0 {
		return nil, fmt.Errorf("compare: %s %s neither a trial of experiment %s nor an experiment (tune get trials %s lists its trials)",
			quoteList(neither), map[bool]string{true: "is", false: "are"}[len(neither) == 1], args[0], args[0])
	}
	return nil, usageErrorf("compare: %s: trials of %s; %s: experiments; compare takes trials of one experiment, or experiments, not both",
		quoteList(notExperiments), args[0], quoteList(notTrials))
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// compareTrialsView is tune compare's view of trials side by side.
type compareTrialsView struct {
	Experiment string `json:"experiment"`
	// Differing names the parameters whose values are not all equal.
	Differing []string       `json:"differingParameters"`
	Trials    []compareTrial `json:"trials"`
}

// compareTrial is one trial of tune compare.
type compareTrial struct {
	Name       string                   `json:"name"`
	Status     trial.State              `json:"status"`
	Reason     string                   `json:"reason,omitempty"`
	Parameters map[string]string        `json:"parameters"`
	Metrics    map[string]float64       `json:"metrics"`
	Curves     map[string]results.Curve `json:"curves"`
	Duration   *float64                 `json:"durationSeconds,omitempty"`
}

func compareTrials(ctx context.Context, o *compareOptions, st *store.Store, format output.Format, trials []*trial.Trial) error {
	rec, err := st.Experiment(ctx, o.args[0])
	if err != nil {
		return notFoundHint(err, o.args[0])
	}
	list := make([]trial.Trial, len(trials))
	for i, t := range trials {
		list[i] = *t
	}
	tab := results.New(rec, list)
	v := compareTrialsView{Experiment: rec.Name, Differing: []string{}, Trials: make([]compareTrial, len(list))}
	for i := range tab.Rows {
		row := &tab.Rows[i]
		logs, err := st.Logs(ctx, rec.Name, row.Trial.Name)
		if err != nil {
			return fmt.Errorf("trial %s: read observation log: %w", row.Trial.Name, err)
		}
		ct := compareTrial{Name: row.Trial.Name, Status: row.Trial.State, Reason: row.Trial.Reason,
			Parameters: map[string]string{}, Metrics: row.Metrics, Curves: tab.Curves(logs)}
		for j, p := range tab.Space {
			ct.Parameters[p.Name] = row.Params[j].Text
		}
		if !row.Trial.Started.IsZero() && !row.Trial.Finished.IsZero() {
			d := row.Duration(time.Time{}).Seconds()
			ct.Duration = &d
		}
		v.Trials[i] = ct
	}
	differs := make([]bool, len(tab.Space))
	for j, p := range tab.Space {
		for i := 1; i < len(tab.Rows); i++ {
			if !sameValue(tab.Rows[0].Params[j], tab.Rows[i].Params[j]) {
				differs[j] = true
			}
		}
		if differs[j] {
			v.Differing = append(v.Differing, p.Name)
		}
	}
	if format != output.Table {
		return writeData(o.f.io.Out, format, v, false)
	}

	color := o.color == "always" || o.color == "auto" && isTerminal(o.f.io.Out) && os.Getenv("NO_COLOR") == ""
	header := []string{"TRIAL"}
	for _, t := range v.Trials {
		header = append(header, t.Name)
	}
	var rows [][]string
	add := func(label string, cell func(t *compareTrial) string) {
		row := []string{label}
		for i := range v.Trials {
			row = append(row, cell(&v.Trials[i]))
		}
		rows = append(rows, row)
	}
	add("status", func(t *compareTrial) string { return string(t.Status) })
	highlight := map[int]bool{}
	for j, p := range tab.Space {
		mark := "  "
		if differs[j] {
			mark = "* "
			highlight[len(rows)] = true
		}
		add(mark+p.Name, func(t *compareTrial) string { return t.Parameters[p.Name] })
	}
	for _, m := range tab.Metrics {
		label := fmt.Sprintf("%s (%s)", m, tab.Strategies[m])
		add(label, func(t *compareTrial) string { return metricCell(t.Metrics, m) })
		for _, part := range []string{"first", "best", "last", "steps"} {
			add("  "+part, func(t *compareTrial) string {
				c, ok := t.Curves[m]
				switch {
				case part == "steps":
					return fmt.Sprint(c.Steps)
				case !ok:
					return "-"
				case part == "first":
					return formatValue(c.First)
				case part == "best":
					return formatValue(c.Best)
				}
				return formatValue(c.Last)
			})
		}
	}
	add("duration", func(t *compareTrial) string {
		if t.Duration == nil {
			return "-"
		}
		return formatDuration(time.Duration(*t.Duration * float64(time.Second)))
	})
	rows = escapeRows(rows)
	if color {
		style := text.Colors{text.Bold, text.FgYellow}.EscapeSeq()
		for i := range rows {
			if highlight[i] {
				for j := range rows[i] {
					rows[i][j] = text.Escape(rows[i][j], style)
				}
			}
		}
	}
	return output.WriteTable(o.f.io.Out, header, rows)
}

// sameValue reports whether two values of a parameter are equal: as
// numbers when both are numeric (1e-3 and 0.001 are equal), else as text.
func sameValue(a, b results.Value) bool {
	if a.Numeric && b.Numeric {
		return a.Num == b.Num
	}
	return a.Text == b.Text
}

func metricCell(m map[string]float64, name string) string {
	if x, ok := m[name]; ok {
		return formatValue(x)
	}
	return "-"
}

// formatDuration rounds d for reading: to 1 ms under a second, 0.1 s
// under a minute, 1 s above.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// compareExperimentsView is tune compare's view of experiments side by
// side.
type compareExperimentsView struct {
	// Comparable says whether the objectives have the same metric and
	// direction, so that their best values can be compared; Note says
	// why not.
	Comparable bool   `json:"comparable"`
	Note       string `json:"note,omitempty"`
	// Best names the experiment with the best value, when comparable.
	Best        string              `json:"best,omitempty"`
	Experiments []experimentSummary `json:"experiments"`
}

// experimentSummary is one experiment of tune compare.
type experimentSummary struct {
	Name      string           `json:"name"`
	Status    experiment.Phase `json:"status"`
	Algorithm string           `json:"algorithm"`
	// ChosenAlgorithm is what auto chose; see experiment.Status.Algorithm.
	ChosenAlgorithm string              `json:"chosenAlgorithm,omitempty"`
	Objective       string              `json:"objectiveMetricName"`
	ObjectiveType   string              `json:"objectiveType"`
	Trials          int                 `json:"trials"`
	TrialsByState   map[trial.State]int `json:"trialsByState"`
	// BestTrial and BestValue are the best trial and its objective value.
	BestTrial string   `json:"bestTrial,omitempty"`
	BestValue *float64 `json:"bestValue,omitempty"`
	// BestText is the best trial's objective when it reported it as text
	// (as DARTS's Best-Genotype); BestValue is then nil.
	BestText string `json:"bestText,omitempty"`
	// BestAfter is the best value after the first Trials trials (Percent
	// of all, rounded up), in creation order; Value is absent when none of
	// them succeeded with the objective.
	BestAfter []bestAfter `json:"bestAfter"`
	// NearBest is when a finished trial first came within 5 % of the
	// final best, counted from the experiment's start.
	NearBest *nearBest `json:"nearBest,omitempty"`
	// TotalTrialSeconds is the sum of the trials' run times (running ones
	// up to now).
	TotalTrialSeconds float64 `json:"totalTrialSeconds"`
}

type bestAfter struct {
	Percent int      `json:"percent"`
	Trials  int      `json:"trials"`
	Value   *float64 `json:"value,omitempty"`
}

type nearBest struct {
	Trial   string  `json:"trial"`
	Value   float64 `json:"value"`
	Seconds float64 `json:"seconds"`
}

func newExperimentSummary(tab *results.Table, now time.Time) experimentSummary {
	rec := tab.Experiment
	s := experimentSummary{
		Name: rec.Name, Status: rec.Status.Phase, Algorithm: rec.Spec.Spec.Algorithm.AlgorithmName, ChosenAlgorithm: rec.Status.Algorithm,
		Objective: tab.Objective, ObjectiveType: rec.Spec.Spec.Objective.Type,
		Trials: len(tab.Rows), TrialsByState: map[trial.State]int{}, BestAfter: []bestAfter{},
	}
	var total time.Duration
	for i := range tab.Rows {
		s.TrialsByState[tab.Rows[i].Trial.State]++
		total += tab.Rows[i].Duration(now)
	}
	s.TotalTrialSeconds = total.Seconds()
	if b := tab.Best(); b >= 0 {
		v, _ := tab.RankValue(&tab.Rows[b])
		s.BestTrial, s.BestValue = tab.Rows[b].Trial.Name, &v
	} else if b := tab.BestText(); b >= 0 {
		s.BestTrial = tab.Rows[b].Trial.Name // its objective is text: no value to compare
		s.BestText, _ = experiment.ObjectiveText(&tab.Rows[b].Trial, tab.Objective)
	}
	for _, p := range bestAfterPercents {
		v, k := tab.BestAfter(float64(p) / 100)
		ba := bestAfter{Percent: p, Trials: k}
		if !math.IsNaN(v) {
			ba.Value = &v
		}
		s.BestAfter = append(s.BestAfter, ba)
	}
	start := rec.Status.Started
	if start.IsZero() {
		start = rec.Status.Created
	}
	if i, d := tab.TimeToNear(nearBestTolerance, start); i >= 0 {
		v, _ := tab.RankValue(&tab.Rows[i])
		s.NearBest = &nearBest{Trial: tab.Rows[i].Trial.Name, Value: v, Seconds: max(d, 0).Seconds()}
	}
	return s
}

func compareExperiments(o *compareOptions, format output.Format, tables []*results.Table) error {
	now := time.Now()
	v := compareExperimentsView{Comparable: true}
	for _, tab := range tables {
		v.Experiments = append(v.Experiments, newExperimentSummary(tab, now))
	}
	first := tables[0]
	for _, tab := range tables[1:] {
		switch {
		case tab.Goal != first.Goal:
			v.Comparable, v.Note = false, fmt.Sprintf("the objectives differ in direction (%s %s, %s %s): best values are not comparable",
				first.Experiment.Name, goalWord(first.Goal), tab.Experiment.Name, goalWord(tab.Goal))
		case tab.Objective != first.Objective && v.Comparable:
			v.Comparable, v.Note = false, fmt.Sprintf("the objectives are different metrics (%s %s, %s %s): best values are not comparable",
				first.Experiment.Name, first.Objective, tab.Experiment.Name, tab.Objective)
		}
	}
	if v.Comparable {
		best := math.NaN()
		for i, s := range v.Experiments {
			if s.BestValue != nil && first.Goal.Better(*s.BestValue, best) {
				best, v.Best = *s.BestValue, v.Experiments[i].Name
			}
		}
	}
	if format != output.Table {
		return writeData(o.f.io.Out, format, v, false)
	}
	header := []string{"EXPERIMENT"}
	for _, s := range v.Experiments {
		header = append(header, s.Name)
	}
	var rows [][]string
	add := func(label string, cell func(s *experimentSummary) string) {
		row := []string{label}
		for i := range v.Experiments {
			row = append(row, cell(&v.Experiments[i]))
		}
		rows = append(rows, row)
	}
	add("status", func(s *experimentSummary) string { return string(s.Status) })
	add("algorithm", func(s *experimentSummary) string { return algorithmView(s.Algorithm, s.ChosenAlgorithm) })
	add("objective", func(s *experimentSummary) string { return s.Objective + " (" + s.ObjectiveType + ")" })
	add("trials", func(s *experimentSummary) string { return fmt.Sprint(s.Trials) })
	for _, state := range []trial.State{trial.Succeeded, trial.Failed, trial.MetricsUnavailable, trial.EarlyStopped, trial.Killed, trial.Running, trial.Pending} {
		any := false
		for _, s := range v.Experiments {
			any = any || s.TrialsByState[state] > 0
		}
		if any {
			add("  "+strings.ToLower(string(state)), func(s *experimentSummary) string { return fmt.Sprint(s.TrialsByState[state]) })
		}
	}
	add("best", func(s *experimentSummary) string {
		if s.BestValue == nil && s.BestText != "" {
			return shorten(s.BestText)
		}
		if s.BestValue == nil {
			return "-"
		}
		mark := ""
		if s.Name == v.Best {
			mark = " *"
		}
		return formatValue(*s.BestValue) + mark
	})
	add("best trial", func(s *experimentSummary) string { return orDash(s.BestTrial) })
	for i, p := range bestAfterPercents {
		add(fmt.Sprintf("best after %d%%", p), func(s *experimentSummary) string {
			ba := s.BestAfter[i]
			if ba.Value == nil {
				return fmt.Sprintf("- (%d)", ba.Trials)
			}
			return fmt.Sprintf("%s (%d)", formatValue(*ba.Value), ba.Trials)
		})
	}
	add("time to 95% of best", func(s *experimentSummary) string {
		if s.NearBest == nil {
			return "-"
		}
		return fmt.Sprintf("%s (%s)", formatDuration(time.Duration(s.NearBest.Seconds*float64(time.Second))), s.NearBest.Trial)
	})
	add("total trial time", func(s *experimentSummary) string {
		return formatDuration(time.Duration(s.TotalTrialSeconds * float64(time.Second)))
	})
	if err := output.WriteTable(o.f.io.Out, header, escapeRows(rows)); err != nil {
		return err
	}
	switch {
	case v.Note != "":
		_, err := fmt.Fprintf(o.f.io.Out, "note: %s\n", escapeControl(v.Note, false))
		return err
	case v.Best != "":
		_, err := fmt.Fprintf(o.f.io.Out, "* best: %s; best after N%%: the best value among the first N%% of the trials (their number in parentheses)\n", escapeControl(v.Best, false))
		return err
	}
	return nil
}

func goalWord(g suggest.Goal) string {
	if g == suggest.Maximize {
		return "maximize"
	}
	return "minimize"
}
