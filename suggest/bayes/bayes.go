package bayes

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/optimize"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// The names of the settings New accepts; see the package documentation.
const (
	// SettingNInitialPoints is the number of trials of the initial design.
	SettingNInitialPoints = "n_initial_points"
	// SettingAcqFunc is the acquisition function, an [AcqFunc] or one of
	// Katib's (scikit-optimize's) names for it.
	SettingAcqFunc = "acq_func"
	// SettingRandomState is the seed, replacing [suggest.Request.Seed].
	SettingRandomState = "random_state"
	// SettingBaseEstimator is the surrogate model; only "GP" is accepted.
	SettingBaseEstimator = "base_estimator"
	// SettingAcqOptimizer is accepted for Katib compatibility ("auto",
	// "lbfgs", "sampling") and has no effect.
	SettingAcqOptimizer = "acq_optimizer"
	// SettingKappa is κ of the [UCB] acquisition function.
	SettingKappa = "kappa"
	// SettingXi is the improvement margin ξ of [LogEI] and [LogPI].
	SettingXi = "xi"
	// SettingBatchStrategy is the [BatchStrategy].
	SettingBatchStrategy = "batch_strategy"
	// SettingMaxObservations is the number of completed trials beyond which
	// the model is fitted on a subset.
	SettingMaxObservations = "max_observations"
)

// Defaults of the settings.
const (
	// DefaultNInitialPoints is the default of n_initial_points, as in Katib.
	DefaultNInitialPoints = 10
	// DefaultKappa is the default κ of [UCB].
	DefaultKappa = 1.96
	// DefaultXi is the default margin ξ of [LogEI] and [LogPI].
	DefaultXi = 0.0
	// DefaultMaxObservations is the default of max_observations.
	DefaultMaxObservations = 250
	// DefaultBatchStrategy is the default [BatchStrategy], the best one in
	// our measurements (see the package documentation).
	DefaultBatchStrategy = KrigingBeliever
)

// warpScale multiplies the median spread in [warp].
const warpScale = 5.0

// warpSkew is the skewness above which the values are warped.
const warpSkew = 2.0

// minMaxObservations is the smallest accepted max_observations.
const minMaxObservations = 20

// AcqFunc is an acquisition function.
type AcqFunc string

// The acquisition functions.
const (
	// LogEI is the logarithm of expected improvement, computed without
	// underflow (Katib's and skopt's "EI", and "gp_hedge").
	LogEI AcqFunc = "logei"
	// UCB is the confidence bound mean − kappa·sd, minimised (skopt's "LCB").
	UCB AcqFunc = "ucb"
	// LogPI is the logarithm of the probability of improvement (skopt's "PI").
	LogPI AcqFunc = "pi"
)

// BatchStrategy says what value a pending trial is given while the next
// point of a batch is chosen.
type BatchStrategy string

// The batch strategies.
const (
	// KrigingBeliever uses the model's posterior mean at the pending point.
	KrigingBeliever BatchStrategy = "kriging_believer"
	// ConstantLiarMin uses the best value observed so far.
	ConstantLiarMin BatchStrategy = "constant_liar_min"
	// ConstantLiarMax uses the worst value observed so far.
	ConstantLiarMax BatchStrategy = "constant_liar_max"
	// ConstantLiarMean uses the mean of the observed values.
	ConstantLiarMean BatchStrategy = "constant_liar_mean"
)

