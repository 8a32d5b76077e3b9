package experiment_test

// Tests that kill mutants of runner.go, validate.go and defaults.go which
// the rest of the suite let survive (issue 11, "Tests that would catch what
// users would feel"). Each asserts behaviour a user would see.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// mutExperiment returns experiment "unit" (testdata/templates/unit.yaml)
// over one double parameter x, whose objective block (indented four
// spaces, under spec.objective) is objective, with extra appended to spec.
func mutExperiment(t *testing.T, objective, extra string) *experiment.Experiment {
	t.Helper()
	return parseFixture(t, "unit.yaml", map[string]any{"Objective": objective, "Extra": extra})
}

// script is what a trial of a mutExec does.
type script func(ctx context.Context, stdout io.Writer) trial.Result

// mutExec runs the script keyed by a trial's --x value; a value without a
// script is an executor error.
type mutExec struct{ scripts map[string]script }

func (e mutExec) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	c := spec.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	for _, a := range c["args"].([]any) {
		if x, ok := strings.CutPrefix(a.(string), "--x="); ok {
			if f, ok := e.scripts[x]; ok {
				return f(ctx, stdout), nil
			}
			return trial.Result{}, fmt.Errorf("no script for x=%s", x)
		}
	}
	return trial.Result{}, errors.New("no --x argument")
}

// reports is a script that prints each of lines ("loss=1") and succeeds.
func reports(lines ...string) script {
	return func(_ context.Context, stdout io.Writer) trial.Result {
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		code := 0
		return trial.Result{State: trial.Succeeded, ExitCode: &code}
	}
}

// fails is a script that exits 1 without a metric.
func fails(_ context.Context, _ io.Writer) trial.Result {
	code := 1
	return trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 1", ExitCode: &code}
}

// mutRun runs exp with sg and the scripts, and returns the store, the final
// status, the events and Run's error.
func mutRun(t *testing.T, exp *experiment.Experiment, sg suggest.Suggester, scripts map[string]script, onEvent func(experiment.Event)) (*memStore, *experiment.Status, error) {
	t.Helper()
	st := newMemStore()
	r := &experiment.Runner{
		Store: st, Suggester: sg, Executor: mutExec{scripts}, TrialRoot: t.TempDir(),
		OnEvent: onEvent, FlushInterval: 5 * time.Millisecond,
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: exp.Metadata.Name, Spec: *exp})
	return st, status, err
}

// trialSummary lists the stored trials as "name:State".
func trialSummary(st *memStore) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []string
	for _, t := range st.trials["unit"] {
		out = append(out, t.Name+":"+string(t.State))
	}
	return out
}

// TestRunnerGoal: the goal ends the experiment as soon as the best trial
// reaches it, in either direction, a value exactly at the goal included;
// a value on the wrong side of it does not.
func TestRunnerGoal(t *testing.T) {
	for name, tc := range map[string]struct {
		objective  string
		xs         []string
		values     map[string]string // x → the loss line printed
		wantReason string
		wantTrials []string
	}{
		"maximize, met exactly": {
			objective:  "    type: maximize\n    goal: 0.9\n    objectiveMetricName: loss",
			xs:         []string{"1", "2", "3"},
			values:     map[string]string{"1": "loss=0.5", "2": "loss=0.9", "3": "loss=0.95"},
			wantReason: experiment.ReasonGoalReached,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded"},
		},
		"maximize, exceeded": {
			objective:  "    type: maximize\n    goal: 0.9\n    objectiveMetricName: loss",
			xs:         []string{"1", "2", "3"},
			values:     map[string]string{"1": "loss=0.1", "2": "loss=0.99", "3": "loss=0.95"},
			wantReason: experiment.ReasonGoalReached,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded"},
		},
		"maximize, never reached": {
			objective:  "    type: maximize\n    goal: 0.9\n    objectiveMetricName: loss",
			xs:         []string{"1", "2"},
			values:     map[string]string{"1": "loss=0.5", "2": "loss=0.89"},
			wantReason: experiment.ReasonSuggestionEnd,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded"},
		},
		"minimize, met exactly": {
			objective:  "    type: minimize\n    goal: 0.1\n    objectiveMetricName: loss",
			xs:         []string{"1", "2", "3"},
			values:     map[string]string{"1": "loss=0.5", "2": "loss=0.1", "3": "loss=0.01"},
			wantReason: experiment.ReasonGoalReached,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded"},
		},
		"minimize, never reached": {
			objective:  "    type: minimize\n    goal: 0.1\n    objectiveMetricName: loss",
			xs:         []string{"1", "2"},
			values:     map[string]string{"1": "loss=0.5", "2": "loss=0.11"},
			wantReason: experiment.ReasonSuggestionEnd,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			exp := mutExperiment(t, tc.objective, "  parallelTrialCount: 1\n  maxTrialCount: 10\n")
			scripts := map[string]script{}
			for x, line := range tc.values {
				scripts[x] = reports(line)
			}
			st, status, err := mutRun(t, exp, listSuggester{tc.xs}, scripts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if status.Phase != experiment.Succeeded || status.Reason != tc.wantReason {
				t.Errorf("status %s/%s (%s), want Succeeded/%s", status.Phase, status.Reason, status.Message, tc.wantReason)
			}
			if got := trialSummary(st); !slices.Equal(got, tc.wantTrials) {
				t.Errorf("trials %v, want %v", got, tc.wantTrials)
			}
		})
	}
}

// failingSuggester proposes x=1 first, then fails.
type failingSuggester struct{ err error }

