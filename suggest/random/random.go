package random

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tune-hpo/tune/suggest"
)

// SettingRandomState is the name of the setting that fixes the seed.
const SettingRandomState = suggest.SettingRandomState

// normalTries is how many draws a truncated normal makes before it clamps.
const normalTries = 100

// Suggester is the random-search [suggest.Suggester]. It holds no mutable
// state and is safe for concurrent use.
type Suggester struct {
	seed    uint64
	hasSeed bool
}

var _ suggest.LengthOnly = (*Suggester)(nil)

// New returns a random-search Suggester configured by Katib's
// algorithmSettings. The only accepted setting is random_state, a
// non-negative integer that, when present, replaces [suggest.Request.Seed].
// Unknown settings are an error. A nil map means no settings.
func New(settings map[string]string) (*Suggester, error) {
	seed, ok, err := suggest.SeedOnly("random", settings)
	if err != nil {
		return nil, err
	}
	return &Suggester{seed: seed, hasSeed: ok}, nil
}

// HistoryLengthOnly implements [suggest.LengthOnly]: it returns true, as
// Suggest looks at the history only for its length.
func (s *Suggester) HistoryLengthOnly() bool { return true }

// Suggest returns exactly req.N assignments drawn at random from req.Space.
// The assignment at position i is trial number len(req.History)+i of the
// experiment and depends only on the seed and that number; see the package
// documentation. req.Settings is ignored: settings are read by [New].
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "random", req); err != nil {
		return nil, err
	}
	prior, err := NewPrior(req.Space)
	if err != nil {
		return nil, err
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	out := make([]suggest.Assignment, req.N)
	first := uint64(len(req.History))
	for i := range out {
		out[i] = prior.Sample(rand.New(rand.NewPCG(seed, first+uint64(i))))
	}
	return out, nil
}

// Prior draws from a search space's declared distributions: each
// parameter's distribution (uniform, logUniform, normal, logNormal),
// bounds, step and list, exactly as random search does. Model-based
// algorithms use it for their initial points and for parameters their model
// does not cover, so every algorithm honours the declared distributions the
// same way. A Prior is immutable and safe for concurrent use.
type Prior struct {
	samplers []sampler
}

// NewPrior validates space and returns its Prior.
func NewPrior(space suggest.Space) (*Prior, error) {
	samplers, err := compile(space)
	if err != nil {
		return nil, err
	}
	return &Prior{samplers: samplers}, nil
}

// Sample draws one assignment of every parameter, consuming r's randomness
// in the order of the space.
func (p *Prior) Sample(r *rand.Rand) suggest.Assignment {
	a := make(suggest.Assignment, len(p.samplers))
	for _, smp := range p.samplers {
		a[smp.name] = smp.sample(r)
	}
	return a
}

// SampleParam draws a value of the i-th parameter of the space.
func (p *Prior) SampleParam(i int, r *rand.Rand) string {
	return p.samplers[i].sample(r)
}

// sampler draws one parameter's value.
type sampler struct {
	name   string
	sample func(r *rand.Rand) string
}

// compile validates the space and builds one sampler per parameter, in the
// order of the space, which fixes the order in which they consume randomness.
func compile(space suggest.Space) ([]sampler, error) {
	if len(space) == 0 {
		return nil, errors.New("random: empty search space")
	}
	if err := space.Validate(); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	samplers := make([]sampler, len(space))
	for i, p := range space {
		f, err := compileParam(p)
		if err != nil {
			return nil, fmt.Errorf("random: %w", err)
		}
		samplers[i] = sampler{name: p.Name, sample: f}
	}
	return samplers, nil
}

