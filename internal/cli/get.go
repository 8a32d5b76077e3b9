package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// getOptions are the inputs of tune get and tune best.
type getOptions struct {
	f         *factory
	format    string
	name      string
	noHeaders bool
	list      trialListOptions
}

func addOutputFlag(cmd *cobra.Command, o *getOptions) {
	cmd.Flags().StringVarP(&o.format, "output", "o", string(output.Table), "output format: "+output.Formats)
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "leave out the header line of table, wide, csv and custom-columns")
}

func newGetCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get",
		Short: "List experiments or the trials of one",
		Args:  subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("%s: missing subcommand: experiments or trials", cmd.CommandPath())
		},
	}
	exps := &getOptions{f: f}
	expCmd := &cobra.Command{
		Use:     "experiments",
		Aliases: []string{"experiment", "exp"},
		Short:   "List the experiments in the store",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGetExperiments(cmd.Context(), exps)
		},
	}
	addOutputFlag(expCmd, exps)
	trials := &getOptions{f: f}
	trialCmd := &cobra.Command{
		Use:     "trials EXPERIMENT",
		Aliases: []string{"trial"},
		Short:   "List an experiment's trials, best first; sort, filter, choose columns, watch",
		Example: `  tune get trials mnist --sort-by -accuracy --limit 10
  tune get trials mnist --status succeeded --filter 'lr<0.01,optimizer=adam'
  tune get trials mnist --columns name,accuracy,lr --no-headers
  tune get trials mnist -o csv > trials.csv
  tune get trials mnist -o jsonpath='{range .items[*]}{.name}{"\t"}{.metrics.accuracy}{"\n"}{end}'
  tune get trials mnist -o custom-columns=TRIAL:.name,ACC:.metrics.accuracy,LR:.parameters.lr
  tune get trials mnist -w`,
		Args:              exactArgs(1, "EXPERIMENT"),
		ValidArgsFunction: completeExperiments(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			trials.name = args[0]
			return runGetTrials(cmd.Context(), trials)
		},
	}
	addOutputFlag(trialCmd, trials)
	addTrialListFlags(trialCmd, trials)
	cmd.AddCommand(expCmd, trialCmd)
	return cmd
}

