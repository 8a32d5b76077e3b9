package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/metrics/tfevent/tfeventtest"
	"github.com/tune-hpo/tune/trial"
)

// fileExecutor runs trials "on this machine" that write their metrics to
// $TUNE_METRICS_PATH in pieces (a line split across two writes) and print
// a decoy to stdout, which a File collector must not read. x = -2 writes
// no file.
type fileExecutor struct {
	json   bool // write Katib's JSON format instead of TEXT
	mu     sync.Mutex
	mounts map[string][]trial.Mount
	paths  map[string]string
}

func (e *fileExecutor) OnHost() {}

func (e *fileExecutor) Run(_ context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	var p string
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, collect.EnvMetricsPath+"="); ok {
			p = v
		}
	}
	e.mu.Lock()
	e.mounts[spec.Name], e.paths[spec.Name] = spec.Mounts, p
	e.mu.Unlock()
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	fmt.Fprintln(stdout, "loss=-999")
	if x != -2 {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return trial.Result{}, err
		}
		if e.json {
			fmt.Fprintf(f, "{\"loss\": \"%g\", \"step\": 1}\n{\"loss\": %g, \"st", x+1, x)
			f.Sync()
			fmt.Fprint(f, "ep\": 2}\nnot json\n{\"metrics\": [{\"name\": \"accuracy\", \"numberValue\": 0.5}]}\n")
		} else {
			fmt.Fprintf(f, "epoch 1: loss=%g\nepoch 2: lo", x+1)
			f.Sync()
			fmt.Fprintf(f, "ss=%g accuracy=0.5\nloss=nan\n", x)
		}
		f.Close()
	}
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

const fileCollectorSpec = `  parallelTrialCount: 2
  maxTrialCount: 3
  metricsCollectorSpec:
    source:
      fileSystemPath:
        path: /var/log/katib/metrics.log
        kind: File
        format: TEXT
    collector:
      kind: File
`

// TestFileCollector: each trial's metrics file is re-rooted under its
// directory, named by TUNE_METRICS_PATH, asked to appear at the original
// path, and read, lines split across writes included; the trial's output
// is not read; a trial that writes no file is MetricsUnavailable with a
// warning saying so.
func TestFileCollector(t *testing.T) {
	exp := testExperiment(t, fileCollectorSpec)
	st := newMemStore()
	ex := &fileExecutor{mounts: map[string][]trial.Mount{}, paths: map[string]string{}}
	var warnings []string
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"3", "5", "-2"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				warnings = append(warnings, ev.Message)
			}
		},
	}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	trials := st.trials["unit"]
	if len(trials) != 3 {
		t.Fatalf("%d trials, want 3", len(trials))
	}
	for i, want := range []float64{3, 5} {
		tr := trials[i]
		if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != want || tr.Metrics["loss"].Min != want {
			t.Errorf("trial %s: %s with %+v; want Succeeded with loss %g from its file (not the -999 it printed)", tr.Name, tr.State, tr.Metrics["loss"], want)
		}
		wantPath := filepath.Join(tr.Dir, "var", "log", "katib", "metrics.log")
		if got := ex.paths[tr.Name]; got != wantPath {
			t.Errorf("trial %s: %s=%q, want %q", tr.Name, collect.EnvMetricsPath, got, wantPath)
		}
		m := ex.mounts[tr.Name]
		if len(m) != 1 || m[0].Target != "/var/log/katib" || m[0].Source != filepath.Dir(wantPath) {
			t.Errorf("trial %s: mounts %+v, want its directory at /var/log/katib", tr.Name, m)
		}
		if logs := st.logs[tr.Name]; len(logs) != 3 {
			t.Errorf("trial %s: observation log %v, want loss, loss, accuracy", tr.Name, logs)
		}
	}
	if trials[2].State != trial.MetricsUnavailable {
		t.Errorf("trial without a file: %s, want MetricsUnavailable", trials[2].State)
	}
	joined := strings.Join(warnings, "\n")
	for _, want := range []string{"never wrote its metrics file /var/log/katib/metrics.log", "loss=nan is not a finite metric value"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q do not say %q", joined, want)
		}
	}
}

// TestFileCollectorNeedsHostExecutor: an executor whose trials run
// elsewhere cannot serve the File collector; the experiment is refused
// before anything is written.
func TestFileCollectorNeedsHostExecutor(t *testing.T) {
	exp := testExperiment(t, fileCollectorSpec)
	st, _, _, _, err := run(t, exp, []string{"1"}, t.Context())
	if !errors.Is(err, experiment.ErrUnsupported) || !strings.Contains(err.Error(), "use StdOut") {
		t.Fatalf("err = %v, want ErrUnsupported suggesting StdOut", err)
	}
	if len(st.recs) != 0 {
		t.Errorf("store holds %d experiments, want none", len(st.recs))
	}
}