// Suggester is the Gaussian-process Bayesian-optimisation
// [suggest.Suggester]. It holds only its settings, is immutable and is safe
// for concurrent use.
type Suggester struct {
	nInitial int
	acq      AcqFunc
	kappa    float64
	xi       float64
	batch    BatchStrategy
	maxObs   int
	seed     uint64
	hasSeed  bool
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns a Suggester configured by Katib's algorithmSettings; see the
// package documentation for the settings and their defaults. Every invalid
// or unknown setting is reported, joined in one error. A nil map means the
// defaults.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{
		nInitial: DefaultNInitialPoints,
		acq:      LogEI,
		kappa:    DefaultKappa,
		xi:       DefaultXi,
		batch:    DefaultBatchStrategy,
		maxObs:   DefaultMaxObservations,
	}
	r := suggest.ReadSettings("bayes", settings)
	// Read in the order of the names, the order the allowed list shows.
	if v, ok := r.Choice(SettingAcqFunc, "one of logei, ei, eips, gp_hedge, ucb, lcb, pi, pips", func(v string) bool {
		_, ok := acqFuncs[strings.ToLower(v)]
		return ok
	}); ok {
		s.acq = acqFuncs[strings.ToLower(v)]
	}
	r.Choice(SettingAcqOptimizer, "one of auto, lbfgs, sampling", func(v string) bool {
		switch strings.ToLower(v) {
		case "auto", "lbfgs", "sampling":
			return true
		}
		return false
	})
	r.Choice(SettingBaseEstimator, "GP (the only estimator implemented)", func(v string) bool { return strings.EqualFold(v, "GP") })
	if v, ok := r.Choice(SettingBatchStrategy, "one of kriging_believer, constant_liar_min, constant_liar_max, constant_liar_mean", func(v string) bool {
		switch BatchStrategy(v) {
		case KrigingBeliever, ConstantLiarMin, ConstantLiarMax, ConstantLiarMean:
			return true
		}
		return false
	}); ok {
		s.batch = BatchStrategy(v)
	}
	if k, ok := r.FloatAtLeast(SettingKappa, 0); ok {
		s.kappa = k
	}
	if n, ok := r.Int(SettingMaxObservations, minMaxObservations); ok {
		s.maxObs = n
	}
	if n, ok := r.Int(SettingNInitialPoints, 0); ok {
		s.nInitial = n
	}
	s.seed, s.hasSeed = r.Seed()
	if x, ok := r.FloatAtLeast(SettingXi, 0); ok {
		s.xi = x
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// acqFuncs maps the accepted acq_func values, lowercased, to the function
// used.
var acqFuncs = map[string]AcqFunc{
	"logei": LogEI, "ei": LogEI, "eips": LogEI, "gp_hedge": LogEI,
	"ucb": UCB, "lcb": UCB,
	"pi": LogPI, "logpi": LogPI, "pips": LogPI,
}

// Suggest returns req.N distinct assignments: points of the initial design
// while fewer than n_initial_points trials exist, then the maximisers of
// the acquisition function of a Gaussian process fitted to the completed
// trials, with pending trials and earlier points of the batch fantasised by
// the batch strategy. Model-based points are never in the history nor
// earlier in the batch unless the space has no other assignment left to
// find (then a prior draw, possibly a repeat, is returned; design points
// are not checked). It is a pure function of the seed, req.History and
// req.N. req.Settings is ignored: settings are read by [New].
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "bayes", req); err != nil {
		return nil, err
	}
	prior, err := random.NewPrior(req.Space)
	if err != nil {
		return nil, fmt.Errorf("bayes: %w", err)
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	r := rand.New(rand.NewPCG(seed, uint64(len(req.History))))
	enc := newEncoder(req.Space)
	seen := make(map[string]bool, len(req.History)+req.N)
	var xs [][]float64 // completed points
	var ys []float64   // their values, to be minimised
	var ks []int       // their indexes in the history
	var pending [][]float64
	for i, o := range req.History {
		seen[o.Assignment.Key()] = true
		if o.Status == suggest.Failed || o.Status == suggest.Abandoned {
			continue
		}
		x, err := enc.encode(o.Assignment)
		if err != nil {
			return nil, fmt.Errorf("bayes: trial %d: %w", i, err)
		}
		if o.Status == suggest.Completed && !math.IsNaN(o.Value) && !math.IsInf(o.Value, 0) {
			y := o.Value
			if req.Goal == suggest.Maximize {
				y = -y
			}
			xs, ys, ks = append(xs, x), append(ys, y), append(ks, i)
		} else if o.Status == suggest.Pending {
			pending = append(pending, x)
		}
	}
	out := make([]suggest.Assignment, 0, req.N)
	var m *model
	for i := range req.N {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var a suggest.Assignment
		switch k := len(req.History) + i; {
		case k < s.nInitial:
			a = design(req.Space, seed, s.nInitial, k)
		case len(xs) < 2:
			a = s.fromPrior(prior, r, seen)
		default:
			if m == nil {
				m, err = s.newModel(enc, r, xs, ys, ks, pending)
				if err != nil {
					return nil, err
				}
			}
			a = m.next(r, prior, seen, k)
		}
		seen[a.Key()] = true
		out = append(out, a)
		x, err := enc.encode(a)
		if err != nil {
			return nil, fmt.Errorf("bayes: %w", err)
		}
		if m != nil {
			if err := m.fantasize(x); err != nil {
				return nil, err
			}
		} else {
			pending = append(pending, x)
		}
	}
	return out, nil
}

