package experiment

import (
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// TestCurveSeesThinnedValues: the early-stopping curve is fed every value,
// so its running averages stay exact when the recorder thins the stored
// observation log down to a handful.
func TestCurveSeesThinnedValues(t *testing.T) {
	at := &activeTrial{recorder: metrics.NewRecorder(nil, metrics.MinMaxLogs), objective: "loss", goal: suggest.Minimize}
	sums := map[int64]float64{} // running sum up to each step
	var sum float64
	for i := range 1000 {
		v := float64(i%10) + float64(i)/1000
		step := int64(i/10 + 1) // 100 steps of 10 values
		at.add(metrics.Log{Metric: "loss", Value: v, Step: step})
		at.add(metrics.Log{Metric: "other", Value: v, Step: step})
		sum += v
		sums[step] = sum
	}
	if logs, _ := at.recorder.DrainFinal(); len(logs) > 2*metrics.MinMaxLogs {
		t.Fatalf("the recorder kept %d logs, want at most %d: the test needs thinning", len(logs), 2*metrics.MinMaxLogs)
	}
	if got := at.curve.last(); got != 100 {
		t.Errorf("curve reached step %d, want 100", got)
	}
	for _, step := range []int64{1, 4, 37, 100} {
		got, ok := at.curve.averageUpTo(step)
		want := sums[step] / float64(step*10)
		if !ok || got != want {
			t.Errorf("average up to step %d = %v, %v; want %v", step, got, ok, want)
		}
	}
	if at.curve.best != 0 {
		t.Errorf("best so far %v, want 0", at.curve.best)
	}
}
