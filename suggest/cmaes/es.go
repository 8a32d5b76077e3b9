package cmaes

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Termination tolerances that end a run when a restart strategy is set.
// Coordinates are unit coordinates, where the whole range of a parameter
// has length 1; assignments carry twelve significant digits, so steps below
// tolX no longer change what is handed out.
const (
	tolFun      = 1e-12 // range of recent best values and of one generation's values
	tolX        = 1e-11 // largest standard deviation and evolution path
	tolXUp      = 1e4   // growth of σ·max(D) relative to the initial σ
	tolCondCov  = 1e14  // condition number of C
	minEigen    = 1e-20 // eigenvalues of C are clamped to at least this
	maxSigma    = 1e3   // σ is capped here: the unit cube has side 1
	sampleTries = 100   // draws inside the unit cube before mirroring
)

// params are the strategy parameters fixed by the dimension n and the
// population size λ, with the defaults of Hansen, "The CMA Evolution
// Strategy: A Tutorial" (2016), including negative weights (active CMA-ES).
type params struct {
	n, lambda, mu int
	weights       []float64 // λ weights by rank, best first; the μ positive ones sum to 1
	muEff         float64
	cs, ds        float64 // cumulation and damping of the step size
	cc, c1, cmu   float64 // cumulation of p_c, rank-one and rank-μ rates
	chiN          float64 // E‖N(0, I)‖
	clipY         float64 // Mahalanobis length injected steps are clipped to
	funHist       int     // generations of best values tolFun looks at
	stagnation    int     // generations the stagnation test looks at
}

// newParams returns the default strategy parameters for dimension n and
// population size lambda ≥ 2: the recombination weights of all λ ranks,
// positive for the best μ and negative for the others (active CMA-ES).
func newParams(n, lambda int) params {
	nf := float64(n)
	mu := lambda / 2
	w := make([]float64, lambda)
	var sumPos, sqPos, sumNeg, sqNeg float64
	for i := range w {
		w[i] = math.Log(float64(lambda+1)/2) - math.Log(float64(i+1))
		if i < mu {
			sumPos += w[i]
			sqPos += w[i] * w[i]
		} else {
			sumNeg -= w[i]
			sqNeg += w[i] * w[i]
		}
	}
	muEff := sumPos * sumPos / sqPos
	cs := (muEff + 2) / (nf + muEff + 5)
	c1 := 2 / ((nf+1.3)*(nf+1.3) + muEff)
	cmu := min(1-c1, 2*(muEff-2+1/muEff)/((nf+2)*(nf+2)+muEff))
	negScale := 0.0
	if sumNeg > 0 {
		muEffNeg := sumNeg * sumNeg / sqNeg
		negScale = min(1+c1/cmu, 1+2*muEffNeg/(muEff+2), (1-c1-cmu)/(nf*cmu)) / sumNeg
	}
	for i := range w {
		if i < mu {
			w[i] /= sumPos
		} else {
			w[i] *= negScale
		}
	}
	return params{
		n:          n,
		lambda:     lambda,
		mu:         mu,
		weights:    w,
		muEff:      muEff,
		cs:         cs,
		ds:         1 + 2*max(0, math.Sqrt((muEff-1)/(nf+1))-1) + cs,
		cc:         (4 + muEff/nf) / (nf + 4 + 2*muEff/nf),
		c1:         c1,
		cmu:        cmu,
		chiN:       math.Sqrt(nf) * (1 - 1/(4*nf) + 1/(21*nf*nf)),
		clipY:      math.Sqrt(nf) + 2*nf/(nf+2),
		funHist:    10 + int(math.Ceil(30*nf/float64(lambda))),
		stagnation: 120 + int(math.Ceil(30*nf/float64(lambda))),
	}
}

// state is the search distribution N(mean, σ²C) of one run of CMA-ES, with
// its evolution paths and the eigendecomposition C = B·diag(D²)·Bᵀ.
type state struct {
	p      params
	mean   []float64
	sigma  float64
	sigma0 float64
	c      []float64 // n×n, row-major
	b      []float64 // n×n, column k is the k-th eigenvector of C
	d      []float64 // square roots of the eigenvalues of C
	ps, pc []float64
	gen    int       // generations that updated the distribution
	best   []float64 // best value of each updating generation
	spread float64   // max − min of the last generation's values
	work   []float64 // scratch, 3n
}