// TestFileCollectorJSON reads Katib's JSON lines (string and number
// values, steps) and a Kubeflow Pipelines metrics document from the same
// file, and warns about a line that is not JSON.
func TestFileCollectorJSON(t *testing.T) {
	exp := testExperiment(t, strings.Replace(fileCollectorSpec, "format: TEXT", "format: JSON", 1))
	st := newMemStore()
	ex := &fileExecutor{json: true, mounts: map[string][]trial.Mount{}, paths: map[string]string{}}
	var warnings []string
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"3"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				warnings = append(warnings, ev.Message)
			}
		},
	}
	one := int32(1)
	exp.Spec.MaxTrialCount, exp.Spec.ParallelTrialCount = &one, &one
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	tr := st.trials["unit"][0]
	if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != 3 || tr.Metrics["accuracy"].Latest != 0.5 {
		t.Fatalf("trial: %s with %+v; want Succeeded with loss 3 and accuracy 0.5", tr.State, tr.Metrics)
	}
	var steps []int64
	for _, l := range st.logs[tr.Name] {
		if l.Metric == "loss" {
			steps = append(steps, l.Step)
		}
	}
	if !slices.Equal(steps, []int64{1, 2}) {
		t.Errorf("loss steps %v, want 1, 2 from the lines' step keys", steps)
	}
	if joined := strings.Join(warnings, "\n"); !strings.Contains(joined, `"not json"`) || !strings.Contains(joined, "not a JSON object") {
		t.Errorf("warnings %q do not name the line that is not JSON", joined)
	}
}

// promExecutor runs trials that serve a Prometheus endpoint on
// 127.0.0.1:$TUNE_METRICS_PORT, whose loss gauge falls from x+2 to x over
// about two seconds.
type promExecutor struct {
	mu    sync.Mutex
	ports map[string]string
}

func (e *promExecutor) OnHost() {}

func (e *promExecutor) Run(ctx context.Context, spec *trial.Spec, _, _ io.Writer) (trial.Result, error) {
	var port string
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, collect.EnvMetricsPort+"="); ok {
			port = v
		}
	}
	e.mu.Lock()
	e.ports[spec.Name] = port
	e.mu.Unlock()
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	var mu sync.Mutex
	loss := x + 2
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return trial.Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "# TYPE loss gauge\nloss %g\n# TYPE accuracy gauge\naccuracy{split=\"val\"} 0.5\n", loss)
	})}
	go srv.Serve(l)
	for _, v := range []float64{x + 1, x} {
		time.Sleep(700 * time.Millisecond)
		mu.Lock()
		loss = v
		mu.Unlock()
	}
	time.Sleep(700 * time.Millisecond)
	srv.Close()
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestPrometheusCollector scrapes each trial's endpoint, on a port of its
// own when trials run in parallel, recording each new value of a gauge.
func TestPrometheusCollector(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 2\n  metricsCollectorSpec:\n    collector:\n      kind: PrometheusMetric\n")
	st := newMemStore()
	ex := &promExecutor{ports: map[string]string{}}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"3", "5"}}, Executor: ex, TrialRoot: t.TempDir()}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	trials := st.trials["unit"]
	if len(trials) != 2 || ex.ports[trials[0].Name] == ex.ports[trials[1].Name] {
		t.Fatalf("trials %d, ports %v; want 2 trials on distinct ports", len(trials), ex.ports)
	}
	for i, x := range []float64{3, 5} {
		tr := trials[i]
		if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != x || tr.Metrics["loss"].Max != x+2 {
			t.Errorf("trial %s: %s with %+v; want Succeeded, loss falling from %g to %g", tr.Name, tr.State, tr.Metrics["loss"], x+2, x)
		}
		var losses []float64
		for _, l := range st.logs[tr.Name] {
			if l.Metric == "loss" {
				losses = append(losses, l.Value)
			}
		}
		if !slices.Equal(losses, []float64{x + 2, x + 1, x}) {
			t.Errorf("trial %s: loss observations %v, want each value once", tr.Name, losses)
		}
	}
}

// pushExecutor runs trials that report their metrics to TUNE_REPORT_URL
// with their TUNE_REPORT_TOKEN: loss x+1 then x (steps 1, 2), and one
// report of an undeclared metric, which must be refused. It keeps each
// trial's address and token, to report again after the trial ended.
type pushExecutor struct {
	mu      sync.Mutex
	creds   map[string][2]string
	refused map[string]error
}

func (e *pushExecutor) OnHost() {}

