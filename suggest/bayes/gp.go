package bayes

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// sqrt5 is √5, which appears throughout the Matérn-5/2 kernel.
const sqrt5 = 2.23606797749978969640917366873127623544061835961152572427089

// Bounds of the kernel hyperparameters, in the unit cube and in units of
// the standardised objective. They are enforced by clamping with a
// quadratic penalty outside, so the optimiser sees a smooth objective.
const (
	minLengthScale = 0.01
	maxLengthScale = 20
	minSignalVar   = 0.01
	maxSignalVar   = 100
	minNoiseVar    = 1e-8
	maxNoiseVar    = 1
	boundPenalty   = 100
)

// Weak Gamma(shape, rate) priors on the hyperparameters, as in BoTorch's
// defaults: length scales around 0.5 of the unit cube, signal variance
// around 1, and noise variance that prefers small values without forbidding
// large ones.
const (
	lengthShape, lengthRate = 3, 6
	signalShape, signalRate = 2, 0.15
	noiseShape, noiseRate   = 1.1, 0.05
)

// errCholesky is returned when a kernel matrix is not positive definite
// even with the largest jitter.
var errCholesky = errors.New("kernel matrix is not positive definite")

// gp is a Gaussian-process regression model with a Matérn-5/2 ARD kernel
// and Gaussian noise, fitted on inputs in the unit cube and standardised
// outputs. It is not safe for concurrent use.
type gp struct {
	dim    int
	ls     []float64 // length scale per dimension
	signal float64   // signal variance
	noise  float64   // noise variance, jitter included
	x      [][]float64
	y      []float64
	chol   mat.Cholesky
	alpha  []float64 // K⁻¹ y
	work   *lmlWork  // likelihood scratch, valid for x
}

// hyper returns the log-hyperparameter vector: log length scales, log
// signal variance, log noise variance.
func (g *gp) hyper() []float64 {
	h := make([]float64, g.dim+2)
	for i, l := range g.ls {
		h[i] = math.Log(l)
	}
	h[g.dim], h[g.dim+1] = math.Log(g.signal), math.Log(g.noise)
	return h
}

// setHyper sets the hyperparameters from a log vector, clamped to bounds.
func (g *gp) setHyper(h []float64) {
	g.ls = make([]float64, g.dim)
	for i := range g.dim {
		g.ls[i] = clampExp(h[i], minLengthScale, maxLengthScale)
	}
	g.signal = clampExp(h[g.dim], minSignalVar, maxSignalVar)
	g.noise = clampExp(h[g.dim+1], minNoiseVar, maxNoiseVar)
}

// clampExp returns exp(h) clamped to [lo, hi].
func clampExp(h, lo, hi float64) float64 {
	return min(max(math.Exp(h), lo), hi)
}

// kern returns the Matérn-5/2 correlation (without signal variance) of a
// and b and the scaled distance r.
func (g *gp) kern(a, b []float64) (k, r float64) {
	var s float64
	for i, l := range g.ls {
		d := (a[i] - b[i]) / l
		s += d * d
	}
	r = math.Sqrt(s)
	return (1 + sqrt5*r + 5*s/3) * math.Exp(-sqrt5*r), r
}

// factorize builds and factorises K = signal·C + noise·I on g.x, raising
// the noise (jitter) until the factorisation succeeds, and sets alpha.
func (g *gp) factorize() error {
	n := len(g.x)
	k := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i + 1; j < n; j++ {
			c, _ := g.kern(g.x[i], g.x[j])
			k.SetSym(i, j, g.signal*c)
		}
	}
	for noise := g.noise; noise <= maxNoiseVar*10; noise *= 10 {
		for i := range n {
			k.SetSym(i, i, g.signal+noise)
		}
		if g.chol.Factorize(k) {
			g.noise = noise
			g.alpha = make([]float64, n)
			return g.chol.SolveVecTo(mat.NewVecDense(n, g.alpha), mat.NewVecDense(n, g.y))
		}
	}
	return errCholesky
}

