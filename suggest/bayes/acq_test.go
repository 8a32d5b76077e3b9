package bayes

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestLogHStable(t *testing.T) {
	prev := math.Inf(-1)
	for z := -40.0; z <= 40; z += 0.01 {
		v := logH(z)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("logH(%v) = %v, want finite", z, v)
		}
		if v <= prev {
			t.Fatalf("logH not increasing at z=%v: %v after %v", z, v, prev)
		}
		prev = v
	}
	for _, z := range []float64{-1e3, -1e6, -1e100} {
		if v := logH(z); math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("logH(%v) = %v, want finite", z, v)
		}
	}
}

func TestLogHAccuracy(t *testing.T) {
	std := distuv.UnitNormal
	direct := func(z float64) float64 { return math.Log(std.Prob(z) + z*std.CDF(z)) }
	zs := []float64{-6, -5.0000001, -5, -4.9999999, -3, -1, 0, 1, 3, 10}
	want, got := make([]float64, len(zs)), make([]float64, len(zs))
	for i, z := range zs {
		want[i], got[i] = direct(z), logH(z)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-9, 0)); diff != "" {
		t.Errorf("logH differs from log(φ+zΦ) (-direct +logH):\n%s", diff)
	}
	// Far in the tail, log h(z) ≈ −z²/2 − log√(2π) − 2 log|z|.
	z := -40.0
	asym := -z*z/2 - logSqrt2Pi - 2*math.Log(-z) + math.Log1p(-3/(z*z))
	if math.Abs(logH(z)-asym) > 1e-5 {
		t.Errorf("logH(%v) = %v, want ≈ %v", z, logH(z), asym)
	}
}

func TestLogCDF(t *testing.T) {
	prev := math.Inf(-1)
	for z := -40.0; z <= 40; z += 0.01 {
		v := logCDF(z)
		if math.IsNaN(v) || math.IsInf(v, -1) || v < prev {
			t.Fatalf("logCDF(%v) = %v after %v", z, v, prev)
		}
		prev = v
	}
	std := distuv.UnitNormal
	zs := []float64{-5.0000001, -5, -2, 0, 2}
	want, got := make([]float64, len(zs)), make([]float64, len(zs))
	for i, z := range zs {
		want[i], got[i] = math.Log(std.CDF(z)), logCDF(z)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-9, 0)); diff != "" {
		t.Errorf("logCDF (-direct +logCDF):\n%s", diff)
	}
}

func TestAcquisitionOrder(t *testing.T) {
	// Lower mean or higher uncertainty (below the incumbent) is better.
	tests := map[string]func(mu, sd float64) float64{
		"logEI": func(mu, sd float64) float64 { return logEI(mu, sd, 0, 0.01) },
		"logPI": func(mu, sd float64) float64 { return logPI(mu, sd, 0, 0.01) },
		"ucb":   func(mu, sd float64) float64 { return ucb(mu, sd, 2) },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			if !(f(-1, 0.5) > f(1, 0.5)) {
				t.Errorf("lower mean is not preferred")
			}
			if !(f(1, 2) > f(1, 0.5)) {
				t.Errorf("higher uncertainty above the incumbent is not preferred")
			}
			if v := f(30, 1e-3); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("hopeless point scores %v, want finite", v)
			}
		})
	}
}
