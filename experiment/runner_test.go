package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// memStore is an in-memory experiment.Store.
type memStore struct {
	mu     sync.Mutex
	recs   map[string]*experiment.Record
	trials map[string][]trial.Trial
	logs   map[string][]metrics.Log // by trial name
	failOn string                   // SaveTrial fails for this trial name
}

func newMemStore() *memStore {
	return &memStore{recs: map[string]*experiment.Record{}, trials: map[string][]trial.Trial{}, logs: map[string][]metrics.Log{}}
}

func (m *memStore) CreateExperiment(_ context.Context, rec *experiment.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[rec.Name]; ok {
		return experiment.ErrExists
	}
	c := *rec
	m.recs[rec.Name] = &c
	return nil
}

func (m *memStore) Experiment(_ context.Context, name string) (*experiment.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[name]
	if !ok {
		return nil, experiment.ErrNotFound
	}
	c := *rec
	return &c, nil
}

func (m *memStore) UpdateStatus(_ context.Context, name string, st experiment.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[name]
	if !ok {
		return experiment.ErrNotFound
	}
	rec.Status = st
	return nil
}

func (m *memStore) UpdateExperiment(_ context.Context, rec *experiment.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[rec.Name]; !ok {
		return experiment.ErrNotFound
	}
	c := *rec
	m.recs[rec.Name] = &c
	return nil
}

func (m *memStore) SaveTrials(_ context.Context, exp string, writes []experiment.TrialWrite, st *experiment.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range writes {
		if w.Trial.Name == m.failOn && w.Trial.State.Final() {
			return errors.New("disk full")
		}
	}
	if st != nil {
		m.recs[exp].Status = *st
	}
	for _, w := range writes {
		t := w.Trial
		ts := m.trials[exp]
		if i := slices.IndexFunc(ts, func(x trial.Trial) bool { return x.Seq == t.Seq }); i >= 0 {
			ts[i] = *t
		} else {
			m.trials[exp] = append(ts, *t)
		}
		if w.ReplaceLogs {
			delete(m.logs, t.Name)
		}
		m.logs[t.Name] = append(m.logs[t.Name], w.Logs...)
	}
	return nil
}

func (m *memStore) ClearTrialLogs(_ context.Context, exp string, seq int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.trials[exp] {
		if t.Seq == seq {
			delete(m.logs, t.Name)
		}
	}
	return nil
}

func (m *memStore) Trials(_ context.Context, exp string) ([]trial.Trial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.trials[exp]), nil
}

// listSuggester proposes the x values of its list in order, then is exhausted.
type listSuggester struct{ xs []string }

func (s listSuggester) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	next := len(req.History)
	if next >= len(s.xs) {
		return nil, suggest.ErrExhausted
	}
	var out []suggest.Assignment
	for i := next; i < len(s.xs) && len(out) < req.N; i++ {
		out = append(out, suggest.Assignment{"x": s.xs[i]})
	}
	return out, nil
}

// scriptExecutor "runs" a trial by reading its --x argument: it prints
// loss=x (twice, the first worse), and interprets special values:
// x=-1 fails with exit 3, x=-2 prints no metric, x≥100 blocks until killed.
type scriptExecutor struct {
	mu        sync.Mutex
	active    int
	maxActive int
	ran       []string // trial names, in start order
}

func (e *scriptExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	e.mu.Lock()
	e.active++
	e.maxActive = max(e.maxActive, e.active)
	e.ran = append(e.ran, spec.Name)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.active--
		e.mu.Unlock()
	}()
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	switch {
	case x == -1:
		fmt.Fprintln(stderr, "boom")
		code := 3
		return trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 3: boom", ExitCode: &code}, nil
	case x == -2:
		fmt.Fprintln(stdout, "no metrics here")
	case x >= 100:
		fmt.Fprintf(stdout, "loss=%g\n", x+1)
		<-ctx.Done()
		return trial.Result{State: trial.Killed, Reason: "Killed"}, nil
	default:
		fmt.Fprintf(stdout, "epoch 1: loss=%g\nepoch 2: loss=%g accuracy=0.5\n", x+1, x)
		fmt.Fprint(stderr, "loss=nan\n")
	}
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func argX(spec *trial.Spec) (float64, error) {
	containers := spec.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	args := containers[0].(map[string]any)["args"].([]any)
	for _, a := range args {
		if s, ok := strings.CutPrefix(a.(string), "--x="); ok {
			return strconv.ParseFloat(s, 64)
		}
	}
	return 0, errors.New("no --x argument")
}

func testExperiment(t testing.TB, extra string) *experiment.Experiment {
	t.Helper()
	return testExperimentGoal(t, "", extra)
}

func testExperimentGoal(t testing.TB, goal, extra string) *experiment.Experiment {
	t.Helper()
	if goal != "" {
		goal = "\n    goal: " + goal
	}
	objective := "    type: minimize" + goal + "\n    objectiveMetricName: loss\n    additionalMetricNames: [accuracy]"
	return parseFixture(t, "unit.yaml", map[string]any{"Objective": objective, "Extra": extra})
}