// logPrior returns the log density of the hyperparameter priors in log
// space (Jacobian included) and adds its gradient to grad.
func logPrior(h, grad []float64, dim int) float64 {
	gamma := func(i int, shape, rate float64) float64 {
		v := math.Exp(h[i])
		grad[i] += shape - rate*v
		return shape*h[i] - rate*v
	}
	var lp float64
	for i := range dim {
		lp += gamma(i, lengthShape, lengthRate)
	}
	lp += gamma(dim, signalShape, signalRate)
	lp += gamma(dim+1, noiseShape, noiseRate)
	return lp
}

// lmlWork holds what the likelihood evaluations of one fit share: the
// squared coordinate differences of every pair of training points, and
// scratch matrices reused across evaluations.
type lmlWork struct {
	sq  [][]float64 // sq[p][pair] = (x_i − x_j)_p² over pairs i < j, row by row
	fac []float64   // per pair: ∂k/∂r² factor, (5/3)·signal·(1+√5r)e^{−√5r}
	kv  []float64   // per pair: the kernel value
	kk  []float64   // the n×n kernel matrix, then its factor, then its inverse
	a   []float64   // α = K⁻¹y
}

// newLMLWork precomputes the pair differences of x.
func newLMLWork(x [][]float64, d int) *lmlWork {
	n := len(x)
	pairs := n * (n - 1) / 2
	w := &lmlWork{sq: make([][]float64, d), fac: make([]float64, pairs), kv: make([]float64, pairs), kk: make([]float64, n*n), a: make([]float64, n)}
	for p := range d {
		s := make([]float64, 0, pairs)
		for i := range n {
			for j := i + 1; j < n; j++ {
				v := x[i][p] - x[j][p]
				s = append(s, v*v)
			}
		}
		w.sq[p] = s
	}
	return w
}

// lml returns the log marginal likelihood of the data at log
// hyperparameters h (clamped to bounds) and stores its gradient with
// respect to h in grad, unless grad is nil. It fails when K cannot be
// factorised.
func (g *gp) lml(h, grad []float64) (float64, error) {
	if g.work == nil || len(g.work.a) != len(g.x) {
		g.work = newLMLWork(g.x, g.dim)
	}
	w := g.work
	g.setHyper(h)
	n, d := len(g.x), g.dim
	inv2 := make([]float64, d)
	for p, l := range g.ls {
		inv2[p] = 1 / (l * l)
	}
	kk := w.kk
	pair := 0
	for i := range n {
		kk[i*n+i] = g.signal + g.noise
		for j := i + 1; j < n; j++ {
			var s float64
			for p := range d {
				s += w.sq[p][pair] * inv2[p]
			}
			r := math.Sqrt(s)
			e := math.Exp(-sqrt5 * r)
			kk[i*n+j] = g.signal * (1 + sqrt5*r + 5*s/3) * e
			w.kv[pair] = kk[i*n+j]
			w.fac[pair] = g.signal * 5 / 3 * (1 + sqrt5*r) * e
			pair++
		}
	}
	t, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: kk})
	if !ok {
		return 0, errCholesky
	}
	var logDet float64
	for i := range n {
		logDet += 2 * math.Log(kk[i*n+i])
	}
	copy(w.a, g.y)
	lapack64.Potrs(t, blas64.General{Rows: n, Cols: 1, Stride: 1, Data: w.a})
	a := w.a
	var yAlpha float64
	for i := range n {
		yAlpha += g.y[i] * a[i]
	}
	l := -0.5*yAlpha - 0.5*logDet - 0.5*float64(n)*math.Log(2*math.Pi)
	if grad == nil {
		return l, nil
	}
	if _, ok := lapack64.Potri(t); !ok {
		return 0, errCholesky
	}
	// kk's upper triangle now holds K⁻¹. ∂L/∂θ = ½ tr(W ∂K/∂θ) with the
	// symmetric W = ααᵀ − K⁻¹.
	for i := range grad {
		grad[i] = 0
	}
	var trSignal, trNoise float64
	pair = 0
	for i := range n {
		wii := a[i]*a[i] - kk[i*n+i]
		trSignal += wii * g.signal
		trNoise += wii * g.noise
		for j := i + 1; j < n; j++ {
			wij := a[i]*a[j] - kk[i*n+j]
			c := 2 * wij
			f := c * w.fac[pair]
			for p := range d {
				grad[p] += f * w.sq[p][pair] * inv2[p]
			}
			trSignal += c * w.kv[pair]
			pair++
		}
	}
	for p := range d {
		grad[p] *= 0.5
	}
	grad[d] = 0.5 * trSignal
	grad[d+1] = 0.5 * trNoise
	return l, nil
}