func (s failingSuggester) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if len(req.History) == 0 {
		return []suggest.Assignment{{"x": "1"}}, nil
	}
	return nil, s.err
}

// TestRunnerSuggesterErrorFailsExperiment: a suggester error ends the
// experiment Failed with ReasonSuggestionFailed, stored and returned, and
// Run's error wraps the suggester's.
func TestRunnerSuggesterErrorFailsExperiment(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n  maxTrialCount: 5\n")
	boom := errors.New("model diverged")
	st, status, err := mutRun(t, exp, failingSuggester{boom}, map[string]script{"1": reports("loss=1")}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("Run error = %v, want one wrapping %v", err, boom)
	}
	if status == nil {
		t.Fatal("no status")
	}
	if status.Phase != experiment.Failed || status.Reason != experiment.ReasonSuggestionFailed || !strings.Contains(status.Message, "model diverged") {
		t.Errorf("status %s/%s (%s), want Failed/%s naming the error", status.Phase, status.Reason, status.Message, experiment.ReasonSuggestionFailed)
	}
	if stored := st.recs["unit"].Status; stored.Phase != experiment.Failed || stored.Reason != experiment.ReasonSuggestionFailed {
		t.Errorf("stored status %s/%s, want Failed/%s", stored.Phase, stored.Reason, experiment.ReasonSuggestionFailed)
	}
	if got, want := trialSummary(st), []string{"unit-0001:Succeeded"}; !slices.Equal(got, want) {
		t.Errorf("trials %v, want %v", got, want)
	}
}

// TestRunnerMaxFailedTrialCountZero: maxFailedTrialCount 0 means, as in
// Katib (failedTrialsCount != 0 && failedTrialsCount >= max), that the
// first failed trial fails the experiment; it does not fail an experiment
// before any trial failed.
func TestRunnerMaxFailedTrialCountZero(t *testing.T) {
	objective := "    type: minimize\n    objectiveMetricName: loss"
	spec := "  parallelTrialCount: 1\n  maxTrialCount: 3\n  maxFailedTrialCount: 0\n"
	scripts := map[string]script{"1": reports("loss=3"), "2": reports("loss=2"), "3": reports("loss=1"), "-1": fails}
	for name, tc := range map[string]struct {
		xs         []string
		wantPhase  experiment.Phase
		wantReason string
		wantTrials []string
	}{
		"no failure": {
			xs:         []string{"1", "2", "3"},
			wantPhase:  experiment.Succeeded,
			wantReason: experiment.ReasonMaxTrialsReached,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Succeeded", "unit-0003:Succeeded"},
		},
		"first failure ends it": {
			xs:         []string{"1", "-1", "3"},
			wantPhase:  experiment.Failed,
			wantReason: experiment.ReasonMaxFailedReached,
			wantTrials: []string{"unit-0001:Succeeded", "unit-0002:Failed"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			st, status, err := mutRun(t, mutExperiment(t, objective, spec), listSuggester{tc.xs}, scripts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if status.Phase != tc.wantPhase || status.Reason != tc.wantReason {
				t.Errorf("status %s/%s (%s), want %s/%s", status.Phase, status.Reason, status.Message, tc.wantPhase, tc.wantReason)
			}
			if got := trialSummary(st); !slices.Equal(got, tc.wantTrials) {
				t.Errorf("trials %v, want %v", got, tc.wantTrials)
			}
		})
	}
}

// TestRunnerExhaustedWaitsForRunningTrials: when the suggester has no more
// trials, the experiment still waits for those running to finish. The
// first trial keeps running after the second finished and after the
// runner has gone round its loop again (it sees a value it printed then
// stored by a flush), then succeeds.
func TestRunnerExhaustedWaitsForRunningTrials(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss\n    additionalMetricNames: [accuracy]", "  parallelTrialCount: 3\n")
	fastDone := make(chan struct{})
	var once sync.Once
	onEvent := func(ev experiment.Event) {
		if ev.Kind == experiment.TrialFinished && ev.Trial.Name == "unit-0002" {
			once.Do(func() { close(fastDone) })
		}
	}
	var st *memStore
	var stMu sync.Mutex
	stored := func() bool {
		stMu.Lock()
		s := st
		stMu.Unlock()
		if s == nil {
			return false
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return slices.ContainsFunc(s.logs["unit-0001"], func(l metrics.Log) bool { return l.Metric == "accuracy" })
	}
	slow := func(ctx context.Context, stdout io.Writer) trial.Result {
		select {
		case <-fastDone:
		case <-ctx.Done():
			return trial.Result{State: trial.Killed, Reason: "Killed"}
		}
		fmt.Fprintln(stdout, "accuracy=0.25")
		for !stored() {
			select {
			case <-ctx.Done():
				return trial.Result{State: trial.Killed, Reason: "Killed"}
			case <-time.After(time.Millisecond):
			}
		}
		fmt.Fprintln(stdout, "loss=1")
		code := 0
		return trial.Result{State: trial.Succeeded, ExitCode: &code}
	}
	st = newMemStore()
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"1", "2"}}, TrialRoot: t.TempDir(),
		Executor: mutExec{map[string]script{"1": slow, "2": reports("loss=2")}},
		OnEvent:  onEvent, FlushInterval: 5 * time.Millisecond,
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonSuggestionEnd {
		t.Errorf("status %s/%s (%s), want Succeeded/%s", status.Phase, status.Reason, status.Message, experiment.ReasonSuggestionEnd)
	}
	if got, want := trialSummary(st), []string{"unit-0001:Succeeded", "unit-0002:Succeeded"}; !slices.Equal(got, want) {
		t.Errorf("trials %v, want %v", got, want)
	}
	if best := status.CurrentOptimalTrial; best == nil || best.BestTrialName != "unit-0001" {
		t.Errorf("best %+v, want unit-0001", best)
	}
}

