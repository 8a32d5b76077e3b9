package tpe

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/suggest"
)

func TestNewDimPrior(t *testing.T) {
	type prior struct{ Mu, Sigma float64 }
	inf := math.Inf(1)
	tests := map[string]struct {
		p    suggest.Param
		want prior
	}{
		"uniform":      {p: suggest.Param{Name: "x", Type: suggest.Double, Min: -5, Max: 10}, want: prior{0.5, 1}},
		"log uniform":  {p: suggest.Param{Name: "x", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform}, want: prior{0.5, 1}},
		"normal":       {p: suggest.Param{Name: "x", Type: suggest.Double, Min: 0, Max: 10, Distribution: suggest.Normal}, want: prior{0.5, 1.0 / 6}},
		"log normal":   {p: suggest.Param{Name: "x", Type: suggest.Double, Min: 1, Max: 100, Distribution: suggest.LogNormal}, want: prior{0.5, 1.0 / 6}},
		"normal int":   {p: suggest.Param{Name: "x", Type: suggest.Int, Min: 1, Max: 8, Distribution: suggest.Normal}, want: prior{0.5, 7.0 / 8 / 6}},
		"single value": {p: suggest.Param{Name: "x", Type: suggest.Double, Min: 3, Max: 3, Distribution: suggest.Normal}, want: prior{0.5, 1}},
		"discrete":     {p: suggest.Param{Name: "x", Type: suggest.Discrete, Values: []string{"1", "2"}}, want: prior{0.5, 1}},
		"categorical":  {p: suggest.Param{Name: "x", Type: suggest.Categorical, Values: []string{"a"}}, want: prior{0.5, inf}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDim(tc.p)
			got := prior{d.priorMu, d.priorSigma}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("prior (-want +got):\n%s", diff)
			}
		})
	}
}

// testDims returns one dimension of every kind the estimator handles.
func testDims() []dim {
	return []dim{
		newDim(suggest.Param{Name: "u", Type: suggest.Double, Min: 0, Max: 1}),
		newDim(suggest.Param{Name: "n", Type: suggest.Double, Min: 0, Max: 1, Distribution: suggest.Normal}),
		newDim(suggest.Param{Name: "i", Type: suggest.Int, Min: 1, Max: 6}),
		newDim(suggest.Param{Name: "li", Type: suggest.Int, Min: 1, Max: 64, Distribution: suggest.LogUniform}),
		newDim(suggest.Param{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b", "c"}}),
	}
}

func TestEstimatorNormalised(t *testing.T) {
	dims := testDims()
	r := rand.New(rand.NewPCG(1, 2))
	var xs [][]float64
	for range 7 {
		x := make([]float64, len(dims))
		for j := range dims {
			if dims[j].categorical {
				x[j] = float64(r.IntN(dims[j].size()))
				continue
			}
			x[j] = dims[j].snap(r.Float64())
		}
		xs = append(xs, x)
	}
	ws := weights(len(xs))
	for name, mv := range map[string]bool{"univariate": false, "multivariate": true} {
		e := newEstimator(dims, xs, ws, 1.5, mv)
		buf := make([]float64, len(e.logW))
		for j := range dims {
			d := &dims[j]
			var total float64
			switch {
			case d.categorical:
				for c := range d.size() {
					total += math.Exp(e.logDim(j, float64(c), buf, false))
				}
			case d.cells != nil:
				for _, u := range d.centres {
					total += math.Exp(e.logDim(j, u, buf, false))
				}
			default:
				const steps = 20000
				for k := range steps {
					total += math.Exp(e.logDim(j, (float64(k)+0.5)/steps, buf, false)) / steps
				}
			}
			if math.Abs(total-1) > 1e-3 {
				t.Errorf("%s: dimension %s integrates to %v, want 1", name, d.param.Name, total)
			}
		}
	}
}

func TestEstimatorSamplesFollowDensity(t *testing.T) {
	// Draws from the prior-only mixture of a normal parameter must have the
	// declared distribution's mean and deviation (truncated at 3σ).
	dims := []dim{newDim(suggest.Param{Name: "n", Type: suggest.Double, Min: 0, Max: 1, Distribution: suggest.Normal})}
	e := newEstimator(dims, nil, nil, 1, false)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 20000
	var sum, sq float64
	for range n {
		x := e.sampleKernel(r, 0, e.pick(r))
		sum += x
		sq += x * x
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean-0.5) > 0.01 || math.Abs(sd-0.1645) > 0.01 {
		t.Errorf("prior draws: mean %v, sd %v; want 0.5, about 0.1645", mean, sd)
	}
}

func TestUnivariateSigmas(t *testing.T) {
	tests := map[string]struct {
		mus, want []float64
	}{
		"prior only": {mus: []float64{0.5}, want: []float64{0.5}},
		"two":        {mus: []float64{0.1, 0.5}, want: []float64{0.4, 0.4}},
		"four": {
			mus:  []float64{0.9, 0.1, 0.3, 0.5},
			want: []float64{0.4, 0.2, 0.2, 0.4},
		},
		"clipped": {mus: []float64{0.5, 0.5, 0.5}, want: []float64{0.25, 0.25, 0.25}}, // 1/min(100, 3+1)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := univariateSigmas(tc.mus)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("univariateSigmas(%v) (-want +got):\n%s", tc.mus, diff)
			}
		})
	}
}

func TestWeights(t *testing.T) {
	w := weights(30)
	if len(w) != 30 || w[0] != 1.0/30 || w[4] != 1 || w[29] != 1 {
		t.Errorf("weights(30) = %v", w)
	}
	for i := 1; i < len(w); i++ {
		if w[i] < w[i-1] {
			t.Errorf("weights(30) decrease at %d: %v", i, w)
		}
	}
	if diff := cmp.Diff([]float64{1, 1, 1}, weights(3)); diff != "" {
		t.Errorf("weights(3) (-want +got):\n%s", diff)
	}
}

func TestKernelScoreIsHeightNormalised(t *testing.T) {
	// Two observations at the same place with different bandwidths: their
	// densities at the centre differ by the ratio of bandwidths, their
	// scores only by the truncation masses, so a narrow kernel does not
	// tower over a wide one.
	dims := []dim{newDim(suggest.Param{Name: "u", Type: suggest.Double, Min: 0, Max: 1})}
	e := newEstimator(dims, [][]float64{{0.5}, {0.5}}, []float64{1, 1}, 1, false)
	e.kernels[0].sigma = []float64{0.01, 0.1, 1}
	for i, s := range e.kernels[0].sigma {
		e.kernels[0].logZ[i] = logMass(0.5, s, 0, 1)
	}
	narrow, wide := e.logKernel(0, 0, 0.5, false), e.logKernel(0, 1, 0.5, false)
	if got := narrow - wide; math.Abs(got-math.Log(10)) > 1e-5 {
		t.Errorf("log density ratio narrow/wide at the centre = %v, want log 10", got)
	}
	narrow, wide = e.logKernel(0, 0, 0.5, true), e.logKernel(0, 1, 0.5, true)
	if got := narrow - wide; math.Abs(got) > 1e-5 {
		t.Errorf("log score ratio narrow/wide at the centre = %v, want 0", got)
	}
}
