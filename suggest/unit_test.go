package suggest_test

import (
	"math"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestUnitRoundTrip(t *testing.T) {
	for name, tc := range map[string]struct {
		param  suggest.Param
		values []string
	}{
		"double":        {suggest.Param{Name: "x", Type: suggest.Double, Min: -2, Max: 4}, []string{"-2", "0.5", "4"}},
		"double log":    {suggest.Param{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform}, []string{"0.0001", "0.01", "1"}},
		"double step":   {suggest.Param{Name: "s", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005}, []string{"0.01", "0.025", "0.05"}},
		"int":           {suggest.Param{Name: "i", Type: suggest.Int, Min: 1, Max: 5}, []string{"1", "2", "3", "4", "5"}},
		"int step":      {suggest.Param{Name: "i", Type: suggest.Int, Min: 0, Max: 10, Step: 5}, []string{"0", "5", "10"}},
		"int log":       {suggest.Param{Name: "u", Type: suggest.Int, Min: 1, Max: 1024, Distribution: suggest.LogUniform}, []string{"1", "2", "32", "1024"}},
		"discrete":      {suggest.Param{Name: "d", Type: suggest.Discrete, Values: []string{"8", "1", "0.5"}}, []string{"8", "1", "0.5"}},
		"single int":    {suggest.Param{Name: "i", Type: suggest.Int, Min: 3, Max: 3}, []string{"3"}},
		"single double": {suggest.Param{Name: "x", Type: suggest.Double, Min: 2, Max: 2}, []string{"2"}},
	} {
		for _, v := range tc.values {
			u, err := tc.param.ToUnit(v)
			if err != nil || u < 0 || u > 1 {
				t.Errorf("%s: ToUnit(%s) = %v, %v; want a coordinate in [0, 1]", name, v, u, err)
				continue
			}
			if back := tc.param.FromUnit(u); back != v {
				t.Errorf("%s: FromUnit(ToUnit(%s)=%v) = %s", name, v, u, back)
			}
		}
	}
}

// Every int gets an equal share of the unit interval, so a uniform
// coordinate picks each value equally often.
func TestUnitCellsAreEqual(t *testing.T) {
	p := suggest.Param{Name: "i", Type: suggest.Int, Min: 1, Max: 4}
	counts := map[string]int{}
	for k := range 1000 {
		counts[p.FromUnit((float64(k)+0.5)/1000)]++
	}
	for _, v := range []string{"1", "2", "3", "4"} {
		if counts[v] != 250 {
			t.Errorf("value %s got %d of 1000 coordinates, want 250", v, counts[v])
		}
	}
}

func TestUnitEdges(t *testing.T) {
	p := suggest.Param{Name: "x", Type: suggest.Double, Min: 0, Max: 1}
	if got := p.FromUnit(math.NaN()); got != "0.5" {
		t.Errorf("FromUnit(NaN) = %s, want the middle", got)
	}
	if got := p.FromUnit(7); got != "1" {
		t.Errorf("FromUnit(7) = %s, want the clamped bound", got)
	}
	if _, err := p.ToUnit("abc"); err == nil {
		t.Error("ToUnit(abc) succeeded")
	}
	c := suggest.Param{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b"}}
	if c.Numeric() {
		t.Error("categorical reported numeric")
	}
	if _, err := c.ToUnit("a"); err == nil {
		t.Error("ToUnit on a categorical succeeded")
	}
}
