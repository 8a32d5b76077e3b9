package metrics_test

import (
	"math"
	"slices"
	"testing"

	"github.com/tune-hpo/tune/metrics"
)

// logStore applies drains as a store does: appended, or replacing all.
type logStore []metrics.Log

func (s *logStore) apply(logs []metrics.Log, replace bool) {
	if replace {
		*s = slices.Clone(logs)
		return
	}
	*s = append(*s, logs...)
}

func (s logStore) of(metric string) []metrics.Log {
	var out []metrics.Log
	for _, l := range s {
		if l.Metric == metric {
			out = append(out, l)
		}
	}
	return out
}

// TestRecorderThinsEvenly adds far more values of one metric than the
// bound, draining as the runner does: what is stored never exceeds the
// bound, ends with evenly spaced values plus the smallest, largest and
// latest, and the summaries (so the trial's value) cover every value. A
// metric below the bound keeps every value.
func TestRecorderThinsEvenly(t *testing.T) {
	const maxLogs, n = 100, 100_003
	value := func(i int) float64 {
		switch i {
		case 54_321:
			return -5 // the smallest
		case 3:
			return 5000 // the largest
		}
		return 1000 + 100*math.Sin(float64(i))
	}
	r := metrics.NewRecorder(map[string]metrics.Strategy{"loss": metrics.Min, "acc": metrics.Max}, maxLogs)
	var stored logStore
	replaced := 0
	for i := range n {
		r.Add(metrics.Log{Metric: "loss", Value: value(i), Step: int64(i)})
		if i < 50 {
			r.Add(metrics.Log{Metric: "acc", Value: float64(i), Step: int64(i)})
		}
		if i%1000 == 999 {
			logs, replace := r.Drain()
			stored.apply(logs, replace)
			if replace {
				replaced++
			}
			if got := len(stored.of("loss")); got > maxLogs {
				t.Fatalf("after %d values: %d loss logs stored, want at most %d", i+1, got, maxLogs)
			}
		}
	}
	stored.apply(r.DrainFinal())
	if replaced == 0 || replaced > 20 {
		t.Errorf("%d drains replaced the log; want a few (one per halving)", replaced)
	}
	loss := stored.of("loss")
	if len(loss) > maxLogs || len(loss) < maxLogs/3 {
		t.Fatalf("%d loss logs stored, want %d..%d", len(loss), maxLogs/3, maxLogs)
	}
	var steps []int64
	for _, l := range loss {
		steps = append(steps, l.Step)
		if l.Value != value(int(l.Step)) {
			t.Errorf("stored step %d with value %v, want %v", l.Step, l.Value, value(int(l.Step)))
		}
	}
	if !slices.IsSorted(steps) {
		t.Errorf("stored steps out of order: %v", steps)
	}
	for _, want := range []int64{3, 54_321, n - 1} {
		if !slices.Contains(steps, want) {
			t.Errorf("the value at step %d (largest, smallest or latest) was not kept: %v", want, steps)
		}
	}
	// The others are evenly spaced from the first value on, up to the end.
	var even []int64
	for _, s := range steps {
		if s != 3 && s != 54_321 && s != n-1 {
			even = append(even, s)
		}
	}
	stride := even[1] - even[0]
	if even[0] != 0 || stride&(stride-1) != 0 {
		t.Fatalf("evenly spaced steps %v: want 0, s, 2s, … with s a power of two", even)
	}
	for i := 1; i < len(even); i++ {
		if even[i]-even[i-1] != stride {
			t.Fatalf("steps %d and %d are %d apart, want %d: %v", even[i-1], even[i], even[i]-even[i-1], stride, even)
		}
	}
	if last := even[len(even)-1]; last+stride < n {
		t.Errorf("evenly spaced steps end at %d, stride %d: the values up to %d are not covered", last, stride, n-1)
	}
	if acc := stored.of("acc"); len(acc) != 50 || acc[49].Value != 49 {
		t.Errorf("acc, below the bound: %d logs stored, want all 50", len(acc))
	}
	if got := r.Thinned(); !slices.Equal(got, []string{"loss"}) {
		t.Errorf("Thinned() = %q, want [loss]", got)
	}
	if v, _ := r.Value("loss"); v != -5 {
		t.Errorf("loss (min) = %v, want -5: the value must cover every log", v)
	}
	if s := r.Summaries()["loss"]; s.Count != n || s.Max != 5000 || s.Latest != value(n-1) {
		t.Errorf("loss summary %+v, want count %d, max 5000, latest %v", s, n, value(n-1))
	}
}

// TestRecorderBelowBound keeps and appends every log, and never replaces.
func TestRecorderBelowBound(t *testing.T) {
	r := metrics.NewRecorder(nil, 10)
	var stored logStore
	for i := range 10 {
		r.Add(metrics.Log{Metric: "loss", Value: float64(i), Step: -1})
		logs, replace := r.Drain()
		if replace || len(logs) != 1 {
			t.Fatalf("Drain after add %d: %d logs, replace %v; want 1, false", i, len(logs), replace)
		}
		stored.apply(logs, replace)
	}
	if logs, replace := r.DrainFinal(); logs != nil || replace {
		t.Errorf("DrainFinal with nothing new = %v, %v; want nil, false", logs, replace)
	}
	if len(stored) != 10 || len(r.Thinned()) != 0 {
		t.Errorf("stored %d logs, thinned %q; want 10, none", len(stored), r.Thinned())
	}
}

// BenchmarkRecorderFlood adds values far beyond the bound, as a trial
// printing metrics in a loop does, draining every 100000.
func BenchmarkRecorderFlood(b *testing.B) {
	r := metrics.NewRecorder(nil, 10_000)
	b.ReportAllocs()
	for i := range b.N {
		r.Add(metrics.Log{Metric: "loss", Value: float64(i), Step: -1})
		if i%100_000 == 0 {
			r.Drain()
		}
	}
}