// priorTries is how many prior draws are made to find an assignment not
// proposed before.
const priorTries = 64

// fromPrior draws an assignment from the declared distributions, avoiding
// ones already proposed when it can.
func (s *Suggester) fromPrior(prior *random.Prior, r *rand.Rand, seen map[string]bool) suggest.Assignment {
	var a suggest.Assignment
	for range priorTries {
		a = prior.Sample(r)
		if !seen[a.Key()] {
			break
		}
	}
	return a
}

// model is the fitted GP plus the state of the acquisition in one call.
type model struct {
	s    *Suggester
	enc  *encoder
	gp   *gp
	best float64     // incumbent, standardised
	liar float64     // constant-liar value, standardised
	top  [][]float64 // best training points, seeds of perturbed candidates
	buf  []float64   // prediction scratch
	// open are the categorical values still being explored on their own,
	// in the order of the space; see [openCategories].
	open []category
	// width is the half-width of the trust region around the incumbent
	// the acquisition is maximised in; see [regionWidth].
	width float64
}

// fitBudget returns how many L-BFGS starts and iterations fit the
// hyperparameters of a model of n points: more where fitting is cheap and
// the data few, fewer where each evaluation costs O(n³).
func fitBudget(n int) (starts, iters int) {
	switch {
	case n <= 40:
		return 3, 40
	case n <= 80:
		return 2, 30
	default:
		return 1, 30
	}
}

