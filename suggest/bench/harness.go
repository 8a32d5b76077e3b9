package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
)

// algorithm is a search algorithm under test.
type algorithm struct {
	// name is its Katib name.
	name string
	// new returns a fresh Suggester with default settings for a run on
	// space of budget trials with parallelism par; auto chooses from them
	// as tune run chooses, the others ignore them.
	new func(space suggest.Space, budget, par int) (suggest.Suggester, error)
}

// selectAlgorithms returns the named algorithms that [algorithms.New]
// implements, noting each skipped one on stderr. Any other error from the
// registry is returned.
func selectAlgorithms(names []string, stderr io.Writer) ([]algorithm, error) {
	var out []algorithm
	for _, name := range names {
		if slices.ContainsFunc(out, func(a algorithm) bool { return a.name == name }) {
			continue
		}
		_, err := algorithms.New(name, nil)
		switch {
		case err == nil:
			out = append(out, algorithm{name: name, new: func(space suggest.Space, budget, par int) (suggest.Suggester, error) {
				s, _, err := algorithms.NewFor(name, benchExperiment(space, budget, par))
				return s, err
			}})
		case errors.Is(err, algorithms.ErrNotImplemented):
			fmt.Fprintf(stderr, "bench: skipping %s: %v\n", name, err)
		default:
			return nil, fmt.Errorf("algorithm %s: %w", name, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no implemented algorithm to run")
	}
	return out, nil
}

// benchExperiment is what the algorithm registry reads of a run on space of
// budget trials with parallelism par.
func benchExperiment(space suggest.Space, budget, par int) algorithms.Experiment {
	return algorithms.Experiment{Space: space, MaxTrialCount: &budget, ParallelTrialCount: &par}
}

// job is one run: an algorithm on a function with a seed and parallelism.
type job struct {
	par, fn, alg, seed int // indexes into options and the algorithm list
}

// runResult is what one run produced.
type runResult struct {
	// values are the objective values of the trials in creation order.
	values []float64
	// calls are the durations of the Suggest calls.
	calls []time.Duration
	// categories are the trials' values of the function's category
	// parameter (testFunction.category), in creation order; nil when it
	// has none.
	categories []string
	// onBoundary says, for each trial in creation order, whether half or
	// more of its double parameters sit exactly on a bound of the space.
	onBoundary []bool
}

// results holds every run, indexed by [par][fn][alg][seed].
type results [][][][]runResult

// runAll runs every job on o.workers goroutines and returns the results.
// The first error cancels the remaining runs.
func runAll(ctx context.Context, o *options, algs []algorithm) (results, error) {
	res := make(results, len(o.parallel))
	var jobs []job
	for p := range o.parallel {
		res[p] = make([][][]runResult, len(o.functions))
		for f := range o.functions {
			res[p][f] = make([][]runResult, len(algs))
			for a := range algs {
				res[p][f][a] = make([]runResult, o.seeds)
				for s := range o.seeds {
					jobs = append(jobs, job{par: p, fn: f, alg: a, seed: s})
				}
			}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan job)
	var wg sync.WaitGroup
	for range min(o.workers, len(jobs)) {
		wg.Go(func() {
			for j := range ch {
				budget := o.budgets[len(o.budgets)-1]
				s, err := algs[j.alg].new(o.functions[j.fn].space, budget, o.parallel[j.par])
				if err == nil {
					var r runResult
					r, err = simulate(ctx, s, o.functions[j.fn], uint64(j.seed), budget, o.parallel[j.par])
					res[j.par][j.fn][j.alg][j.seed] = r
				}
				if err != nil {
					cancel(fmt.Errorf("%s on %s, seed %d, parallelism %d: %w",
						algs[j.alg].name, o.functions[j.fn].name, j.seed, o.parallel[j.par], err))
				}
			}
		})
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// simulate runs s on fn for budget trials as an experiment with
// parallelism par does: it keeps up to par trials pending, asking for as
// many new ones as there are free slots (par at first, then one each time a
// trial completes), and completes the pending trials in creation order.
// Each Suggest call sees the whole history, pending trials included with
// status Pending. The run ends early when s returns [suggest.ErrExhausted]
// or nothing with no trial pending.
func simulate(ctx context.Context, s suggest.Suggester, fn testFunction, seed uint64, budget, par int) (runResult, error) {
	var r runResult
	history := make([]suggest.Observation, 0, budget)
	done := 0 // trials [0, done) are completed
	exhausted := false
	for done < budget {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		pending := len(history) - done
		if want := min(par-pending, budget-len(history)); want > 0 && !exhausted {
			req := suggest.Request{
				Space:   fn.space,
				Goal:    suggest.Minimize,
				History: slices.Clone(history),
				N:       want,
				Seed:    seed,
			}
			start := time.Now()
			as, err := s.Suggest(ctx, req)
			r.calls = append(r.calls, time.Since(start))
			switch {
			case errors.Is(err, suggest.ErrExhausted):
				exhausted = true
			case err != nil:
				return r, fmt.Errorf("suggest: %w", err)
			case len(as) > want:
				return r, fmt.Errorf("suggest returned %d assignments; asked for %d", len(as), want)
			case len(as) == 0:
				exhausted = true
			}
			for _, a := range as {
				history = append(history, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
			}
		}
		if done == len(history) {
			break // exhausted with nothing pending
		}
		v, err := fn.eval(history[done].Assignment)
		if err != nil {
			return r, err
		}
		history[done].Status, history[done].Value = suggest.Completed, v
		done++
	}
	r.values = make([]float64, done)
	r.onBoundary = make([]bool, done)
	if fn.category != "" {
		r.categories = make([]string, done)
	}
	for i := range done {
		a := history[i].Assignment
		r.values[i] = history[i].Value
		r.onBoundary[i] = onBoundary(fn.space, a)
		if fn.category != "" {
			r.categories[i] = a[fn.category]
		}
	}
	return r, nil
}

// onBoundary reports whether half or more of space's double parameters
// (at least one) have their minimum or maximum, exactly, in a.
func onBoundary(space suggest.Space, a suggest.Assignment) bool {
	doubles, at := 0, 0
	for _, p := range space {
		if p.Type != suggest.Double {
			continue
		}
		doubles++
		if v, err := strconv.ParseFloat(a[p.Name], 64); err == nil && (v == p.Min || v == p.Max) {
			at++
		}
	}
	return doubles > 0 && 2*at >= doubles
}
