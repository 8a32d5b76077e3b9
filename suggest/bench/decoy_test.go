package bench

import (
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestDecoy(t *testing.T) {
	best := suggest.Assignment{"x1": "0.72", "x2": "0.28", "kind": "narrow", "n": "5"}
	checkMinimum(t, decoy(), 1e-12, best)
	// broad looks better than narrow away from narrow's centre, and never
	// reaches below 0.5.
	for _, c := range []struct {
		a    suggest.Assignment
		want float64
	}{
		{suggest.Assignment{"x1": "0.3", "x2": "0.7", "kind": "broad", "n": "5"}, 0.5},
		{suggest.Assignment{"x1": "0.3", "x2": "0.7", "kind": "narrow", "n": "5"}, 1.26},
		{suggest.Assignment{"x1": "0", "x2": "0", "kind": "flat", "n": "7"}, 0.93},
	} {
		got, err := decoyValue(c.a)
		if err != nil || got < c.want-0.05 || got > c.want+0.05 {
			t.Errorf("decoy(%v) = %v, %v; want about %v", c.a, got, err, c.want)
		}
	}
}

func TestConditional(t *testing.T) {
	best := suggest.Assignment{"optimizer": "adam", "lr": "0.000501187233627272", "decay": "0.0001", "momentum": "0.3", "layers": "4", "dropout": "0.1"}
	checkMinimum(t, conditional(), 1e-9, best)
	// The best of sgd and rmsprop stay at 0.3 and 0.5: the category
	// matters.
	for _, c := range []struct {
		a    suggest.Assignment
		want float64
	}{
		{suggest.Assignment{"optimizer": "sgd", "lr": "0.0316227766016838", "decay": "0.1", "momentum": "0.9", "layers": "1", "dropout": "0.1"}, 0.3},
		{suggest.Assignment{"optimizer": "rmsprop", "lr": "0.00316227766016838", "decay": "0.1", "momentum": "0", "layers": "8", "dropout": "0.1"}, 0.5},
	} {
		got, err := conditionalValue(c.a)
		if err != nil || got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("conditional(%v) = %v, %v; want %v", c.a, got, err, c.want)
		}
	}
}

func TestAckleyShifted(t *testing.T) {
	checkMinimum(t, ackleyShifted(), 1e-14, point(ackleyShift...))
	if got, _ := ackleyShifted().eval(point(repeat(0, 5)...)); got < 10 {
		t.Errorf("shifted Ackley at the origin = %v, want far from its minimum", got)
	}
}

func TestLevy16(t *testing.T) {
	checkMinimum(t, levy(16), 1e-14, point(repeat(1, 16)...))
}
