// Package asha implements asynchronous successive halving (ASHA; Li et al.,
// "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020),
// algorithmName "asha", a tune addition that Katib users ask for
// (kubeflow/katib#1582).
//
// One parameter is the resource (epochs, steps, data fraction): rung k runs
// a configuration with min_resource·η^k of it, up to max_resource. Whenever
// a trial slot is free, ASHA promotes to rung k+1 a configuration that is
// in the top 1/η of the finished trials of rung k and has not been promoted
// yet, trying the highest rung first; when none can be promoted it starts a
// new random configuration at rung 0. Unlike Hyperband it never waits for a
// rung to fill, so every parallel slot stays busy. Each promotion is a new
// trial that trains from scratch with the larger resource (no checkpoint is
// carried over).
//
// # Settings
//
//   - resource_name (required): the int or double parameter that is the
//     resource;
//   - min_resource, max_resource: its smallest and largest value (default:
//     the parameter's feasibleSpace min and max; min_resource must be > 0);
//   - reduction_factor: η, an integer ≥ 2 (default 3);
//   - random_state: seeds the new configurations (default: the experiment's
//     seed).
//
// # State
//
// Like every tune algorithm it is stateless: the rungs are rebuilt from the
// history on each call. A trial's rung is the rung whose resource its
// assignment holds; its configuration is its assignment without the
// resource. Failed trials rank below every finished one; pending trials
// are neither ranked nor promoted, but a configuration pending at rung k+1
// counts as promoted. Abandoned trials (lost when the runner stopped) are
// ignored, so their configuration is promoted again. New configurations
// are drawn from each parameter's distribution (as random search does),
// the i-th new one from the seed and i alone.
//
// # Cost
//
// A call ranks each rung's finished trials once, O(n log n) for a history
// of n trials, whatever N: a batch costs about as much as one suggestion
// (about 30 ms after 10,000 trials, docs/performance.md).
package asha

import (
	"context"
	"fmt"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
)

// Suggester is ASHA; see the package documentation.
type Suggester struct {
	resource       string
	minRes, maxRes float64 // NaN: the parameter's bound
	eta            int
	seed           uint64
	hasSeed        bool
}

var _ suggest.Suggester = (*Suggester)(nil)

