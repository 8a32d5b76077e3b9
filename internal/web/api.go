package web

import (
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// Counts are an experiment's trials by state.
type Counts struct {
	Trials             int `json:"trials"`
	Pending            int `json:"pending"`
	Running            int `json:"running"`
	Succeeded          int `json:"succeeded"`
	Failed             int `json:"failed"`
	Killed             int `json:"killed"`
	MetricsUnavailable int `json:"metricsUnavailable"`
	EarlyStopped       int `json:"earlyStopped"`
}

func countsOf(st *experiment.Status) Counts {
	return Counts{st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded, st.TrialsFailed,
		st.TrialsKilled, st.TrialsMetricsUnav, st.TrialsEarlyStopped}
}

// ExperimentSummary is one entry of GET /api/experiments.
type ExperimentSummary struct {
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Reason    string `json:"reason,omitempty"`
	Algorithm string `json:"algorithm"`
	Objective string `json:"objective"`
	Goal      string `json:"goal"`
	// Budget is maxTrialCount; 0 when unbounded.
	Budget int    `json:"budget"`
	Counts Counts `json:"counts"`
	// Finished counts trials in a final state.
	Finished  int       `json:"finished"`
	BestTrial string    `json:"bestTrial,omitempty"`
	BestValue *Num      `json:"bestValue,omitempty"`
	Created   time.Time `json:"created"`
	Completed time.Time `json:"completed,omitzero"`
}

func goalName(g suggest.Goal) string {
	if g == suggest.Maximize {
		return "maximize"
	}
	return "minimize"
}

func summarize(rec *experiment.Record) ExperimentSummary {
	e := &rec.Spec
	st := &rec.Status
	sum := ExperimentSummary{
		Name: rec.Name, Phase: string(st.Phase), Reason: st.Reason,
		Goal: goalName(e.Goal()), Counts: countsOf(st),
		Created: st.Created, Completed: st.Completed,
	}
	if a := e.Spec.Algorithm; a != nil {
		sum.Algorithm = a.AlgorithmName
	}
	if o := e.Spec.Objective; o != nil {
		sum.Objective = o.ObjectiveMetricName
	}
	if m := e.Spec.MaxTrialCount; m != nil {
		sum.Budget = int(*m)
	}
	sum.Finished = st.TrialsSucceeded + st.TrialsFailed + st.TrialsKilled + st.TrialsMetricsUnav + st.TrialsEarlyStopped
	if b := st.CurrentOptimalTrial; b != nil {
		sum.BestTrial = b.BestTrialName
		if v, ok := b.Metrics[sum.Objective]; ok {
			n := Num(v)
			sum.BestValue = &n
		}
	}
	return sum
}

func (s *server) experiments(w http.ResponseWriter, req *http.Request) {
	s.cachedJSON(w, req, func() (any, error) {
		recs, err := s.r.Experiments(req.Context())
		if err != nil {
			return nil, err
		}
		out := make([]ExperimentSummary, len(recs))
		for i := range recs {
			out[i] = summarize(&recs[i])
		}
		return out, nil
	})
}

// Param describes one search-space parameter.
type Param struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Min          Num      `json:"min"`
	Max          Num      `json:"max"`
	Step         Num      `json:"step,omitempty"`
	Values       []string `json:"values,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
	// Log is true for log-scale distributions: charts use a log axis.
	Log bool `json:"log"`
	// Numeric is true when the values are numbers (int, double, or
	// discrete with numeric values).
	Numeric bool `json:"numeric"`
}

// TrialRow is one row of the experiment's trial table.
type TrialRow struct {
	Name    string `json:"name"`
	Seq     int    `json:"seq"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Params holds one value per parameter of ExperimentDetail.Params: a
	// number when the value is numeric, else its text.
	Params []any `json:"params"`
	// Metrics holds each reported metric's value by its strategy.
	Metrics map[string]Num `json:"metrics"`
	// Value is the objective value when the trial counts for ranking
	// (succeeded and reported it), else null.
	Value *Num `json:"value"`
	// BestSoFar is the best counted objective value up to this trial.
	BestSoFar Num `json:"bestSoFar"`
	// Duration is how long the trial ran, in seconds; null while it runs.
	Duration *Num `json:"duration"`
	// Started is when a running trial started (absent otherwise): its
	// duration so far is the time since.
	Started time.Time `json:"started,omitzero"`
}

// ExperimentDetail is GET /api/experiments/{name}.
type ExperimentDetail struct {
	ExperimentSummary
	Message    string            `json:"message,omitempty"`
	Started    time.Time         `json:"started,omitzero"`
	Parallel   int               `json:"parallel"`
	MaxFailed  int               `json:"maxFailed"`
	GoalValue  *Num              `json:"goalValue,omitempty"`
	Params     []Param           `json:"params"`
	Metrics    []string          `json:"metrics"`
	Strategies map[string]string `json:"strategies"`
	// Best is the index in Trials of the best trial, -1 when none counts.
	Best int `json:"best"`
	// Source is the experiment file as submitted.
	Source string     `json:"source"`
	Trials []TrialRow `json:"trials"`
}

