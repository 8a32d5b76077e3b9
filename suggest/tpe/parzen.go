package tpe

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tune-hpo/tune/suggest"
)

// maxCells is the largest number of values a stepped parameter may have for
// its density to be evaluated as the probability mass of each value's cell;
// beyond it the density at the value's coordinate is used instead.
const maxCells = 4096

// sigma0 is the scale of the multivariate bandwidth (Optuna's
// SIGMA0_MAGNITUDE): sigma0 · n^(−1/(d+4)) in unit coordinates.
const sigma0 = 0.2

// logSqrt2Pi is log √(2π).
const logSqrt2Pi = 0.91893853320467274178032973640561763986139747363778

// dim describes how the estimators treat one parameter of the space. It is
// built once per call to Suggest and shared by both estimators.
type dim struct {
	param suggest.Param
	// categorical is true for categorical parameters, which the estimators
	// treat as indices into param.Values.
	categorical bool
	// priorMu and priorSigma describe the prior component in unit
	// coordinates: the declared normal or logNormal distribution, or
	// otherwise N(0.5, 1) truncated to [0, 1], as in Optuna; priorSigma is
	// +Inf (unused) for categorical parameters.
	priorMu, priorSigma float64
	// cells holds, for stepped numeric parameters with at most maxCells
	// values, the unit coordinates of the cell boundaries: value j owns
	// [cells[j], cells[j+1]]. centres holds the values' coordinates.
	cells, centres []float64
}

// newDim builds the description of parameter p.
func newDim(p suggest.Param) dim {
	d := dim{param: p, priorMu: 0.5, priorSigma: math.Inf(1)}
	if !p.Numeric() {
		d.categorical = true
		return d
	}
	// Optuna's prior for a uniform parameter: the Gaussian centred on the
	// interval whose deviation is its width, truncated to it.
	d.priorSigma = 1
	if p.Type != suggest.Discrete && (p.Distribution == suggest.Normal || p.Distribution == suggest.LogNormal) && p.Min < p.Max {
		// ToUnit is linear in the value (or in its log for logNormal), so the
		// declared distribution's mean and deviation, (Min+Max)/2 and
		// (Max−Min)/6 in that space, map to the same expressions in unit
		// coordinates.
		lo, err1 := p.ToUnit(suggest.FormatFloat(p.Min))
		hi, err2 := p.ToUnit(suggest.FormatFloat(p.Max))
		if err1 == nil && err2 == nil && hi > lo {
			d.priorMu, d.priorSigma = (lo+hi)/2, (hi-lo)/6
		}
	}
	d.centres = valueCoordinates(p)
	if len(d.centres) > 0 {
		d.cells = make([]float64, len(d.centres)+1)
		d.cells[len(d.centres)] = 1
		for j := 1; j < len(d.centres); j++ {
			d.cells[j] = (d.centres[j-1] + d.centres[j]) / 2
		}
	}
	return d
}