func run(t *testing.T, exp *experiment.Experiment, xs []string, ctx context.Context) (*memStore, *scriptExecutor, *experiment.Status, []experiment.Event, error) {
	t.Helper()
	st := newMemStore()
	ex := &scriptExecutor{}
	var events []experiment.Event
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{xs}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: func(ev experiment.Event) { events = append(events, ev) },
	}
	status, err := r.Run(ctx, &experiment.Record{Name: exp.Metadata.Name, Spec: *exp})
	return st, ex, status, events, err
}

func states(st *memStore) []trial.State {
	var out []trial.State
	for _, t := range st.trials["unit"] {
		out = append(out, t.State)
	}
	return out
}

func TestRunnerCompletionRules(t *testing.T) {
	for name, tc := range map[string]struct {
		spec       string
		goal       string
		xs         []string
		wantPhase  experiment.Phase
		wantReason string
		wantStates []trial.State
	}{
		"max trials": {
			spec:       "  parallelTrialCount: 2\n  maxTrialCount: 3\n",
			xs:         []string{"5", "4", "3", "2", "1"},
			wantPhase:  experiment.Succeeded,
			wantReason: experiment.ReasonMaxTrialsReached,
			wantStates: []trial.State{trial.Succeeded, trial.Succeeded, trial.Succeeded},
		},
		"search space exhausted before max": {
			spec:       "  maxTrialCount: 10\n",
			xs:         []string{"5", "4"},
			wantPhase:  experiment.Succeeded,
			wantReason: experiment.ReasonSuggestionEnd,
			wantStates: []trial.State{trial.Succeeded, trial.Succeeded},
		},
		"max failed counts failed and metrics unavailable": {
			spec:       "  parallelTrialCount: 1\n  maxFailedTrialCount: 2\n",
			xs:         []string{"5", "-1", "-2", "3"},
			wantPhase:  experiment.Failed,
			wantReason: experiment.ReasonMaxFailedReached,
			wantStates: []trial.State{trial.Succeeded, trial.Failed, trial.MetricsUnavailable},
		},
		"goal stops running trials": {
			spec:       "  parallelTrialCount: 3\n  maxTrialCount: 10\n",
			goal:       "1",
			xs:         []string{"500", "0.5", "600", "7"},
			wantPhase:  experiment.Succeeded,
			wantReason: experiment.ReasonGoalReached,
			wantStates: []trial.State{trial.Killed, trial.Succeeded, trial.Killed},
		},
	} {
		t.Run(name, func(t *testing.T) {
			exp := testExperimentGoal(t, tc.goal, tc.spec)
			st, ex, status, _, err := run(t, exp, tc.xs, t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if status.Phase != tc.wantPhase || status.Reason != tc.wantReason {
				t.Errorf("status = %s/%s (%s), want %s/%s", status.Phase, status.Reason, status.Message, tc.wantPhase, tc.wantReason)
			}
			if got := states(st); !slices.Equal(got, tc.wantStates) {
				t.Errorf("trial states = %v, want %v", got, tc.wantStates)
			}
			if ex.maxActive > int(*exp.Spec.ParallelTrialCount) {
				t.Errorf("%d trials ran at once, parallelTrialCount is %d", ex.maxActive, *exp.Spec.ParallelTrialCount)
			}
			stored := st.recs["unit"].Status
			if stored.Phase != tc.wantPhase || stored.Trials != len(tc.wantStates) || stored.Completed.IsZero() {
				t.Errorf("stored status = %+v", stored)
			}
		})
	}
}

func TestRunnerRecordsMetricsAndBest(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 3\n")
	st, _, status, events, err := run(t, exp, []string{"5", "2", "9"}, t.Context())
	if err != nil {
		t.Fatal(err)
	}
	best := status.CurrentOptimalTrial
	if best == nil || best.BestTrialName != "unit-0002" || best.Metrics["loss"] != 2 || best.ParameterAssignments["x"] != "2" {
		t.Fatalf("best = %+v, want unit-0002 with loss 2", best)
	}
	tr := st.trials["unit"][0]
	// loss reported 6 then 5: min strategy (minimize default) keeps 5.
	if s := tr.Metrics["loss"]; s.Count != 2 || s.Min != 5 || s.Latest != 5 || s.Max != 6 {
		t.Errorf("loss summary = %+v", s)
	}
	if got := st.logs["unit-0001"]; len(got) != 3 || got[0].Metric != "loss" || got[0].Value != 6 || got[2].Metric != "accuracy" {
		t.Errorf("observation log = %+v, want loss=6, loss=5, accuracy=0.5 in order", got)
	}
	var warned, finished int
	for _, ev := range events {
		switch ev.Kind {
		case experiment.Warning:
			warned++
			if !strings.Contains(ev.Message, "loss=nan") {
				t.Errorf("warning %q does not name the bad value", ev.Message)
			}
		case experiment.TrialFinished:
			finished++
		}
	}
	if warned != 3 || finished != 3 {
		t.Errorf("%d warnings and %d finished events, want 3 and 3", warned, finished)
	}
	if last := events[len(events)-1]; last.Kind != experiment.ExperimentFinished {
		t.Errorf("last event kind = %v, want ExperimentFinished", last.Kind)
	}
}

func TestRunnerInterrupt(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	st, _, status, _, err := run(t, exp, []string{"100", "200", "300"}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Stopped || status.Reason != experiment.ReasonInterrupted {
		t.Errorf("status = %s/%s, want Stopped/ExperimentInterrupted", status.Phase, status.Reason)
	}
	if got, want := states(st), []trial.State{trial.Killed, trial.Killed}; !slices.Equal(got, want) {
		t.Errorf("trial states = %v, want %v", got, want)
	}
	for _, tr := range st.trials["unit"] {
		if tr.Reason != experiment.TrialReasonInterrupted || !experiment.Abandoned(&tr) {
			t.Errorf("trial %s stopped by the interrupt has reason %q, want %s (abandoned)", tr.Name, tr.Reason, experiment.TrialReasonInterrupted)
		}
	}
	// The metric reported before the kill was flushed with the trial.
	if got := st.trials["unit"][0].Metrics["loss"]; got.Count != 1 || got.Latest != 101 {
		t.Errorf("killed trial's loss = %+v, want the one value reported", got)
	}
}

func TestRunnerStoreFailureStopsTrials(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n")
	st := newMemStore()
	st.failOn = "unit-0002"
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"100", "1"}}, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the store error", err)
	}
	if status.Phase != experiment.Failed || status.Reason != experiment.ReasonStoreError {
		t.Errorf("status = %s/%s, want Failed/%s", status.Phase, status.Reason, experiment.ReasonStoreError)
	}
	if got := st.trials["unit"][0].State; got != trial.Killed {
		t.Errorf("running trial left %s, want Killed", got)
	}
}

