package sobol

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// SettingRandomState is the name of the setting that fixes the seed.
const SettingRandomState = suggest.SettingRandomState

// Suggester is the Sobol quasi-random [suggest.Suggester]. It holds no
// mutable state and is safe for concurrent use.
type Suggester struct {
	seed    uint64
	hasSeed bool
}

var _ suggest.LengthOnly = (*Suggester)(nil)

// New returns a Sobol Suggester configured by Katib's algorithmSettings.
// The only accepted setting is random_state, a non-negative integer that,
// when present, replaces [suggest.Request.Seed] as the scrambling seed.
// Unknown settings are an error. A nil map means no settings.
func New(settings map[string]string) (*Suggester, error) {
	seed, ok, err := suggest.SeedOnly("sobol", settings)
	if err != nil {
		return nil, err
	}
	return &Suggester{seed: seed, hasSeed: ok}, nil
}

// HistoryLengthOnly implements [suggest.LengthOnly]: it returns true, as
// Suggest looks at the history only for its length.
func (s *Suggester) HistoryLengthOnly() bool { return true }

// Suggest returns req.N assignments: trial k of the experiment (k =
// len(req.History)+i for the i-th assignment) gets point k+1 of the Sobol
// sequence of dimension len(req.Space) scrambled by the seed, mapped to the
// space as the package documentation describes. Objective values are not
// looked at. req.Settings is ignored: settings are read by [New]. It
// returns [suggest.ErrExhausted] after 2^32−1 trials, when the sequence
// would repeat.
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "sobol", req); err != nil {
		return nil, err
	}
	mappers, err := compile(req.Space)
	if err != nil {
		return nil, err
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	seq, err := NewSequence(len(req.Space), seed)
	if err != nil {
		return nil, err
	}
	first := uint64(len(req.History)) + 1
	const period = 1 << bitsPerCoord
	if first >= period {
		return nil, suggest.ErrExhausted
	}
	n := min(uint64(req.N), period-first)
	out := make([]suggest.Assignment, n)
	u := make([]float64, len(req.Space))
	for i := range out {
		seq.Point(first+uint64(i), u)
		a := make(suggest.Assignment, len(mappers))
		for j, p := range req.Space {
			a[p.Name] = mappers[j](u[j])
		}
		out[i] = a
	}
	return out, nil
}

// compile validates space and returns, for each parameter, the function
// that maps its coordinate in [0, 1) to a value.
func compile(space suggest.Space) ([]func(float64) string, error) {
	if len(space) == 0 {
		return nil, errors.New("sobol: empty search space")
	}
	if len(space) > MaxDims {
		return nil, fmt.Errorf("sobol: %d parameters, at most %d supported", len(space), MaxDims)
	}
	if err := space.Validate(); err != nil {
		return nil, fmt.Errorf("sobol: %w", err)
	}
	out := make([]func(float64) string, len(space))
	for i, p := range space {
		f, err := compileParam(p)
		if err != nil {
			return nil, fmt.Errorf("sobol: %w", err)
		}
		out[i] = f
	}
	return out, nil
}

// compileParam returns the coordinate-to-value map of one parameter.
func compileParam(p suggest.Param) (func(float64) string, error) {
	switch p.Type {
	case suggest.Categorical:
		values := p.Values
		return func(u float64) string {
			return values[min(int(u*float64(len(values))), len(values)-1)]
		}, nil
	case suggest.Discrete:
		return p.FromUnit, nil
	}
	if math.IsNaN(p.Min) || math.IsInf(p.Min, 0) || math.IsNaN(p.Max) || math.IsInf(p.Max, 0) {
		return nil, fmt.Errorf("parameter %q: bounds [%v, %v] are not finite", p.Name, p.Min, p.Max)
	}
	// Check what FromUnit would silently work around.
	switch {
	case p.Type == suggest.Int:
		if _, _, _, _, err := suggest.IntRange(p); err != nil {
			return nil, err
		}
	case p.Step > 0:
		if _, err := suggest.StepCount(p.Min, p.Max, p.Step); err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
	}
	switch p.Distribution {
	case "", suggest.Uniform, suggest.LogUniform:
		return p.FromUnit, nil
	case suggest.Normal, suggest.LogNormal:
		return normalMap(p), nil
	default:
		return nil, fmt.Errorf("parameter %q: unknown distribution %q", p.Name, p.Distribution)
	}
}

// normalMap returns the coordinate-to-value map of a double or int
// parameter with a normal or logNormal distribution: the inverse CDF of the
// distribution random search draws from (mean at the middle of the bounds,
// bounds three deviations away, in log space for logNormal, truncated to
// the bounds, widened by half a step for stepped parameters), followed by
// rounding to the step. The parameter must have been validated.
func normalMap(p suggest.Param) func(float64) string {
	logScale := p.Distribution == suggest.LogNormal
	// a, b: the truncation interval, in linear space; lo, step, n: the
	// stepped values, n = 0 when continuous.
	a, b := p.Min, p.Max
	var lo, step float64
	var n int64
	switch {
	case p.Type == suggest.Int:
		ilo, _, istep, count, _ := suggest.IntRange(p)
		lo, step, n = float64(ilo), float64(istep), count
	case p.Step > 0:
		count, _ := suggest.StepCount(p.Min, p.Max, p.Step)
		lo, step, n = p.Min, p.Step, count
	}
	if n > 0 {
		a, b = lo-step/2, lo+float64(n-1)*step+step/2
		if logScale && a <= 0 {
			a = lo
		}
	}
	fwd, inv := func(x float64) float64 { return x }, func(x float64) float64 { return x }
	if logScale {
		fwd, inv = math.Log, math.Exp
	}
	mu := (fwd(p.Min) + fwd(p.Max)) / 2
	sigma := (fwd(p.Max) - fwd(p.Min)) / 6
	la, lb := fwd(a), fwd(b)
	var pa, pb float64
	if sigma > 0 {
		pa, pb = normalCDF((la-mu)/sigma), normalCDF((lb-mu)/sigma)
	}
	return func(u float64) string {
		x := mu
		if sigma > 0 {
			x = mu + sigma*normalQuantile(pa+u*(pb-pa))
		}
		x = min(max(inv(x), a), b)
		if n == 0 {
			// Twelve significant digits, as [suggest.Param.FromUnit] writes.
			x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
			return suggest.FormatFloat(min(max(x, p.Min), p.Max))
		}
		k := min(max(int64(math.Round((x-lo)/step)), 0), n-1)
		if p.Type == suggest.Int {
			return suggest.FormatInt(int64(lo) + k*int64(step))
		}
		return suggest.FormatFloat(suggest.StepValue(p.Min, p.Max, p.Step, k))
	}
}

// normalCDF is the standard normal distribution function Φ.
func normalCDF(z float64) float64 {
	return math.Erfc(-z/math.Sqrt2) / 2
}

// normalQuantile is Φ⁻¹, computed from the tail nearer to q for accuracy;
// q is clamped to the open interval (0, 1).
func normalQuantile(q float64) float64 {
	const tiny = 1e-300
	q = min(max(q, tiny), 1-1e-16)
	if q < 0.5 {
		return -math.Sqrt2 * math.Erfcinv(2*q)
	}
	return math.Sqrt2 * math.Erfcinv(2*(1-q))
}
