package experiment_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// ownerExecutor is a fileExecutor that also records each spec's Owner.
type ownerExecutor struct {
	*fileExecutor
	mu     sync.Mutex
	owners map[string]string
}

func (e *ownerExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	e.mu.Lock()
	e.owners[spec.Name] = spec.Owner
	e.mu.Unlock()
	return e.fileExecutor.Run(ctx, spec, stdout, stderr)
}

// TestTrialStartsInEmptyDir: a trial whose directory is left over from an
// earlier run (a metrics file a File collector would read) starts in an
// empty directory, the old one renamed aside with a warning, so that a
// trial writing nothing is MetricsUnavailable rather than Succeeded with
// the old value; an empty directory left over is used as it is. Each
// spec carries the runner's Owner.
func TestTrialStartsInEmptyDir(t *testing.T) {
	exp := testExperiment(t, fileCollectorSpec)
	two := int32(2)
	exp.Spec.MaxTrialCount = &two
	root := t.TempDir()
	old := filepath.Join(root, "unit", "unit-0001")
	oldMetrics := filepath.Join(old, "var", "log", "katib", "metrics.log")
	if err := os.MkdirAll(filepath.Dir(oldMetrics), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldMetrics, []byte("loss=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(root, "unit", "unit-0002")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	st := newMemStore()
	ex := &ownerExecutor{fileExecutor: &fileExecutor{mounts: map[string][]trial.Mount{}, paths: map[string]string{}}, owners: map[string]string{}}
	var warnings []string
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"-2", "-2"}}, Executor: ex, TrialRoot: root, Owner: "/data/s1.db",
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
	if len(trials) != 2 {
		t.Fatalf("%d trials, want 2", len(trials))
	}
	for _, tr := range trials {
		if tr.State != trial.MetricsUnavailable {
			t.Errorf("trial %s wrote no metrics: %s with %+v, want MetricsUnavailable", tr.Name, tr.State, tr.Metrics)
		}
		if got := ex.owners[tr.Name]; got != "/data/s1.db" {
			t.Errorf("trial %s: spec Owner %q, want the runner's", tr.Name, got)
		}
	}
	stale, err := filepath.Glob(old + ".stale-*")
	if err != nil || len(stale) != 1 {
		t.Fatalf("stale directories %v (%v), want one next to %s", stale, err, old)
	}
	if data, err := os.ReadFile(filepath.Join(stale[0], "var", "log", "katib", "metrics.log")); err != nil || string(data) != "loss=1\n" {
		t.Errorf("old metrics file moved aside: %q, %v", data, err)
	}
	if _, err := os.Stat(oldMetrics); !os.IsNotExist(err) {
		t.Errorf("old metrics file still in the trial's directory: %v", err)
	}
	var said int
	for _, w := range warnings {
		if strings.Contains(w, "was not empty") {
			said++
			if !strings.Contains(w, old) || !strings.Contains(w, stale[0]) {
				t.Errorf("warning %q does not name %s and %s", w, old, stale[0])
			}
		}
	}
	if said != 1 {
		t.Errorf("warnings %q: %d about a non-empty directory, want 1", warnings, said)
	}
	if m, _ := filepath.Glob(empty + ".stale-*"); len(m) != 0 {
		t.Errorf("an empty directory was moved aside: %v", m)
	}
}
