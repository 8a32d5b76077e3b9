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

// TestCurveBounded: a curve of a million distinct steps keeps at most
// maxCurvePoints of them, exact at each one kept and at the last, and
// answers between kept steps with the nearest kept step before.
func TestCurveBounded(t *testing.T) {
	const n = 1_000_003
	c := &curve{}
	sums := make([]float64, n+1) // running sum up to each step (steps 1..n)
	for step := int64(1); step <= n; step++ {
		v := float64(step%7) - 3
		c.add(metrics.Log{Metric: "loss", Value: v, Step: step}, suggest.Minimize)
		sums[step] = sums[step-1] + v
	}
	if len(c.steps) > maxCurvePoints {
		t.Fatalf("%d steps kept, want at most %d", len(c.steps), maxCurvePoints)
	}
	if c.last() != n || c.best != -3 {
		t.Errorf("last step %d, best %v; want %d, -3", c.last(), c.best, n)
	}
	for i, step := range c.steps {
		if want := sums[step] / float64(step); c.sums[i]/float64(c.counts[i]) != want {
			t.Fatalf("step %d kept with average %v, want %v", step, c.sums[i]/float64(c.counts[i]), want)
		}
	}
	stride := c.steps[1] - c.steps[0]
	for _, step := range []int64{1, 2, 12_345, 500_000, n - 1, n} {
		got, ok := c.averageUpTo(step)
		exact := false
		for s := step; s > 0 && s > step-stride; s-- {
			if got == sums[s]/float64(s) {
				exact = true
			}
		}
		if !ok || !exact {
			t.Errorf("averageUpTo(%d) = %v, %v; want the average up to a step within %d before it", step, got, ok, stride)
		}
	}
}