// summary returns a metric summary of values, as reported in order.
func summary(values ...float64) metrics.Summary {
	var s metrics.Summary
	for _, v := range values {
		s.Add(v)
	}
	return s
}

// TestBestTrialOnlySucceeded: only a Succeeded trial can be the best; a
// Killed, EarlyStopped, Failed, MetricsUnavailable or Running trial with a
// better value is passed over, in both directions.
func TestBestTrialOnlySucceeded(t *testing.T) {
	mk := func(name string, state trial.State, loss float64) *trial.Trial {
		return &trial.Trial{Name: name, State: state, Parameters: suggest.Assignment{"x": name},
			Metrics: map[string]metrics.Summary{"loss": summary(loss)}}
	}
	for _, tc := range []struct {
		goal   suggest.Goal
		better float64 // a value better than the succeeded trials'
	}{{suggest.Minimize, -100}, {suggest.Maximize, 100}} {
		trials := []*trial.Trial{
			mk("killed", trial.Killed, tc.better),
			mk("early", trial.EarlyStopped, tc.better),
			mk("failed", trial.Failed, tc.better),
			mk("unavailable", trial.MetricsUnavailable, tc.better),
			mk("running", trial.Running, tc.better),
			mk("pending", trial.Pending, tc.better),
			mk("ok-1", trial.Succeeded, 1),
			mk("ok-2", trial.Succeeded, 2),
		}
		want := "ok-1"
		if tc.goal == suggest.Maximize {
			want = "ok-2"
		}
		strategies := map[string]metrics.Strategy{"loss": metrics.Latest}
		best := experiment.BestTrial(trials, "loss", tc.goal, strategies)
		if best == nil || best.BestTrialName != want {
			t.Errorf("goal %v: best %+v, want %s", tc.goal, best, want)
		}
		if best := experiment.BestTrial(trials[:6], "loss", tc.goal, strategies); best != nil {
			t.Errorf("goal %v: best of trials none of which succeeded = %+v, want nil", tc.goal, best)
		}
	}
}

// TestRunnerMetricStrategies: each metric's value is chosen among the
// values a trial reported by the metric's strategy, which decides the best
// trial (objective) and the values shown for it (every metric).
func TestRunnerMetricStrategies(t *testing.T) {
	scripts := map[string]script{
		// loss: min, max, latest.
		"1": reports("loss=5 accuracy=0.1", "loss=0.5 accuracy=0.3", "loss=3 accuracy=0.2"), // 0.5, 5, 3
		"2": reports("loss=2.6 accuracy=0.1", "loss=2.5 accuracy=0.3", "accuracy=0.2"),      // 2.5, 2.6, 2.5
		"3": reports("loss=9 accuracy=0.1", "loss=2.2 accuracy=0.3", "accuracy=0.2"),        // 2.2, 9, 2.2
	}
	for _, tc := range []struct {
		loss     string // the objective's strategy; "" for the default (min)
		wantBest string
		wantLoss float64
	}{
		{"", "unit-0001", 0.5},
		{"min", "unit-0001", 0.5},
		{"max", "unit-0002", 2.6},
		{"latest", "unit-0003", 2.2},
	} {
		t.Run("loss="+tc.loss, func(t *testing.T) {
			objective := "    type: minimize\n    objectiveMetricName: loss\n    additionalMetricNames: [accuracy]\n    metricStrategies:\n      - {name: accuracy, value: max}"
			if tc.loss != "" {
				objective += "\n      - {name: loss, value: " + tc.loss + "}"
			}
			exp := mutExperiment(t, objective, "  parallelTrialCount: 1\n")
			st, status, err := mutRun(t, exp, listSuggester{[]string{"1", "2", "3"}}, scripts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(trialSummary(st)); n != 3 {
				t.Fatalf("%d trials, want 3", n)
			}
			best := status.CurrentOptimalTrial
			if best == nil {
				t.Fatal("no best trial")
			}
			want := map[string]float64{"loss": tc.wantLoss, "accuracy": 0.3}
			if best.BestTrialName != tc.wantBest || !cmp.Equal(want, best.Metrics) {
				t.Errorf("best %s %v, want %s %v", best.BestTrialName, best.Metrics, tc.wantBest, want)
			}
		})
	}
}

// historySuggester records the history of its first request and ends the
// search.
type historySuggester struct {
	mu      sync.Mutex
	history []suggest.Observation
	calls   int
}

func (s *historySuggester) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == 0 {
		s.history = slices.Clone(req.History)
	}
	s.calls++
	return nil, suggest.ErrExhausted
}

