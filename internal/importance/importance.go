// Package importance measures how much of an objective's variation each
// parameter of a search space explains, with fANOVA over a random forest
// (Hutter, Hoos and Leyton-Brown 2014, "An Efficient Approach for
// Assessing Hyperparameter Importance"; Optuna's default
// FanovaImportanceEvaluator does the same).
//
// # Method
//
// A random forest of CART regression trees (squared error) is fitted on the
// trials: each tree on a bootstrap sample of them, every parameter tried at
// every node, grown until its leaves are pure or hold one trial (or
// [Options.MaxDepth]). Each tree's leaves partition the space into boxes,
// so its prediction is a step function whose functional ANOVA
// decomposition under the uniform measure on the space is computed
// exactly: the variance of the marginal prediction over each parameter
// (the main effect) and over each pair less the pair's main effects (the
// interaction). A term's importance in a tree is its variance as a
// fraction of the tree's total variance; the forest's is the mean over
// trees whose prediction varies. Reported shares are those means
// normalised to sum to 1 over the reported terms, as Optuna normalises
// them.
//
// The space is the one searched: a numeric parameter is measured on its
// unit coordinate ([suggest.Param.ToUnit]: linear, or logarithmic for
// logUniform and logNormal parameters; an int or discrete value owns an
// equal cell), so "uniform" means uniform in the coordinates the search
// used. A categorical parameter stays categorical: a tree splits its
// categories into two groups (the best split of the categories ordered by
// mean objective, optimal for squared error), and each category weighs
// equally.
package importance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/tune-hpo/tune/suggest"
)

// Options tune the forest. The zero value is Optuna's default: 64 trees,
// depth up to 64, seed 0, main effects only.
type Options struct {
	// Trees is the number of trees; 0 means 64.
	Trees int
	// MaxDepth bounds each tree's depth; 0 means 64.
	MaxDepth int
	// MinSamplesSplit is the fewest trials a node needs to be split; 0
	// means 2.
	MinSamplesSplit int
	// MinSamplesLeaf is the fewest trials each side of a split keeps; 0
	// means 1.
	MinSamplesLeaf int
	// Seed makes the result reproducible: equal inputs and options give
	// equal results, whatever the number of CPUs.
	Seed uint64
	// Pairs adds the pairwise interaction terms.
	Pairs bool
}

// Term is the importance of one parameter, or of the interaction of two.
type Term struct {
	// Params names the parameter, or the pair in space order.
	Params []string `json:"parameters"`
	// Importance is the term's share of the reported terms' total: the
	// shares of all reported terms sum to 1, unless the objective does not
	// vary (all zero).
	Importance float64 `json:"importance"`
	// Std is the standard deviation of the term's share over the trees,
	// on the scale of Importance.
	Std float64 `json:"std"`
	// Variance is the mean over trees of the fraction of the tree's
	// variance the term explains, before normalisation.
	Variance float64 `json:"varianceFraction"`
}

// Name is the term's display name: the parameter, or "a × b".
func (t Term) Name() string {
	if len(t.Params) == 2 {
		return t.Params[0] + " × " + t.Params[1]
	}
	if len(t.Params) == 1 {
		return t.Params[0]
	}
	return ""
}

// Result is an importance analysis.
type Result struct {
	// Terms are the main effects (and, with Options.Pairs, the pairwise
	// interactions), most important first; ties keep space order, main
	// effects before pairs.
	Terms []Term `json:"importances"`
	// Trials is the number of observations the forest was fitted on.
	Trials int `json:"trials"`
	// Trees is the number of trees fitted and Varying the number whose
	// prediction varies, over which importances are averaged.
	Trees   int `json:"trees"`
	Varying int `json:"varyingTrees"`
	// Seed is the seed used.
	Seed uint64 `json:"seed"`
	// Constant reports that the objective did not vary: every share is 0.
	Constant bool `json:"constant,omitempty"`
}

// Share is a term's display name and importance, for plots.
type Share struct {
	Name  string
	Value float64
}

// Shares returns the terms' names and importances, most important first.
func (r *Result) Shares() []Share {
	out := make([]Share, len(r.Terms))
	for i, t := range r.Terms {
		out[i] = Share{Name: t.Name(), Value: t.Importance}
	}
	return out
}

// ErrTooFewTrials is returned when fewer than two observations are given.
var ErrTooFewTrials = errors.New("importance needs at least 2 trials with an objective value")

// Evaluate measures the importance of each parameter of space for the
// objective values y observed at x. Row x[n] holds one value per parameter
// in space order: for a numeric parameter its unit coordinate (values
// outside [0, 1] are clamped), for a categorical one the index of the
// category in Param.Values. It needs at least 2 rows; y must be finite.
func Evaluate(space suggest.Space, x [][]float64, y []float64, opts Options) (*Result, error) {
	return EvaluateContext(context.Background(), space, x, y, opts)
}

