package earlystop

import (
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

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