// TestHistoryReportsEarlyStoppedAsCompleted: the suggester sees an
// early-stopped trial as Completed with the value it reached (chosen by
// the objective's strategy), not as Failed; one without the objective is
// Failed; a trial lost by a runner is Abandoned. Each observation carries
// its trial's name.
func TestHistoryReportsEarlyStoppedAsCompleted(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n  maxTrialCount: 20\n")
	loss := func(values ...float64) map[string]metrics.Summary {
		return map[string]metrics.Summary{"loss": summary(values...)}
	}
	trials := []trial.Trial{
		{Name: "unit-0001", Seq: 1, State: trial.Succeeded, Metrics: loss(3, 2, 2.5)},
		{Name: "unit-0002", Seq: 2, State: trial.EarlyStopped, Reason: experiment.ReasonTrialEarlyStopped, Metrics: loss(6, 4, 5)},
		{Name: "unit-0003", Seq: 3, State: trial.Failed, Metrics: loss(1)},
		{Name: "unit-0004", Seq: 4, State: trial.Killed, Reason: experiment.TrialReasonLost},
		{Name: "unit-0005", Seq: 5, State: trial.MetricsUnavailable},
		{Name: "unit-0006", Seq: 6, State: trial.EarlyStopped, Reason: experiment.ReasonTrialEarlyStopped},
	}
	st := newMemStore()
	st.recs["unit"] = &experiment.Record{Name: "unit", Spec: *exp, Status: experiment.Status{Phase: experiment.Running, Reason: experiment.ReasonRunning}}
	for i := range trials {
		trials[i].Parameters = suggest.Assignment{"x": fmt.Sprint(i + 1)}
		trials[i].Dir = t.TempDir()
	}
	st.trials["unit"] = slices.Clone(trials)
	sg := &historySuggester{}
	r := &experiment.Runner{Store: st, Suggester: sg, Executor: mutExec{}, TrialRoot: t.TempDir()}
	rec, err := st.Experiment(t.Context(), "unit")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resume(t.Context(), rec, trials); err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	want := []suggest.Observation{
		{Status: suggest.Completed, Value: 2},
		{Status: suggest.Completed, Value: 4},
		{Status: suggest.Failed, Value: nan},
		{Status: suggest.Abandoned, Value: nan},
		{Status: suggest.Failed, Value: nan},
		{Status: suggest.Failed, Value: nan},
	}
	for i := range want {
		want[i].Name, want[i].Assignment = trials[i].Name, trials[i].Parameters
	}
	if diff := cmp.Diff(want, sg.history, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("history given to the suggester (-want +got):\n%s", diff)
	}
}

