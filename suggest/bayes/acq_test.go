package bayes

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/tune-hpo/tune/suggest"
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

// TestEveryCategory checks that the acquisition search gives every value
// of a categorical parameter a polished candidate: for each value, one
// with that value's one-hot block, unchanged by polishing (the block is
// fixed), its continuous coordinate inside the cube; and that it finds
// the category where the model expects the best value even when every
// start is in another.
func TestEveryCategory(t *testing.T) {
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "k", Type: suggest.Categorical, Values: []string{"a", "b", "c"}},
	}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder(space)
	r := rand.New(rand.NewPCG(1, 2))
	// f = (x − 0.3)² in a and b; (x − 0.7)² − 1 in c, which no start is in.
	var xs [][]float64
	var ys []float64
	for i := range 24 {
		k := []string{"a", "b", "c"}[i%3]
		x := (float64(i/3) + 0.5) / 8
		p, err := enc.encode(suggest.Assignment{"x": suggest.FormatFloat(x), "k": k})
		if err != nil {
			t.Fatal(err)
		}
		y := (x - 0.3) * (x - 0.3)
		if k == "c" {
			y = (x-0.7)*(x-0.7) - 1
		}
		xs, ys = append(xs, p), append(ys, y)
	}
	m, err := s.newModel(enc, r, xs, ys, indexes(len(xs)), nil)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := enc.encode(suggest.Assignment{"x": "0.3", "k": "a"})
	got := m.everyCategory([]scored{{start, m.score([][]float64{start})[0]}}, nil, nil)
	seen := map[string]bool{}
	best := scored{value: math.Inf(-1)}
	for _, c := range got {
		a := enc.decode(c.x)
		seen[a["k"]] = true
		if c.x[0] < 0 || c.x[0] > 1 {
			t.Errorf("candidate %v outside the cube", c.x)
		}
		if c.value > best.value {
			best = c
		}
	}
	if len(seen) != 3 {
		t.Errorf("categories among the candidates: %v, want a, b and c", seen)
	}
	if a := enc.decode(best.x); a["k"] != "c" {
		t.Errorf("best candidate %v, want one in category c", a)
	}
}
