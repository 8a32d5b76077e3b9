package experiment_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
)

// BenchmarkRunnerOverhead measures what the runner itself costs per trial:
// suggestion, rendering, the trial directory and log files, parsing, and
// the bbolt writes (trial Running, trial final, status), with a workload
// that finishes at once.
func BenchmarkRunnerOverhead(b *testing.B) {
	exp := testExperiment(b, "  parallelTrialCount: 4\n  maxTrialCount: 100\n")
	xs := make([]string, 100)
	for i := range xs {
		xs[i] = fmt.Sprint(i % 50)
	}
	n := 0
	for b.Loop() {
		dir := b.TempDir()
		st, err := store.Open(filepath.Join(dir, "tune.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		r := &experiment.Runner{Store: st, Suggester: listSuggester{xs}, Executor: &scriptExecutor{}, TrialRoot: dir}
		n++
		status, err := r.Run(b.Context(), &experiment.Record{Name: fmt.Sprintf("bench-%d", n), Spec: *exp})
		if err != nil || status.TrialsSucceeded != 100 {
			b.Fatalf("run: %v, %+v", err, status)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100)/1e6, "ms/trial")
}