// TestDefaultFileCollectorPath: a File collector without a source reads
// Katib's default metrics file, as TEXT.
func TestDefaultFileCollectorPath(t *testing.T) {
	e := &experiment.Experiment{Spec: experiment.Spec{
		Objective:            &experiment.ObjectiveSpec{Type: "minimize", ObjectiveMetricName: "loss"},
		MetricsCollectorSpec: &experiment.MetricsCollectorSpec{Collector: &experiment.CollectorSpec{Kind: "File"}},
	}}
	e.Default()
	src := e.Spec.MetricsCollectorSpec.Source
	if src == nil || src.FileSystemPath == nil {
		t.Fatalf("source %+v, want a fileSystemPath", src)
	}
	want := experiment.FileSystemPath{Kind: "File", Path: "/var/log/katib/metrics.log", Format: "TEXT"}
	if diff := cmp.Diff(want, *src.FileSystemPath); diff != "" {
		t.Errorf("fileSystemPath (-want +got):\n%s", diff)
	}
	// And the defaulted experiment validates.
	y := strings.Replace(readValid(t), "  maxTrialCount: 10\n", "  maxTrialCount: 10\n  metricsCollectorSpec:\n    collector:\n      kind: File\n", 1)
	parsed, err := experiment.Parse([]byte(y), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := parsed.Spec.MetricsCollectorSpec.Source.FileSystemPath.Path; got != experiment.DefaultFilePath || got != want.Path {
		t.Errorf("parsed path %q, want %q", got, want.Path)
	}
}

// TestValidateBoundaries covers the limits of Validate exactly at and one
// past each boundary, on the valid quad.yaml edited in Go (so that checks
// the YAML layer also makes, like a non-finite goal, are reached).
func TestValidateBoundaries(t *testing.T) {
	inf := math.Inf(1)
	ninf := math.Inf(-1)
	nan := math.NaN()
	rename := func(name string) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.Parameters[0].Name = name
			e.Spec.TrialTemplate.TrialParameters[0].Reference = name
		}
	}
	space := func(i int, fs experiment.FeasibleSpace) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) { e.Spec.Parameters[i].FeasibleSpace = fs }
	}
	list := func(typ string, values ...string) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.Parameters[1].ParameterType = typ
			e.Spec.Parameters[1].FeasibleSpace = experiment.FeasibleSpace{List: values}
		}
	}
	strategies := func(ms ...experiment.MetricStrategy) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.Objective.AdditionalMetricNames = []string{"acc"}
			e.Spec.Objective.MetricStrategies = ms
		}
	}
	prometheus := func(port intstr.IntOrString) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.MetricsCollectorSpec = &experiment.MetricsCollectorSpec{
				Collector: &experiment.CollectorSpec{Kind: "PrometheusMetric"},
				Source:    &experiment.SourceSpec{HTTPGet: &corev1.HTTPGetAction{Path: "/metrics", Port: port}},
			}
		}
	}
	goal := func(g float64) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) { e.Spec.Objective.Goal = &g }
	}
	cmaes := func(secondType string) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.Algorithm.AlgorithmName = "cmaes"
			e.Spec.Parameters[1].ParameterType = secondType
			if secondType == "categorical" {
				e.Spec.Parameters[1].FeasibleSpace = experiment.FeasibleSpace{List: []string{"a", "b"}}
			}
		}
	}
	for name, tc := range map[string]struct {
		edit    func(e *experiment.Experiment)
		wantErr string // "" for valid
	}{
		"double step = max-min": {edit: space(0, experiment.FeasibleSpace{Min: "0", Max: "1", Step: "1"})},
		"double step > max-min": {
			edit:    space(0, experiment.FeasibleSpace{Min: "0", Max: "1", Step: "1.0001"}),
			wantErr: "spec.parameters[0].feasibleSpace.step: 1.0001 does not fit: it is larger than max - min (1)",
		},
		"int step = max-min": {edit: space(1, experiment.FeasibleSpace{Min: "1", Max: "4", Step: "3"})},
		"int step > max-min": {
			edit:    space(1, experiment.FeasibleSpace{Min: "1", Max: "4", Step: "4"}),
			wantErr: "spec.parameters[1].feasibleSpace.step: 4 does not fit",
		},
		"name at the limit": {edit: func(e *experiment.Experiment) { e.Metadata.Name = strings.Repeat("a", experiment.MaxNameLength) }},
		"name past the limit": {
			edit:    func(e *experiment.Experiment) { e.Metadata.Name = strings.Repeat("a", experiment.MaxNameLength+1) },
			wantErr: "metadata.name: \"" + strings.Repeat("a", 41) + "\" must be at most 40",
		},
		"parameter name at the limit": {edit: rename(strings.Repeat("p", experiment.MaxParameterNameLength))},
		"parameter name past the limit": {
			edit:    rename(strings.Repeat("p", experiment.MaxParameterNameLength+1)),
			wantErr: "spec.parameters[0].name: is 254 bytes long, the limit is 253",
		},
		"strategies for each metric": {edit: strategies(experiment.MetricStrategy{Name: "loss", Value: "latest"}, experiment.MetricStrategy{Name: "acc", Value: "max"})},
		"duplicate strategy": {
			edit:    strategies(experiment.MetricStrategy{Name: "loss", Value: "min"}, experiment.MetricStrategy{Name: "loss", Value: "max"}),
			wantErr: `spec.objective.metricStrategies[1].name: duplicate strategy for metric "loss"`,
		},
		"empty strategy value": {
			edit:    strategies(experiment.MetricStrategy{Name: "loss", Value: ""}),
			wantErr: `spec.objective.metricStrategies[0].value: "" is not one of min, max, latest`,
		},
		"distinct categorical values": {edit: list("categorical", "a", "b")},
		"duplicate categorical value": {
			edit:    list("categorical", "a", "b", "a"),
			wantErr: `spec.parameters[1].feasibleSpace.list[2]: duplicate value "a"`,
		},
		"duplicate discrete value": {
			edit:    list("discrete", "1", "2", "1"),
			wantErr: `spec.parameters[1].feasibleSpace.list[2]: duplicate value "1"`,
		},
		"finite goal":                       {edit: goal(0.5)},
		"+inf goal":                         {edit: goal(inf), wantErr: "spec.objective.goal: must be a finite number"},
		"-inf goal":                         {edit: goal(ninf), wantErr: "spec.objective.goal: must be a finite number"},
		"nan goal":                          {edit: goal(nan), wantErr: "spec.objective.goal: must be a finite number"},
		"cmaes with two numeric parameters": {edit: cmaes("int")},
		"cmaes with one numeric parameter": {
			edit:    cmaes("categorical"),
			wantErr: "spec.parameters: cmaes needs at least two double or int parameters, got 1",
		},
		"port 65535": {edit: prometheus(intstr.FromInt32(65535))},
		"port 1":     {edit: prometheus(intstr.FromInt32(1))},
		"port 65536": {edit: prometheus(intstr.FromInt32(65536)), wantErr: `spec.metricsCollectorSpec.source.httpGet.port: "65536" must be a port number`},
		"port 0":     {edit: prometheus(intstr.FromInt32(0)), wantErr: `spec.metricsCollectorSpec.source.httpGet.port: "0" must be a port number`},
	} {
		t.Run(name, func(t *testing.T) {
			e := mustLoad(t, "testdata/valid/quad.yaml")
			tc.edit(e)
			err := e.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate = %v, want an invalid error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestRunnerMedianStopStopsWorseTrial: with medianstop early stopping, a
// running trial whose best value is worse than the median of the
// completed trials is stopped and recorded EarlyStopped with the value it
// reached. (The second trial would run for a minute if nothing stopped it.)
func TestRunnerMedianStopStopsWorseTrial(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss",
		"  parallelTrialCount: 1\n  maxTrialCount: 2\n  earlyStopping:\n    algorithmName: medianstop\n    algorithmSettings:\n      - {name: min_trials_required, value: \"1\"}\n      - {name: start_step, value: \"1\"}\n")
	worse := func(ctx context.Context, stdout io.Writer) trial.Result {
		fmt.Fprintln(stdout, "loss=5")
		select {
		case <-ctx.Done():
			return trial.Result{State: trial.Killed, Reason: "Killed"}
		case <-time.After(time.Minute):
			code := 0
			return trial.Result{State: trial.Succeeded, ExitCode: &code}
		}
	}
	st, status, err := mutRun(t, exp, listSuggester{[]string{"1", "2"}}, map[string]script{"1": reports("loss=1"), "2": worse}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := trialSummary(st), []string{"unit-0001:Succeeded", "unit-0002:EarlyStopped"}; !slices.Equal(got, want) {
		t.Fatalf("trials %v, want %v", got, want)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonMaxTrialsReached || status.TrialsEarlyStopped != 1 {
		t.Errorf("status %s/%s (%s), %d early stopped; want Succeeded/%s, 1", status.Phase, status.Reason, status.Message, status.TrialsEarlyStopped, experiment.ReasonMaxTrialsReached)
	}
	if s := st.trials["unit"][1].Metrics["loss"]; s.Count != 1 || s.Latest != 5 {
		t.Errorf("early-stopped trial's loss %+v, want the 5 it reported", s)
	}
}

// checkingSuggester fails a request as every real suggester does
// (suggest.CheckRequest) and otherwise proposes the next values of xs.
type checkingSuggester struct {
	listSuggester
}

func (s checkingSuggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "checking", req); err != nil {
		return nil, err
	}
	return s.listSuggester.Suggest(ctx, req)
}

// TestRunnerNeverAsksForZeroTrials: while parallelTrialCount trials run,
// the runner does not ask the suggester for more (a request for none is
// an error for every algorithm). The first trial keeps running until a
// flush has stored its first value, so the runner goes round its loop
// with the trial still active.
func TestRunnerNeverAsksForZeroTrials(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss\n    additionalMetricNames: [accuracy]", "  parallelTrialCount: 1\n")
	st := newMemStore()
	untilStored := func(ctx context.Context, stdout io.Writer) trial.Result {
		fmt.Fprintln(stdout, "accuracy=0.5")
		for {
			st.mu.Lock()
			n := len(st.logs["unit-0001"])
			st.mu.Unlock()
			if n > 0 {
				break
			}
			select {
			case <-ctx.Done():
				return trial.Result{State: trial.Killed, Reason: "Killed"}
			case <-time.After(time.Millisecond):
			}
		}
		fmt.Fprintln(stdout, "loss=2")
		code := 0
		return trial.Result{State: trial.Succeeded, ExitCode: &code}
	}
	r := &experiment.Runner{
		Store: st, Suggester: checkingSuggester{listSuggester{[]string{"1", "2"}}}, TrialRoot: t.TempDir(),
		Executor:      mutExec{map[string]script{"1": untilStored, "2": reports("loss=1")}},
		FlushInterval: 5 * time.Millisecond,
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonSuggestionEnd {
		t.Errorf("status %s/%s (%s), want Succeeded/%s", status.Phase, status.Reason, status.Message, experiment.ReasonSuggestionEnd)
	}
	if got, want := trialSummary(st), []string{"unit-0001:Succeeded", "unit-0002:Succeeded"}; !slices.Equal(got, want) {
		t.Errorf("trials %v, want %v", got, want)
	}
}

// TestRunnerLogCapBoundary: a trial whose output fills the log cap
// exactly keeps it all and no truncation note; one byte more, in the same
// write or the next, is cut at the cap and noted once.
func TestRunnerLogCapBoundary(t *testing.T) {
	const note = "\n[tune: log truncated at 7 bytes; the rest was parsed for metrics but not kept]\n"
	for name, tc := range map[string]struct {
		writes []string
		want   string
	}{
		"exactly the cap":          {[]string{"loss=1\n"}, "loss=1\n"},
		"exactly the cap in parts": {[]string{"los", "s=1\n"}, "loss=1\n"},
		"one byte more":            {[]string{"loss=1\n\n"}, "loss=1\n" + note},
		"one byte more, next":      {[]string{"loss=1\n", "\n", "\n"}, "loss=1\n" + note},
		"crossing the cap":         {[]string{"loss", "=1\n\n\n"}, "loss=1\n" + note},
	} {
		t.Run(name, func(t *testing.T) {
			exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
			write := func(_ context.Context, stdout io.Writer) trial.Result {
				for _, w := range tc.writes {
					io.WriteString(stdout, w)
				}
				code := 0
				return trial.Result{State: trial.Succeeded, ExitCode: &code}
			}
			st := newMemStore()
			r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: mutExec{map[string]script{"1": write}},
				TrialRoot: t.TempDir(), MaxLogBytes: 7}
			if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(st.trials["unit"][0].Dir, "stdout.log"))
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Errorf("stdout.log = %q, want %q", data, tc.want)
			}
		})
	}
}

// TestRunnerFailedTrialReason: a failed trial keeps the executor's reason,
// and gets "TrialFailed" when the executor gave none.
func TestRunnerFailedTrialReason(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n")
	bare := func(context.Context, io.Writer) trial.Result {
		code := 2
		return trial.Result{State: trial.Failed, ExitCode: &code}
	}
	st, _, err := mutRun(t, exp, listSuggester{[]string{"1", "2"}}, map[string]script{"1": fails, "2": bare}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range st.trials["unit"] {
		got = append(got, string(tr.State)+"/"+tr.Reason)
	}
	if want := []string{"Failed/Error", "Failed/TrialFailed"}; !slices.Equal(got, want) {
		t.Errorf("trials %v, want %v", got, want)
	}
}

// TestRunnerStatusCounts: the experiment's status counts the trials in
// each state, while they run and at the end.
func TestRunnerStatusCounts(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss",
		"  parallelTrialCount: 1\n  maxTrialCount: 4\n  earlyStopping:\n    algorithmName: medianstop\n    algorithmSettings:\n      - {name: min_trials_required, value: \"1\"}\n      - {name: start_step, value: \"1\"}\n")
	st := newMemStore()
	var running []int // TrialsRunning in the stored status, seen by each trial
	seeRunning := func(next script) script {
		return func(ctx context.Context, stdout io.Writer) trial.Result {
			st.mu.Lock()
			running = append(running, st.recs["unit"].Status.TrialsRunning)
			st.mu.Unlock()
			return next(ctx, stdout)
		}
	}
	worse := func(ctx context.Context, stdout io.Writer) trial.Result {
		fmt.Fprintln(stdout, "loss=5")
		select {
		case <-ctx.Done():
			return trial.Result{State: trial.Killed, Reason: "Killed"}
		case <-time.After(time.Minute):
			code := 0
			return trial.Result{State: trial.Succeeded, ExitCode: &code}
		}
	}
	scripts := map[string]script{
		"1": seeRunning(reports("loss=1")),
		"2": seeRunning(fails),
		"3": seeRunning(reports("no metric")),
		"4": seeRunning(worse),
	}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1", "2", "3", "4"}}, Executor: mutExec{scripts},
		TrialRoot: t.TempDir(), FlushInterval: 5 * time.Millisecond}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 1, 1, 1}; !slices.Equal(running, want) {
		t.Errorf("TrialsRunning seen by the trials %v, want %v", running, want)
	}
	got := []int{status.Trials, status.TrialsPending, status.TrialsRunning, status.TrialsSucceeded, status.TrialsFailed,
		status.TrialsKilled, status.TrialsMetricsUnav, status.TrialsEarlyStopped}
	if want := []int{4, 0, 0, 1, 1, 0, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("counts (trials, pending, running, succeeded, failed, killed, metrics unavailable, early stopped) = %v, want %v", got, want)
	}
}