// valueCoordinates returns the sorted unit coordinates of every value a
// stepped or discrete parameter takes, or nil for a continuous parameter or
// one with more than maxCells values.
func valueCoordinates(p suggest.Param) []float64 {
	var values []string
	switch {
	case p.Type == suggest.Discrete:
		values = p.Values
	case p.Type == suggest.Int:
		lo, _, step, n, err := suggest.IntRange(p)
		if err != nil || n > maxCells {
			return nil
		}
		for k := range n {
			values = append(values, suggest.FormatInt(lo+k*step))
		}
	case p.Step > 0:
		n, err := suggest.StepCount(p.Min, p.Max, p.Step)
		if err != nil || n > maxCells {
			return nil
		}
		for k := range n {
			values = append(values, suggest.FormatFloat(suggest.StepValue(p.Min, p.Max, p.Step, k)))
		}
	default:
		return nil
	}
	out := make([]float64, 0, len(values))
	for _, v := range values {
		u, err := p.ToUnit(v)
		if err != nil {
			return nil
		}
		out = append(out, min(max(u, 0), 1))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// size returns the number of categories of a categorical dimension.
func (d *dim) size() int { return len(d.param.Values) }

// coordinate returns the coordinate of value in d: a unit coordinate for
// numeric parameters (clamped to [0, 1]) or the index in the list for
// categorical ones. ok is false when value does not belong to the space.
func (d *dim) coordinate(value string) (x float64, ok bool) {
	if d.categorical {
		i := slices.Index(d.param.Values, value)
		return float64(i), i >= 0
	}
	u, err := d.param.ToUnit(value)
	if err != nil {
		return 0, false
	}
	return min(max(u, 0), 1), true
}

// snap returns the coordinate of the value that u stands for: the value
// FromUnit writes, mapped back. Continuous coordinates are kept as they
// are, up to clamping.
func (d *dim) snap(u float64) float64 {
	u = min(max(u, 0), 1)
	if d.cells == nil && d.param.Type == suggest.Double && d.param.Step == 0 {
		return u
	}
	v, err := d.param.ToUnit(d.param.FromUnit(u))
	if err != nil {
		return u
	}
	return min(max(v, 0), 1)
}

// value formats coordinate x of d as an assignment value.
func (d *dim) value(x float64) string {
	if d.categorical {
		return d.param.Values[int(x)]
	}
	return d.param.FromUnit(x)
}

// estimator is a Parzen estimator over the whole space: a mixture of
// kernels, one per observation plus the prior, each a product over
// dimensions of a truncated Gaussian on [0, 1] (numeric) or a smoothed
// point mass (categorical). The univariate estimator uses the mixture of
// each dimension separately; the multivariate one the joint mixture.
type estimator struct {
	dims []dim
	// logW holds the log of the normalised kernel weights; the last kernel
	// is the prior.
	logW []float64
	// w holds the normalised kernel weights, for sampling.
	w []float64
	// kernels holds one entry per dimension.
	kernels []dimKernels
	// smooth is the weight an observation's categorical kernel gives every
	// category, against 1 more on the observed one: priorWeight/(n+1) for n
	// observations, as in Optuna's _calculate_categorical_params.
	smooth float64
}

// dimKernels holds the kernels of one dimension. For numeric dimensions mu
// and sigma are the Gaussians' centres and bandwidths (sigma +Inf: uniform)
// and logZ the log of their mass on [0, 1]. For categorical dimensions cat
// is each kernel's category (−1 for the prior) and the kernel puts weight
// 1 + s on it and s on every category, normalised, s = priorWeight/(n+1).
type dimKernels struct {
	mu, sigma, logZ []float64
	cat             []int
}

// newEstimator builds the estimator of the points xs (xs[i][j] is the
// coordinate of point i in dimension j) with weights ws, adding the prior
// with weight priorWeight. multivariate selects Optuna's multivariate
// bandwidth; otherwise each dimension gets the neighbour-distance bandwidth.
func newEstimator(dims []dim, xs [][]float64, ws []float64, priorWeight float64, multivariate bool) *estimator {
	n := len(xs)
	e := &estimator{dims: dims, kernels: make([]dimKernels, len(dims)), smooth: priorWeight / float64(n+1)}
	total := priorWeight
	for _, w := range ws {
		total += w
	}
	e.w = make([]float64, n+1)
	e.logW = make([]float64, n+1)
	for i := range e.w {
		w := priorWeight
		if i < n {
			w = ws[i]
		}
		e.w[i] = w / total
		e.logW[i] = math.Log(w / total)
	}
	for j := range dims {
		d := &dims[j]
		k := &e.kernels[j]
		if d.categorical {
			k.cat = make([]int, n+1)
			for i := range n {
				k.cat[i] = int(xs[i][j])
			}
			k.cat[n] = -1
			continue
		}
		k.mu = make([]float64, n+1)
		for i := range n {
			k.mu[i] = xs[i][j]
		}
		k.mu[n] = d.priorMu
		if multivariate {
			k.sigma = multivariateSigmas(n, len(dims))
		} else {
			k.sigma = univariateSigmas(k.mu)
		}
		k.sigma[n] = d.priorSigma
		k.logZ = make([]float64, n+1)
		for i := range k.mu {
			k.logZ[i] = logMass(k.mu[i], k.sigma[i], 0, 1)
		}
	}
	return e
}

// minSigma returns Optuna's "magic clip": the smallest bandwidth for a
// mixture of m kernels (prior included) on the unit interval.
func minSigma(m int) float64 {
	return 1 / float64(min(100, 1+m))
}

// univariateSigmas returns the bandwidths of the kernels centred at mus
// (the prior's centre last): each kernel's bandwidth is the larger distance
// to its neighbours among the sorted centres and the interval's ends, the
// outermost kernels using their only neighbour (Optuna's
// consider_endpoints=False), clipped to [minSigma(m), 1] for m centres,
// prior included, as in Optuna 3.1's _calculate_numerical_params.
func univariateSigmas(mus []float64) []float64 {
	m := len(mus)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case mus[a] < mus[b]:
			return -1
		case mus[a] > mus[b]:
			return 1
		}
		return 0
	})
	sigma := make([]float64, m)
	lo := minSigma(m)
	for r, i := range order {
		left, right := 0.0, 1.0
		if r > 0 {
			left = mus[order[r-1]]
		}
		if r < m-1 {
			right = mus[order[r+1]]
		}
		s := max(mus[i]-left, right-mus[i])
		if m >= 2 {
			switch r {
			case 0:
				s = right - mus[i]
			case m - 1:
				s = mus[i] - left
			}
		}
		sigma[i] = min(max(s, lo), 1)
	}
	return sigma
}