func (e *pushExecutor) Run(ctx context.Context, spec *trial.Spec, _, _ io.Writer) (trial.Result, error) {
	env := map[string]string{}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	url, token := env[push.EnvURL], env[push.EnvToken]
	e.mu.Lock()
	e.creds[spec.Name] = [2]string{url, token}
	e.mu.Unlock()
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	for step, v := range []float64{x + 1, x} {
		if err := push.Report(ctx, url, token, push.Request{Metrics: []push.Metric{{Name: "loss", Value: v, Step: int64(step + 1)}}}); err != nil {
			return trial.Result{}, err
		}
	}
	err = push.Report(ctx, url, token, push.Request{Metrics: []push.Metric{{Name: "f1", Value: 1, Step: -1}}})
	e.mu.Lock()
	e.refused[spec.Name] = err
	e.mu.Unlock()
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestPushCollector: trials report through the endpoint (a Unix socket by
// default, TCP loopback when asked) with their own tokens; an undeclared
// metric is refused with a warning; a finished trial's token no longer
// writes.
func TestPushCollector(t *testing.T) {
	for addr, wantURL := range map[string]string{"": "unix:", "127.0.0.1:0": "http://127.0.0.1:"} {
		t.Run("address "+addr, func(t *testing.T) { testPushCollector(t, addr, wantURL) })
	}
}

func testPushCollector(t *testing.T, addr, wantURL string) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 2\n  metricsCollectorSpec:\n    collector:\n      kind: Push\n")
	st := newMemStore()
	ex := &pushExecutor{creds: map[string][2]string{}, refused: map[string]error{}}
	var warnings []string
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"3", "5"}}, Executor: ex, TrialRoot: t.TempDir(), PushAddress: addr,
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				warnings = append(warnings, ev.Message)
			}
		},
	}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	trials := st.trials["unit"]
	for i, x := range []float64{3, 5} {
		tr := trials[i]
		if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != x || tr.Metrics["loss"].Max != x+1 {
			t.Errorf("trial %s: %s with %+v; want Succeeded with loss %g then %g", tr.Name, tr.State, tr.Metrics["loss"], x+1, x)
		}
		var steps []int64
		for _, l := range st.logs[tr.Name] {
			steps = append(steps, l.Step)
		}
		if !slices.Equal(steps, []int64{1, 2}) {
			t.Errorf("trial %s: steps %v, want 1, 2", tr.Name, steps)
		}
		if err := ex.refused[tr.Name]; err == nil || !strings.Contains(err.Error(), `"f1"`) {
			t.Errorf("trial %s: undeclared metric report: %v, want a refusal naming f1", tr.Name, err)
		}
	}
	if c := ex.creds[trials[0].Name]; c[1] == ex.creds[trials[1].Name][1] || !strings.HasPrefix(c[0], wantURL) {
		t.Errorf("credentials %v: want a URL starting %s and a token per trial", ex.creds, wantURL)
	}
	if joined := strings.Join(warnings, "\n"); !strings.Contains(joined, "refused a metrics report") {
		t.Errorf("warnings %q do not report the refused report", joined)
	}
	// The run is over: its endpoint is closed.
	c := ex.creds[trials[0].Name]
	if err := push.Report(t.Context(), c[0], c[1], push.Request{Metrics: []push.Metric{{Name: "loss", Value: 0}}}); err == nil {
		t.Error("a report after the experiment ended was accepted")
	}
}

// eventExecutor runs trials that write TensorFlow event files under
// $TUNE_METRICS_PATH/test, as tf.summary does: loss x+1 at step 1, x at
// step 2.
type eventExecutor struct{}

func (eventExecutor) OnHost() {}

func (eventExecutor) Run(_ context.Context, spec *trial.Spec, _, _ io.Writer) (trial.Result, error) {
	var dir string
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, collect.EnvMetricsPath+"="); ok {
			dir = v
		}
	}
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "test"), 0o755); err != nil {
		return trial.Result{}, err
	}
	now := float64(time.Now().Unix())
	var file []byte
	for step, v := range []float64{x + 1, x} {
		file = append(file, tfeventtest.Scalar(now, int64(step+1), []string{"loss", "accuracy_1"}, []float32{float32(v), 0.5})...)
	}
	if err := os.WriteFile(filepath.Join(dir, "test", "events.out.tfevents.1.host"), file, 0o644); err != nil {
		return trial.Result{}, err
	}
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestTensorFlowEventCollector reads the event files each trial writes in
// its re-rooted directory, with the events' steps, and Katib's tag rule
// (accuracy takes TF1's accuracy_1).
func TestTensorFlowEventCollector(t *testing.T) {
	exp := testExperiment(t, `  parallelTrialCount: 2
  maxTrialCount: 2
  metricsCollectorSpec:
    source:
      fileSystemPath: {path: /logs/summaries, kind: Directory}
    collector:
      kind: TensorFlowEvent
`)
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"3", "5"}}, Executor: eventExecutor{}, TrialRoot: t.TempDir()}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	for i, x := range []float64{3, 5} {
		tr := st.trials["unit"][i]
		if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != x || tr.Metrics["accuracy"].Latest != 0.5 {
			t.Errorf("trial %s: %s with %+v; want Succeeded, loss %g, accuracy 0.5", tr.Name, tr.State, tr.Metrics, x)
		}
		var steps []int64
		for _, l := range st.logs[tr.Name] {
			if l.Metric == "loss" {
				steps = append(steps, l.Step)
			}
		}
		if !slices.Equal(steps, []int64{1, 2}) {
			t.Errorf("trial %s: loss steps %v, want 1, 2", tr.Name, steps)
		}
	}
}
