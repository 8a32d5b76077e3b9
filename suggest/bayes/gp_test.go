package bayes

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testGP returns a GP on n random points of the d-cube with values of a
// smooth function, standardised.
func testGP(n, d int) *gp {
	r := rand.New(rand.NewPCG(1, 2))
	g := &gp{dim: d}
	for range n {
		x := make([]float64, d)
		var y float64
		for j := range x {
			x[j] = r.Float64()
			y += math.Sin(3*x[j]) * float64(j+1)
		}
		g.x, g.y = append(g.x, x), append(g.y, y)
	}
	mean, sd := meanStd(g.y)
	for i := range g.y {
		g.y[i] = (g.y[i] - mean) / sd
	}
	return g
}

func TestGPInterpolates(t *testing.T) {
	g := testGP(20, 3)
	g.setHyper([]float64{math.Log(0.4), math.Log(0.5), math.Log(0.6), 0, math.Log(1e-6)})
	if err := g.factorize(); err != nil {
		t.Fatal(err)
	}
	mu, sd := make([]float64, len(g.x)), make([]float64, len(g.x))
	g.predict(g.x, mu, sd, nil)
	if diff := cmp.Diff(g.y, mu, cmpopts.EquateApprox(0, 1e-3)); diff != "" {
		t.Errorf("posterior mean at the training points (-want +got):\n%s", diff)
	}
	for i, s := range sd {
		if s > 1e-2 {
			t.Errorf("posterior sd at training point %d is %v, want ≈ 0", i, s)
		}
	}
}

func TestGPFitInterpolates(t *testing.T) {
	g := testGP(30, 2)
	if err := g.fit(rand.New(rand.NewPCG(3, 4)), 3, 40); err != nil {
		t.Fatal(err)
	}
	mu, sd := make([]float64, len(g.x)), make([]float64, len(g.x))
	g.predict(g.x, mu, sd, nil)
	if diff := cmp.Diff(g.y, mu, cmpopts.EquateApprox(0, 0.05)); diff != "" {
		t.Errorf("fitted posterior mean at the training points (-want +got):\n%s", diff)
	}
	if g.noise > 1e-2 {
		t.Errorf("fitted noise variance %v on noise-free data, want small", g.noise)
	}
}

func TestLMLGradient(t *testing.T) {
	tests := map[string][]float64{
		"default": {math.Log(0.5), math.Log(0.5), math.Log(0.5), 0, math.Log(1e-3)},
		"short":   {math.Log(0.1), math.Log(0.3), math.Log(2), math.Log(2), math.Log(1e-2)},
		"noisy":   {math.Log(1), math.Log(0.2), math.Log(0.7), math.Log(0.5), math.Log(0.3)},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			g := testGP(25, 3)
			grad := make([]float64, len(h))
			if _, err := g.lml(h, grad); err != nil {
				t.Fatal(err)
			}
			fd := make([]float64, len(h))
			scratch := make([]float64, len(h))
			const eps = 1e-6
			for i := range h {
				hp, hm := append([]float64(nil), h...), append([]float64(nil), h...)
				hp[i] += eps
				hm[i] -= eps
				lp, err1 := g.lml(hp, scratch)
				lm, err2 := g.lml(hm, scratch)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				fd[i] = (lp - lm) / (2 * eps)
			}
			if diff := cmp.Diff(fd, grad, cmpopts.EquateApprox(1e-4, 1e-5)); diff != "" {
				t.Errorf("analytic gradient differs from finite differences (-fd +analytic):\n%s", diff)
			}
			// The full objective's gradient (prior and penalty included).
			og := make([]float64, len(h))
			g.objective(h, og)
			for i := range h {
				hp, hm := append([]float64(nil), h...), append([]float64(nil), h...)
				hp[i] += eps
				hm[i] -= eps
				fd[i] = (g.objective(hp, scratch) - g.objective(hm, scratch)) / (2 * eps)
			}
			if diff := cmp.Diff(fd, og, cmpopts.EquateApprox(1e-4, 1e-5)); diff != "" {
				t.Errorf("objective gradient differs from finite differences (-fd +analytic):\n%s", diff)
			}
		})
	}
}

func TestAddPointMatchesRefit(t *testing.T) {
	g := testGP(15, 2)
	h := []float64{math.Log(0.3), math.Log(0.4), 0, math.Log(1e-4)}
	g.setHyper(h)
	if err := g.factorize(); err != nil {
		t.Fatal(err)
	}
	x, y := []float64{0.25, 0.75}, 0.3
	if err := g.addPoint(x, y); err != nil {
		t.Fatal(err)
	}
	ref := &gp{dim: 2, x: g.x, y: g.y}
	ref.setHyper(h)
	if err := ref.factorize(); err != nil {
		t.Fatal(err)
	}
	probe := [][]float64{{0.1, 0.1}, {0.5, 0.5}, {0.26, 0.74}}
	samePredictions(t, "after addPoint (-refit +added)", ref, g, probe, 1e-8)
}

// samePredictions reports where got's posterior mean or sd at probe
// differs from want's by more than tol.
func samePredictions(t *testing.T, what string, want, got *gp, probe [][]float64, tol float64) {
	t.Helper()
	mu1, sd1 := make([]float64, len(probe)), make([]float64, len(probe))
	mu2, sd2 := make([]float64, len(probe)), make([]float64, len(probe))
	got.predict(probe, mu1, sd1, nil)
	want.predict(probe, mu2, sd2, nil)
	opt := cmpopts.EquateApprox(0, tol)
	if diff := cmp.Diff(mu2, mu1, opt); diff != "" {
		t.Errorf("mean %s:\n%s", what, diff)
	}
	if diff := cmp.Diff(sd2, sd1, opt); diff != "" {
		t.Errorf("sd %s:\n%s", what, diff)
	}
}

// TestWithin checks that a value's own model predicts as a GP with
// withinScale times the joint length scales fitted on that value's points
// alone, less their mean, would.
func TestWithin(t *testing.T) {
	// Column 0 is a numeric coordinate, column 1 a value's one-hot column.
	g := &gp{dim: 2}
	for i := range 12 {
		u := float64(i) / 11
		g.x = append(g.x, []float64{u, float64(i % 2)})
		g.y = append(g.y, math.Sin(6*u)+float64(i%2))
	}
	g.setHyper([]float64{math.Log(0.4), math.Log(0.8), 0, math.Log(1e-4)})
	if err := g.factorize(); err != nil {
		t.Fatal(err)
	}
	own, mean := g.within(1)
	if own == nil {
		t.Fatal("within: nil for 6 points")
	}
	var xs [][]float64
	var ys []float64
	for i, x := range g.x {
		if x[1] == 1 {
			xs, ys = append(xs, x), append(ys, g.y[i])
		}
	}
	wantMean, _ := meanStd(ys)
	if math.Abs(mean-wantMean) > 1e-12 {
		t.Errorf("mean %g, want %g", mean, wantMean)
	}
	for i := range ys {
		ys[i] -= wantMean
	}
	ref := &gp{dim: 2, x: xs, y: ys}
	ref.setHyper([]float64{math.Log(0.4 * withinScale), math.Log(0.8 * withinScale), 0, math.Log(1e-4)})
	if err := ref.factorize(); err != nil {
		t.Fatal(err)
	}
	probe := [][]float64{{0.05, 1}, {0.5, 1}, {0.97, 1}, {0.3, 0}}
	samePredictions(t, "of the value's model (-want +got)", ref, own, probe, 1e-9)
	if g.ls[0] != 0.4 {
		t.Errorf("within changed the joint model's length scale to %g", g.ls[0])
	}
}
