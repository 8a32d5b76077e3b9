package enas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGradientCheck compares backward's gradient of
// a·(−log π(arc)) + b·skipPenalty with central finite differences, for every
// parameter, with and without the temperature and tanh constant.
func TestGradientCheck(t *testing.T) {
	for _, tc := range []struct {
		name        string
		temp, tanhC float64
	}{
		{"katib defaults", DefaultTemperature, DefaultTanhConst},
		{"no temperature, no tanh", 0, 0},
		{"tanh only", 0, 1.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config{layers: 4, ops: 3, hidden: 5, temperature: tc.temp, tanhConst: tc.tanhC, skipTarget: 0.3}
			ct := newController(cfg, 7)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range ct.theta.flat {
				ct.theta.flat[i] = rng.Float64() - 0.5 // larger than the init: gradients that matter
			}
			arc := Arc{{2}, {0, 1}, {1, 1, 0}, {2, 0, 1, 1}}
			const a, b = 0.7, 1.3
			loss := func() float64 {
				ct.pass(arc, nil)
				return a*ct.tp.ce + b*ct.tp.skipPen
			}
			loss()
			ct.backward(arc, a, b)
			grad := append([]float64(nil), ct.grad.flat...)
			const h = 1e-6
			var worst float64
			for i := range ct.theta.flat {
				x := ct.theta.flat[i]
				ct.theta.flat[i] = x + h
				up := loss()
				ct.theta.flat[i] = x - h
				down := loss()
				ct.theta.flat[i] = x
				num := (up - down) / (2 * h)
				// Central differences are exact to O(h²) plus rounding:
				// about 1e-9 here, where the gradients are 1e-5 to 1.
				diff := math.Abs(num - grad[i])
				rel := diff / math.Max(1e-3, math.Abs(num))
				if diff > 1e-7+1e-5*math.Abs(num) {
					t.Errorf("parameter %d: backward %.10g, finite difference %.10g", i, grad[i], num)
				}
				worst = max(worst, rel)
			}
			var norm float64
			for _, g := range grad {
				norm += g * g
			}
			if norm < 1e-6 {
				t.Fatalf("gradient norm² %g: the check compares nothing", norm)
			}
			t.Logf("%d parameters, worst relative error %.2g", len(grad), worst)
		})
	}
}

// TestPassFollowsSample: the log-probability a pass records when it samples
// an architecture equals the one it records following it, and the
// probabilities of all architectures of a small space sum to 1.
func TestPassProbabilities(t *testing.T) {
	cfg := &config{layers: 3, ops: 2, hidden: 4, temperature: 5, tanhConst: 2.25, skipTarget: 0.4}
	ct := newController(cfg, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range ct.theta.flat {
		ct.theta.flat[i] = 2 * (rng.Float64() - 0.5)
	}
	arc := ct.pass(nil, rand.New(rand.NewPCG(5, 5)))
	sampled := ct.tp.ce
	ct.pass(arc, nil)
	if ct.tp.ce != sampled {
		t.Errorf("−log π sampling %v, following %v", sampled, ct.tp.ce)
	}
	var total float64
	for code := range 2 * 2 * 2 * 2 * 2 * 2 { // op0; op1 s0; op2 s0 s1
		bit := func(k int) int { return code >> k & 1 }
		a := Arc{{bit(0)}, {bit(1), bit(2)}, {bit(3), bit(4), bit(5)}}
		ct.pass(a, nil)
		total += math.Exp(-ct.tp.ce)
	}
	if math.Abs(total-1) > 1e-12 {
		t.Errorf("Σ π(arc) over all %d architectures = %v, want 1", 64, total)
	}
}