// EvaluateContext is [Evaluate] that stops early, with ctx's error, when
// ctx is done.
func EvaluateContext(ctx context.Context, space suggest.Space, x [][]float64, y []float64, opts Options) (*Result, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("importance: %d rows of parameters for %d objective values", len(x), len(y))
	}
	if len(y) < 2 {
		return nil, fmt.Errorf("%w (have %d)", ErrTooFewTrials, len(y))
	}
	if len(space) == 0 {
		return nil, errors.New("importance: the search space has no parameters")
	}
	dims := make([]dim, len(space))
	for i, p := range space {
		if p.Type == suggest.Categorical {
			dims[i].cats = len(p.Values)
		}
	}
	xs := make([][]float64, len(x))
	for n, row := range x {
		if len(row) != len(space) {
			return nil, fmt.Errorf("importance: row %d has %d values for %d parameters", n, len(row), len(space))
		}
		if math.IsNaN(y[n]) || math.IsInf(y[n], 0) {
			return nil, fmt.Errorf("importance: objective value %d is %v, want a finite number", n, y[n])
		}
		r := make([]float64, len(row))
		for i, v := range row {
			switch {
			case math.IsNaN(v):
				return nil, fmt.Errorf("importance: row %d, parameter %s: value is NaN", n, space[i].Name)
			case dims[i].cats > 0:
				if v != math.Trunc(v) || v < 0 || int(v) >= dims[i].cats {
					return nil, fmt.Errorf("importance: row %d, parameter %s: category index %v is not in [0, %d)", n, space[i].Name, v, dims[i].cats)
				}
				r[i] = v
			default:
				r[i] = min(1, max(0, v))
			}
		}
		xs[n] = r
	}
	// The importances are fractions of variance, the same for any scale
	// of y: dividing by the largest magnitude and centring keeps sums of
	// squares finite whatever the values (±1e308 included).
	var scale float64
	for _, v := range y {
		scale = max(scale, math.Abs(v))
	}
	ys := make([]float64, len(y))
	var centre float64
	for i, v := range y {
		if scale > 0 {
			v /= scale
		}
		ys[i] = v
		centre += v / float64(len(y))
	}
	for i := range ys {
		ys[i] -= centre
	}
	o := opts
	if o.Trees <= 0 {
		o.Trees = 64
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 64
	}
	if o.MinSamplesSplit <= 0 {
		o.MinSamplesSplit = 2
	}
	if o.MinSamplesLeaf <= 0 {
		o.MinSamplesLeaf = 1
	}
	p := treeParams{maxDepth: o.MaxDepth, minSamplesSplit: o.MinSamplesSplit, minSamplesLeaf: o.MinSamplesLeaf}

	// Fit and decompose the trees in parallel; tree k draws from its own
	// generator, so the result does not depend on scheduling.
	decs := make([]decomposition, o.Trees)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), o.Trees) {
		wg.Go(func() {
			for k := range next {
				rng := rand.New(rand.NewPCG(o.Seed, uint64(k)))
				idx := make([]int, len(y))
				for i := range idx {
					idx[i] = rng.IntN(len(y))
				}
				t := fitTree(dims, xs, ys, idx, p, rng)
				decs[k] = decompose(t, dims, o.Pairs)
			}
		})
	}
feed:
	for k := range o.Trees {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}

	// Per-tree fractions of each term.
	type termIdx struct{ i, j int } // j < 0 for a main effect
	var terms []termIdx
	for i := range space {
		terms = append(terms, termIdx{i, -1})
	}
	if o.Pairs {
		for i := range space {
			for j := i + 1; j < len(space); j++ {
				terms = append(terms, termIdx{i, j})
			}
		}
	}
	res := &Result{Trials: len(y), Trees: o.Trees, Seed: o.Seed}
	fractions := make([][]float64, len(terms))
	for _, dc := range decs {
		if !(dc.total > 0) {
			continue
		}
		res.Varying++
		for t, ti := range terms {
			v := dc.main[ti.i]
			if ti.j >= 0 {
				v = dc.pair[ti.i][ti.j]
			}
			fractions[t] = append(fractions[t], v/dc.total)
		}
	}
	mean := make([]float64, len(terms))
	var sum float64
	for t := range terms {
		for _, f := range fractions[t] {
			mean[t] += f
		}
		if n := len(fractions[t]); n > 0 {
			mean[t] /= float64(n)
		}
		sum += mean[t]
	}
	res.Constant = !(sum > 0)
	res.Terms = make([]Term, len(terms))
	for t, ti := range terms {
		names := []string{space[ti.i].Name}
		if ti.j >= 0 {
			names = append(names, space[ti.j].Name)
		}
		term := Term{Params: names, Variance: mean[t]}
		if !res.Constant {
			term.Importance = mean[t] / sum
			var ss float64
			for _, f := range fractions[t] {
				d := f - mean[t]
				ss += d * d
			}
			term.Std = math.Sqrt(ss/float64(len(fractions[t]))) / sum
		}
		res.Terms[t] = term
	}
	slices.SortStableFunc(res.Terms, func(a, b Term) int {
		switch {
		case a.Importance > b.Importance:
			return -1
		case a.Importance < b.Importance:
			return 1
		}
		return 0
	})
	return res, nil
}