func TestRunnerRefusesUnsupportedBeforeWriting(t *testing.T) {
	exp := testExperiment(t, "  metricsCollectorSpec:\n    collector:\n      kind: Custom\n      customCollector: {name: c, image: c}\n")
	st, _, _, _, err := run(t, exp, []string{"1"}, t.Context())
	if !errors.Is(err, experiment.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	if len(st.recs) != 0 {
		t.Errorf("store holds %d experiments, want none", len(st.recs))
	}
}

func TestRunnerNameTaken(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st := newMemStore()
	st.recs["unit"] = &experiment.Record{Name: "unit"}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); !errors.Is(err, experiment.ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
}

// floodExecutor writes n bytes without a newline to stdout, then a metric.
type floodExecutor struct{ n int }

func (e floodExecutor) Run(_ context.Context, _ *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	chunk := []byte(strings.Repeat("x", 64<<10))
	for left := e.n; left > 0; left -= len(chunk) {
		stdout.Write(chunk[:min(left, len(chunk))])
	}
	fmt.Fprint(stdout, "\nloss=0.25\n")
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func TestRunnerCapsTrialLogs(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: floodExecutor{n: 5 << 20}, TrialRoot: t.TempDir(), MaxLogBytes: 1 << 20}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	// The metric after the flood still counts.
	if status.TrialsSucceeded != 1 || status.CurrentOptimalTrial == nil || status.CurrentOptimalTrial.Metrics["loss"] != 0.25 {
		t.Fatalf("status = %+v, want the trial's loss=0.25 after the flood", status)
	}
	data, err := os.ReadFile(filepath.Join(st.trials["unit"][0].Dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 1<<20+200 || !strings.Contains(string(data), "log truncated at 1048576 bytes") {
		t.Errorf("stdout.log is %d bytes (cap 1 MiB), truncation noted: %v", len(data), strings.Contains(string(data), "truncated"))
	}
}

// pendingExecutor reports that its trial cannot be scheduled, waits until
// the test has seen that in the store, then succeeds.
type pendingExecutor struct{ seen chan struct{} }

func (e pendingExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	spec.OnStatus("Unschedulable", "0/4 nodes are available: 4 Insufficient nvidia.com/gpu")
	select {
	case <-e.seen:
	case <-ctx.Done():
		return trial.Result{State: trial.Killed}, nil
	}
	fmt.Fprintln(stdout, "loss=1")
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func TestRunnerStoresExecutorConditions(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st := newMemStore()
	seen := make(chan struct{})
	go func() {
		defer close(seen)
		for range 500 {
			time.Sleep(10 * time.Millisecond)
			st.mu.Lock()
			ts := st.trials["unit"]
			found := len(ts) == 1 && ts[0].State == trial.Running && ts[0].Reason == "Unschedulable" && strings.Contains(ts[0].Message, "Insufficient nvidia.com/gpu")
			st.mu.Unlock()
			if found {
				return
			}
		}
		t.Error("the running trial's Unschedulable condition never reached the store")
	}()
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: pendingExecutor{seen}, TrialRoot: t.TempDir(), FlushInterval: 5 * time.Millisecond}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil || status.TrialsSucceeded != 1 {
		t.Fatalf("Run: %v, %+v", err, status)
	}
	if tr := st.trials["unit"][0]; tr.Reason != "TrialSucceeded" {
		t.Errorf("finished trial keeps reason %q, want TrialSucceeded", tr.Reason)
	}
}
