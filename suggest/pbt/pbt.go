// Package pbt implements population-based training (Jaderberg et al.,
// "Population Based Training of Neural Networks", 2017), Katib's
// algorithmName "pbt".
//
// A population of n_population members trains in generations. Generation 0
// is n_population configurations drawn from the search space. When every
// member of generation g has finished, generation g+1 is made from it, one
// trial per member, in member order:
//
//   - a member whose trial failed, or that ranks in the bottom
//     ⌊n_population·truncation_threshold⌋ of the finished ones, exploits:
//     its new trial continues from a member drawn uniformly from the top
//     max(1, ⌊n_population·truncation_threshold⌋) (that member's trial is
//     its parent: the trial starts from a copy of the parent's checkpoint
//     directory), with the parent's hyperparameters, explored;
//   - every other member continues from its own trial (its own trial is
//     the parent), with its own hyperparameters, explored.
//
// Explore is Katib's: without resample_probability each parameter is
// perturbed (a double or int multiplied by 0.8 or 1.2, then kept in its
// bounds and on its step, an int moved by at least one step; a discrete or
// categorical value replaced by its neighbour in the list, wrapping
// around); with resample_probability each parameter is, with that
// probability, drawn again from its distribution, and otherwise kept.
// When no member of a generation finished, the next generation is drawn
// afresh, without parents.
//
// # Lineage
//
// Each assignment holds, besides the parameters, two values that
// trialTemplate.trialParameters may reference and that are stored with the
// trial's parameters: [Generation] (0, 1, …) and [Parent] (the parent
// trial's name, "" in generation 0). They carry Katib's label names,
// which Katib sets on its PBT trials.
//
// # Settings
//
//   - suggestion_trial_dir (required): the path at which each trial finds
//     its checkpoint directory (Katib mounts the trial's directory of the
//     suggestion's volume there); the runner, not this package, prepares
//     it;
//   - n_population (required): the population size, an integer from 5 to
//     10,000 (the upper bound is tune's);
//   - truncation_threshold (required): the fraction of the population that
//     exploits, between 0 and 1 inclusive;
//   - resample_probability: between 0 and 1 inclusive; see explore above;
//   - random_state: seeds the draws (default: the experiment's seed).
//
// # State
//
// Like every tune algorithm it is stateless: each call replays the
// generations from the history. Generation 0 and each later generation are
// a function of the seed and of the results of the generation before, so
// the planned trials of a generation are known before any of them runs; a
// planned trial is done when the history holds a trial with its assignment
// (parameters, generation and parent) that was not abandoned. A resumed
// experiment thus continues the same generation with the same parents, and
// a trial abandoned by a stopped runner is suggested again. Suggest returns
// the planned trials of the current generation that are not in the history
// yet, and [suggest.ErrWait] while the generation's trials run; it never
// returns [suggest.ErrExhausted]: the experiment's trial budget ends it.
//
// # Cost
//
// A call replays every generation, in time and memory linear in the
// history: about 0.1 s and 30 MB after 10,000 trials of 20 parameters
// (docs/performance.md).
package pbt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// The names of the lineage values each assignment holds besides the
// parameters: Katib's labels of a PBT trial.
const (
	// Generation is the trial's generation, "0", "1", ….
	Generation = "pbt.suggestion.katib.kubeflow.org/generation"
	// Parent is the name of the trial whose checkpoint the trial starts
	// from; "" in generation 0 and in a generation drawn afresh.
	Parent = "pbt.suggestion.katib.kubeflow.org/parent"
)

// maxPopulation is the largest n_population accepted (tune's limit; Katib
// has none): each call replays every generation.
const maxPopulation = 10000

// SettingTrialDir is the setting naming where a trial finds its checkpoint
// directory.
const SettingTrialDir = "suggestion_trial_dir"

// Suggester is population-based training; see the package documentation.
type Suggester struct {
	trialDir   string
	population int
	truncation float64
	resample   float64 // NaN: perturb
	seed       uint64
	hasSeed    bool
}

var _ suggest.Suggester = (*Suggester)(nil)

