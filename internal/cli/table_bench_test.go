package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// bigStore writes a store holding experiment "big" with n succeeded
// trials (two double parameters, a categorical one, loss and accuracy),
// as store.SaveTrial writes a run's, and returns its path.
func bigStore(b testing.TB, n int) string {
	b.Helper()
	dir := b.TempDir()
	src := strings.ReplaceAll(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: big
spec:
  objective: {type: minimize, objectiveMetricName: loss, additionalMetricNames: [accuracy]}
  algorithm: {algorithmName: random}
  parallelTrialCount: 1
  maxTrialCount: MAXN
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [adam, sgd]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
      - {name: opt, reference: opt}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - {name: main, image: x, command: [prog, "${trialParameters.x}", "${trialParameters.y}", "${trialParameters.opt}"]}
`, "MAXN", fmt.Sprint(max(n, 1)))
	exp, err := experiment.Parse([]byte(src), "big.yaml")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "tune.db")
	st, err := store.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &experiment.Record{Name: "big", Spec: *exp, Source: []byte(src), Status: experiment.Status{Phase: experiment.Succeeded, Created: t0}}
	if err := st.CreateExperiment(ctx, rec); err != nil {
		b.Fatal(err)
	}
	for seq := 1; seq <= n; seq++ {
		x, y := float64(seq%600)/100-2, float64(seq%700)/100-5
		loss := (x-1)*(x-1) + (y+2)*(y+2)
		created := t0.Add(time.Duration(seq) * time.Second)
		tr := &trial.Trial{Name: experiment.TrialName("big", seq), Seq: seq, State: trial.Succeeded, Reason: "TrialSucceeded",
			Parameters: map[string]string{"x": fmt.Sprint(x), "y": fmt.Sprint(y), "opt": []string{"adam", "sgd"}[seq%2]},
			Metrics: map[string]metrics.Summary{
				"loss":     {Min: loss, Max: loss + 2, Latest: loss, Count: 3},
				"accuracy": {Min: 1 / (3 + loss), Max: 1 / (1 + loss), Latest: 1 / (1 + loss), Count: 3},
			},
			ExitCode: new(int), Created: created, Started: created, Finished: created.Add(time.Minute), Dir: "trials/big-" + fmt.Sprint(seq)}
		if err := st.SaveTrial(ctx, "big", tr, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkGetTrialsLimit20 measures tune get trials --limit 20 on 5,000
// trials, the whole command in-process (open, read, rank, print), and
// results.Load alone, the store's part of it:
//
//	go test ./internal/cli -run '^$' -bench GetTrialsLimit20 -benchtime 20x
func BenchmarkGetTrialsLimit20(b *testing.B) {
	path := bigStore(b, 5000)
	b.Run("command", func(b *testing.B) {
		for b.Loop() {
			var out, errOut strings.Builder
			code := cli.Main(context.Background(), []string{"--store", path, "get", "trials", "big", "--limit", "20"},
				cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			if code != 0 || strings.Count(out.String(), "\n") != 21 {
				b.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		st, err := store.Open(path, &store.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		for b.Loop() {
			if tab, err := results.Load(context.Background(), st, "big"); err != nil || len(tab.Rows) != 5000 {
				b.Fatal(err)
			}
		}
	})
}

// TestTableViewsOfAnEmptyExperiment reads an experiment without trials
// through every view: empty lists, a header-only csv, a parquet file
// with no rows, and best saying there is none.
func TestTableViewsOfAnEmptyExperiment(t *testing.T) {
	path := bigStore(t, 0)
	dir := filepath.Dir(path)
	run := func(args ...string) result {
		return tune(t, dir, append([]string{"--store", path}, args...)...)
	}
	if r := run("get", "trials", "big"); r.code != 0 || strings.TrimSpace(r.stdout) != strings.Join(strings.Fields("TRIAL STATUS loss accuracy x y opt DURATION REASON"), "   ") {
		t.Errorf("get trials: exit %d, %q", r.code, r.stdout)
	}
	if r := run("get", "trials", "big", "-o", "json", "-w"); r.code != 0 || r.stdout != "[]\n" && r.stdout != "" {
		t.Errorf("get trials -o json -w on a finished experiment: exit %d, %q", r.code, r.stdout)
	}
	if r := run("get", "trials", "big", "-o", "json"); r.code != 0 || r.stdout != "[]\n" {
		t.Errorf("get trials -o json: exit %d, %q", r.code, r.stdout)
	}
	if r := run("export", "big"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "trial,seq,status") {
		t.Errorf("export: exit %d, %q", r.code, r.stdout)
	}
	file := filepath.Join(dir, "e.parquet")
	if r := run("export", "big", "-o", file); r.code != 0 {
		t.Fatalf("export parquet: exit %d, %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil || f.NumRows() != 0 || len(f.Schema().Columns()) != 23 {
		t.Errorf("empty parquet: %v, %d rows, %d columns; want 0 rows, 23 columns", err, f.NumRows(), len(f.Schema().Columns()))
	}
	if r := run("best", "big", "-o", "csv"); r.code != 1 || !strings.Contains(r.stderr, "no succeeded trial") {
		t.Errorf("best: exit %d, %q", r.code, r.stderr)
	}
}