// New reads ASHA's settings; see the package documentation. Unknown
// settings and invalid values are errors naming the setting.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{minRes: math.NaN(), maxRes: math.NaN(), eta: 3}
	r := suggest.ReadSettings("asha", settings)
	if f, ok := r.FloatAbove("max_resource", 0); ok {
		s.maxRes = f
	}
	if f, ok := r.FloatAbove("min_resource", 0); ok {
		s.minRes = f
	}
	s.seed, s.hasSeed = r.Seed()
	if n, ok := r.Int("reduction_factor", 2); ok {
		s.eta = n
	}
	s.resource, _ = r.String("resource_name")
	r.Require("resource_name", "the int or double parameter that is the resource (epochs, steps)")
	if s.minRes >= s.maxRes {
		r.Errorf("min_resource %v must be below max_resource %v", s.minRes, s.maxRes)
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// rungs returns the resource of each rung for the resource parameter p,
// formatted as p's values are: min·η^k while below max, then max.
func (s *Suggester) rungs(p suggest.Param, format func(float64) string) ([]string, error) {
	lo, hi := s.minRes, s.maxRes
	if math.IsNaN(lo) {
		lo = p.Min
	}
	if math.IsNaN(hi) {
		hi = p.Max
	}
	if !(lo > 0) || lo >= hi {
		return nil, fmt.Errorf("asha: resource %s from %v to %v: want 0 < min_resource < max_resource", p.Name, lo, hi)
	}
	var out []string
	for r := lo; r < hi*(1-1e-9); r *= float64(s.eta) {
		if v := format(r); len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	if v := format(hi); out[len(out)-1] != v {
		out = append(out, v)
	}
	return out, nil
}

// member is a trial of a rung, by configuration.
type member struct {
	config string // the assignment's key without the resource
	value  float64
	failed bool
	index  int // in the history, for ties
}

// Suggest returns req.N assignments: promotions where possible, else new
// configurations at the lowest rung.
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "asha", req); err != nil {
		return nil, err
	}
	rp, others, format, err := req.Space.SplitResource(s.resource)
	if err != nil {
		return nil, fmt.Errorf("asha: %w", err)
	}
	rungs, err := s.rungs(rp, format)
	if err != nil {
		return nil, err
	}
	rungOf := map[string]int{}
	for k, r := range rungs {
		rungOf[r] = k
	}
	prior, err := random.NewPrior(others)
	if err != nil {
		return nil, err
	}

	members := make([][]member, len(rungs))
	present := make([]map[string]bool, len(rungs)) // configurations with a trial at the rung, any status
	configs := map[string]suggest.Assignment{}
	for k := range present {
		present[k] = map[string]bool{}
	}
	for hi, o := range req.History {
		k, ok := rungOf[o.Assignment[s.resource]]
		if !ok || o.Status == suggest.Abandoned {
			continue
		}
		cfg := maps.Clone(o.Assignment)
		delete(cfg, s.resource)
		key := cfg.Key()
		configs[key] = cfg
		present[k][key] = true
		switch o.Status {
		case suggest.Completed:
			members[k] = append(members[k], member{config: key, value: o.Value, index: hi})
		case suggest.Failed:
			members[k] = append(members[k], member{config: key, failed: true, index: hi})
		}
	}
	// New configurations are numbered over every rung-0 trial, abandoned
	// ones included, so that a resumed experiment does not repeat one.
	newConfigs := 0
	for _, o := range req.History {
		if k, ok := rungOf[o.Assignment[s.resource]]; ok && k == 0 {
			newConfigs++
		}
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	p := promoter{resource: s.resource, rungs: rungs, present: present, configs: configs, top: make([][]member, len(rungs)), next: make([]int, len(rungs))}
	for k := range len(rungs) - 1 {
		p.top[k] = topOf(members[k], s.eta, req.Goal)
	}
	out := make([]suggest.Assignment, 0, req.N)
	for range req.N {
		a := p.promote()
		if a == nil {
			a = prior.Sample(rand.New(rand.NewPCG(seed, uint64(newConfigs))))
			newConfigs++
			a[s.resource] = rungs[0]
		}
		out = append(out, a)
	}
	return out, nil
}

// topOf returns the top 1/eta of a rung's members, best first: finished
// trials by value toward goal, failed ones last, ties in history order.
func topOf(members []member, eta int, goal suggest.Goal) []member {
	ms := slices.Clone(members)
	slices.SortStableFunc(ms, func(a, b member) int {
		switch {
		case a.failed != b.failed:
			if a.failed {
				return 1
			}
			return -1
		case !a.failed && goal.Better(a.value, b.value):
			return -1
		case !a.failed && goal.Better(b.value, a.value):
			return 1
		}
		return a.index - b.index
	})
	return ms[:len(ms)/eta]
}

// promoter finds the promotions of one call. The rungs are ranked once per
// call, not once per suggestion: a batch of N costs one sort of the
// history plus N short scans.
type promoter struct {
	resource string
	rungs    []string
	present  []map[string]bool // configurations with a trial at each rung
	configs  map[string]suggest.Assignment
	top      [][]member // the top 1/η of each rung but the last, best first
	// next[k] is where the scan of top[k] resumes: the members before it
	// are failed or present at rung k+1, and present only grows.
	next []int
}

// promote returns a configuration to run at the next rung, from the
// highest rung that has one, and marks it present there; nil when none can
// be promoted.
func (p *promoter) promote() suggest.Assignment {
	for k := len(p.rungs) - 2; k >= 0; k-- {
		for ; p.next[k] < len(p.top[k]); p.next[k]++ {
			m := p.top[k][p.next[k]]
			if m.failed || p.present[k+1][m.config] {
				continue
			}
			p.present[k+1][m.config] = true
			a := maps.Clone(p.configs[m.config])
			a[p.resource] = p.rungs[k+1]
			return a
		}
	}
	return nil
}