// newModel fits the GP on the completed points (or, beyond max_observations,
// on the best half of the budget plus the most recent) and fantasises the
// pending ones.
func (s *Suggester) newModel(enc *encoder, r *rand.Rand, xs [][]float64, ys []float64, ks []int, pending [][]float64) (*model, error) {
	if len(xs) > s.maxObs {
		idx := make([]int, len(xs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(ys[a], ys[b]) })
		keep := make([]bool, len(xs))
		for _, i := range idx[:s.maxObs/2] {
			keep[i] = true
		}
		for i, left := len(xs)-1, s.maxObs-s.maxObs/2; i >= 0 && left > 0; i-- {
			if !keep[i] {
				keep[i] = true
				left--
			}
		}
		var sx [][]float64
		var sy []float64
		var sk []int
		for i := range xs {
			if keep[i] {
				sx, sy, sk = append(sx, xs[i]), append(sy, ys[i]), append(sk, ks[i])
			}
		}
		xs, ys, ks = sx, sy, sk
	}
	w := warp(ys)
	mean, sd := meanStd(w)
	z := make([]float64, len(w))
	for i, y := range w {
		z[i] = (y - mean) / sd
	}
	g := &gp{dim: enc.dim, x: slices.Clone(xs), y: z}
	starts, iters := fitBudget(len(xs))
	if err := g.fit(r, starts, iters); err != nil {
		return nil, fmt.Errorf("bayes: fit: %w", err)
	}
	m := &model{s: s, enc: enc, gp: g, best: slices.Min(z)}
	switch s.batch {
	case ConstantLiarMin:
		m.liar = slices.Min(z)
	case ConstantLiarMax:
		m.liar = slices.Max(z)
	default:
		m.liar = 0 // the standardised mean
	}
	// The best training points seed local perturbations.
	idx := make([]int, len(z))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(z[a], z[b]) })
	for _, i := range idx[:min(topPoints, len(idx))] {
		m.top = append(m.top, xs[i])
	}
	m.open = openCategories(enc, xs, z, ks, s.nInitial)
	if slices.ContainsFunc(enc.space, func(p suggest.Param) bool { return p.Type == suggest.Categorical }) {
		m.width = regionWidth(z, enc.dim)
	} else {
		m.width = regionReplay(z, enc.dim, s.nInitial)
	}
	for _, x := range pending {
		if err := m.fantasize(x); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Category steps: every categoryPeriod-th proposal exploits one categorical
// value on its own, until that value's best stops improving.
const (
	// categoryPeriod is the spacing of category steps among proposals.
	categoryPeriod = 2
	// categoryPatience is how many of a value's trials made after the
	// initial design, following its last improvement, end its exploration.
	categoryPatience = 8
	// categoryGain is the share of the gap between a value's best and the
	// incumbent that a trial must close to count as an improvement.
	categoryGain = 0.25
	// categoryRegion is the half-width of a category step's box while
	// the value's best falls; it is halved after every categoryShrink of
	// its trials after the initial design that do not lower it.
	categoryRegion = 0.1
	categoryShrink = 2
)

// categoryStep reports whether proposal k of an experiment whose initial
// design has nInitial trials is a category step (when a value is open).
func categoryStep(k, nInitial int) bool {
	return k >= nInitial && k%categoryPeriod == categoryPeriod-1
}

// category is one value of one categorical parameter and what the
// completed trials say of it.
type category struct {
	param, value int         // indexes in the space and in its values
	best         float64     // best standardised value among its trials
	stale        int         // its trials after the design since its last gain
	flat         int         // its trials after the design since its best last fell
	top          [][]float64 // its best trials, seeds of perturbed candidates
}

// box returns the half-width of c's category-step box, in the unit cube:
// it narrows only while c's best stops falling, so that a value whose best
// falls by less than a gain each step keeps its stride down a slope.
func (c category) box() float64 {
	return categoryRegion / float64(int(1)<<(c.flat/categoryShrink))
}

// openCategories returns the categorical values to exploit on their own:
// those that are not the incumbent's and that have not had
// categoryPatience trials after the initial design (category steps and
// main steps alike) since their last improvement (a trial that closes
// categoryGain of the gap between the value's best before it and the
// incumbent). xs are in completion order, ks their
// proposal indexes, nInitial the size of the initial design. A value with
// no trial is open, with the overall best as its incumbent.
func openCategories(enc *encoder, xs [][]float64, z []float64, ks []int, nInitial int) []category {
	inc := argmin(z)
	var out []category
	for pi, p := range enc.space {
		if p.Type != suggest.Categorical {
			continue
		}
		c := enc.off[pi]
		for v := range len(p.Values) {
			if xs[inc][c+v] == 1 {
				continue
			}
			var idx []int
			for i, x := range xs {
				if x[c+v] == 1 {
					idx = append(idx, i)
				}
			}
			cat := category{param: pi, value: v, best: z[inc]}
			if len(idx) > 0 {
				gain, low := z[idx[0]], z[idx[0]]
				for _, i := range idx[1:] {
					designed := ks[i] < nInitial
					switch {
					case z[i] < gain-categoryGain*(gain-z[inc]):
						gain, cat.stale = z[i], 0
					case !designed:
						cat.stale++
					}
					switch {
					case z[i] < low:
						low, cat.flat = z[i], 0
					case !designed:
						cat.flat++
					}
				}
				if cat.stale >= categoryPatience {
					continue
				}
				slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(z[a], z[b]) })
				cat.best = z[idx[0]]
				for _, i := range idx[:min(topPoints, len(idx))] {
					cat.top = append(cat.top, xs[i])
				}
			}
			out = append(out, cat)
		}
	}
	return out
}