// New reads PBT's settings; see the package documentation. Unknown
// settings, missing required ones and invalid values are errors naming the
// setting.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{resample: math.NaN()}
	r := suggest.ReadSettings("pbt", settings)
	s.trialDir, _ = r.String(SettingTrialDir)
	r.Require(SettingTrialDir, "the path at which each trial finds its checkpoint directory, such as /var/log/katib/checkpoints/")
	if n, ok := r.Int("n_population", 5); ok {
		if n > maxPopulation {
			r.Errorf("n_population %d: want at most %d", n, maxPopulation)
		}
		s.population = n
	}
	r.Require("n_population", "the population size, an integer ≥ 5")
	unit := func(v string) bool {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= 0 && f <= 1
	}
	if v, ok := r.Choice("truncation_threshold", "a number between 0 and 1, inclusive", unit); ok {
		s.truncation, _ = strconv.ParseFloat(v, 64)
	}
	r.Require("truncation_threshold", "the fraction of the population that exploits the top, between 0 and 1")
	if v, ok := r.Choice("resample_probability", "a number between 0 and 1, inclusive", unit); ok {
		s.resample, _ = strconv.ParseFloat(v, 64)
	}
	s.seed, s.hasSeed = r.Seed()
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// TrialDir returns the suggestion_trial_dir setting.
func (s *Suggester) TrialDir() string { return s.trialDir }

// member is one planned trial of a generation and, once matched, the
// trial of the history that ran it.
type member struct {
	a     suggest.Assignment
	key   string
	index int // in the history; -1 when not there yet
}

// Suggest returns up to req.N trials of the current generation not yet in
// req.History, in member order, with [suggest.ErrWait] when they are fewer
// than req.N (the next generation needs this one's results).
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "pbt", req); err != nil {
		return nil, err
	}
	prior, err := random.NewPrior(req.Space)
	if err != nil {
		return nil, fmt.Errorf("pbt: %w", err)
	}
	seed := req.PickSeed(s.seed, s.hasSeed)

	// Trials of the history that may run a planned trial, by key, in
	// history order; abandoned ones never do.
	kr := newKeyer(req.Space)
	byKey := map[string][]int{}
	for i, o := range req.History {
		if o.Status == suggest.Abandoned {
			continue
		}
		k := kr.key(o.Assignment)
		byKey[k] = append(byKey[k], i)
	}

	gen := s.first(kr, prior, seed)
	for g := 0; ; g++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var missing []suggest.Assignment
		running := false
		for i := range gen {
			m := &gen[i]
			if idx := byKey[m.key]; len(idx) > 0 {
				m.index, byKey[m.key] = idx[0], idx[1:]
				if req.History[m.index].Status == suggest.Pending {
					running = true
				}
				continue
			}
			missing = append(missing, m.a)
		}
		if len(missing) > 0 || running {
			if len(missing) >= req.N {
				return missing[:req.N], nil
			}
			return missing, suggest.ErrWait
		}
		gen = s.next(kr, gen, g+1, req, prior, seed)
	}
}

// first returns generation 0: n_population draws from the prior.
func (s *Suggester) first(kr *keyer, prior *random.Prior, seed uint64) []member {
	r := rand.New(rand.NewPCG(seed, 0))
	out := make([]member, s.population)
	for i := range out {
		out[i] = kr.plan(prior.Sample(r), 0, "")
	}
	return out
}

// plan returns the planned trial with parameters a in generation g whose
// parent is the trial named parent.
func (kr *keyer) plan(a suggest.Assignment, g int, parent string) member {
	a[Generation] = strconv.Itoa(g)
	a[Parent] = parent
	return member{a: a, key: kr.key(a), index: -1}
}

// keyer computes [suggest.Assignment.Key] of the assignments of one
// space. Every planned trial, and every trial of the history that may be
// one, holds the same names: the parameters plus [Generation] and
// [Parent]. Sorting them once instead of once per assignment halves the
// cost of a call after thousands of trials.
type keyer struct {
	names []string // sorted; nil when a parameter is named like a lineage value
	buf   []byte
}

func newKeyer(space suggest.Space) *keyer {
	names := []string{Generation, Parent}
	for _, p := range space {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		names = nil
	}
	return &keyer{names: names}
}

// key returns a.Key().
func (kr *keyer) key(a suggest.Assignment) string {
	if kr.names == nil || len(a) != len(kr.names) {
		return a.Key()
	}
	b := kr.buf[:0]
	for _, name := range kr.names {
		v, ok := a[name]
		if !ok {
			return a.Key()
		}
		b = suggest.AppendKeyPair(b, name, v)
	}
	kr.buf = b
	return string(b)
}