func (s *server) experiment(w http.ResponseWriter, req *http.Request) {
	s.cachedJSON(w, req, func() (any, error) {
		tab, err := results.Load(req.Context(), s.r, req.PathValue("name"))
		if err != nil {
			return nil, err
		}
		return s.detail(tab), nil
	})
}

// detail is the answer for tab. It depends only on what the store holds
// (no clock), so that an unchanged store gives the same bytes.
func (s *server) detail(tab *results.Table) *ExperimentDetail {
	rec := tab.Experiment
	d := &ExperimentDetail{
		ExperimentSummary: summarize(rec),
		Message:           rec.Status.Message,
		Started:           rec.Status.Started,
		Metrics:           tab.Metrics,
		Strategies:        map[string]string{},
		Best:              tab.Best(),
		Source:            string(rec.Source),
		Params:            make([]Param, len(tab.Space)),
		Trials:            make([]TrialRow, len(tab.Rows)),
	}
	spec := &rec.Spec.Spec
	if spec.ParallelTrialCount != nil {
		d.Parallel = int(*spec.ParallelTrialCount)
	}
	if spec.MaxFailedTrialCount != nil {
		d.MaxFailed = int(*spec.MaxFailedTrialCount)
	}
	if o := spec.Objective; o != nil && o.Goal != nil {
		g := Num(*o.Goal)
		d.GoalValue = &g
	}
	for m, st := range tab.Strategies {
		d.Strategies[m] = string(st)
	}
	for i, p := range tab.Space {
		d.Params[i] = Param{Name: p.Name, Type: string(p.Type), Min: Num(p.Min), Max: Num(p.Max), Step: Num(p.Step),
			Values: p.Values, Distribution: string(p.Distribution),
			Log:     p.Distribution == suggest.LogUniform || p.Distribution == suggest.LogNormal,
			Numeric: p.Type == suggest.Int || p.Type == suggest.Double}
	}
	// A discrete parameter is numeric when every row's value is.
	for i, p := range tab.Space {
		if p.Type != suggest.Discrete {
			continue
		}
		d.Params[i].Numeric = !slices.ContainsFunc(tab.Rows, func(r results.Row) bool { return !r.Params[i].Numeric })
	}
	best := tab.BestSoFar()
	for i := range tab.Rows {
		r := &tab.Rows[i]
		tr := &r.Trial
		row := TrialRow{Name: tr.Name, Seq: tr.Seq, State: string(tr.State), Reason: tr.Reason, Message: tr.Message,
			Params: make([]any, len(r.Params)), Metrics: make(map[string]Num, len(r.Metrics)),
			BestSoFar: Num(best[i])}
		if tr.Finished.IsZero() {
			row.Started = tr.Started
		} else {
			d := Num(r.Duration(tr.Finished).Seconds())
			row.Duration = &d
		}
		for j, v := range r.Params {
			if d.Params[j].Numeric && v.Numeric {
				row.Params[j] = Num(v.Num)
			} else {
				row.Params[j] = v.Text
			}
		}
		for m, v := range r.Metrics {
			row.Metrics[m] = Num(v)
		}
		if v, ok := tab.RankValue(r); ok {
			n := Num(v)
			row.Value = &n
		}
		d.Trials[i] = row
	}
	return d
}

// Point is one observation of a metric.
type Point struct {
	Step  int64     `json:"step"`
	Value Num       `json:"value"`
	Time  time.Time `json:"time"`
}

// MetricSummary is a trial's summary of one metric.
type MetricSummary struct {
	Min    Num `json:"min"`
	Max    Num `json:"max"`
	Latest Num `json:"latest"`
	Count  int `json:"count"`
	// Value is the value by the metric's strategy.
	Value    Num    `json:"value"`
	Strategy string `json:"strategy"`
	// Text is the latest value reported as text, as DARTS's Best-Genotype.
	Text string `json:"text,omitempty"`
}

// Output is the end of one of a trial's output logs.
type Output struct {
	Text string `json:"text"`
	// Truncated is true when the log is longer than Text.
	Truncated bool `json:"truncated"`
	// Error says why the log could not be read.
	Error string `json:"error,omitempty"`
}