// cmpFloat orders floats ascending.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// warp returns log(1 + (y − min)/s) of the values, s being warpScale times
// the median of y − min, when their skewness is at least warpSkew, and a
// copy of them otherwise: an increasing transform that compresses the heavy upper tail of
// objectives such as Rosenbrock's, so that a few huge values do not
// dominate the standardisation, and magnifies differences near the best.
func warp(ys []float64) []float64 {
	if skewness(ys) < warpSkew {
		return slices.Clone(ys)
	}
	lo := slices.Min(ys)
	d := make([]float64, len(ys))
	for i, y := range ys {
		d[i] = y - lo
	}
	srt := slices.Sorted(slices.Values(d))
	s := srt[len(srt)/2] * warpScale
	if !(s > 0) || math.IsInf(s, 0) {
		return slices.Clone(ys)
	}
	for i := range d {
		d[i] = math.Log1p(d[i] / s)
	}
	return d
}

// skewness returns the sample skewness of v, 0 when v is constant.
func skewness(v []float64) float64 {
	mean, sd := meanStd(v)
	var m3 float64
	for _, x := range v {
		t := (x - mean) / sd
		m3 += t * t * t
	}
	return m3 / float64(len(v))
}

// meanStd returns the mean and the standard deviation of v, with a
// deviation of 1 when v is constant.
func meanStd(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / float64(len(v)))
	if !(sd > 1e-12) {
		sd = 1
	}
	return mean, sd
}

// fantasize adds x to the model with the batch strategy's value.
func (m *model) fantasize(x []float64) error {
	y := m.liar
	if m.s.batch == KrigingBeliever {
		mu, sd := []float64{0}, []float64{0}
		m.buf = m.gp.predict([][]float64{x}, mu, sd, m.buf)
		y = mu[0]
	}
	if err := m.gp.addPoint(x, y); err != nil {
		return fmt.Errorf("bayes: fantasy: %w", err)
	}
	return nil
}

// Sizes of the acquisition search.
const (
	uniformCandidates = 1000 // uniform random points of the trust region
	topPoints         = 5    // best training points to perturb
	perturbations     = 40   // perturbed copies of each
	perturbScale      = 0.05 // standard deviation of a perturbation
	polishStarts      = 3    // best candidates polished by L-BFGS
	polishIters       = 15   // L-BFGS iterations per polish
	fdStep            = 1e-5 // finite-difference step of the polish gradient
)

// scored is a candidate point and its acquisition value.
type scored struct {
	x     []float64
	value float64
}

// score returns the acquisition values of xs (higher is better) against
// the incumbent m.best.
func (m *model) score(xs [][]float64) []float64 {
	return m.scoreAgainst(xs, m.best)
}

// scoreAgainst returns the acquisition values of xs against the
// incumbent best (standardised).
func (m *model) scoreAgainst(xs [][]float64, best float64) []float64 {
	mu, sd := make([]float64, len(xs)), make([]float64, len(xs))
	m.buf = m.gp.predict(xs, mu, sd, m.buf)
	for i := range xs {
		switch m.s.acq {
		case UCB:
			mu[i] = ucb(mu[i], sd[i], m.s.kappa)
		case LogPI:
			mu[i] = logPI(mu[i], sd[i], best, m.s.xi)
		default:
			mu[i] = logEI(mu[i], sd[i], best, m.s.xi)
		}
	}
	return mu
}

// next returns proposal k of the experiment (counted from its first
// trial): the maximiser of the acquisition function among assignments not
// proposed before, found among [model.boxCandidates] of the trust region
// ([regionWidth]), the best of them polished by L-BFGS within it and
// snapped again, and the best of each categorical value
// ([model.everyCategory]). A proposal [categoryStep] says is instead a
// category step while some value is open ([openCategories]): [model.nextIn]
// for the open value [nextOpen] picks, so that a value whose good region is
// small is followed down its slope before the model writes it off.
func (m *model) next(r *rand.Rand, prior *random.Prior, seen map[string]bool, k int) suggest.Assignment {
	if len(m.open) > 0 && categoryStep(k, m.s.nInitial) {
		if a, ok := m.nextIn(r, seen, nextOpen(m.open, k)); ok {
			return a
		}
	}
	lo, hi := m.region(m.top[0], m.width)
	pool := m.polished(m.boxCandidates(r, lo, hi, m.top), nil, m.best, lo, hi)
	pool = append(pool, m.everyCategory(pool[:min(polishStarts, len(pool))], lo, hi)...)
	sortScored(pool)
	if a, ok := m.firstUnseen(pool, seen); ok {
		return a
	}
	return m.s.fromPrior(prior, r, seen)
}