// multivariateSigmas returns Optuna's multivariate bandwidths for n
// observations in d dimensions: sigma0 · n^(−1/(d+4)), clipped to
// [minSigma, 1]; the prior's entry is overwritten by the caller.
func multivariateSigmas(n, d int) []float64 {
	s := sigma0 * math.Pow(float64(max(n, 1)), -1/float64(d+4))
	s = min(max(s, minSigma(n+1)), 1)
	out := make([]float64, n+1)
	for i := range out {
		out[i] = s
	}
	return out
}

// phi returns the standard normal CDF at z.
func phi(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// logMass returns the log of the mass of N(mu, sigma²) on [a, b]; for
// sigma +Inf (uniform on [0, 1]) it returns log(b − a).
func logMass(mu, sigma, a, b float64) float64 {
	if math.IsInf(sigma, 1) {
		return math.Log(b - a)
	}
	za, zb := (a-mu)/sigma, (b-mu)/sigma
	var m float64
	if za > 0 {
		// Both in the upper tail: use the complementary CDF for accuracy.
		m = phi(-za) - phi(-zb)
	} else {
		m = phi(zb) - phi(za)
	}
	if m <= 0 {
		return math.Inf(-1)
	}
	return math.Log(m)
}

// logKernel returns the log density (continuous) or log probability
// (stepped, categorical) of kernel i of dimension j at coordinate x. With
// height true, a continuous kernel's density is multiplied by its
// bandwidth: the log of its height-normalised value exp(−z²/2)/(√(2π)·Z),
// used to score candidates (see "Scoring candidates" in the package
// documentation).
func (e *estimator) logKernel(j, i int, x float64, height bool) float64 {
	d := &e.dims[j]
	k := &e.kernels[j]
	if d.categorical {
		c := float64(d.size())
		// The prior kernel is uniform; an observation's kernel gives its
		// category an extra unit of weight over the smoothed uniform.
		if k.cat[i] < 0 {
			return -math.Log(c)
		}
		if int(x) == k.cat[i] {
			return math.Log((1 + e.smooth) / (1 + c*e.smooth))
		}
		return math.Log(e.smooth / (1 + c*e.smooth))
	}
	mu, sigma := k.mu[i], k.sigma[i]
	if d.cells != nil {
		c := cellOf(d.centres, x)
		return logMass(mu, sigma, d.cells[c], d.cells[c+1]) - k.logZ[i]
	}
	if math.IsInf(sigma, 1) {
		return 0
	}
	z := (x - mu) / sigma
	if height {
		return -0.5*z*z - logSqrt2Pi - k.logZ[i]
	}
	return -0.5*z*z - logSqrt2Pi - math.Log(sigma) - k.logZ[i]
}

// cellOf returns the index of the centre nearest to x.
func cellOf(centres []float64, x float64) int {
	i, _ := slices.BinarySearch(centres, x)
	switch {
	case i == len(centres):
		return i - 1
	case i > 0 && x-centres[i-1] < centres[i]-x:
		return i - 1
	}
	return i
}

// sampleKernel draws a coordinate of dimension j from kernel i.
func (e *estimator) sampleKernel(r *rand.Rand, j, i int) float64 {
	d := &e.dims[j]
	k := &e.kernels[j]
	if d.categorical {
		c := d.size()
		if k.cat[i] >= 0 && r.Float64()*(1+float64(c)*e.smooth) < 1 {
			return float64(k.cat[i])
		}
		return float64(r.IntN(c))
	}
	mu, sigma := k.mu[i], k.sigma[i]
	var x float64
	if math.IsInf(sigma, 1) {
		x = r.Float64()
	} else {
		pa, pb := phi(-mu/sigma), phi((1-mu)/sigma)
		p := pa + r.Float64()*(pb-pa)
		p = min(max(p, 1e-300), 1-1e-16)
		x = mu + sigma*math.Sqrt2*math.Erfinv(2*p-1)
	}
	return d.snap(x)
}

// pick draws a kernel index by weight.
func (e *estimator) pick(r *rand.Rand) int {
	u := r.Float64()
	for i, w := range e.w {
		u -= w
		if u < 0 {
			return i
		}
	}
	return len(e.w) - 1
}

// logDim returns the log of the mixture density of dimension j at x, or
// with height true its candidate score (see [estimator.logKernel]).
func (e *estimator) logDim(j int, x float64, buf []float64, height bool) float64 {
	for i := range e.logW {
		buf[i] = e.logW[i] + e.logKernel(j, i, x, height)
	}
	return logSumExp(buf)
}

// logJoint returns the log of the joint mixture density at point x, or
// with height true its candidate score (see [estimator.logKernel]).
func (e *estimator) logJoint(x []float64, buf []float64, height bool) float64 {
	for i := range e.logW {
		s := e.logW[i]
		for j := range e.dims {
			s += e.logKernel(j, i, x[j], height)
		}
		buf[i] = s
	}
	return logSumExp(buf)
}

// logSumExp returns log Σ exp(v).
func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
