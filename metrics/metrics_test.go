package metrics_test

import (
	"math"
	"testing"

	"github.com/tune-hpo/tune/metrics"
)

func TestSummary(t *testing.T) {
	var s metrics.Summary
	if _, ok := s.Value(metrics.Min); ok {
		t.Fatal("empty summary has a value")
	}
	for _, v := range []float64{3, 1, math.NaN(), 2, math.Inf(1)} {
		s.Add(v)
	}
	for st, want := range map[metrics.Strategy]float64{metrics.Min: 1, metrics.Max: 3, metrics.Latest: 2} {
		if got, ok := s.Value(st); !ok || got != want {
			t.Errorf("Value(%s) = %v, %v; want %v", st, got, ok, want)
		}
	}
	if s.Count != 3 {
		t.Errorf("Count = %d, want 3 (non-finite values ignored)", s.Count)
	}
}

func TestParseStrategy(t *testing.T) {
	for _, name := range []string{"min", "max", "latest"} {
		if st, err := metrics.ParseStrategy(name); err != nil || string(st) != name {
			t.Errorf("ParseStrategy(%q) = %q, %v", name, st, err)
		}
	}
	if _, err := metrics.ParseStrategy("avg"); err == nil {
		t.Error("ParseStrategy(avg) succeeded")
	}
}