func newBestCommand(f *factory, runF func(context.Context, *getOptions) error) *cobra.Command {
	o := &getOptions{f: f}
	cmd := &cobra.Command{
		Use:               "best EXPERIMENT",
		Short:             "Show an experiment's best trial",
		Args:              exactArgs(1, "EXPERIMENT"),
		ValidArgsFunction: completeExperiments(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runBest(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, o)
	return cmd
}

func newDeleteCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete things from the store",
		Args:  subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("%s: missing subcommand: experiment", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newDeleteExperimentCommand(f))
	return cmd
}

// trialView is a trial as read commands print it.
type trialView struct {
	Name       string             `json:"name"`
	Status     trial.State        `json:"status"`
	Reason     string             `json:"reason,omitempty"`
	Message    string             `json:"message,omitempty"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
	// Texts are the metrics reported only as text ([experiment.TrialTexts]).
	Texts    map[string]string `json:"texts,omitempty"`
	ExitCode *int              `json:"exitCode,omitempty"`
	Created  time.Time         `json:"created"`
	Started  time.Time         `json:"started,omitzero"`
	Finished time.Time         `json:"finished,omitzero"`
	Dir      string            `json:"dir,omitempty"`
}

// experimentView is an experiment as read commands print it.
type experimentView struct {
	Name                string                   `json:"name"`
	Status              experiment.Phase         `json:"status"`
	Reason              string                   `json:"reason,omitempty"`
	Message             string                   `json:"message,omitempty"`
	Algorithm           string                   `json:"algorithm"`
	ChosenAlgorithm     string                   `json:"chosenAlgorithm,omitempty"` // what auto chose; see experiment.Status.Algorithm
	ObjectiveType       string                   `json:"objectiveType"`
	ObjectiveMetric     string                   `json:"objectiveMetricName"`
	Goal                *float64                 `json:"goal,omitempty"`
	Trials              int                      `json:"trials"`
	TrialsSucceeded     int                      `json:"trialsSucceeded"`
	TrialsFailed        int                      `json:"trialsFailed"`
	TrialsRunning       int                      `json:"trialsRunning"`
	TrialsKilled        int                      `json:"trialsKilled"`
	TrialsEarlyStopped  int                      `json:"trialsEarlyStopped"`
	RunnerGone          bool                     `json:"runnerGone,omitempty"` // Created or Running, but no process runs it (runnerGone)
	CurrentOptimalTrial *experiment.OptimalTrial `json:"currentOptimalTrial,omitempty"`
	Created             time.Time                `json:"created"`
	Completed           time.Time                `json:"completed,omitzero"`
}

func newTrialView(t *trial.Trial, rec *experiment.Record) trialView {
	params := t.Parameters
	if params == nil {
		params = map[string]string{}
	}
	return trialView{
		Name: t.Name, Status: t.State, Reason: t.Reason, Message: t.Message,
		Parameters: params, Metrics: experiment.TrialMetrics(t, rec.Spec.Strategies()), Texts: experiment.TrialTexts(t),
		ExitCode: t.ExitCode, Created: t.Created, Started: t.Started, Finished: t.Finished, Dir: t.Dir,
	}
}

func newExperimentView(rec *experiment.Record) experimentView {
	st := rec.Status
	obj := rec.Spec.Spec.Objective
	return experimentView{
		Name: rec.Name, Status: st.Phase, Reason: st.Reason, Message: st.Message,
		Algorithm: rec.Spec.Spec.Algorithm.AlgorithmName, ChosenAlgorithm: st.Algorithm, ObjectiveType: obj.Type, ObjectiveMetric: obj.ObjectiveMetricName, Goal: obj.Goal,
		Trials: st.Trials, TrialsSucceeded: st.TrialsSucceeded, TrialsFailed: st.TrialsFailed + st.TrialsMetricsUnav,
		TrialsRunning: st.TrialsRunning, TrialsKilled: st.TrialsKilled, TrialsEarlyStopped: st.TrialsEarlyStopped,
		CurrentOptimalTrial: st.CurrentOptimalTrial, Created: st.Created, Completed: st.Completed,
	}
}

// algorithmView is how a table names an experiment's algorithm: the
// spec's algorithmName, followed for auto by the one auto chose.
func algorithmView(name, chosen string) string {
	if chosen == "" || chosen == name {
		return name
	}
	return name + " (" + chosen + ")"
}

// readStore opens the store for reading, with a hint when there is none.
func (f *factory) readStore() (*store.Store, error) {
	st, err := f.openStore(true)
	if errors.Is(err, store.ErrNoStore) {
		return nil, fmt.Errorf("%w; run an experiment first or point --store (or TUNE_STORE) at one", err)
	}
	return st, err
}

func notFoundHint(err error, name string) error {
	if errors.Is(err, experiment.ErrNotFound) {
		return fmt.Errorf("experiment %q not found in the store (tune get experiments lists them): %w", name, err)
	}
	return err
}

func runGetExperiments(ctx context.Context, o *getOptions) error {
	format, err := output.ParseFormat(o.format)
	if err != nil {
		return usageErrorf("-o: %v", err)
	}
	st, err := o.f.readStore()
	if err != nil {
		return err
	}
	defer st.Close()
	// Summaries, so that a store of many experiments is listed without
	// decoding each spec and source.
	sums, err := st.ExperimentSummaries(ctx)
	if err != nil && (!errors.Is(err, store.ErrDamaged) || sums == nil) {
		return err
	}
	recs := make([]experiment.Record, len(sums))
	for i, s := range sums {
		recs[i] = experiment.Record{Name: s.Name, Status: s.Status, Spec: experiment.Experiment{Spec: experiment.Spec{
			Objective: s.Objective, Algorithm: &experiment.AlgorithmSpec{AlgorithmName: s.Algorithm}}}}
	}
	if err != nil {
		// Damaged experiments fail alone: list the others.
		fmt.Fprintf(o.f.io.ErrOut, "tune: warning: %v\ntune: warning: tune store check lists the damage, tune store recover --to NEWFILE copies what is readable\n", err)
	}
	views := make([]experimentView, len(recs))
	for i := range recs {
		gone, err := runnerGone(ctx, st, &recs[i])
		if err != nil {
			fmt.Fprintln(o.f.io.ErrOut, escapeControl("tune: warning: "+err.Error(), true))
		}
		views[i] = newExperimentView(&recs[i])
		views[i].RunnerGone = gone
	}
	switch format.Kind() {
	case output.Name:
		names := make([]string, len(views))
		for i, v := range views {
			names[i] = escapeControl(v.Name, false)
		}
		return output.WriteNames(o.f.io.Out, names)
	case output.CSV:
		return writeExperimentsCSV(o, views)
	case output.Table, output.Wide:
	default:
		return writeData(o.f.io.Out, format, views, false)
	}
	rows := make([][]string, len(views))
	for i, v := range views {
		best := "-"
		if b := v.CurrentOptimalTrial; b != nil {
			best = fmt.Sprintf("%s (%s=%s)", b.BestTrialName, v.ObjectiveMetric, formatBest(b, v.ObjectiveMetric))
		}
		rows[i] = []string{v.Name, phaseView(v.Name, v.Status, v.RunnerGone), algorithmView(v.Algorithm, v.ChosenAlgorithm), fmt.Sprint(v.Trials), fmt.Sprint(v.TrialsSucceeded), fmt.Sprint(v.TrialsEarlyStopped), fmt.Sprint(v.TrialsFailed), best, age(v.Created)}
	}
	header := []string{"NAME", "STATUS", "ALGORITHM", "TRIALS", "SUCCEEDED", "EARLY-STOPPED", "FAILED", "BEST", "CREATED"}
	if format.Kind() == output.Wide {
		header = append(header, "RUNNING", "KILLED", "OBJECTIVE", "COMPLETED")
		for i, v := range views {
			completed := "-"
			if !v.Completed.IsZero() {
				completed = v.Completed.UTC().Format(time.RFC3339)
			}
			rows[i] = append(rows[i], fmt.Sprint(v.TrialsRunning), fmt.Sprint(v.TrialsKilled), v.ObjectiveType+" "+v.ObjectiveMetric, completed)
		}
	}
	if o.noHeaders {
		header = nil
	}
	return output.NewAligned(o.f.io.Out).Write(escapeCells(header), escapeRows(rows))
}

// writeExperimentsCSV writes the experiments as csv, values in full.
func writeExperimentsCSV(o *getOptions, views []experimentView) error {
	var header []string
	if !o.noHeaders {
		header = []string{"name", "status", "reason", "algorithm", "objectiveType", "objectiveMetricName", "trials", "trialsSucceeded", "trialsEarlyStopped", "trialsFailed", "trialsRunning", "trialsKilled", "bestTrial", "bestValue", "created", "completed"}
	}
	rows := make([][]string, len(views))
	for i, v := range views {
		bestTrial, bestValue := "", ""
		if b := v.CurrentOptimalTrial; b != nil {
			bestTrial = b.BestTrialName
			if x, ok := b.Metrics[v.ObjectiveMetric]; ok {
				bestValue = strconv.FormatFloat(x, 'g', -1, 64)
			} else if s, ok := b.Texts[v.ObjectiveMetric]; ok {
				bestValue = s
			}
		}
		completed := ""
		if !v.Completed.IsZero() {
			completed = v.Completed.UTC().Format(time.RFC3339Nano)
		}
		rows[i] = []string{v.Name, string(v.Status), v.Reason, v.Algorithm, v.ObjectiveType, v.ObjectiveMetric,
			strconv.Itoa(v.Trials), strconv.Itoa(v.TrialsSucceeded), strconv.Itoa(v.TrialsEarlyStopped), strconv.Itoa(v.TrialsFailed), strconv.Itoa(v.TrialsRunning), strconv.Itoa(v.TrialsKilled),
			bestTrial, bestValue, v.Created.UTC().Format(time.RFC3339Nano), completed}
	}
	return output.WriteCSV(o.f.io.Out, header, escapeRows(rows))
}

// readTable opens the store read-only and reads experiment name. The
// caller closes the store.
func (f *factory) readTable(ctx context.Context, name string) (*store.Store, *results.Table, error) {
	return f.readTop(ctx, name, 0)
}

// readTop is readTable keeping only the rows that rank the experiment's
// first n trials (results.LoadTop); n < 1 keeps every row.
func (f *factory) readTop(ctx context.Context, name string, n int) (*store.Store, *results.Table, error) {
	st, err := f.readStore()
	if err != nil {
		return nil, nil, err
	}
	tab, err := results.LoadTop(ctx, st, name, n)
	if err != nil {
		st.Close()
		return nil, nil, notFoundHint(err, name)
	}
	return st, tab, nil
}

// loadTable is readTop of experiment o.name, warning when its runner is
// gone.
func (o *getOptions) loadTable(ctx context.Context, n int) (*store.Store, *results.Table, error) {
	st, tab, err := o.f.readTop(ctx, o.name, n)
	if err != nil {
		return nil, nil, err
	}
	o.warnRunnerGone(ctx, st, tab.Experiment)
	return st, tab, nil
}

func runBest(ctx context.Context, o *getOptions) error {
	format, err := output.ParseFormat(o.format)
	if err != nil {
		return usageErrorf("-o: %v", err)
	}
	// Best and BestText pick the same trial on the rows that rank the
	// first trial as on every row.
	st, tab, err := o.loadTable(ctx, 1)
	if err != nil {
		return err
	}
	defer st.Close()
	b := tab.Best()
	if b < 0 {
		b = tab.BestText()
	}
	if b < 0 {
		return fmt.Errorf("experiment %s has no succeeded trial with %s yet", o.name, tab.Objective)
	}
	best := newTrialView(&tab.Rows[b].Trial, tab.Experiment)
	switch format.Kind() {
	case output.Name:
		return output.WriteNames(o.f.io.Out, []string{escapeControl(best.Name, false)})
	case output.CSV:
		l := &trialList{format: format, tab: tab, now: time.Now()}
		all, _, cols := trialColumns(tab, true)
		for _, c := range cols {
			l.cols = append(l.cols, all[c])
		}
		var h []string
		if !o.noHeaders {
			h = l.header()
		}
		return output.WriteCSV(o.f.io.Out, escapeCells(h), escapeRows([][]string{l.cells(&tab.Rows[b])}))
	case output.Table, output.Wide:
	default:
		return writeData(o.f.io.Out, format, best, false)
	}
	rows := [][]string{{"trial", best.Name}, {"status", string(best.Status)}}
	for _, m := range slices.Sorted(maps.Keys(best.Metrics)) {
		rows = append(rows, []string{"metrics." + m, output.Number(best.Metrics[m])})
	}
	for _, m := range slices.Sorted(maps.Keys(best.Texts)) {
		rows = append(rows, []string{"metrics." + m, best.Texts[m]})
	}
	for _, p := range slices.Sorted(maps.Keys(best.Parameters)) {
		rows = append(rows, []string{"params." + p, best.Parameters[p]})
	}
	if format.Kind() == output.Wide {
		r := &tab.Rows[b]
		rows = append(rows, []string{"duration", output.Duration(r.Duration(time.Now()))},
			[]string{"created", best.Created.UTC().Format(time.RFC3339)},
			[]string{"started", best.Started.UTC().Format(time.RFC3339)},
			[]string{"finished", best.Finished.UTC().Format(time.RFC3339)},
			[]string{"dir", best.Dir})
	}
	var h []string
	if !o.noHeaders {
		h = []string{"FIELD", "VALUE"}
	}
	return output.NewAligned(o.f.io.Out).Write(h, escapeRows(rows))
}

// age formats how long ago t was, like kubectl's AGE column.
func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