// finalStatusFails is a memStore whose write of a final experiment status
// fails.
type finalStatusFails struct{ *memStore }

func (s finalStatusFails) UpdateStatus(ctx context.Context, name string, st experiment.Status) error {
	if st.Phase == experiment.Succeeded || st.Phase == experiment.Failed {
		return errors.New("disk full")
	}
	return s.memStore.UpdateStatus(ctx, name, st)
}

// TestRunnerReportsStoreErrorsAtTheEnd: a store write that fails while the
// experiment ends (saving a trial stopped by the goal, or the final
// status) is Run's error and ends the experiment Failed with
// ExperimentStoreError, never a silent success.
func TestRunnerReportsStoreErrorsAtTheEnd(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    goal: 1\n    objectiveMetricName: loss", "  parallelTrialCount: 2\n")
	blocks := func(ctx context.Context, _ io.Writer) trial.Result {
		<-ctx.Done()
		return trial.Result{State: trial.Killed, Reason: "Killed"}
	}
	scripts := map[string]script{"1": reports("loss=0.5"), "2": blocks}
	t.Run("trial", func(t *testing.T) {
		st := newMemStore()
		st.failOn = "unit-0002"
		r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1", "2"}}, Executor: mutExec{scripts}, TrialRoot: t.TempDir()}
		status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Run error %v, want the failed write of unit-0002", err)
		}
		// The goal was reached, but the end could not be committed: the
		// experiment says so rather than Succeeded (issue 11 item 4).
		if status == nil || status.Phase != experiment.Failed || status.Reason != experiment.ReasonStoreError {
			t.Errorf("status %+v, want Failed/%s", status, experiment.ReasonStoreError)
		}
	})
	t.Run("status", func(t *testing.T) {
		st := finalStatusFails{newMemStore()}
		r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1", "2"}}, Executor: mutExec{scripts}, TrialRoot: t.TempDir()}
		_, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Run error %v, want the failed write of the final status", err)
		}
	})
}

