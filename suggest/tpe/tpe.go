package tpe

import (
	"context"
	"fmt"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"math"
	"math/rand/v2"
	"slices"
)

// SettingNStartupTrials is the name of the setting that sets how many
// completed trials are drawn from the prior before the model is used. The
// hyperopt spelling n_startup_jobs is accepted as an alias.
const SettingNStartupTrials = "n_startup_trials"

// SettingNEICandidates is the name of the setting that sets how many
// candidates are drawn from l(x) per suggestion. The hyperopt spelling
// n_EI_candidates, which Katib's hyperopt-based tpe service takes, is
// accepted as an alias.
const SettingNEICandidates = "n_ei_candidates"

// SettingGamma is the name of the setting that sets the fraction of
// completed trials forming the good group.
const SettingGamma = "gamma"

// SettingPriorWeight is the name of the setting that weights the prior
// component of the Parzen estimators.
const SettingPriorWeight = "prior_weight"

// SettingRandomState is the name of the setting that fixes the seed.
const SettingRandomState = "random_state"

// DefaultNStartupTrials is the default of n_startup_trials (Optuna's).
const DefaultNStartupTrials = 10

// DefaultNEICandidates is the default of n_ei_candidates (Optuna's).
const DefaultNEICandidates = 24

// DefaultPriorWeight is the default of prior_weight (Optuna's).
const DefaultPriorWeight = 1.0

// maxGoodDefault caps the default size of the good group (Optuna's
// default_gamma: min(ceil(0.1·n), 25)).
const maxGoodDefault = 25

// rampAfter is how many of the most recent observations of a group get full
// weight; older ones get linearly smaller weights (Optuna's
// default_weights).
const rampAfter = 25

// uniqueTries is how many prior draws Suggest makes to replace a candidate
// that repeats an earlier assignment before it gives up and returns it.
const uniqueTries = 100