// nextOpen returns the open value category step k exploits: one of those
// with the fewest trials since their last gain, taken in turn, so that a
// value still gaining is followed faster than one that stalls.
func nextOpen(open []category, k int) category {
	fewest := slices.MinFunc(open, func(a, b category) int { return a.stale - b.stale }).stale
	var fresh []category
	for _, c := range open {
		if c.stale == fewest {
			fresh = append(fresh, c)
		}
	}
	return fresh[(k/categoryPeriod)%len(fresh)]
}

// nextIn returns the maximiser of the acquisition function against c's
// best, among unseen assignments with c's value in c's box ([category.box])
// around its best trial (the incumbent when c has none), and false when it
// finds none. The acquisition is that of a GP with the model's
// hyperparameters conditioned on c's points alone ([gp.within]), when it has
// withinMin of them: the joint model's prediction for a value whose good
// region is small is drawn towards the other values' better trials.
func (m *model) nextIn(r *rand.Rand, seen map[string]bool, c category) (suggest.Assignment, bool) {
	col, k := m.enc.off[c.param], len(m.enc.space[c.param].Values)
	fixed := make([]bool, m.enc.dim)
	for l := range k {
		fixed[col+l] = true
	}
	top := c.top
	if len(top) == 0 {
		top = m.top
	}
	half := make([]float64, m.enc.dim)
	for j := range half {
		half[j] = c.box()
	}
	lo, hi := m.box(top[0], half)
	own, best := m, c.best
	if g, mean := m.gp.within(col + c.value); g != nil {
		own, best = &model{s: m.s, enc: m.enc, gp: g}, c.best-mean
	}
	cands := own.boxCandidates(r, lo, hi, top)
	for _, x := range cands {
		m.enc.setCategory(x, c.param, c.value)
	}
	return own.firstUnseen(own.polished(cands, fixed, best, lo, hi), seen)
}

// polished returns cands scored against the incumbent best, with the
// polishStarts best of them polished within [lo, hi] (the columns fixed
// says kept) and snapped, all sorted by decreasing value.
func (m *model) polished(cands [][]float64, fixed []bool, best float64, lo, hi []float64) []scored {
	values := m.scoreAgainst(cands, best)
	pool := make([]scored, len(cands))
	for i, x := range cands {
		pool[i] = scored{x, values[i]}
	}
	sortScored(pool)
	for _, c := range pool[:min(polishStarts, len(pool))] {
		x := m.polish(c.x, fixed, best, lo, hi)
		m.enc.snapInPlace(x)
		pool = append(pool, scored{x, m.scoreAgainst([][]float64{x}, best)[0]})
	}
	sortScored(pool)
	return pool
}

// boxCandidates returns the points the acquisition search starts from:
// uniform points of the box [lo, hi] and perturbations of top clamped to
// it, snapped to valid assignments.
func (m *model) boxCandidates(r *rand.Rand, lo, hi []float64, top [][]float64) [][]float64 {
	cands := make([][]float64, 0, uniformCandidates+len(top)*perturbations)
	for range uniformCandidates {
		x := make([]float64, m.enc.dim)
		for j := range x {
			x[j] = lo[j] + r.Float64()*(hi[j]-lo[j])
		}
		cands = append(cands, x)
	}
	for _, t := range top {
		for range perturbations {
			x := slices.Clone(t)
			for j := range x {
				x[j] = min(max(x[j]+perturbScale*r.NormFloat64(), lo[j]), hi[j])
			}
			cands = append(cands, x)
		}
	}
	for _, x := range cands {
		m.enc.snapInPlace(x)
	}
	return cands
}