// newState returns the initial distribution N(mean, sigma²I).
func newState(p params, mean []float64, sigma float64) *state {
	n := p.n
	s := &state{
		p:      p,
		mean:   slices.Clone(mean),
		sigma:  sigma,
		sigma0: sigma,
		c:      make([]float64, n*n),
		b:      make([]float64, n*n),
		d:      make([]float64, n),
		ps:     make([]float64, n),
		pc:     make([]float64, n),
		work:   make([]float64, 3*n),
	}
	for i := range n {
		s.c[i*n+i] = 1
		s.b[i*n+i] = 1
		s.d[i] = 1
	}
	return s
}

// sample draws a point of N(mean, σ²C) inside the unit cube: it redraws up
// to sampleTries times and then mirrors the last draw into the cube.
func (s *state) sample(r *rand.Rand) []float64 {
	n := s.p.n
	x := make([]float64, n)
	z := s.work[:n]
	for try := 0; ; try++ {
		for i := range z {
			z[i] = s.d[i] * r.NormFloat64()
		}
		inside := true
		for i := range n {
			var y float64
			for k := range n {
				y += s.b[i*n+k] * z[k]
			}
			x[i] = s.mean[i] + s.sigma*y
			if x[i] < 0 || x[i] > 1 {
				inside = false
			}
		}
		if inside {
			return x
		}
		if try+1 >= sampleTries {
			for i := range x {
				x[i] = mirror(x[i])
			}
			return x
		}
	}
}

// mirror reflects v into [0, 1] at the faces of the cube.
func mirror(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0.5
	}
	v = math.Mod(math.Abs(v), 2)
	if v > 1 {
		v = 2 - v
	}
	return v
}

// invSqrt writes C^(-1/2)·y into out.
func (s *state) invSqrt(y, out []float64) {
	n := s.p.n
	t := s.work[n : 2*n]
	for k := range n {
		var v float64
		for i := range n {
			v += s.b[i*n+k] * y[i]
		}
		t[k] = v / s.d[k]
	}
	for i := range n {
		var v float64
		for k := range n {
			v += s.b[i*n+k] * t[k]
		}
		out[i] = v
	}
}

// update moves the distribution towards ranked, the completed points of a
// generation, best first (at least μ of them), and records the
// generation's values for the termination tests: weighted recombination of
// the mean, cumulative step-size adaptation, and rank-one plus active
// rank-μ updates of C. Ranks missing from ranked (failed trials, ranked
// last) contribute nothing.
//
// The points are read back from assignments rather than remembered, so
// they may differ from what was sampled (rounding, integer snapping, a
// changed space); each step y = (x − m)/σ is therefore clipped to a
// Mahalanobis length of √n + 2n/(n+2), as Hansen (2011) prescribes for
// injected solutions.
func (s *state) update(ranked [][]float64, bestValue, spread float64) {
	p, n := s.p, s.p.n
	ranked = ranked[:min(len(ranked), p.lambda)]
	ys := make([][]float64, len(ranked))
	wc := make([]float64, len(ranked)) // weights of the rank-μ update
	var sumW float64                   // Σ of the weights of the ranks present
	yw := make([]float64, n)
	cy := s.work[2*n : 3*n]
	for j := range ranked {
		y := make([]float64, n)
		for i := range n {
			y[i] = (ranked[j][i] - s.mean[i]) / s.sigma
		}
		s.invSqrt(y, cy)
		norm2 := dot(cy, cy)
		if norm := math.Sqrt(norm2); norm > p.clipY {
			for i := range y {
				y[i] *= p.clipY / norm
			}
			norm2 = p.clipY * p.clipY
		}
		ys[j] = y
		wc[j] = p.weights[j]
		sumW += p.weights[j]
		if j < p.mu {
			for i := range n {
				yw[i] += p.weights[j] * y[i]
			}
		} else if norm2 > 0 {
			// Negative weights are scaled so that C stays positive definite.
			wc[j] *= float64(n) / norm2
		}
	}
	for i := range n {
		s.mean[i] += s.sigma * yw[i]
	}

	// Step-size path and σ.
	s.invSqrt(yw, cy)
	a := math.Sqrt(p.cs * (2 - p.cs) * p.muEff)
	for i := range n {
		s.ps[i] = (1-p.cs)*s.ps[i] + a*cy[i]
	}
	psNorm := math.Sqrt(dot(s.ps, s.ps))
	s.sigma *= math.Exp(p.cs / p.ds * (psNorm/p.chiN - 1))
	s.sigma = min(s.sigma, maxSigma)

	// Covariance path and C.
	s.gen++
	hs := 0.0
	if psNorm/math.Sqrt(1-math.Pow(1-p.cs, 2*float64(s.gen))) < (1.4+2/float64(n+1))*p.chiN {
		hs = 1
	}
	a = hs * math.Sqrt(p.cc*(2-p.cc)*p.muEff)
	for i := range n {
		s.pc[i] = (1-p.cc)*s.pc[i] + a*yw[i]
	}
	decay := 1 - p.c1 - p.cmu*sumW + (1-hs)*p.c1*p.cc*(2-p.cc)
	for i := range n {
		for k := 0; k <= i; k++ {
			v := decay*s.c[i*n+k] + p.c1*s.pc[i]*s.pc[k]
			for j, y := range ys {
				v += p.cmu * wc[j] * y[i] * y[k]
			}
			s.c[i*n+k] = v
			s.c[k*n+i] = v
		}
	}
	eigenSym(n, s.c, s.b, s.d)
	for k := range s.d {
		s.d[k] = math.Sqrt(max(s.d[k], minEigen))
	}
	s.best = append(s.best, bestValue)
	s.spread = spread
}