// Suggester is the TPE [suggest.Suggester], univariate or multivariate. It
// holds no mutable state and is safe for concurrent use.
type Suggester struct {
	multivariate bool
	nStartup     int
	nCandidates  int
	gamma        float64 // 0 means Optuna's default
	priorWeight  float64
	seed         uint64
	hasSeed      bool
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns a TPE Suggester configured by Katib's algorithmSettings:
// Katib's "tpe" when multivariate is false, "multivariate-tpe" when true.
// The settings are
//
//   - n_startup_trials (alias n_startup_jobs): a non-negative integer,
//     default 10, the number of completed trials sampled from the prior
//     before the model is used;
//   - n_ei_candidates (alias n_EI_candidates): a positive integer, default
//     24, the number of candidates drawn from l(x) per suggestion;
//   - gamma: a number in (0, 1), the fraction of completed trials that form
//     the good group, ceil(gamma·n); when absent the good group has
//     min(ceil(0.1·n), 25) trials, as in Optuna;
//   - prior_weight: a positive number, default 1, the weight of the prior
//     component of each Parzen estimator against 1 per observation;
//   - random_state: a non-negative integer that replaces
//     [suggest.Request.Seed].
//
// Unknown settings, malformed values and a setting given under two names
// are errors, all reported at once. A nil map means no settings.
func New(settings map[string]string, multivariate bool) (*Suggester, error) {
	s := &Suggester{
		multivariate: multivariate,
		nStartup:     DefaultNStartupTrials,
		nCandidates:  DefaultNEICandidates,
		priorWeight:  DefaultPriorWeight,
	}
	r := suggest.ReadSettings("tpe", settings)
	r.Alias("n_EI_candidates", SettingNEICandidates)
	r.Alias("n_startup_jobs", SettingNStartupTrials)
	if n, ok := r.Int(SettingNStartupTrials, 0); ok {
		s.nStartup = n
	}
	if n, ok := r.Int(SettingNEICandidates, 1); ok {
		s.nCandidates = n
	}
	if g, ok := r.FloatBetween(SettingGamma, 0, 1); ok {
		s.gamma = g
	}
	if w, ok := r.FloatAbove(SettingPriorWeight, 0); ok {
		s.priorWeight = w
	}
	s.seed, s.hasSeed = r.Seed()
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// Suggest returns req.N assignments. The assignment at position i is trial
// number k = len(req.History)+i and is computed from the history plus the
// i earlier assignments of the batch, taken as pending, with the generator
// rand.New(rand.NewPCG(seed, k)); a batch therefore equals the same number
// of single suggestions whose results are appended to the history as
// pending. req.Settings is ignored: settings are read by [New].
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "tpe", req); err != nil {
		return nil, err
	}
	prior, err := random.NewPrior(req.Space)
	if err != nil {
		return nil, fmt.Errorf("tpe: %w", err)
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	dims := make([]dim, len(req.Space))
	for j, p := range req.Space {
		dims[j] = newDim(p)
	}
	h := newHistory(dims, req.History)
	out := make([]suggest.Assignment, 0, req.N)
	for i := range req.N {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := rand.New(rand.NewPCG(seed, uint64(len(req.History)+i)))
		a := s.next(r, prior, dims, h, req.Goal)
		out = append(out, a)
		h.addPending(a)
	}
	return out, nil
}

// next proposes one assignment given the history h.
func (s *Suggester) next(r *rand.Rand, prior *random.Prior, dims []dim, h *history, goal suggest.Goal) suggest.Assignment {
	if len(h.completed) < max(s.nStartup, 1) {
		return h.unique(prior.Sample(r), r, prior)
	}
	good, bad := h.split(goal, s.nGood(len(h.completed)))
	l := newEstimator(dims, good.xs, good.ws, s.priorWeight, s.multivariate)
	g := newEstimator(dims, bad.xs, bad.ws, s.priorWeight, s.multivariate)
	var cands [][]float64
	if s.multivariate {
		cands = s.multivariateCandidates(r, l, g)
	} else {
		cands = s.univariateCandidates(r, l, g)
	}
	for _, x := range cands {
		a := make(suggest.Assignment, len(dims))
		for j := range dims {
			a[dims[j].param.Name] = dims[j].value(x[j])
		}
		if !h.seen[a.Key()] {
			return a
		}
	}
	// Every candidate repeats an earlier trial: fall back on the prior.
	a := make(suggest.Assignment, len(dims))
	x := cands[0]
	for j := range dims {
		a[dims[j].param.Name] = dims[j].value(x[j])
	}
	return h.unique(a, r, prior)
}

// nGood returns the size of the good group among n completed trials.
func (s *Suggester) nGood(n int) int {
	if s.gamma > 0 {
		return max(1, min(n, int(math.Ceil(s.gamma*float64(n)))))
	}
	return max(1, min(n, int(math.Ceil(0.1*float64(n))), maxGoodDefault))
}

// univariateCandidates draws nCandidates values of every dimension from
// l's mixture for that dimension and returns candidate points ordered from
// best to worst: the first takes, in every dimension, the value maximising
// the score ratio l̃(x)/g̃(x) there; the others are the drawn points in decreasing order of
// their summed log ratios, as fallbacks should the first repeat a trial.
func (s *Suggester) univariateCandidates(r *rand.Rand, l, g *estimator) [][]float64 {
	nd := len(l.dims)
	pts := make([][]float64, s.nCandidates)
	for c := range pts {
		pts[c] = make([]float64, nd)
	}
	scores := make([]float64, s.nCandidates)
	best := make([]float64, nd)
	bufL := make([]float64, len(l.logW))
	bufG := make([]float64, len(g.logW))
	for j := range nd {
		bestScore := math.Inf(-1)
		for c := range pts {
			x := l.sampleKernel(r, j, l.pick(r))
			pts[c][j] = x
			sc := l.logDim(j, x, bufL, true) - g.logDim(j, x, bufG, true)
			if math.IsNaN(sc) {
				sc = math.Inf(-1)
			}
			scores[c] += sc
			if c == 0 || sc > bestScore {
				bestScore, best[j] = sc, x
			}
		}
	}
	return append([][]float64{best}, byScore(pts, scores)...)
}

// multivariateCandidates draws nCandidates points from l's joint mixture
// (one kernel for all dimensions) and returns them ordered by decreasing
// joint score log l̃(x) − log g̃(x).
func (s *Suggester) multivariateCandidates(r *rand.Rand, l, g *estimator) [][]float64 {
	nd := len(l.dims)
	pts := make([][]float64, s.nCandidates)
	scores := make([]float64, s.nCandidates)
	bufL := make([]float64, len(l.logW))
	bufG := make([]float64, len(g.logW))
	for c := range pts {
		x := make([]float64, nd)
		k := l.pick(r)
		for j := range nd {
			x[j] = l.sampleKernel(r, j, k)
		}
		pts[c] = x
		scores[c] = l.logJoint(x, bufL, true) - g.logJoint(x, bufG, true)
		if math.IsNaN(scores[c]) {
			scores[c] = math.Inf(-1)
		}
	}
	return byScore(pts, scores)
}

// byScore returns pts sorted by decreasing score, ties kept in draw order.
func byScore(pts [][]float64, scores []float64) [][]float64 {
	order := make([]int, len(pts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	out := make([][]float64, len(pts))
	for i, o := range order {
		out[i] = pts[o]
	}
	return out
}