// objective returns the negative log posterior of the hyperparameters
// (likelihood plus prior plus bound penalty) and, unless grad is nil, its
// gradient, for minimisation.
func (g *gp) objective(h, grad []float64) float64 {
	lo := make([]float64, len(h))
	hi := make([]float64, len(h))
	for i := range h {
		switch {
		case i < g.dim:
			lo[i], hi[i] = math.Log(minLengthScale), math.Log(maxLengthScale)
		case i == g.dim:
			lo[i], hi[i] = math.Log(minSignalVar), math.Log(maxSignalVar)
		default:
			lo[i], hi[i] = math.Log(minNoiseVar), math.Log(maxNoiseVar)
		}
	}
	c := make([]float64, len(h))
	var pen float64
	for i := range h {
		c[i] = min(max(h[i], lo[i]), hi[i])
		pen += boundPenalty * (h[i] - c[i]) * (h[i] - c[i])
	}
	l, err := g.lml(c, grad)
	if err != nil {
		for i := range grad {
			grad[i] = 0
		}
		return math.Inf(1)
	}
	if grad == nil {
		return -l - logPrior(c, make([]float64, len(h)), g.dim) + pen
	}
	l += logPrior(c, grad, g.dim)
	for i := range h {
		grad[i] = -grad[i] + 2*boundPenalty*(h[i]-c[i])
	}
	return -l + pen
}

// screenPerStart is how many random hyperparameter vectors are screened,
// by the value of the objective alone, per L-BFGS start.
const screenPerStart = 4

// fit chooses hyperparameters by maximising the log posterior: it screens
// the default start and screenPerStart·starts random ones by value (a
// cheap evaluation, without K⁻¹), runs L-BFGS with analytic gradients for
// at most iters iterations from the best starts of them, and factorises K
// at the best result.
func (g *gp) fit(r *rand.Rand, starts, iters int) error {
	g.work = nil
	def := make([]float64, g.dim+2)
	for i := range g.dim {
		def[i] = math.Log(0.5)
	}
	def[g.dim], def[g.dim+1] = 0, math.Log(1e-3)
	type start struct {
		h []float64
		f float64
	}
	cands := []start{{def, g.objective(def, nil)}}
	for range screenPerStart * starts {
		x0 := make([]float64, g.dim+2)
		for i := range g.dim {
			x0[i] = math.Log(0.05) + r.Float64()*(math.Log(2)-math.Log(0.05))
		}
		x0[g.dim] = r.Float64()*2 - 1
		x0[g.dim+1] = math.Log(1e-6) + r.Float64()*(math.Log(1e-1)-math.Log(1e-6))
		cands = append(cands, start{x0, g.objective(x0, nil)})
	}
	slices.SortStableFunc(cands, func(a, b start) int { return cmpFloat(a.f, b.f) })
	best, bestF := cands[0].h, cands[0].f
	for _, c := range cands[:starts] {
		h, f := g.minimize(c.h, iters)
		if f < bestF {
			best, bestF = h, f
		}
	}
	g.setHyper(best)
	return g.factorize()
}

// minimize runs L-BFGS on the objective from x0 and returns the best point
// seen and its value.
func (g *gp) minimize(x0 []float64, iters int) ([]float64, float64) {
	// Func and Grad are called at the same points; cache the last one.
	var lastX, lastG []float64
	var lastF float64
	eval := func(x []float64) {
		if lastX != nil && equal(x, lastX) {
			return
		}
		lastX = append(lastX[:0], x...)
		lastG = make([]float64, len(x))
		lastF = g.objective(x, lastG)
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(grad, x []float64) { eval(x); copy(grad, lastG) },
	}
	settings := &optimize.Settings{
		MajorIterations:   iters,
		FuncEvaluations:   3 * iters,
		GradientThreshold: 1e-4,
		Converger:         &optimize.FunctionConverge{Relative: 1e-6, Iterations: 5},
	}
	startF := g.objective(x0, nil)
	res, err := optimize.Minimize(p, x0, settings, &optimize.LBFGS{})
	if res == nil || (err != nil && math.IsInf(res.F, 0)) || !(res.F < startF) {
		return x0, startF
	}
	return res.X, res.F
}

