package experiment

import (
	"sync"
	"testing"

	"github.com/tune-hpo/tune/metrics"
)

// observedRule is an early-stopping rule that records what it observes.
type observedRule struct {
	mu       sync.Mutex
	observed map[string][]metrics.Log
}

func (r *observedRule) Observe(trial string, l metrics.Log) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observed[trial] = append(r.observed[trial], l)
}
func (r *observedRule) Complete(string, bool)       {}
func (r *observedRule) Check(string) (bool, string) { return false, "" }

// TestCurveSeesThinnedValues: the early-stopping rule is fed every
// objective value, so its running averages stay exact when the recorder
// thins the stored observation log down to a handful.
func TestCurveSeesThinnedValues(t *testing.T) {
	rule := &observedRule{observed: map[string][]metrics.Log{}}
	at := &activeTrial{name: "unit-0001", recorder: metrics.NewRecorder(nil, metrics.MinMaxLogs), objective: "loss", rule: rule}
	var want []metrics.Log
	for i := range 1000 {
		v := float64(i%10) + float64(i)/1000
		step := int64(i/10 + 1) // 100 steps of 10 values
		at.add(metrics.Log{Metric: "loss", Value: v, Step: step})
		at.add(metrics.Log{Metric: "other", Value: v, Step: step})
		want = append(want, metrics.Log{Metric: "loss", Value: v, Step: step})
	}
	if logs, _ := at.recorder.DrainFinal(); len(logs) > 2*metrics.MinMaxLogs {
		t.Fatalf("the recorder kept %d logs, want at most %d: the test needs thinning", len(logs), 2*metrics.MinMaxLogs)
	}
	got := rule.observed["unit-0001"]
	if len(got) != len(want) {
		t.Fatalf("the rule observed %d values, want the %d of the objective", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("observed value %d is %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(rule.observed) != 1 {
		t.Errorf("the rule observed trials %v, want unit-0001 only", rule.observed)
	}
}