// The trust region the acquisition is maximised in: a box around the
// incumbent, narrowed while the incumbent stays the best.
const (
	// regionStart is the half-width after an improvement (a space with a
	// categorical parameter) or after the initial design (one without).
	regionStart = 0.4
	// regionHalvings is how many times the half-width is halved, once
	// every max(4, dim) trials without improvement, before it starts
	// again at regionStart.
	regionHalvings = 5
	// regionMax is the widest half-width of a space without a categorical
	// parameter, reached by doubling.
	regionMax = 0.8
	// regionGains is how many trials in a row that improve on every
	// earlier one double the half-width of a space without a categorical
	// parameter.
	regionGains = 3
)

// regionWidth returns the trust region's half-width in a space with a
// categorical parameter, after the values z in completion order:
// regionStart halved once for every max(4, dim) trials completed since the
// best one, back to regionStart after regionHalvings halvings.
func regionWidth(z []float64, dim int) float64 {
	fails := len(z) - 1 - argmin(z)
	halvings := (fails / max(4, dim)) % (regionHalvings + 1)
	return regionStart / float64(int(1)<<halvings)
}

// regionReplay returns the trust region's half-width in a space without a
// categorical parameter: TuRBO's rule replayed over the values z in
// completion order after the first nInitial (at least one). It starts at
// regionStart; regionGains values in a row that improve on every earlier
// one double it, to at most regionMax; max(4, dim) in a row that do not
// halve it; a halving that takes it below regionHalvings halvings of
// regionStart sets it back to regionStart.
func regionReplay(z []float64, dim, nInitial int) float64 {
	start := min(max(nInitial, 1), len(z))
	w, best := regionStart, math.Inf(1)
	for _, v := range z[:start] {
		best = min(best, v)
	}
	gains, fails := 0, 0
	for _, v := range z[start:] {
		if v < best {
			best, gains, fails = v, gains+1, 0
		} else {
			gains, fails = 0, fails+1
		}
		if gains == regionGains {
			w, gains = min(2*w, regionMax), 0
		}
		if fails == max(4, dim) {
			w, fails = w/2, 0
			if w < regionStart/float64(int(1)<<regionHalvings) {
				w = regionStart
			}
		}
	}
	return w
}

// region returns the box around centre of half-width w·ℓ_j/ℓ̄ (at most
// ½) in each numeric coordinate j, ℓ̄ being the geometric mean of the
// length scales; see [model.box].
func (m *model) region(centre []float64, w float64) (lo, hi []float64) {
	var g float64
	for _, l := range m.gp.ls {
		g += math.Log(l)
	}
	g = math.Exp(g / float64(len(m.gp.ls)))
	half := make([]float64, len(centre))
	for j := range half {
		half[j] = min(w*m.gp.ls[j]/g, 0.5)
	}
	return m.box(centre, half)
}

// box returns the box around centre of half-width half[j] in each numeric
// coordinate j, clipped to the unit cube; categorical blocks are left
// whole, so every category stays reachable.
func (m *model) box(centre, half []float64) (lo, hi []float64) {
	lo, hi = make([]float64, len(centre)), make([]float64, len(centre))
	for j, c := range centre {
		lo[j], hi[j] = max(c-half[j], 0), min(c+half[j], 1)
	}
	for i, p := range m.enc.space {
		if p.Type == suggest.Categorical {
			for l := range len(p.Values) {
				lo[m.enc.off[i]+l], hi[m.enc.off[i]+l] = 0, 1
			}
		}
	}
	return lo, hi
}

// firstUnseen returns the assignment of the first candidate of pool with
// a value that was not proposed before, and false when there is none.
func (m *model) firstUnseen(pool []scored, seen map[string]bool) (suggest.Assignment, bool) {
	for _, c := range pool {
		if math.IsNaN(c.value) {
			continue
		}
		if a := m.enc.decode(c.x); !seen[a.Key()] {
			return a, true
		}
	}
	return nil, false
}