// next returns generation g made from prev, whose every member has a
// finished trial in req.History.
func (s *Suggester) next(kr *keyer, prev []member, g int, req suggest.Request, prior *random.Prior, seed uint64) []member {
	r := rand.New(rand.NewPCG(seed, uint64(g)))
	ranked := make([]int, 0, len(prev)) // members with a value, best first
	for i, m := range prev {
		if o := req.History[m.index]; o.Status == suggest.Completed && !math.IsNaN(o.Value) {
			ranked = append(ranked, i)
		}
	}
	out := make([]member, len(prev))
	if len(ranked) == 0 {
		for i := range out {
			out[i] = kr.plan(prior.Sample(r), g, "")
		}
		return out
	}
	value := func(i int) float64 { return req.History[prev[i].index].Value }
	slices.SortStableFunc(ranked, func(a, b int) int {
		switch {
		case req.Goal.Better(value(a), value(b)):
			return -1
		case req.Goal.Better(value(b), value(a)):
			return 1
		}
		return 0
	})
	cut := int(math.Floor(float64(len(prev))*s.truncation + 1e-9))
	top := ranked[:min(max(1, cut), len(ranked))]
	exploit := make([]bool, len(prev))
	for i := range exploit {
		exploit[i] = true // failed members exploit
	}
	for _, i := range ranked[:max(0, len(ranked)-cut)] {
		exploit[i] = false
	}
	for i := range prev {
		from := i
		if exploit[i] {
			from = top[r.IntN(len(top))]
		}
		a := s.explore(req.Space, prior, req.History[prev[from].index].Assignment, r)
		out[i] = kr.plan(a, g, name(req.History, prev[from].index))
	}
	return out
}

// name returns the name of the i-th trial of history: its Name, or its
// 1-based position when it has none.
func name(history []suggest.Observation, i int) string {
	if n := history[i].Name; n != "" {
		return n
	}
	return strconv.Itoa(i + 1)
}

// explore returns a copy of the parameters of a, explored; see the package
// documentation.
func (s *Suggester) explore(space suggest.Space, prior *random.Prior, a suggest.Assignment, r *rand.Rand) suggest.Assignment {
	out := make(suggest.Assignment, len(space)+2)
	for i, p := range space {
		v := a[p.Name]
		switch {
		case !math.IsNaN(s.resample):
			if r.Float64() < s.resample {
				v = prior.SampleParam(i, r)
			}
		default:
			v = perturb(p, v, r)
		}
		out[p.Name] = v
	}
	return out
}

// perturb returns value of p moved as Katib's PBT moves it: ×0.8 or ×1.2
// for a number, to a neighbour in the list otherwise. A value that is not
// one of p's is drawn afresh from the list or kept in bounds.
func perturb(p suggest.Param, value string, r *rand.Rand) string {
	up := r.IntN(2) == 1
	switch p.Type {
	case suggest.Discrete, suggest.Categorical:
		n := len(p.Values)
		i := slices.Index(p.Values, value)
		switch {
		case i < 0:
			return p.Values[r.IntN(n)]
		case up:
			return p.Values[(i+1)%n]
		default:
			return p.Values[(i+n-1)%n]
		}
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		v = (p.Min + p.Max) / 2
	}
	f := 0.8
	if up {
		f = 1.2
	}
	nv := v * f
	if p.Type == suggest.Int {
		step := math.Max(1, p.Step)
		lo := math.Ceil(p.Min)
		k := math.Round((nv - lo) / step)
		old := math.Round((v - lo) / step)
		if k == old { // an int must move: 1×1.2 would stay 1
			if nv > v {
				k++
			} else if nv < v {
				k--
			}
		}
		hi := math.Floor((math.Floor(p.Max) - lo) / step)
		return suggest.FormatInt(int64(lo + step*math.Max(0, math.Min(hi, k))))
	}
	nv = math.Max(p.Min, math.Min(p.Max, nv))
	if p.Step > 0 {
		n, err := suggest.StepCount(p.Min, p.Max, p.Step)
		if err == nil {
			k := int64(math.Round((nv - p.Min) / p.Step))
			nv = suggest.StepValue(p.Min, p.Max, p.Step, max(0, min(n-1, k)))
		}
	}
	return suggest.FormatFloat(nv)
}
