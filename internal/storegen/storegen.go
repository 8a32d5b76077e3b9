// Package storegen writes synthetic stores of a chosen size through the
// store's own write path, for the store-scale benchmarks and the
// internal/cmd/storebench driver: one big experiment ([Big]) with many
// trials, each with an observation log, and many small experiments beside
// it.
package storegen

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// Big is the name of the generated store's big experiment.
const Big = "big"

// Config sizes a generated store. The full size is 100,000
// trials of 50 log entries and 1,000 small experiments; CI uses 1,000
// and 10.
type Config struct {
	// Trials is the number of trials of experiment [Big] and Logs the
	// number of observation log entries of each that ran to its end
	// (a failed or early-stopped trial has fewer).
	Trials, Logs int
	// Experiments is the number of small experiments, named exp-0001 on,
	// each with 5 trials of 10 log entries.
	Experiments int
	// Seed seeds the values; the same Config writes the same store.
	Seed uint64
}

// t0 is when the generated experiments were created.
var t0 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

// Generate writes a new store at path as c says: experiment [Big], Running
// with its last trials Running (its runner gone), objective accuracy
// (maximize, strategy max), additional metrics loss and val-loss (min),
// about 80% of its trials Succeeded, the others Failed, EarlyStopped,
// Killed or MetricsUnavailable; values are rounded to 3 decimals, so the
// objective has ties. The small experiments alternate maximize and
// minimize; most Succeeded, some Failed or Stopped, every fiftieth Running
// with its runner gone. Each trial is written once, finished, with its
// whole log and the experiment's status, by [store.Store.SaveTrial]
// without fsync. It refuses a path that exists.
func Generate(ctx context.Context, path string, c Config) error {
	if c.Trials < 0 || c.Logs < 0 || c.Experiments < 0 {
		return fmt.Errorf("storegen: negative size %+v", c)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("storegen: %s exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storegen: %w", err)
	}
	st, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("storegen: %w", err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(c.Seed, 1))
	if err := writeExperiment(ctx, st, rng, Big, true, c.Trials, c.Logs, experiment.Running); err != nil {
		return err
	}
	for i := 1; i <= c.Experiments; i++ {
		phase := experiment.Succeeded
		switch {
		case i%50 == 0:
			phase = experiment.Running
		case i%10 == 1:
			phase = experiment.Failed
		case i%10 == 2:
			phase = experiment.Stopped
		}
		if err := writeExperiment(ctx, st, rng, fmt.Sprintf("exp-%04d", i), i%2 == 0, 5, 10, phase); err != nil {
			return err
		}
	}
	return nil
}

// source is the experiment file of the generated experiments, with NAME,
// TYPE, OBJECTIVE and STRATEGY to fill in.
const source = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: NAME
spec:
  objective:
    type: TYPE
    objectiveMetricName: OBJECTIVE
    additionalMetricNames: [OTHER, val-loss]
    metricStrategies:
      - {name: OBJECTIVE, value: STRATEGY}
      - {name: val-loss, value: min}
  algorithm:
    algorithmName: random
    algorithmSettings:
      - {name: random_state, value: "42"}
  parallelTrialCount: 4
  maxTrialCount: MAX
  maxFailedTrialCount: MAX
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.001", max: "0.5", distribution: logUniform}}
    - {name: momentum, parameterType: double, feasibleSpace: {min: "0.5", max: "0.99"}}
    - {name: hidden, parameterType: int, feasibleSpace: {min: "2", max: "64"}}
    - {name: optimizer, parameterType: categorical, feasibleSpace: {list: [sgd, adam, rmsprop]}}
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - {name: learningRate, reference: lr}
      - {name: momentum, reference: momentum}
      - {name: hiddenUnits, reference: hidden}
      - {name: optimizer, reference: optimizer}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: golang:1.26
                command: [go, run, ./examples/mlp]
                args:
                  - --lr=${trialParameters.learningRate}
                  - --momentum=${trialParameters.momentum}
                  - --hidden=${trialParameters.hiddenUnits}
                  - --optimizer=${trialParameters.optimizer}
            restartPolicy: Never