// sortScored sorts candidates by decreasing value, NaN last, stably.
func sortScored(p []scored) {
	slices.SortStableFunc(p, func(a, b scored) int {
		switch {
		case math.IsNaN(a.value):
			if math.IsNaN(b.value) {
				return 0
			}
			return 1
		case math.IsNaN(b.value):
			return -1
		}
		return cmpFloat(b.value, a.value)
	})
}

// everyCategory gives each value of each categorical parameter its best
// chance: for every such value, the best of starts moved to it (the other
// coordinates kept), polished with the categorical blocks fixed. The
// continuous optimiser alone reaches only the one-hot corners near its
// starts, which a category that looks poor at first never is.
func (m *model) everyCategory(starts []scored, lo, hi []float64) []scored {
	var out []scored
	fixed := make([]bool, m.enc.dim)
	categorical := false
	for i, p := range m.enc.space {
		if p.Type == suggest.Categorical {
			categorical = true
			for l := range len(p.Values) {
				fixed[m.enc.off[i]+l] = true
			}
		}
	}
	if !categorical || len(starts) == 0 {
		return nil
	}
	for i, p := range m.enc.space {
		if p.Type != suggest.Categorical {
			continue
		}
		for j := range len(p.Values) {
			var moved [][]float64
			for _, st := range starts {
				x := slices.Clone(st.x)
				m.enc.setCategory(x, i, j)
				moved = append(moved, x)
			}
			v := m.score(moved)
			best := 0
			for k := range moved {
				if v[k] > v[best] || math.IsNaN(v[best]) {
					best = k
				}
			}
			x := m.polish(moved[best], fixed, m.best, lo, hi)
			m.enc.snapInPlace(x)
			out = append(out, scored{moved[best], v[best]}, scored{x, m.score([][]float64{x})[0]})
		}
	}
	return out
}

// polish maximises the acquisition function from x0 over [0,1]^d with
// L-BFGS, clamping to the cube and using forward-difference gradients.
// The columns fixed says (nil: none) keep x0's values. The acquisition is
// taken against the incumbent best.
func (m *model) polish(x0 []float64, fixed []bool, best float64, lo, hi []float64) []float64 {
	d := len(x0)
	pts := make([][]float64, d+1)
	for i := range pts {
		pts[i] = make([]float64, d)
	}
	clamped := func(dst, x []float64) float64 {
		var pen float64
		for j, v := range x {
			if fixed != nil && fixed[j] {
				dst[j] = x0[j]
				continue
			}
			l, h := 0.0, 1.0
			if lo != nil {
				l, h = lo[j], hi[j]
			}
			dst[j] = min(max(v, l), h)
			pen += (v - dst[j]) * (v - dst[j])
		}
		return pen
	}
	f := func(x []float64) float64 {
		pen := clamped(pts[0], x)
		return -m.scoreAgainst(pts[:1], best)[0] + 100*pen
	}
	grad := func(g, x []float64) {
		clamped(pts[0], x)
		for j := range d {
			copy(pts[j+1], pts[0])
			h := fdStep
			up := 1.0
			if hi != nil {
				up = hi[j]
			}
			if pts[0][j]+h > up {
				h = -h
			}
			pts[j+1][j] += h
			g[j] = h // remember the step
		}
		v := m.scoreAgainst(pts, best)
		for j := range d {
			g[j] = -(v[j+1] - v[0]) / g[j]
			if fixed != nil && fixed[j] {
				g[j] = 0
				continue
			}
			g[j] += 200 * (x[j] - pts[0][j])
		}
	}
	settings := &optimize.Settings{
		MajorIterations:   polishIters,
		FuncEvaluations:   3 * polishIters,
		GradientThreshold: 1e-6,
		Converger:         &optimize.FunctionConverge{Relative: 1e-8, Iterations: 3},
	}
	res, err := optimize.Minimize(optimize.Problem{Func: f, Grad: grad}, slices.Clone(x0), settings, &optimize.LBFGS{})
	if res == nil || (err != nil && math.IsNaN(res.F)) {
		return slices.Clone(x0)
	}
	out := make([]float64, d)
	clamped(out, res.X)
	return out
}