// assignmentSuggester proposes its assignments in order, then is
// exhausted.
type assignmentSuggester []suggest.Assignment

func (s assignmentSuggester) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	next := len(req.History)
	if next >= len(s) {
		return nil, suggest.ErrExhausted
	}
	return s[next:min(len(s), next+req.N)], nil
}

// TestRunnerRenderErrorFailsTrial: an assignment the trial template cannot
// be rendered with fails that trial (RenderError) and the experiment goes
// on; when even that failure cannot be stored, the experiment ends with
// ReasonStoreError and counts only the trials the store holds.
func TestRunnerRenderErrorFailsTrial(t *testing.T) {
	exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n")
	sg := assignmentSuggester{{"y": "1"}, {"x": "1"}}
	scripts := map[string]script{"1": reports("loss=1")}
	t.Run("stored", func(t *testing.T) {
		st, status, err := mutRun(t, exp, sg, scripts, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range st.trials["unit"] {
			got = append(got, string(tr.State)+"/"+tr.Reason)
		}
		if want := []string{"Failed/RenderError", "Succeeded/TrialSucceeded"}; !slices.Equal(got, want) {
			t.Errorf("trials %v, want %v", got, want)
		}
		if status.Phase != experiment.Succeeded || status.Trials != 2 || status.TrialsFailed != 1 {
			t.Errorf("status %s/%s, %d trials, %d failed; want Succeeded, 2, 1", status.Phase, status.Reason, status.Trials, status.TrialsFailed)
		}
	})
	t.Run("not stored", func(t *testing.T) {
		st := newMemStore()
		st.failOn = "unit-0001"
		r := &experiment.Runner{Store: st, Suggester: sg, Executor: mutExec{scripts}, TrialRoot: t.TempDir()}
		status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Run error %v, want the failed write", err)
		}
		if status == nil || status.Phase != experiment.Failed || status.Reason != experiment.ReasonStoreError || status.Trials != 0 {
			t.Errorf("status %+v, want Failed/%s with 0 trials", status, experiment.ReasonStoreError)
		}
	})
}

// unrenderableSuggester suggests, for ever, assignments missing the
// parameter x, which no trial template can be rendered with.
type unrenderableSuggester struct{}

func (unrenderableSuggester) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	out := make([]suggest.Assignment, req.N)
	for i := range out {
		out[i] = suggest.Assignment{"y": "1"}
	}
	return out, nil
}