// compileParam builds the sampler of one parameter.
func compileParam(p suggest.Param) (func(*rand.Rand) string, error) {
	switch p.Type {
	case suggest.Discrete, suggest.Categorical:
		values := p.Values
		return func(r *rand.Rand) string { return values[r.IntN(len(values))] }, nil
	}
	switch p.Distribution {
	case "", suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal:
	default:
		return nil, fmt.Errorf("parameter %q: unknown distribution %q", p.Name, p.Distribution)
	}
	if math.IsNaN(p.Min) || math.IsInf(p.Min, 0) || math.IsNaN(p.Max) || math.IsInf(p.Max, 0) {
		return nil, fmt.Errorf("parameter %q: bounds [%v, %v] are not finite", p.Name, p.Min, p.Max)
	}
	if p.Type == suggest.Int {
		lo, _, step, n, err := suggest.IntRange(p)
		if err != nil {
			return nil, err
		}
		pick := stepped(p, float64(lo), float64(step), n)
		return func(r *rand.Rand) string { return suggest.FormatInt(lo + pick(r)*step) }, nil
	}
	if p.Step > 0 {
		n, err := suggest.StepCount(p.Min, p.Max, p.Step)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		pick := stepped(p, p.Min, p.Step, n)
		return func(r *rand.Rand) string {
			return suggest.FormatFloat(suggest.StepValue(p.Min, p.Max, p.Step, pick(r)))
		}, nil
	}
	draw := continuous(p.Distribution, p.Min, p.Max, p.Min, p.Max)
	return func(r *rand.Rand) string { return suggest.FormatFloat(draw(r)) }, nil
}

// stepped returns a function that picks the index k of one of the n values
// lo + k·step of p. Uniform picks each index with equal probability; other
// distributions draw a continuous value on the values' range widened by half
// a step on each side (not below lo for log distributions) and round it.
func stepped(p suggest.Param, lo, step float64, n int64) func(*rand.Rand) int64 {
	if p.Distribution == "" || p.Distribution == suggest.Uniform {
		return func(r *rand.Rand) int64 { return r.Int64N(n) }
	}
	half := step / 2
	a, b := lo-half, lo+float64(n-1)*step+half
	if (p.Distribution == suggest.LogUniform || p.Distribution == suggest.LogNormal) && a <= 0 {
		a = lo
	}
	draw := continuous(p.Distribution, p.Min, p.Max, a, b)
	return func(r *rand.Rand) int64 {
		k := int64(math.Round((draw(r) - lo) / step))
		return min(max(k, 0), n-1)
	}
}

// continuous returns a function that draws from dist on [a, b]. Normal
// distributions take their mean and deviation from the declared bounds
// [pmin, pmax] (in log space for logNormal) and are truncated to [a, b].
// Log distributions need a > 0.
func continuous(dist suggest.Distribution, pmin, pmax, a, b float64) func(*rand.Rand) float64 {
	switch dist {
	case suggest.LogUniform:
		la, lb := math.Log(a), math.Log(b)
		return func(r *rand.Rand) float64 {
			return clamp(math.Exp(la+r.Float64()*(lb-la)), a, b)
		}
	case suggest.Normal:
		mu, sigma := (pmin+pmax)/2, (pmax-pmin)/6
		return func(r *rand.Rand) float64 { return truncNormal(r, mu, sigma, a, b) }
	case suggest.LogNormal:
		lmin, lmax := math.Log(pmin), math.Log(pmax)
		mu, sigma := (lmin+lmax)/2, (lmax-lmin)/6
		la, lb := math.Log(a), math.Log(b)
		return func(r *rand.Rand) float64 {
			return clamp(math.Exp(truncNormal(r, mu, sigma, la, lb)), a, b)
		}
	default:
		return func(r *rand.Rand) float64 { return clamp(a+r.Float64()*(b-a), a, b) }
	}
}

// truncNormal draws from the normal distribution N(mu, sigma²) until a value
// falls in [a, b], and clamps the last draw if none did in normalTries tries.
func truncNormal(r *rand.Rand, mu, sigma, a, b float64) float64 {
	var x float64
	for range normalTries {
		x = mu + sigma*r.NormFloat64()
		if a <= x && x <= b {
			return x
		}
	}
	return clamp(x, a, b)
}

// clamp limits x to [a, b].
func clamp(x, a, b float64) float64 {
	return min(max(x, a), b)
}
