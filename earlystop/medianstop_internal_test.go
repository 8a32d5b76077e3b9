package earlystop

import (
	"strings"
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// curveOf builds a curve from values reported without steps.
func curveOf(goal suggest.Goal, values ...float64) *curve {
	c := &curve{}
	for _, v := range values {
		c.add(metrics.Log{Metric: "m", Value: v, Step: -1}, goal)
	}
	return c
}

func TestMedianStopRule(t *testing.T) {
	for name, tc := range map[string]struct {
		goal      suggest.Goal
		settings  map[string]string
		completed [][]float64
		running   []float64
		stop      bool
		why       string
	}{
		"maximize: worse than the median stops": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}, {0.6, 0.7, 0.8, 0.9}},
			running:   []float64{0.1, 0.2, 0.3, 0.4},
			stop:      true,
			why:       "step 4: its best objective value so far, 0.4, is worse than 0.65",
		},
		"maximize: better than the median runs on": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}, {0.6, 0.7, 0.8, 0.9}},
			running:   []float64{0.5, 0.6, 0.7, 0.75},
		},
		"before start_step nothing stops": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}, {0.6, 0.7, 0.8, 0.9}},
			running:   []float64{0.1, 0.1, 0.1},
		},
		"start_step setting": {
			goal:      suggest.Maximize,
			settings:  map[string]string{"start_step": "2"},
			completed: [][]float64{{0.5, 0.6}, {0.4, 0.5}, {0.6, 0.7}},
			running:   []float64{0.1, 0.1},
			stop:      true,
		},
		"too few completed trials": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}},
			running:   []float64{0.1, 0.1, 0.1, 0.1},
		},
		"min_trials_required setting": {
			goal:      suggest.Maximize,
			settings:  map[string]string{"min_trials_required": "2"},
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}},
			running:   []float64{0.1, 0.1, 0.1, 0.1},
			stop:      true,
		},
		"completed trials that did not reach the step do not count": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}, {0.6, 0.7}},
			running:   []float64{0.1, 0.1, 0.1, 0.1},
		},
		"minimize": {
			goal:      suggest.Minimize,
			completed: [][]float64{{1, 0.8, 0.6, 0.5}, {1, 0.9, 0.8, 0.7}, {0.9, 0.7, 0.5, 0.4}},
			running:   []float64{2, 1.9, 1.8, 1.7},
			stop:      true,
		},
		// Running averages up to step 4: 0.65 and 0.55 and one outlier at
		// 100. Their mean (Katib's threshold) is 33.7, which would stop a
		// trial at 0.7; the median, 0.65, does not.
		"an outlier moves the mean, not the median": {
			goal:      suggest.Maximize,
			completed: [][]float64{{0.5, 0.6, 0.7, 0.8}, {0.4, 0.5, 0.6, 0.7}, {100, 100, 100, 100}},
			running:   []float64{0.4, 0.5, 0.6, 0.7},
		},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := newMedianStop(tc.settings, tc.goal)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.completed {
				m.complete(curveOf(tc.goal, c...))
			}
			stop, why := m.check(curveOf(tc.goal, tc.running...))
			if stop != tc.stop || !strings.Contains(why, tc.why) {
				t.Errorf("check = %v, %q; want %v, %q", stop, why, tc.stop, tc.why)
			}
		})
	}
}

// TestCurveSteps: reported steps index the curve; repeated steps add to
// the same step; reports without steps count one by one.
func TestCurveSteps(t *testing.T) {
	c := &curve{}
	for _, l := range []metrics.Log{{Value: 1, Step: 10}, {Value: 3, Step: 20}, {Value: 5, Step: 20}, {Value: 7, Step: 40}} {
		c.add(l, suggest.Minimize)
	}
	for step, want := range map[int64]float64{10: 1, 20: 3, 30: 3, 40: 4} {
		if got, ok := c.averageUpTo(step); !ok || got != want {
			t.Errorf("averageUpTo(%d) = %v, %v; want %v", step, got, ok, want)
		}
	}
	if _, ok := c.averageUpTo(5); ok {
		t.Error("an average before the first step")
	}
	if c.best != 1 || c.last() != 40 {
		t.Errorf("best %v, last %d; want 1, 40", c.best, c.last())
	}
}

func TestMedianStopSettings(t *testing.T) {
	for _, bad := range []map[string]string{{"start_step": "0"}, {"min_trials_required": "x"}} {
		if _, err := newMedianStop(bad, suggest.Minimize); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