`

// writeExperiment creates experiment name with n trials of up to logs
// log entries, then sets its phase.
func writeExperiment(ctx context.Context, st *store.Store, rng *rand.Rand, name string, maximize bool, n, logs int, phase experiment.Phase) error {
	typ, objective, other, strategy := "minimize", "loss", "accuracy", "min"
	if maximize {
		typ, objective, other, strategy = "maximize", "accuracy", "loss", "max"
	}
	src := source
	for _, r := range [][2]string{{"NAME", name}, {"TYPE", typ}, {"OBJECTIVE", objective}, {"OTHER", other}, {"STRATEGY", strategy}, {"MAX", strconv.Itoa(max(n, 1))}} {
		src = strings.ReplaceAll(src, r[0], r[1])
	}
	spec, err := experiment.Parse([]byte(src), name+".yaml")
	if err != nil {
		return fmt.Errorf("storegen: experiment %s: %w", name, err)
	}
	rec := &experiment.Record{Name: name, Source: []byte(src), SourcePath: "examples/" + name + ".yaml", Spec: *spec,
		Status: experiment.Status{Phase: experiment.Running, Reason: experiment.ReasonRunning, Created: t0, Started: t0,
			Conditions: []experiment.Condition{{Phase: experiment.Created, Reason: experiment.ReasonCreated, Time: t0}, {Phase: experiment.Running, Reason: experiment.ReasonRunning, Time: t0}}}}
	if err := st.CreateExperiment(ctx, rec); err != nil {
		return fmt.Errorf("storegen: %w", err)
	}
	status := rec.Status
	goal, strategies := spec.Goal(), spec.Strategies()
	var states []trial.State
	var best *trial.Trial
	bestValue := math.NaN()
	for seq := 1; seq <= n; seq++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("storegen: %w", err)
		}
		running := phase == experiment.Running && seq > n-4
		t, tlogs := genTrial(rng, name, seq, logs, running)
		states = append(states, t.State)
		status.SetCounts(len(states), func(i int) trial.State { return states[i] })
		if t.State == trial.Succeeded {
			if v, ok := t.Metrics[objective].Value(strategies[objective]); ok && goal.Better(v, bestValue) {
				best, bestValue = t, v
			}
		}
		if best != nil {
			status.CurrentOptimalTrial = experiment.BestTrial([]*trial.Trial{best}, objective, goal, strategies)
		}
		if seq == n && phase != experiment.Running {
			status.Phase, status.Reason, status.Completed = phase, reasons[phase], t.Finished
			status.Conditions = append(status.Conditions, experiment.Condition{Phase: phase, Reason: reasons[phase], Time: t.Finished})
		}
		if err := st.SaveTrial(ctx, name, t, tlogs, &status); err != nil {
			return fmt.Errorf("storegen: %w", err)
		}
	}
	if n == 0 && phase != experiment.Running {
		status.Phase, status.Reason, status.Completed = phase, reasons[phase], t0
		if err := st.UpdateStatus(ctx, name, status); err != nil {
			return fmt.Errorf("storegen: %w", err)
		}
	}
	return nil
}

var reasons = map[experiment.Phase]string{
	experiment.Succeeded: experiment.ReasonMaxTrialsReached,
	experiment.Failed:    experiment.ReasonMaxFailedReached,
	experiment.Stopped:   experiment.ReasonInterrupted,
}

// genTrial returns trial seq of experiment exp and its observation log:
// up to logs entries of accuracy, loss and val-loss, three a step.
func genTrial(rng *rand.Rand, exp string, seq, logs int, running bool) (*trial.Trial, []metrics.Log) {
	created := t0.Add(time.Duration(seq) * 30 * time.Second)
	t := &trial.Trial{
		Name: experiment.TrialName(exp, seq), Seq: seq, State: trial.Succeeded, Reason: "TrialSucceeded",
		Parameters: map[string]string{
			"lr":        strconv.FormatFloat(0.001*math.Pow(500, rng.Float64()), 'g', -1, 64),
			"momentum":  strconv.FormatFloat(0.5+0.49*rng.Float64(), 'g', -1, 64),
			"hidden":    strconv.Itoa(2 + rng.IntN(63)),
			"optimizer": []string{"sgd", "adam", "rmsprop"}[rng.IntN(3)],
		},
		Dir:     "trials/" + experiment.TrialName(exp, seq),
		Created: created, Started: created.Add(time.Second),
	}
	n := logs
	switch r := rng.Float64(); {
	case running:
		t.State, t.Reason, n = trial.Running, "", logs/2
	case r < 0.80:
	case r < 0.88:
		t.State, t.Reason, t.Message, n = trial.Failed, "TrialFailed", "exit status 1: CUDA error: out of memory", rng.IntN(logs+1)
		t.ExitCode = new(int)
		*t.ExitCode = 1
	case r < 0.97:
		t.State, t.Reason, n = trial.EarlyStopped, experiment.ReasonTrialEarlyStopped, logs/3
	case r < 0.99:
		t.State, t.Reason, t.Message, n = trial.Killed, experiment.TrialReasonInterrupted, "the experiment stopped", rng.IntN(logs+1)
	default:
		t.State, t.Reason, t.Message, n = trial.MetricsUnavailable, "MetricsUnavailable", "no accuracy reported", 0
	}
	if t.State == trial.Succeeded {
		t.ExitCode = new(int)
	}
	quality := rng.Float64()
	out := make([]metrics.Log, n)
	t.Metrics = map[string]metrics.Summary{}
	for i := range out {
		step := int64(i/3+1) * 20
		progress := 1 - math.Exp(-float64(step)/200)
		var name string
		var v float64
		switch i % 3 {
		case 0:
			name, v = "accuracy", 0.5+0.49*quality*progress
		case 1:
			name, v = "loss", 2.3*(1-0.9*quality*progress)
		default:
			name, v = "val-loss", 2.4*(1-0.85*quality*progress)+0.05*rng.Float64()
		}
		v = math.Round(v*1000) / 1000
		out[i] = metrics.Log{Metric: name, Value: v, Step: step, Time: t.Started.Add(time.Duration(i) * 2 * time.Second)}
		s := t.Metrics[name]
		s.Add(v)
		t.Metrics[name] = s
	}
	if len(t.Metrics) == 0 {
		t.Metrics = nil
	}
	if !running {
		t.Finished = t.Started.Add(time.Duration(n+1) * 2 * time.Second)
	}
	return t, out
}