// equal reports whether a and b hold the same numbers.
func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// addPoint adds a training point (a fantasy) with the current
// hyperparameters by extending the Cholesky factor, and updates alpha.
func (g *gp) addPoint(x []float64, y float64) error {
	n := len(g.x)
	v := make([]float64, n+1)
	for i, xi := range g.x {
		c, _ := g.kern(x, xi)
		v[i] = g.signal * c
	}
	v[n] = g.signal + g.noise
	var ext mat.Cholesky
	if !ext.ExtendVecSym(&g.chol, mat.NewVecDense(n+1, v)) {
		// The point duplicates a training point too closely; the model
		// already knows it.
		return nil
	}
	g.chol = ext
	g.x = append(g.x, x)
	g.y = append(g.y, y)
	g.alpha = make([]float64, n+1)
	return g.chol.SolveVecTo(mat.NewVecDense(n+1, g.alpha), mat.NewVecDense(n+1, g.y))
}

// predict stores the posterior mean and standard deviation of the latent
// function at each row of xs into mu and sd. buf is scratch space of at
// least len(xs)·n, reused across calls to bound allocations.
func (g *gp) predict(xs [][]float64, mu, sd []float64, buf []float64) []float64 {
	n, m := len(g.x), len(xs)
	if cap(buf) < n*m {
		buf = make([]float64, n*m)
	}
	ks := buf[:n*m]
	for j, x := range xs {
		row := ks[j*n : (j+1)*n]
		var s float64
		for i, xi := range g.x {
			c, _ := g.kern(x, xi)
			row[i] = g.signal * c
			s += row[i] * g.alpha[i]
		}
		mu[j] = s
	}
	// Solve V·U = K* so that V = K* U⁻¹ and var = k(x,x) − ‖V_j‖².
	u := g.chol.RawU().(*mat.TriDense).RawTriangular()
	blas64.Trsm(blas.Right, blas.NoTrans, 1, u, blas64.General{Rows: m, Cols: n, Stride: n, Data: ks})
	for j := range m {
		var s float64
		for _, v := range ks[j*n : (j+1)*n] {
			s += v * v
		}
		sd[j] = math.Sqrt(max(g.signal-s, 1e-12))
	}
	return buf
}

// within returns a GP with g's signal and noise variances and withinScale
// times its length scales, conditioned only on the training points
// (fantasies included) whose column col is 1, with their values less their
// mean, and that mean; nil when there are fewer than withinMin of them or
// their kernel matrix cannot be factorised.
func (g *gp) within(col int) (*gp, float64) {
	var xs [][]float64
	var ys []float64
	for i, x := range g.x {
		if x[col] == 1 {
			xs, ys = append(xs, x), append(ys, g.y[i])
		}
	}
	if len(xs) < withinMin {
		return nil, 0
	}
	mean, _ := meanStd(ys)
	for i := range ys {
		ys[i] -= mean
	}
	ls := make([]float64, len(g.ls))
	for i, l := range g.ls {
		ls[i] = l * withinScale
	}
	own := &gp{dim: g.dim, ls: ls, signal: g.signal, noise: g.noise, x: xs, y: ys}
	if own.factorize() != nil {
		return nil, 0
	}
	return own, mean
}

// withinMin is the fewest points [gp.within] conditions on.
const withinMin = 3

// withinScale scales the joint model's length scales in [gp.within]: they
// are fitted to every value's trials, and a value whose good region is
// smaller than the others' (a narrow basin among broad ones) varies faster
// than they say, so a model of its trials alone with them extrapolates its
// slope past its basin.
const withinScale = 0.5
