package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

var t0 = time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)

// openTest returns a new store in a fresh directory.
func openTest(t testing.TB, opts *Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "tune.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openWith returns a new store (openTest) holding sampleRecord(name) for
// each of names, created in that order.
func openWith(t testing.TB, names ...string) *Store {
	t.Helper()
	s := openTest(t, nil)
	for _, name := range names {
		if err := s.CreateExperiment(t.Context(), sampleRecord(name)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// sampleRecord returns a record with a filled-in spec and status.
func sampleRecord(name string) *experiment.Record {
	return &experiment.Record{
		Name:       name,
		Source:     []byte("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n"),
		SourcePath: "examples/" + name + ".yaml",
		Spec: experiment.Experiment{
			APIVersion: "kubeflow.org/v1beta1",
			Kind:       "Experiment",
			Metadata:   metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: experiment.Spec{
				Parameters: []experiment.ParameterSpec{{
					Name:          "lr",
					ParameterType: "double",
					FeasibleSpace: experiment.FeasibleSpace{Min: "0.001", Max: "0.1", Distribution: "logUniform"},
				}, {
					Name:          "optimizer",
					ParameterType: "categorical",
					FeasibleSpace: experiment.FeasibleSpace{List: []string{"sgd", "adam"}},
				}},
				Objective: &experiment.ObjectiveSpec{
					Type:                  "minimize",
					Goal:                  ptr(0.01),
					ObjectiveMetricName:   "loss",
					AdditionalMetricNames: []string{"accuracy"},
					MetricStrategies:      []experiment.MetricStrategy{{Name: "loss", Value: "min"}},
				},
				Algorithm:          &experiment.AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: []experiment.AlgorithmSetting{{Name: "random_state", Value: "7"}}},
				ParallelTrialCount: ptr(int32(2)),
				MaxTrialCount:      ptr(int32(10)),
			},
		},
		Status: experiment.Status{
			Phase:      experiment.Created,
			Reason:     experiment.ReasonCreated,
			Conditions: []experiment.Condition{{Phase: experiment.Created, Reason: experiment.ReasonCreated, Time: t0}},
			Created:    t0,
		},
	}
}

// sampleTrial returns trial seq of experiment exp.
func sampleTrial(exp string, seq int) *trial.Trial {
	return &trial.Trial{
		Name:       fmt.Sprintf("%s-%04d", exp, seq),
		Seq:        seq,
		Parameters: suggest.Assignment{"lr": "0.01", "optimizer": "adam"},
		State:      trial.Running,
		Dir:        fmt.Sprintf("trials/%s-%04d", exp, seq),
		Created:    t0.Add(time.Duration(seq) * time.Second),
		Started:    t0.Add(time.Duration(seq)*time.Second + time.Millisecond),
	}
}

func TestExperimentRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, nil)
	for _, name := range []string{"beta", "alpha"} {
		if err := s.CreateExperiment(ctx, sampleRecord(name)); err != nil {
			t.Fatalf("CreateExperiment(%s): %v", name, err)
		}
	}
	got, err := s.Experiment(ctx, "beta")
	if err != nil {
		t.Fatalf("Experiment: %v", err)
	}
	if diff := cmp.Diff(sampleRecord("beta"), got); diff != "" {
		t.Errorf("Experiment (-want +got):\n%s", diff)
	}

	st := experiment.Status{
		Phase:   experiment.Succeeded,
		Reason:  experiment.ReasonGoalReached,
		Message: "goal reached",
		Conditions: []experiment.Condition{
			{Phase: experiment.Created, Reason: experiment.ReasonCreated, Time: t0},
			{Phase: experiment.Running, Reason: experiment.ReasonRunning, Time: t0.Add(time.Second)},
			{Phase: experiment.Succeeded, Reason: experiment.ReasonGoalReached, Time: t0.Add(time.Minute)},
		},
		Created:   t0,
		Started:   t0.Add(time.Second),
		Completed: t0.Add(time.Minute),
		CurrentOptimalTrial: &experiment.OptimalTrial{
			BestTrialName:        "beta-0002",
			ParameterAssignments: map[string]string{"lr": "0.01"},
			Metrics:              map[string]float64{"loss": 0.005, "accuracy": 0.99},
		},
		Trials:          3,
		TrialsSucceeded: 2,
		TrialsFailed:    1,
	}
	if err := s.UpdateStatus(ctx, "beta", st); err != nil {
		t.Fatalf("UpdateStatus: %v", err)
	}
	want := sampleRecord("beta")
	want.Status = st
	got, err = s.Experiment(ctx, "beta")
	if err != nil {
		t.Fatalf("Experiment: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Experiment after UpdateStatus (-want +got):\n%s", diff)
	}

	all, err := s.Experiments(ctx)
	if err != nil {
		t.Fatalf("Experiments: %v", err)
	}
	if diff := cmp.Diff([]experiment.Record{*sampleRecord("alpha"), *want}, all); diff != "" {
		t.Errorf("Experiments (-want +got):\n%s", diff)
	}
}

func TestRecordStoredWithoutStatus(t *testing.T) {
	s := openTest(t, nil)
	if err := s.CreateExperiment(t.Context(), sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("experiments")).Bucket([]byte("e"))
		if rec := string(b.Get([]byte("record"))); strings.Contains(rec, `"status"`) || !strings.Contains(rec, `"spec"`) {
			t.Errorf("record = %s, want the spec without status", rec)
		}
		if st := string(b.Get([]byte("status"))); !strings.Contains(st, `"phase":"Created"`) {
			t.Errorf("status = %s, want JSON with the phase", st)
		}
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema"))); v != "3" {
			t.Errorf("meta/schema = %q, want \"3\"", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotFoundAndExists(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	if err := s.SaveTrial(ctx, "e", sampleTrial("e", 1), nil, nil); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		call func() error
		want error
		text string
	}{
		"create taken": {
			call: func() error { return s.CreateExperiment(ctx, sampleRecord("e")) },
			want: experiment.ErrExists, text: `experiment "e": already exists`,
		},
		"experiment": {
			call: func() error { _, err := s.Experiment(ctx, "nope"); return err },
			want: experiment.ErrNotFound, text: `"nope"`,
		},
		"experiment empty name": {
			call: func() error { _, err := s.Experiment(ctx, ""); return err },
			want: experiment.ErrNotFound,
		},
		"update status": {
			call: func() error { return s.UpdateStatus(ctx, "nope", experiment.Status{}) },
			want: experiment.ErrNotFound, text: `"nope"`,
		},
		"save trial": {
			call: func() error { return s.SaveTrial(ctx, "nope", sampleTrial("nope", 1), nil, nil) },
			want: experiment.ErrNotFound, text: `"nope"`,
		},
		"trials": {
			call: func() error { _, err := s.Trials(ctx, "nope"); return err },
			want: experiment.ErrNotFound,
		},
		"trial of missing experiment": {
			call: func() error { _, err := s.Trial(ctx, "nope", "nope-0001"); return err },
			want: experiment.ErrNotFound,
		},
		"missing trial": {
			call: func() error { _, err := s.Trial(ctx, "e", "e-0002"); return err },
			want: experiment.ErrNotFound, text: `trial "e-0002"`,
		},
		"logs of missing trial": {
			call: func() error { _, err := s.Logs(ctx, "e", "e-0009"); return err },
			want: experiment.ErrNotFound,
		},
		"logs of missing experiment": {
			call: func() error { _, err := s.Logs(ctx, "nope", "e-0001"); return err },
			want: experiment.ErrNotFound,
		},
		"delete": {
			call: func() error { return s.DeleteExperiment(ctx, "nope") },
			want: experiment.ErrNotFound,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want one wrapping %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error = %q, want it to mention %q", err, tc.text)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	tests := map[string]func() error{
		"nil record":   func() error { return s.CreateExperiment(ctx, nil) },
		"empty name":   func() error { return s.CreateExperiment(ctx, &experiment.Record{}) },
		"nil trial":    func() error { return s.SaveTrial(ctx, "e", nil, nil, nil) },
		"seq zero":     func() error { return s.SaveTrial(ctx, "e", sampleTrial("e", 0), nil, nil) },
		"seq negative": func() error { return s.SaveTrial(ctx, "e", sampleTrial("e", -1), nil, nil) },
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil {
				t.Error("got nil error")
			}
		})
	}
}

func TestTrialsAndLogs(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e", "other")
	log := func(metric string, v float64, step int64) metrics.Log {
		return metrics.Log{Metric: metric, Value: v, Step: step, Time: t0.Add(time.Duration(step) * time.Second)}
	}

	// Saved out of order: Trials returns Seq order.
	for _, seq := range []int{3, 1, 2} {
		if err := s.SaveTrial(ctx, "e", sampleTrial("e", seq), nil, nil); err != nil {
			t.Fatalf("SaveTrial(%d, nil): %v", seq, err)
		}
	}
	// A trial of another experiment with the same Seq stays apart.
	if err := s.SaveTrial(ctx, "other", sampleTrial("other", 1), []metrics.Log{log("loss", 9, 0)}, nil); err != nil {
		t.Fatal(err)
	}

	// Trial 2 reports in three saves, then finishes; the upsert replaces it.
	var logs2 []metrics.Log
	batches := [][]metrics.Log{
		{log("loss", 0.5, 1), log("accuracy", 0.7, 1)},
		{log("loss", 0.3, 2)},
		{log("loss", 0.2, 3), log("accuracy", 0.9, 3), log("loss", 0.25, 4)},
	}
	for _, batch := range batches {
		if err := s.SaveTrial(ctx, "e", sampleTrial("e", 2), batch, nil); err != nil {
			t.Fatal(err)
		}
		logs2 = append(logs2, batch...)
	}
	done := sampleTrial("e", 2)
	done.State, done.Reason, done.Message = trial.Succeeded, "TrialSucceeded", "trial succeeded"
	done.ExitCode = ptr(0)
	done.Finished = t0.Add(time.Hour)
	done.Metrics = map[string]metrics.Summary{
		"loss":     {Min: 0.2, Max: 0.5, Latest: 0.25, Count: 4},
		"accuracy": {Min: 0.7, Max: 0.9, Latest: 0.9, Count: 2},
	}
	if err := s.SaveTrial(ctx, "e", done, nil, nil); err != nil {
		t.Fatal(err)
	}
	failed := sampleTrial("e", 3)
	failed.State, failed.Reason, failed.ExitCode = trial.Failed, "TrialFailed", ptr(137)
	if err := s.SaveTrial(ctx, "e", failed, nil, nil); err != nil {
		t.Fatal(err)
	}

	got, err := s.Trials(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	want := []trial.Trial{*sampleTrial("e", 1), *done, *failed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Trials (-want +got):\n%s", diff)
	}

	t.Run("Trial", func(t *testing.T) {
		got, err := s.Trial(ctx, "e", "e-0002")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(done, got); diff != "" {
			t.Errorf("Trial (-want +got):\n%s", diff)
		}
	})
	t.Run("Logs", func(t *testing.T) {
		tests := map[string]struct {
			exp, trial string
			want       []metrics.Log
		}{
			"several saves in order": {"e", "e-0002", logs2},
			"no logs":                {"e", "e-0001", []metrics.Log{}},
			"other experiment":       {"other", "other-0001", []metrics.Log{log("loss", 9, 0)}},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				got, err := s.Logs(ctx, tc.exp, tc.trial)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Logs (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("empty experiment", func(t *testing.T) {
		if err := s.CreateExperiment(ctx, sampleRecord("empty")); err != nil {
			t.Fatal(err)
		}
		got, err := s.Trials(ctx, "empty")
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || len(got) != 0 {
			t.Errorf("Trials = %#v, want an empty slice", got)
		}
	})
}

// TestTrialByUnusualName covers names that are not "<experiment>-<seq>".
func TestTrialByUnusualName(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	names := []string{"first", "e-1", "e-0001", "x-2"} // "e-1" is Seq 2: the suffix misleads.
	for i, name := range names {
		tr := sampleTrial("e", i+1)
		tr.Name = name
		if err := s.SaveTrial(ctx, "e", tr, []metrics.Log{{Metric: "m", Value: float64(i), Time: t0}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range names {
		got, err := s.Trial(ctx, "e", name)
		if err != nil {
			t.Fatalf("Trial(%s): %v", name, err)
		}
		if got.Seq != i+1 {
			t.Errorf("Trial(%s).Seq = %d, want %d", name, got.Seq, i+1)
		}
		logs, err := s.Logs(ctx, "e", name)
		if err != nil {
			t.Fatalf("Logs(%s): %v", name, err)
		}
		if len(logs) != 1 || logs[0].Value != float64(i) {
			t.Errorf("Logs(%s) = %v, want the value %d", name, logs, i)
		}
	}
}

// TestClearTrialLogs empties one trial's observation log and leaves the
// others' and the trial itself; later logs append to the emptied one.
func TestClearTrialLogs(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	for seq := 1; seq <= 2; seq++ {
		logs := []metrics.Log{{Metric: "m", Value: 1, Time: t0}, {Metric: "m", Value: 2, Time: t0}}
		if err := s.SaveTrial(ctx, "e", sampleTrial("e", seq), logs, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClearTrialLogs(ctx, "e", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearTrialLogs(ctx, "e", 1); err != nil {
		t.Errorf("clearing an empty log: %v", err)
	}
	first, second := sampleTrial("e", 1).Name, sampleTrial("e", 2).Name
	if logs, err := s.Logs(ctx, "e", first); err != nil || len(logs) != 0 {
		t.Errorf("cleared trial's logs = %v, %v; want none", logs, err)
	}
	if logs, err := s.Logs(ctx, "e", second); err != nil || len(logs) != 2 {
		t.Errorf("other trial's logs = %v, %v; want its 2 entries", logs, err)
	}
	if _, err := s.Trial(ctx, "e", first); err != nil {
		t.Errorf("the trial itself: %v", err)
	}
	if err := s.SaveTrial(ctx, "e", sampleTrial("e", 1), []metrics.Log{{Metric: "m", Value: 3, Time: t0}}, nil); err != nil {
		t.Fatal(err)
	}
	if logs, err := s.Logs(ctx, "e", first); err != nil || len(logs) != 1 || logs[0].Value != 3 {
		t.Errorf("after a new save: %v, %v; want the one new entry", logs, err)
	}
	if err := s.ClearTrialLogs(ctx, "nope", 1); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("unknown experiment: %v, want ErrNotFound", err)
	}
	if err := s.ClearTrialLogs(ctx, "e", 0); err == nil {
		t.Error("seq 0 accepted")
	}
}

func TestDeleteExperiment(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, nil)
	for _, name := range []string{"gone", "kept"} {
		if err := s.CreateExperiment(ctx, sampleRecord(name)); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTrial(ctx, name, sampleTrial(name, 1), []metrics.Log{{Metric: "loss", Value: 1, Time: t0}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteExperiment(ctx, "gone"); err != nil {
		t.Fatalf("DeleteExperiment: %v", err)
	}
	if _, err := s.Experiment(ctx, "gone"); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("Experiment after delete: error = %v, want ErrNotFound", err)
	}
	all, err := s.Experiments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "kept" {
		t.Errorf("Experiments = %v, want only kept", all)
	}
	if trials, err := s.Trials(ctx, "kept"); err != nil || len(trials) != 1 {
		t.Errorf("Trials(kept) = %v, %v; want one trial", trials, err)
	}
	// The name can be reused, without the old trials and logs.
	if err := s.CreateExperiment(ctx, sampleRecord("gone")); err != nil {
		t.Fatalf("CreateExperiment after delete: %v", err)
	}
	if trials, err := s.Trials(ctx, "gone"); err != nil || len(trials) != 0 {
		t.Errorf("Trials after re-create = %v, %v; want none", trials, err)
	}
	if err := s.SaveTrial(ctx, "gone", sampleTrial("gone", 1), nil, nil); err != nil {
		t.Fatal(err)
	}
	if logs, err := s.Logs(ctx, "gone", "gone-0001"); err != nil || len(logs) != 0 {
		t.Errorf("Logs after re-create = %v, %v; want none", logs, err)
	}
}

func TestOpenCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "tune.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("file mode = %v, want no group or other access", fi.Mode())
	}
	// Opening again keeps the data.
	if err := s.CreateExperiment(t.Context(), sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Experiment(t.Context(), "e"); err != nil {
		t.Errorf("Experiment through a second Open: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := t.Context()
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dir", "tune.db")
		_, err := Open(path, &Options{ReadOnly: true})
		if !errors.Is(err, ErrNoStore) {
			t.Fatalf("error = %v, want ErrNoStore", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error = %q, want the path", err)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("read-only Open created %s", filepath.Dir(path))
		}
	})
	t.Run("existing file", func(t *testing.T) {
		rw := openTest(t, nil)
		if err := rw.CreateExperiment(ctx, sampleRecord("e")); err != nil {
			t.Fatal(err)
		}
		ro, err := Open(rw.Path(), &Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ro.Experiment(ctx, "e"); err != nil {
			t.Errorf("Experiment: %v", err)
		}
		if err := ro.UpdateStatus(ctx, "e", experiment.Status{}); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("UpdateStatus on a read-only store: error = %v, want a read-only error", err)
		}
		if err := ro.SaveTrial(ctx, "e", sampleTrial("e", 1), nil, nil); err == nil {
			t.Error("SaveTrial on a read-only store: got nil error")
		}
	})
}

func TestDeletedFile(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, nil)
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExperiment(ctx, sampleRecord("e")); !errors.Is(err, ErrNoStore) {
		t.Errorf("CreateExperiment: error = %v, want ErrNoStore", err)
	}
	if _, err := s.Experiments(ctx); !errors.Is(err, ErrNoStore) {
		t.Errorf("Experiments: error = %v, want ErrNoStore", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file was recreated: %v", err)
	}
}

// setSchema writes raw into meta/schema of the bbolt file at path, or when
// bucket is not "meta", makes a database with only that bucket.
func setSchema(t *testing.T, path, bucket, raw string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema"), []byte(raw))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchema(t *testing.T) {
	tests := map[string]struct {
		bucket, schema string
		want           string
	}{
		"newer":      {"meta", "4", "schema version 4 is newer than this tune supports (3)"},
		"older":      {"meta", "0", "unknown schema version 0"},
		"garbage":    {"meta", "x1", `unknown schema "x1"`},
		"not a tune": {"other", "1", `not a tune store (no "meta" bucket)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tune.db")
			if tc.bucket == "meta" {
				s, err := Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.CreateExperiment(t.Context(), sampleRecord("e")); err != nil {
					t.Fatal(err)
				}
			}
			setSchema(t, path, tc.bucket, tc.schema)
			for _, ro := range []bool{false, true} {
				_, err := Open(path, &Options{ReadOnly: ro})
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("Open(ReadOnly: %t): error = %v, want one with %q and the path", ro, err, tc.want)
				}
			}
		})
	}
	t.Run("changed after Open", func(t *testing.T) {
		s := openTest(t, nil)
		setSchema(t, s.Path(), "meta", "4")
		if _, err := s.Experiments(t.Context()); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Experiments: error = %v, want a schema error", err)
		}
	})
	t.Run("not bbolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tune.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Open: error = %v, want one naming the file", err)
		}
	})
}

func TestLocked(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, &Options{Timeout: 150 * time.Millisecond})
	if err := s.CreateExperiment(ctx, sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	// Holding the database open read-write holds the exclusive lock, as a
	// long transaction of another process would.
	db, err := bolt.Open(s.Path(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"read": func(ctx context.Context) error { _, err := s.Trials(ctx, "e"); return err },
		"write": func(ctx context.Context) error {
			return s.SaveTrial(ctx, "e", sampleTrial("e", 1), nil, nil)
		},
		"open": func(context.Context) error {
			_, err := Open(s.Path(), &Options{Timeout: 100 * time.Millisecond, ReadOnly: true})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call(ctx)
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("error = %v, want ErrLocked", err)
			}
			// The alternative is waiting for the holder, which never lets go.
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("gave up after %v, want about the timeout", d)
			}
			msg := err.Error()
			for _, want := range []string{s.Path(), "locked by another process", "gave up after"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error = %q, want it to contain %q", msg, want)
				}
			}
			if runtime.GOOS == "linux" && !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) {
				t.Errorf("error = %q, want it to name this process as the holder", msg)
			}
		})
	}
	t.Run("context", func(t *testing.T) {
		slow, err := Open(s.Path(), &Options{Timeout: -1, ReadOnly: true})
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "did not wait") {
			t.Fatalf("Open with a negative timeout: error = %v, want ErrLocked without waiting", err)
		}
		slow = &Store{path: s.Path(), timeout: time.Minute, readOnly: true}
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = slow.Experiment(cctx, "e")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want DeadlineExceeded", err)
		}
		// The alternative is the store's one-minute timeout.
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("returned after %v, want soon after the context's deadline", d)
		}
	})

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range calls {
		if err := call(ctx); err != nil {
			t.Errorf("%s after the lock was released: %v", name, err)
		}
	}
}

func TestContextAndClose(t *testing.T) {
	s := openTest(t, nil)
	if err := s.CreateExperiment(t.Context(), sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Experiment(ctx, "e"); !errors.Is(err, context.Canceled) {
		t.Errorf("Experiment with a canceled context: error = %v, want Canceled", err)
	}
	if err := s.SaveTrial(ctx, "e", sampleTrial("e", 1), nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveTrial with a canceled context: error = %v, want Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Experiment(t.Context(), "e"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Experiment after Close: error = %v, want a closed error", err)
	}
}
