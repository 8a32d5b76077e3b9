// Package hyperband implements Hyperband (Li et al., JMLR 2018) with
// Katib's settings, algorithmName "hyperband".
//
// One parameter is the resource (epochs, steps). Bracket s (from s_max =
// ⌊log_η R⌋ down to 0) starts n = ⌈(s_max+1)/(s+1)·η^s⌉ random
// configurations with R·η^−s of the resource, then runs the best
// ⌊n·η^−i⌋ of them again with R·η^(i−s) at rung i, until R. A rung starts
// only when the rung below has finished, so the suggester waits
// ([suggest.ErrWait]) while it runs; brackets run one after the other, and
// after the last one the search is exhausted.
//
// # Settings
//
//   - resource_name (required): the int or double parameter that is the
//     resource;
//   - r_l (required): R, the largest resource a configuration gets;
//   - eta: η, the reduction factor, an integer ≥ 2 (default 3);
//   - random_state: seeds the configurations (default: the experiment's
//     seed).
//
// Katib's service keeps its place in the brackets in algorithmSettings it
// rewrites (current_s, current_i, evaluating_trials, ...): such settings,
// in a file exported from a running Katib experiment, are accepted and
// ignored, since tune rebuilds that state from the history instead: trials belong to the rungs in the order they were
// created. A failed or abandoned trial ranks below every finished one.
package hyperband

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// Suggester is Hyperband; see the package documentation.
type Suggester struct {
	resource string
	r        float64
	eta      int
	seed     uint64
	hasSeed  bool
}

var _ suggest.Suggester = (*Suggester)(nil)

// New reads Hyperband's settings; see the package documentation.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{eta: 3}
	r := suggest.ReadSettings("hyperband", settings)
	// Katib reads eta as a number and truncates it.
	if v, ok := r.Choice("eta", "an integer ≥ 2", func(v string) bool {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && !math.IsNaN(f) && math.Trunc(f) >= 2 && f <= 1<<20
	}); ok {
		f, _ := strconv.ParseFloat(v, 64)
		s.eta = int(math.Trunc(f))
	}
	s.r, _ = r.FloatAtLeast("r_l", 1)
	s.seed, s.hasSeed = r.Seed()
	s.resource, _ = r.String("resource_name")
	// Katib's service writes its progress into the settings of a running
	// experiment; tune rebuilds it from the history.
	r.Ignore("s_max", "b_l", "r", "n", "current_s", "current_i", "evaluating_trials")
	r.Require("resource_name", "the int or double parameter that is the resource (epochs, steps)")
	if _, given := settings["r_l"]; !given {
		r.Errorf(`setting "r_l" is required: the largest resource a configuration gets`)
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// stage is one rung of one bracket: count trials with resource.
type stage struct {
	bracket, rung int
	count         int
	resource      float64
}

// schedule returns Hyperband's rungs in the order they run, for R and η.
func schedule(r float64, eta int) []stage {
	e := float64(eta)
	sMax := int(math.Floor(math.Log(r)/math.Log(e) + 1e-9))
	var out []stage
	for s := sMax; s >= 0; s-- {
		n := int(math.Ceil(float64(sMax+1) / float64(s+1) * math.Pow(e, float64(s))))
		for i := 0; i <= s; i++ {
			ni := int(math.Floor(float64(n) * math.Pow(e, -float64(i))))
			out = append(out, stage{bracket: s, rung: i, count: max(ni, 1), resource: r * math.Pow(e, float64(i-s))})
		}
	}
	return out
}

// Suggest returns up to req.N assignments of the current rung; see the
// package documentation for when it waits or is exhausted.
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "hyperband", req); err != nil {
		return nil, err
	}
	_, others, format, err := req.Space.SplitResource(s.resource)
	if err != nil {
		return nil, fmt.Errorf("hyperband: %w", err)
	}
	prior, err := random.NewPrior(others)
	if err != nil {
		return nil, err
	}
	seed := req.PickSeed(s.seed, s.hasSeed)

	stages := schedule(s.r, s.eta)
	// Place the history's trials on the stages, in creation order.
	hist := req.History
	start, j, newConfigs := 0, 0, 0
	for ; j < len(stages) && len(hist)-start >= stages[j].count; j++ {
		if stages[j].rung == 0 {
			newConfigs += stages[j].count
		}
		start += stages[j].count
	}
	if j == len(stages) {
		return nil, suggest.ErrExhausted
	}
	st := stages[j]
	made := len(hist) - start // trials of the current stage already created
	if st.rung == 0 {
		newConfigs += made
	}
	var out []suggest.Assignment
	for len(out) < req.N && made+len(out) < st.count {
		if st.rung == 0 {
			a := prior.Sample(rand.New(rand.NewPCG(seed, uint64(newConfigs))))
			newConfigs++
			a[s.resource] = format(st.resource)
			out = append(out, a)
			continue
		}
		below := hist[start-stages[j-1].count : start]
		if slices.ContainsFunc(below, func(o suggest.Observation) bool { return o.Status == suggest.Pending }) {
			return out, suggest.ErrWait
		}
		ranked := rank(below, req.Goal)
		a := maps.Clone(ranked[made+len(out)].Assignment)
		a[s.resource] = format(st.resource)
		out = append(out, a)
	}
	if len(out) < req.N && j+1 < len(stages) && stages[j+1].rung > 0 {
		// The next rung needs this one to finish.
		return out, suggest.ErrWait
	}
	if len(out) < req.N && j+1 < len(stages) {
		// The next bracket can start now: ask again.
		more, err := s.Suggest(ctx, suggest.Request{Space: req.Space, Goal: req.Goal, History: append(slices.Clip(hist), pending(out)...), N: req.N - len(out), Seed: req.Seed, Settings: req.Settings})
		return append(out, more...), err
	}
	return out, nil
}

// rank orders the trials of a finished rung best first; failed and
// abandoned ones last, in creation order.
func rank(trials []suggest.Observation, goal suggest.Goal) []suggest.Observation {
	out := slices.Clone(trials)
	slices.SortStableFunc(out, func(a, b suggest.Observation) int {
		ac, bc := a.Status == suggest.Completed, b.Status == suggest.Completed
		switch {
		case ac && !bc:
			return -1
		case !ac && bc:
			return 1
		case ac && goal.Better(a.Value, b.Value):
			return -1
		case ac && goal.Better(b.Value, a.Value):
			return 1
		}
		return 0
	})
	return out
}

// pending returns assignments as pending observations.
func pending(as []suggest.Assignment) []suggest.Observation {
	out := make([]suggest.Observation, len(as))
	for i, a := range as {
		out[i] = suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()}
	}
	return out
}
