package cmaes

import (
	"cmp"
	"context"
	"fmt"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Names of the settings [New] accepts.
const (
	// SettingSigma is the initial step size σ in unit coordinates.
	SettingSigma = "sigma"
	// SettingRestartStrategy is the restart strategy: none, ipop or bipop.
	SettingRestartStrategy = "restart_strategy"
	// SettingRandomState fixes the seed, replacing [suggest.Request.Seed].
	SettingRandomState = "random_state"
	// SettingPopsize is the population size λ of the first run.
	SettingPopsize = "popsize"
	// SettingIncPopsize is the factor by which IPOP multiplies λ on restart.
	SettingIncPopsize = "inc_popsize"
)

// Restart strategies, the values of [SettingRestartStrategy].
const (
	// RestartNone never restarts: one run continues however it stalls.
	RestartNone = "none"
	// RestartIPOP restarts a stalled run with a population inc_popsize
	// times larger.
	RestartIPOP = "ipop"
	// RestartBIPOP alternates restarts with large populations (as IPOP)
	// and small ones, keeping the evaluations of both regimes balanced.
	RestartBIPOP = "bipop"
)

// Defaults of the settings.
const (
	// DefaultSigma is the initial σ: a sixth of each parameter's range, as
	// Optuna uses, and the deviation tune's normal priors have.
	DefaultSigma = 1.0 / 6
	// DefaultIncPopsize is the default growth factor of IPOP and BIPOP.
	DefaultIncPopsize = 2.0
)

// Stream tags keep the random streams of different purposes apart; see
// stream.
const (
	tagMember      = 0
	tagCategorical = 1
	tagRestart     = 2
)

// Suggester is the CMA-ES [suggest.Suggester]. It holds only its settings,
// rebuilds the search state from the history on every call and is safe for
// concurrent use.
type Suggester struct {
	sigma      float64
	restart    string
	seed       uint64
	hasSeed    bool
	popsize    int // 0 means 4 + ⌊3 ln n⌋
	incPopsize float64
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns a CMA-ES Suggester configured by Katib's algorithmSettings:
// sigma (a positive number, default [DefaultSigma]), restart_strategy
// ([RestartNone] (default), [RestartIPOP] or [RestartBIPOP]) and
// random_state (a non-negative integer), plus tune's own popsize (an
// integer ≥ 2, default 4 + ⌊3 ln n⌋ for n numeric parameters) and
// inc_popsize (a number > 1, default [DefaultIncPopsize]). Unknown or
// malformed settings are an error naming every problem. A nil map means
// no settings.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{sigma: DefaultSigma, restart: RestartNone, incPopsize: DefaultIncPopsize}
	r := suggest.ReadSettings("cmaes", settings)
	if f, ok := r.FloatAbove(SettingSigma, 0); ok {
		s.sigma = f
	}
	// Case-insensitive: Katib's own examples write "None" and "ipop".
	if v, ok := r.Choice(SettingRestartStrategy, "none, ipop or bipop", func(v string) bool {
		switch strings.ToLower(v) {
		case RestartNone, RestartIPOP, RestartBIPOP:
			return true
		}
		return false
	}); ok {
		s.restart = strings.ToLower(v)
	}
	s.seed, s.hasSeed = r.Seed()
	if n, ok := r.Int(SettingPopsize, 2); ok {
		s.popsize = n
	}
	if f, ok := r.FloatAbove(SettingIncPopsize, 1); ok {
		s.incPopsize = f
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// Suggest returns req.N assignments: the next unissued members of the
// current generation, as rebuilt by replaying req.History (see the package
// documentation). It is an error when req.Space has fewer than two numeric
// parameters, when N < 1 or when a trial of the history has a numeric
// value that cannot be read. req.Settings is ignored: settings are read by
// [New].
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "cmaes", req); err != nil {
		return nil, err
	}
	prior, err := random.NewPrior(req.Space)
	if err != nil {
		return nil, fmt.Errorf("cmaes: %w", err)
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	rp, err := s.replay(ctx, req, seed)
	if err != nil {
		return nil, err
	}
	out := make([]suggest.Assignment, req.N)
	issued := len(req.History) - rp.pos
	for i := range out {
		j := issued + i
		x := rp.st.sample(rand.New(rand.NewPCG(seed, stream(tagMember, rp.restart, rp.gen, j))))
		a := make(suggest.Assignment, len(req.Space))
		cr := rand.New(rand.NewPCG(seed, stream(tagCategorical, 0, 0, len(req.History)+i)))
		for k, p := range req.Space {
			if !p.Numeric() {
				a[p.Name] = prior.SampleParam(k, cr)
			}
		}
		for k, pi := range rp.dims {
			a[req.Space[pi].Name] = req.Space[pi].FromUnit(x[k])
		}
		out[i] = a
	}
	return out, nil
}

// replayed is the search state rebuilt from a history.
type replayed struct {
	st       *state
	dims     []int // indices of the numeric parameters in the space
	pos      int   // index in the history of the current generation's first trial
	gen      int   // generation number within the current run
	restart  int   // number of restarts so far
	popsizes []int // population size of each run, for tests
}

// replay rebuilds the CMA-ES state by walking the history generation by
// generation: each complete generation updates the distribution, and a
// stalled run restarts when a restart strategy is set.
func (s *Suggester) replay(ctx context.Context, req suggest.Request, seed uint64) (*replayed, error) {
	var dims []int
	for i, p := range req.Space {
		if p.Numeric() {
			dims = append(dims, i)
		}
	}
	n := len(dims)
	if n < 2 {
		return nil, fmt.Errorf("cmaes: need at least 2 numeric (double, int or discrete) parameters, got %d", n)
	}
	lambda0 := s.popsize
	if lambda0 == 0 {
		lambda0 = 4 + int(math.Floor(3*math.Log(float64(n))))
	}
	centre := make([]float64, n)
	for k, pi := range dims {
		centre[k] = priorCentre(req.Space[pi])
	}
	rp := &replayed{dims: dims, popsizes: []int{lambda0}}
	rp.st = newState(newParams(n, lambda0), centre, s.sigma)
	// BIPOP bookkeeping: evaluations spent in each regime and the largest
	// population used so far.
	var evalsLarge, evalsSmall int
	small := false
	lambdaLarge := lambda0

	x := make([]float64, n)
	type point struct {
		x []float64
		f float64
	}
	var done []point
	for {
		lambda := rp.st.p.lambda
		end := rp.pos + lambda
		if end > len(req.History) {
			break
		}
		gen := req.History[rp.pos:end]
		if slices.ContainsFunc(gen, func(o suggest.Observation) bool { return o.Status == suggest.Pending }) {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		done = done[:0]
		for t, o := range gen {
			if o.Status != suggest.Completed || math.IsNaN(o.Value) {
				continue
			}
			for k, pi := range dims {
				p := req.Space[pi]
				u, err := p.ToUnit(o.Assignment[p.Name])
				if err != nil {
					return nil, fmt.Errorf("cmaes: trial %d: %w", rp.pos+t, err)
				}
				x[k] = u
			}
			f := o.Value
			if req.Goal == suggest.Maximize {
				f = -f
			}
			done = append(done, point{x: slices.Clone(x), f: f})
		}
		rp.pos = end
		rp.gen++
		if small {
			evalsSmall += lambda
		} else {
			evalsLarge += lambda
		}
		if len(done) < rp.st.p.mu {
			// Too many failures to rank μ points: the generation is
			// dropped and the next one is drawn from the same distribution.
			continue
		}
		slices.SortStableFunc(done, func(a, b point) int { return cmp.Compare(a.f, b.f) })
		ranked := make([][]float64, len(done))
		for j := range ranked {
			ranked[j] = done[j].x
		}
		rp.st.update(ranked, done[0].f, done[len(done)-1].f-done[0].f)

		if s.restart == RestartNone || !rp.st.stalled() {
			continue
		}
		// Restart: a new run from a uniformly random mean.
		rp.restart++
		rp.gen = 0
		rr := rand.New(rand.NewPCG(seed, stream(tagRestart, rp.restart, 0, 0)))
		mean := make([]float64, n)
		for k := range mean {
			mean[k] = rr.Float64()
		}
		sigma := s.sigma
		var newLambda int
		switch {
		case s.restart == RestartIPOP:
			newLambda = int(float64(lambda0) * math.Pow(s.incPopsize, float64(rp.restart)))
		case evalsSmall < evalsLarge:
			// BIPOP small regime (Hansen 2009): λ between λ0 and half the
			// largest population, σ down to a hundredth of σ0.
			u1, u2 := rr.Float64(), rr.Float64()
			newLambda = int(float64(lambda0) * math.Pow(0.5*float64(lambdaLarge)/float64(lambda0), u1*u1))
			sigma *= math.Pow(10, -2*u2)
			small = true
		default:
			lambdaLarge = int(float64(lambdaLarge) * s.incPopsize)
			newLambda = lambdaLarge
			small = false
		}
		newLambda = max(newLambda, 2)
		rp.popsizes = append(rp.popsizes, newLambda)
		rp.st = newState(newParams(n, newLambda), mean, sigma)
	}
	return rp, nil
}

// priorCentre returns the unit coordinate of the centre of p's declared
// distribution: (Min+Max)/2 for uniform and normal, √(Min·Max) for the log
// distributions (the centre in log space), and the middle of the list for
// discrete parameters.
func priorCentre(p suggest.Param) float64 {
	if p.Type == suggest.Discrete {
		return 0.5
	}
	c := (p.Min + p.Max) / 2
	if p.Distribution == suggest.LogUniform || p.Distribution == suggest.LogNormal {
		c = math.Sqrt(p.Min * p.Max)
	}
	u, err := p.ToUnit(suggest.FormatFloat(c))
	if err != nil {
		return 0.5
	}
	return min(max(u, 0), 1)
}

// stream returns the PCG stream of one use of randomness: tag in the top
// two bits, then 14 bits of restart, 28 bits of generation and 20 bits of
// member index (the categorical tag uses all 62 low bits for the trial
// index). Fields wrap beyond their widths, which only a history of more
// than a million trials in one generation could reach.
func stream(tag, restart, gen, member int) uint64 {
	if tag == tagCategorical {
		return uint64(tag)<<62 | uint64(member)&(1<<62-1)
	}
	return uint64(tag)<<62 | (uint64(restart)&(1<<14-1))<<48 | (uint64(gen)&(1<<28-1))<<20 | uint64(member)&(1<<20-1)
}
