package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// rankStore writes a store holding experiment "r" with random trials
// (every state, tied values, the objective as text in some seeds), ranked
// by a random goal and strategy, and returns its path.
func rankStore(t *testing.T, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	goal := []string{"minimize", "maximize"}[r.IntN(2)]
	strategy := []string{"", "\n    metricStrategies: [{name: loss, value: min}]", "\n    metricStrategies: [{name: loss, value: max}]", "\n    metricStrategies: [{name: loss, value: latest}]"}[r.IntN(4)]
	src := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: r
spec:
  objective:
    type: %s
    objectiveMetricName: loss
    additionalMetricNames: [accuracy]%s
  algorithm: {algorithmName: random}
  maxTrialCount: 100
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [adam, sgd]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: opt, reference: opt}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - {name: main, image: x, command: [prog, "${trialParameters.x}", "${trialParameters.opt}"]}
`, goal, strategy)
	exp, err := experiment.Parse([]byte(src), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tune.db")
	st, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &experiment.Record{Name: "r", Spec: *exp, Source: []byte(src), Status: experiment.Status{Phase: experiment.Succeeded, Created: t0}}
	if err := st.CreateExperiment(ctx, rec); err != nil {
		t.Fatal(err)
	}
	textOnly := seed%4 == 0
	states := []trial.State{trial.Succeeded, trial.Succeeded, trial.Succeeded, trial.Failed, trial.Running, trial.EarlyStopped, trial.Killed, trial.MetricsUnavailable}
	n := 5 + r.IntN(40)
	for i := range n + 10 {
		seq := 1 + i
		if i >= n {
			seq = 1 + r.IntN(n) // rewrite a trial, as the runner does when it ends
		}
		created := t0.Add(time.Duration(seq) * time.Second)
		tr := &trial.Trial{Name: experiment.TrialName("r", seq), Seq: seq, State: states[r.IntN(len(states))],
			Parameters: map[string]string{"x": fmt.Sprint(r.IntN(7) - 2), "opt": []string{"adam", "sgd"}[r.IntN(2)]},
			Metrics:    map[string]metrics.Summary{"accuracy": {Min: 0.1, Max: 0.9, Latest: 0.5, Count: 2}},
			Created:    created, Started: created, Dir: "trials/" + fmt.Sprint(seq)}
		if tr.State != trial.Running {
			tr.Finished = created.Add(time.Minute)
		}
		switch c := r.IntN(5); {
		case textOnly || c == 0:
			tr.Metrics["loss"] = metrics.Summary{Text: fmt.Sprintf("Genotype(%d)", r.IntN(4))}
		case c == 1:
		default:
			a, b := float64(r.IntN(5))/4, float64(r.IntN(5)-2)
			tr.Metrics["loss"] = metrics.Summary{Min: min(a, b), Max: max(a, b), Latest: a, Count: 2}
		}
		if err := st.SaveTrial(ctx, "r", tr, []metrics.Log{{Metric: "loss", Value: 1, Step: 1, Time: created}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// withoutIndex copies the store at path without its ranking indexes and
// experiment summaries, as a tune before schema 3 wrote it, and returns the
// copy's path.
func withoutIndex(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(cp, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		exps := tx.Bucket([]byte("experiments"))
		return exps.ForEach(func(k, _ []byte) error {
			if err := exps.Bucket(k).Delete([]byte("summary")); err != nil {
				return err
			}
			return exps.Bucket(k).DeleteBucket([]byte("rank"))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestBestAndTopThroughIndex: tune best and tune get trials --limit N
// (best first), which read only the best trials through the store's
// ranking index, and tune get experiments, which reads summaries, print
// what they print from a store without them (reading every trial, every
// record) and, for get trials, what the full listing prints (--status
// naming every state).
func TestBestAndTopThroughIndex(t *testing.T) {
	allStates := "Pending,Running,Succeeded,Failed,Killed,MetricsUnavailable,EarlyStopped"
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			path := rankStore(t, seed)
			old := withoutIndex(t, path)
			dir := filepath.Dir(path)
			var cmds [][]string
			for _, o := range []string{"table", "json", "csv", "name", "wide"} {
				cmds = append(cmds, []string{"best", "r", "-o", o})
			}
			for _, o := range []string{"json", "csv", "name", "wide"} {
				cmds = append(cmds, []string{"get", "experiments", "-o", o})
			}
			for _, n := range []string{"1", "3", "20", "100"} {
				for _, o := range [][]string{{"-o", "json"}, {"-o", "name"}, {"-o", "csv", "--columns", "name,status,loss,accuracy,x,opt,reason"}, {"--columns", "name,status,loss,accuracy,reason"}} {
					cmds = append(cmds, append([]string{"get", "trials", "r", "--limit", n}, o...))
				}
			}
			for _, args := range cmds {
				fast := tune(t, dir, append([]string{"--store", path}, args...)...)
				slow := tune(t, dir, append([]string{"--store", old}, args...)...)
				if fast != slow {
					t.Errorf("tune %s: through the index\n%+v\nreading every trial\n%+v", strings.Join(args, " "), fast, slow)
				}
				if args[0] == "get" && args[1] == "trials" {
					full := tune(t, dir, append([]string{"--store", path, "--status", allStates}, args...)...)
					if fast != full {
						t.Errorf("tune %s: through the index\n%+v\nthe full listing\n%+v", strings.Join(args, " "), fast, full)
					}
				}
			}
		})
	}
}