// TestRunnerEndlessRenderErrors: with no maxTrialCount or
// maxFailedTrialCount to end it, an experiment whose every trial fails
// before it starts ends Failed after a bounded number of rounds instead of
// adding failed trials for ever; with a budget, the budget ends it.
func TestRunnerEndlessRenderErrors(t *testing.T) {
	t.Run("no budget", func(t *testing.T) {
		exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n")
		st, status, err := mutRun(t, exp, unrenderableSuggester{}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "failed before they could start") {
			t.Errorf("Run error %v, want the rounds of trials that failed before starting", err)
		}
		if status == nil || status.Phase != experiment.Failed || status.Reason != experiment.ReasonSuggestionFailed {
			t.Fatalf("status %+v, want Failed/%s", status, experiment.ReasonSuggestionFailed)
		}
		if n := len(st.trials["unit"]); n < 2 || n > 100 {
			t.Errorf("%d trials stored, want a few (the bounded rounds)", n)
		}
	})
	t.Run("maxFailedTrialCount", func(t *testing.T) {
		exp := mutExperiment(t, "    type: minimize\n    objectiveMetricName: loss", "  parallelTrialCount: 1\n  maxFailedTrialCount: 3\n")
		_, status, err := mutRun(t, exp, unrenderableSuggester{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status.Phase != experiment.Failed || status.Reason != experiment.ReasonMaxFailedReached || status.TrialsFailed != 3 {
			t.Errorf("status %s/%s with %d failed, want Failed/%s with 3", status.Phase, status.Reason, status.TrialsFailed, experiment.ReasonMaxFailedReached)
		}
	})
}

// TestDefaultTrainJobPrimaryPodLabels: a TrainJob trial template gets the
// labels of its primary pod (node 0 of the "node" replicated job) unless
// it names its own.
func TestDefaultTrainJobPrimaryPodLabels(t *testing.T) {
	want := map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"}
	own := map[string]string{"app": "mine"}
	for _, tc := range []struct{ given, want map[string]string }{{nil, want}, {own, own}} {
		e := &experiment.Experiment{Spec: experiment.Spec{
			Objective:     &experiment.ObjectiveSpec{Type: "minimize", ObjectiveMetricName: "loss"},
			TrialTemplate: &experiment.TrialTemplate{TrialSpec: map[string]any{"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob"}, PrimaryPodLabels: tc.given},
		}}
		e.Default()
		if diff := cmp.Diff(tc.want, e.Spec.TrialTemplate.PrimaryPodLabels); diff != "" {
			t.Errorf("given %v: primaryPodLabels (-want +got):\n%s", tc.given, diff)
		}
	}
}

// TestRankTrials: Succeeded trials come first, best first under the goal,
// the earlier first on ties; every other trial follows in the order given,
// whatever its value; the first is BestTrial's.
func TestRankTrials(t *testing.T) {
	mk := func(name string, state trial.State, loss float64) trial.Trial {
		return trial.Trial{Name: name, State: state, Metrics: map[string]metrics.Summary{"loss": summary(loss)}}
	}
	noValue := trial.Trial{Name: "no-value", State: trial.Succeeded}
	given := []trial.Trial{
		mk("killed", trial.Killed, -100),
		mk("ok-3a", trial.Succeeded, 3),
		noValue,
		mk("ok-1", trial.Succeeded, 1),
		mk("early", trial.EarlyStopped, 100),
		mk("ok-3b", trial.Succeeded, 3),
		mk("ok-2", trial.Succeeded, 2),
	}
	strategies := map[string]metrics.Strategy{"loss": metrics.Latest}
	for goal, want := range map[suggest.Goal][]string{
		suggest.Minimize: {"ok-1", "ok-2", "ok-3a", "ok-3b", "killed", "no-value", "early"},
		suggest.Maximize: {"ok-3a", "ok-3b", "ok-2", "ok-1", "killed", "no-value", "early"},
	} {
		trials := slices.Clone(given)
		experiment.RankTrials(trials, "loss", goal, strategies)
		var got []string
		for _, tr := range trials {
			got = append(got, tr.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("goal %v: ranked %v, want %v", goal, got, want)
		}
		ptrs := make([]*trial.Trial, len(given))
		for i := range given {
			ptrs[i] = &given[i]
		}
		if best := experiment.BestTrial(ptrs, "loss", goal, strategies); best == nil || best.BestTrialName != want[0] {
			t.Errorf("goal %v: BestTrial %+v, want %s, RankTrials' first", goal, best, want[0])
		}
	}
}

// TestSuggestRequest: the request the runner and tune compile send is the
// experiment's space, goal, seed (random_state) and settings, with no
// history and N zero.
func TestSuggestRequest(t *testing.T) {
	exp := mutExperiment(t, "    type: maximize\n    objectiveMetricName: loss", "")
	exp.Spec.Algorithm.AlgorithmSettings = []experiment.AlgorithmSetting{{Name: "random_state", Value: "42"}, {Name: "other", Value: "x"}}
	req := exp.SuggestRequest()
	if req.Goal != suggest.Maximize || req.Seed != 42 || req.N != 0 || req.History != nil {
		t.Errorf("goal %v, seed %d, N %d, history %v; want maximize, 42, 0, none", req.Goal, req.Seed, req.N, req.History)
	}
	if got, want := req.Settings, map[string]string{"random_state": "42", "other": "x"}; !maps.Equal(got, want) {
		t.Errorf("settings %v, want %v", got, want)
	}
	var names []string
	for _, p := range req.Space {
		names = append(names, p.Name)
	}
	var want []string
	for _, p := range exp.Spec.Parameters {
		want = append(want, p.Name)
	}
	if len(names) == 0 || !slices.Equal(names, want) {
		t.Errorf("space %v, want the experiment's parameters %v", names, want)
	}
}