// TrialDetail is GET /api/experiments/{name}/trials/{trial}.
type TrialDetail struct {
	Experiment string                   `json:"experiment"`
	Objective  string                   `json:"objective"`
	Goal       string                   `json:"goal"`
	Name       string                   `json:"name"`
	Seq        int                      `json:"seq"`
	State      string                   `json:"state"`
	Reason     string                   `json:"reason,omitempty"`
	Message    string                   `json:"message,omitempty"`
	ExitCode   *int                     `json:"exitCode,omitempty"`
	Params     []NamedValue             `json:"params"`
	Metrics    map[string]MetricSummary `json:"metrics"`
	// Curves holds the observation log by metric, in report order.
	Curves   map[string][]Point `json:"curves"`
	Dir      string             `json:"dir,omitempty"`
	Duration Num                `json:"duration"`
	Created  time.Time          `json:"created"`
	Started  time.Time          `json:"started,omitzero"`
	Finished time.Time          `json:"finished,omitzero"`
	Stdout   Output             `json:"stdout"`
	Stderr   Output             `json:"stderr"`
}

// NamedValue is one parameter's value in a trial.
type NamedValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func curvesOf(logs []metrics.Log) map[string][]Point {
	out := map[string][]Point{}
	for _, l := range logs {
		if l.Text != "" {
			continue // text is no point of a curve
		}
		out[l.Metric] = append(out[l.Metric], Point{Step: l.Step, Value: Num(l.Value), Time: l.Time})
	}
	return out
}

func (s *server) trial(w http.ResponseWriter, req *http.Request) {
	ctx, name, tname := req.Context(), req.PathValue("name"), req.PathValue("trial")
	rec, err := s.r.Experiment(ctx, name)
	if err != nil {
		readError(w, err)
		return
	}
	tr, err := s.r.Trial(ctx, name, tname)
	if err != nil {
		readError(w, err)
		return
	}
	logs, err := s.r.Logs(ctx, name, tname)
	if err != nil {
		readError(w, err)
		return
	}
	tab := results.New(rec, []trial.Trial{*tr})
	row := &tab.Rows[0]
	d := &TrialDetail{Experiment: name, Objective: tab.Objective, Goal: goalName(tab.Goal),
		Name: tr.Name, Seq: tr.Seq, State: string(tr.State), Reason: tr.Reason, Message: tr.Message,
		ExitCode: tr.ExitCode, Metrics: map[string]MetricSummary{}, Curves: curvesOf(logs), Dir: tr.Dir,
		Duration: Num(row.Duration(s.opts.Now()).Seconds()), Created: tr.Created, Started: tr.Started, Finished: tr.Finished}
	for i, p := range tab.Space {
		d.Params = append(d.Params, NamedValue{Name: p.Name, Value: row.Params[i].Text})
	}
	for _, out := range rec.Spec.Outputs() { // the values a NAS algorithm adds
		if v, ok := tr.Parameters[out.Name]; ok {
			d.Params = append(d.Params, NamedValue{Name: out.Name, Value: v})
		}
	}
	for m, sm := range tr.Metrics {
		ms := MetricSummary{Min: Num(sm.Min), Max: Num(sm.Max), Latest: Num(sm.Latest), Count: sm.Count,
			Value: Num(math.NaN()), Strategy: string(tab.Strategies[m]), Text: sm.Text}
		if v, ok := row.Metrics[m]; ok {
			ms.Value = Num(v)
		}
		d.Metrics[m] = ms
	}
	if dir := s.trialDir(tr.Dir); dir != "" {
		d.Stdout = s.output(filepath.Join(dir, "stdout.log"))
		d.Stderr = s.output(filepath.Join(dir, "stderr.log"))
	} else {
		d.Stdout.Error = "the trial has no directory"
		d.Stderr.Error = d.Stdout.Error
	}
	writeJSON(w, req, d)
}

func (s *server) output(path string) Output {
	text, cut, err := tail(path, s.opts.LogTail)
	if err != nil {
		return Output{Error: err.Error()}
	}
	return Output{Text: text, Truncated: cut}
}

// Curves is GET /api/experiments/{name}/curves: the observation log of
// each named trial, by metric.
type Curves struct {
	Trials map[string]map[string][]Point `json:"trials"`
}

func (s *server) curves(w http.ResponseWriter, req *http.Request) {
	ctx, name := req.Context(), req.PathValue("name")
	names := req.URL.Query()["trial"]
	if len(names) > maxCurveTrials {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("trial: %d trials named, at most %d allowed", len(names), maxCurveTrials))
		return
	}
	s.cachedJSON(w, req, func() (any, error) {
		if _, err := s.r.Experiment(ctx, name); err != nil {
			return nil, err
		}
		out := Curves{Trials: map[string]map[string][]Point{}}
		for _, t := range names {
			logs, err := s.r.Logs(ctx, name, t)
			if err != nil {
				return nil, err
			}
			out.Trials[t] = curvesOf(logs)
		}
		return out, nil
	})
}
