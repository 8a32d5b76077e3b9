package experiment_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// TestCollectorPathOverHostFiles: a File (or TensorFlowEvent) collector
// path in a directory that exists on this machine with files in it would
// have each trial's copy of the directory mounted over it, hiding the
// trial's program and data (a trial saw "exec ./train.sh: no such file or
// directory"). The experiment is refused before anything is written, with
// an error naming the field and the way out; an empty or missing directory
// is mounted as before.
func TestCollectorPathOverHostFiles(t *testing.T) {
	spec := func(kind, p string) string {
		return "  parallelTrialCount: 1\n  maxTrialCount: 1\n  metricsCollectorSpec:\n    source:\n      fileSystemPath: {path: " + p + ", kind: " + map[string]string{"File": "File", "TensorFlowEvent": "Directory"}[kind] + "}\n    collector: {kind: " + kind + "}\n"
	}
	project := t.TempDir()
	if err := os.WriteFile(filepath.Join(project, "train.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, path string }{
		{"File", filepath.Join(project, "metrics.log")},
		{"TensorFlowEvent", project},
	} {
		t.Run(tc.kind+" refused", func(t *testing.T) {
			exp := testExperiment(t, spec(tc.kind, tc.path))
			st := newMemStore()
			r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: &fileExecutor{mounts: map[string][]trial.Mount{}, paths: map[string]string{}}, TrialRoot: t.TempDir()}
			_, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
			if !errors.Is(err, experiment.ErrUnsupported) {
				t.Fatalf("Run error = %v, want ErrUnsupported", err)
			}
			for _, want := range []string{"spec.metricsCollectorSpec.source.fileSystemPath.path", project, "train.sh", "$(TUNE_METRICS_PATH)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if len(st.recs) != 0 {
				t.Errorf("the refused experiment was stored")
			}
		})
	}
	t.Run("empty directory mounted", func(t *testing.T) {
		empty := t.TempDir()
		exp := testExperiment(t, spec("File", filepath.Join(empty, "metrics.log")))
		ex := &fileExecutor{mounts: map[string][]trial.Mount{}, paths: map[string]string{}}
		r := &experiment.Runner{Store: newMemStore(), Suggester: listSuggester{[]string{"1"}}, Executor: ex, TrialRoot: t.TempDir()}
		if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
			t.Fatal(err)
		}
		if m := ex.mounts["unit-0001"]; len(m) != 1 || m[0].Target != empty {
			t.Errorf("mounts %+v, want the trial's directory at %s", m, empty)
		}
	})
	t.Run("directory filled while running: no mount, a warning", func(t *testing.T) {
		target := t.TempDir()
		exp := testExperiment(t, strings.Replace(spec("File", filepath.Join(target, "metrics.log")), "maxTrialCount: 1", "maxTrialCount: 2", 1))
		ex := &fillingExecutor{fileExecutor: &fileExecutor{mounts: map[string][]trial.Mount{}, paths: map[string]string{}}, dir: target}
		var warnings []string
		r := &experiment.Runner{Store: newMemStore(), Suggester: listSuggester{[]string{"1", "2"}}, Executor: ex, TrialRoot: t.TempDir(),
			OnEvent: func(ev experiment.Event) {
				if ev.Kind == experiment.Warning && strings.Contains(ev.Message, "not made to appear inside the trial") {
					warnings = append(warnings, ev.Message)
				}
			}}
		if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
			t.Fatal(err)
		}
		if m := ex.mounts["unit-0001"]; len(m) != 1 || m[0].Target != target {
			t.Errorf("first trial's mounts %+v, want the trial's directory at %s", m, target)
		}
		if m := ex.mounts["unit-0002"]; len(m) != 0 {
			t.Errorf("second trial's mounts %+v, want none over the filled %s", m, target)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "unit-0002") || !strings.Contains(warnings[0], "data.csv") {
			t.Errorf("warnings %q, want one about unit-0002's mount", warnings)
		}
	})
}

// fillingExecutor is a fileExecutor whose first trial leaves a file in dir
// on this machine, as a user's program writing next to its metrics would.
type fillingExecutor struct {
	*fileExecutor
	dir string
}

func (e *fillingExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	if err := os.WriteFile(filepath.Join(e.dir, "data.csv"), []byte("x\n"), 0o644); err != nil {
		return trial.Result{}, err
	}
	return e.fileExecutor.Run(ctx, spec, stdout, stderr)
}
