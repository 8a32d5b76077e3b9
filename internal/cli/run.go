package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
)

// runOptions are the inputs of tune run.
type runOptions struct {
	f     *factory
	file  string
	gpus  string
	quiet bool
}

func newRunCommand(f *factory, runF func(context.Context, *runOptions) error) *cobra.Command {
	o := &runOptions{f: f}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run an experiment file to completion",
		Long: `Run a Katib v1beta1 Experiment file: suggest trials, run up to
parallelTrialCount of them at once as local processes, collect their metrics
and stop when the goal, maxFailedTrialCount or maxTrialCount is reached (or a
grid is exhausted).

Exit status: 0 when the experiment Succeeded, 1 when it Failed or on error,
2 for an invalid experiment file, 130 when interrupted.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.gpus, "gpus", "auto", `GPU ids to hand out to trials through CUDA_VISIBLE_DEVICES: "auto" (ask nvidia-smi), "none", or a list like "0,1"`)
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the final summary")
	return cmd
}

func runRun(ctx context.Context, o *runOptions) error {
	gpus, err := parseGPUs(ctx, o.gpus)
	if err != nil {
		return err
	}
	exp, src, err := experiment.Load(o.file)
	if err != nil {
		return err
	}
	suggester, err := newSuggester(exp)
	if err != nil {
		return err
	}
	executor, err := local.New(local.Options{GPUs: gpus})
	if err != nil {
		return err
	}
	p := &progress{w: o.f.io.ErrOut, quiet: o.quiet, objective: exp.Spec.Objective.ObjectiveMetricName, names: exp.MetricNames(), strategies: exp.Strategies()}
	runner := &experiment.Runner{Suggester: suggester, Executor: executor, OnEvent: p.event}
	if err := runner.Check(exp); err != nil {
		return err
	}
	st, err := o.f.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	runner.Store = st
	runner.TrialRoot = filepath.Join(filepath.Dir(st.Path()), "trials")
	name := exp.Metadata.Name
	if old, err := st.Experiment(ctx, name); err == nil {
		return fmt.Errorf("experiment %q already exists in %s (status %s); change metadata.name or remove it with: tune delete experiment %s", name, st.Path(), old.Status.Phase, name)
	} else if !errors.Is(err, experiment.ErrNotFound) {
		return err
	}
	abs, _ := filepath.Abs(o.file)
	rec := &experiment.Record{Name: name, Source: src, SourcePath: abs, Spec: *exp}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(o.f.io.ErrOut, "interrupted: stopping running trials (interrupt again to quit at once)")
		case <-done:
		}
	}()
	status, runErr := runner.Run(ctx, rec)
	if status == nil {
		return runErr
	}
	fmt.Fprintln(o.f.io.Out, summary(name, status, exp.Spec.Objective.ObjectiveMetricName))
	if runErr != nil {
		return runErr
	}
	switch status.Phase {
	case experiment.Succeeded:
		return nil
	case experiment.Stopped:
		return &codeError{code: exitInterrupted}
	default:
		return &codeError{code: exitError}
	}
}

// newSuggester builds the experiment's search algorithm.
func newSuggester(exp *experiment.Experiment) (suggest.Suggester, error) {
	s, err := algorithms.New(exp.Spec.Algorithm.AlgorithmName, exp.Settings())
	switch {
	case errors.Is(err, algorithms.ErrNotImplemented):
		return nil, fmt.Errorf("spec.algorithm.algorithmName: %w: %w", experiment.ErrUnsupported, err)
	case err != nil:
		return nil, fmt.Errorf("spec.algorithm.algorithmSettings: %w: %w", experiment.ErrInvalid, err)
	}
	return s, nil
}

// parseGPUs resolves the --gpus flag.
func parseGPUs(ctx context.Context, flag string) ([]string, error) {
	switch flag {
	case "auto":
		return local.DetectGPUs(ctx), nil
	case "none", "":
		return nil, nil
	}
	var ids []string
	for _, id := range strings.Split(flag, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, usageErrorf("--gpus %q: empty GPU id (want auto, none or a list like 0,1)", flag)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// progress prints one line per trial event, in the manner of Optuna's log.
type progress struct {
	w          io.Writer
	quiet      bool
	objective  string
	names      []string
	strategies map[string]metrics.Strategy
}

func (p *progress) event(ev experiment.Event) {
	if p.quiet {
		return
	}
	switch ev.Kind {
	case experiment.TrialStarted:
		fmt.Fprintf(p.w, "trial %s started with %s\n", ev.Trial.Name, formatParams(ev.Trial.Parameters))
	case experiment.TrialFinished:
		t := ev.Trial
		line := fmt.Sprintf("trial %s %s", t.Name, t.State)
		if vals := formatMetrics(experiment.TrialMetrics(t, p.strategies), p.names); vals != "" && t.State == trial.Succeeded {
			line += ": " + vals
		} else if t.Message != "" {
			line += ": " + firstLine(t.Message)
		}
		if ev.Best != nil {
			line += fmt.Sprintf(". Best is %s with %s=%s", ev.Best.BestTrialName, p.objective, formatValue(ev.Best.Metrics[p.objective]))
		}
		fmt.Fprintln(p.w, line)
	case experiment.Warning:
		fmt.Fprintln(p.w, "warning: "+ev.Message)
	}
}

// summary is the one line tune run ends with.
func summary(name string, st *experiment.Status, objective string) string {
	failed := st.TrialsFailed + st.TrialsMetricsUnav
	s := fmt.Sprintf("experiment %s %s (%s): %d trials, %d succeeded, %d failed, %d killed", name, st.Phase, st.Reason, st.Trials, st.TrialsSucceeded, failed, st.TrialsKilled)
	if b := st.CurrentOptimalTrial; b != nil {
		s += fmt.Sprintf("; best %s %s=%s (%s)", b.BestTrialName, objective, formatValue(b.Metrics[objective]), formatParams(b.ParameterAssignments))
	} else {
		s += "; no trial reported " + objective
	}
	return s
}

func formatParams(a map[string]string) string {
	parts := make([]string, 0, len(a))
	for _, k := range slices.Sorted(maps.Keys(a)) {
		parts = append(parts, k+"="+a[k])
	}
	return strings.Join(parts, " ")
}

// formatMetrics prints the metrics in names order, then any others sorted.
func formatMetrics(m map[string]float64, names []string) string {
	var parts []string
	for _, n := range names {
		if v, ok := m[n]; ok {
			parts = append(parts, n+"="+formatValue(v))
		}
	}
	return strings.Join(parts, " ")
}

func formatValue(v float64) string {
	return fmt.Sprintf("%.6g", v)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// exactArgs is cobra.ExactArgs with a usage error naming the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s: expected %s, got %d argument(s); see %s --help", cmd.CommandPath(), names, len(args), cmd.CommandPath())
		}
		return nil
	}
}
