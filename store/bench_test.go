package store

import (
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// benchStore returns a store holding experiment "e" with n finished trials.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	s := openTest(b, nil)
	if err := s.CreateExperiment(b.Context(), sampleRecord("e")); err != nil {
		b.Fatal(err)
	}
	for seq := 1; seq <= n; seq++ {
		if err := s.SaveTrial(b.Context(), "e", benchTrial(seq), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// benchTrial returns a finished trial with two metrics.
func benchTrial(seq int) *trial.Trial {
	t := sampleTrial("e", seq)
	t.State, t.ExitCode = trial.Succeeded, ptr(0)
	t.Finished = t.Started
	t.Metrics = map[string]metrics.Summary{
		"loss":     {Min: 0.1, Max: 0.9, Latest: 0.2, Count: 50},
		"accuracy": {Min: 0.5, Max: 0.95, Latest: 0.93, Count: 50},
	}
	return t
}

// BenchmarkSaveTrial measures one SaveTrial (open, update with one log
// entry, fsync, close) into a store that already holds 100 trials.
func BenchmarkSaveTrial(b *testing.B) {
	s := benchStore(b, 100)
	t := benchTrial(101)
	logs := []metrics.Log{{Metric: "loss", Value: 0.5, Step: 1, Time: t0}}
	for b.Loop() {
		if err := s.SaveTrial(b.Context(), "e", t, logs, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExperiment measures the smallest read: open read-only, get the
// record and status, close.
func BenchmarkExperiment(b *testing.B) {
	s := benchStore(b, 0)
	for b.Loop() {
		if _, err := s.Experiment(b.Context(), "e"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrials1000 measures reading 1,000 trials.
func BenchmarkTrials1000(b *testing.B) {
	s := benchStore(b, 1000)
	for b.Loop() {
		trials, err := s.Trials(b.Context(), "e")
		if err != nil || len(trials) != 1000 {
			b.Fatal(len(trials), err)
		}
	}
}

// BenchmarkLogs10000 measures reading a trial's 10,000 log entries.
func BenchmarkLogs10000(b *testing.B) {
	s := benchStore(b, 0)
	logs := make([]metrics.Log, 1000)
	for i := range logs {
		logs[i] = metrics.Log{Metric: "loss", Value: float64(i), Step: int64(i), Time: t0}
	}
	for range 10 {
		if err := s.SaveTrial(b.Context(), "e", benchTrial(1), logs, nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		got, err := s.Logs(b.Context(), "e", "e-0001")
		if err != nil || len(got) != 10000 {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkSaveTrialNewValue is BenchmarkSaveTrial with the trial's
// objective changing at each save, so that its entry in the ranking index
// moves (a finished trial's last write does that once).
func BenchmarkSaveTrialNewValue(b *testing.B) {
	s := benchStore(b, 100)
	t := benchTrial(101)
	logs := []metrics.Log{{Metric: "loss", Value: 0.5, Step: 1, Time: t0}}
	i := 0
	for b.Loop() {
		i++
		v := float64(i%1000) / 1000
		t.Metrics["loss"] = metrics.Summary{Min: v, Max: v, Latest: v, Count: 1}
		if err := s.SaveTrial(b.Context(), "e", t, logs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