// stalled reports whether the run has converged or stopped making
// progress, the signal for a restart: the tests of Hansen's tutorial
// (tolFun, tolX, tolXUp, noEffectAxis, noEffectCoord, conditionCov and
// stagnation).
func (s *state) stalled() bool {
	p, n := s.p, s.p.n
	if s.gen == 0 {
		return false
	}
	// tolFun: recent best values and the last generation are all flat.
	if len(s.best) >= p.funHist {
		recent := s.best[len(s.best)-p.funHist:]
		if slices.Max(recent)-slices.Min(recent) < tolFun && s.spread < tolFun {
			return true
		}
	}
	// tolX: every standard deviation and the path are tiny.
	small := true
	for i := range n {
		if s.sigma*math.Sqrt(s.c[i*n+i]) >= tolX || s.sigma*math.Abs(s.pc[i]) >= tolX {
			small = false
			break
		}
	}
	if small {
		return true
	}
	dMax, dMin := slices.Max(s.d), slices.Min(s.d)
	// tolXUp: σ exploded, the function looks flat.
	if s.sigma*dMax > tolXUp*s.sigma0 {
		return true
	}
	// conditionCov.
	if (dMax/dMin)*(dMax/dMin) > tolCondCov {
		return true
	}
	// noEffectAxis: a tenth of a deviation along one axis does not move m.
	k := s.gen % n
	moves := false
	for i := range n {
		if s.mean[i] != s.mean[i]+0.1*s.sigma*s.d[k]*s.b[i*n+k] {
			moves = true
			break
		}
	}
	if !moves {
		return true
	}
	// noEffectCoord.
	for i := range n {
		if s.mean[i] == s.mean[i]+0.2*s.sigma*math.Sqrt(s.c[i*n+i]) {
			return true
		}
	}
	// Stagnation: the median of the last 20 best values is no better than
	// the median of the first 20 of a long window.
	if w := p.stagnation; len(s.best) >= w {
		window := s.best[len(s.best)-w:]
		if median(window[w-20:]) >= median(window[:20]) {
			return true
		}
	}
	return false
}

// median returns the median of v without modifying it.
func median(v []float64) float64 {
	c := slices.Clone(v)
	slices.Sort(c)
	m := len(c) / 2
	if len(c)%2 == 1 {
		return c[m]
	}
	return (c[m-1] + c[m]) / 2
}

// dot returns the inner product of a and b.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
