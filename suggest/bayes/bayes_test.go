package bayes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// mixedObjective is a smooth function of a suggesttest.MixedSpace assignment.
func mixedObjective(t *testing.T, a suggest.Assignment) float64 {
	t.Helper()
	f := func(name string) float64 {
		v, err := strconv.ParseFloat(a[name], 64)
		if err != nil {
			t.Fatalf("parameter %s: %v", name, err)
		}
		return v
	}
	v := math.Pow(math.Log10(f("lr"))+2, 2) + math.Pow(f("momentum")-0.7, 2) + f("dropout") + math.Abs(f("layers")-3)/4
	if a["optimizer"] == "adam" {
		v -= 0.5
	}
	return v + f("batch")/100
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		wantErr  []string // substrings of the error; nil means success
	}{
		"nil":              {settings: nil},
		"katib defaults":   {settings: map[string]string{"base_estimator": "GP", "n_initial_points": "10", "acq_func": "gp_hedge", "acq_optimizer": "auto", "random_state": "10"}},
		"EI":               {settings: map[string]string{"acq_func": "EI"}},
		"LCB":              {settings: map[string]string{"acq_func": "LCB", "kappa": "3"}},
		"PI":               {settings: map[string]string{"acq_func": "PI", "xi": "0.01"}},
		"EIps":             {settings: map[string]string{"acq_func": "EIps"}},
		"PIps":             {settings: map[string]string{"acq_func": "PIps"}},
		"liar":             {settings: map[string]string{"batch_strategy": "constant_liar_mean"}},
		"max_observations": {settings: map[string]string{"max_observations": "100"}},
		"zero initial":     {settings: map[string]string{"n_initial_points": "0"}},
		"unknown":          {settings: map[string]string{"foo": "1"}, wantErr: []string{`"foo"`, "allowed:", "n_initial_points"}},
		"bad estimator":    {settings: map[string]string{"base_estimator": "RF"}, wantErr: []string{"base_estimator", `"RF"`}},
		"bad acq_func":     {settings: map[string]string{"acq_func": "EIx"}, wantErr: []string{"acq_func"}},
		"bad optimizer":    {settings: map[string]string{"acq_optimizer": "grid"}, wantErr: []string{"acq_optimizer"}},
		"negative initial": {settings: map[string]string{"n_initial_points": "-1"}, wantErr: []string{"n_initial_points"}},
		"bad kappa":        {settings: map[string]string{"kappa": "-1"}, wantErr: []string{"kappa"}},
		"bad xi":           {settings: map[string]string{"xi": "NaN"}, wantErr: []string{"xi"}},
		"bad strategy":     {settings: map[string]string{"batch_strategy": "liar"}, wantErr: []string{"batch_strategy"}},
		"small max":        {settings: map[string]string{"max_observations": "3"}, wantErr: []string{"max_observations"}},
		"bad random_state": {settings: map[string]string{"random_state": "-2"}, wantErr: []string{"random_state"}},
		"every problem":    {settings: map[string]string{"a": "1", "kappa": "x", "xi": "y"}, wantErr: []string{`"a"`, "kappa", "xi"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(tc.settings)
			suggesttest.CheckError(t, fmt.Sprintf("New(%v)", tc.settings), err, tc.wantErr)
			if err == nil && s == nil {
				t.Fatalf("New(%v) returned no suggester", tc.settings)
			}
		})
	}
}

func TestSuggestContract(t *testing.T) {
	space := suggesttest.MixedSpace()
	for _, strategy := range []string{"kriging_believer", "constant_liar_min", "constant_liar_max", "constant_liar_mean"} {
		for _, acq := range []string{"logei", "ucb", "pi"} {
			t.Run(strategy+"/"+acq, func(t *testing.T) {
				s, err := New(map[string]string{"batch_strategy": strategy, "acq_func": acq, "n_initial_points": "6"})
				if err != nil {
					t.Fatal(err)
				}
				history := suggesttest.Run(t, s, space, suggest.Minimize, 3, 20, 4, func(a suggest.Assignment) float64 { return mixedObjective(t, a) })
				keys := map[string]bool{}
				for _, o := range history {
					if err := suggesttest.CheckAssignment(space, o.Assignment); err != nil {
						t.Error(err)
					}
					keys[o.Assignment.Key()] = true
				}
				if len(keys) != len(history) {
					t.Errorf("%d distinct assignments among %d trials", len(keys), len(history))
				}
				// A batch of 8 is 8 distinct points not in the history.
				as, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: history, N: 8, Seed: 3})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range as {
					if err := suggesttest.CheckAssignment(space, a); err != nil {
						t.Error(err)
					}
					if keys[a.Key()] {
						t.Errorf("batch repeats %v", a)
					}
					keys[a.Key()] = true
				}
				if len(keys) != len(history)+8 {
					t.Errorf("batch of 8 has %d new distinct points", len(keys)-len(history))
				}
			})
		}
	}
}

func TestSuggestDeterminism(t *testing.T) {
	space := suggesttest.MixedSpace()
	s, err := New(map[string]string{"n_initial_points": "5"})
	if err != nil {
		t.Fatal(err)
	}
	obj := func(a suggest.Assignment) float64 { return mixedObjective(t, a) }
	h1 := suggesttest.Run(t, s, space, suggest.Maximize, 11, 12, 3, obj)
	h2 := suggesttest.Run(t, s, space, suggest.Maximize, 11, 12, 3, obj)
	if diff := cmp.Diff(h1, h2); diff != "" {
		t.Errorf("same seed, different runs (-first +second):\n%s", diff)
	}
	h3 := suggesttest.Run(t, s, space, suggest.Maximize, 12, 12, 3, obj)
	if cmp.Equal(h1, h3) {
		t.Errorf("seeds 11 and 12 gave the same trials")
	}
	// Resume: a fresh suggester given the same history proposes the same.
	req := suggest.Request{Space: space, Goal: suggest.Maximize, History: h1, N: 4, Seed: 11}
	first, err := s.Suggest(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := New(map[string]string{"n_initial_points": "5"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := fresh.Suggest(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("resumed suggestions differ (-first +resumed):\n%s", diff)
	}
	// random_state overrides the request's seed.
	fixed, err := New(map[string]string{"n_initial_points": "5", "random_state": "11"})
	if err != nil {
		t.Fatal(err)
	}
	req.Seed = 99
	overridden, err := fixed.Suggest(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, overridden); diff != "" {
		t.Errorf("random_state=11 differs from seed 11 (-seed +random_state):\n%s", diff)
	}
}

func TestInitialDesignBatchInvariant(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	space := suggesttest.MixedSpace()
	obj := func(a suggest.Assignment) float64 { return mixedObjective(t, a) }
	one := suggesttest.Run(t, s, space, suggest.Minimize, 5, 10, 1, obj)
	all := suggesttest.Run(t, s, space, suggest.Minimize, 5, 10, 10, obj)
	if diff := cmp.Diff(one, all); diff != "" {
		t.Errorf("initial design depends on batching (-one at a time +all at once):\n%s", diff)
	}
}

func TestSuggestPendingAndFailed(t *testing.T) {
	space := suggesttest.MixedSpace()
	s, err := New(map[string]string{"n_initial_points": "4"})
	if err != nil {
		t.Fatal(err)
	}
	history := suggesttest.Run(t, s, space, suggest.Minimize, 1, 8, 4, func(a suggest.Assignment) float64 { return mixedObjective(t, a) })
	history[2].Status, history[2].Value = suggest.Failed, math.NaN()
	history[5].Status, history[5].Value = suggest.Pending, math.NaN()
	as, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: history, N: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, o := range history {
		keys[o.Assignment.Key()] = true
	}
	for _, a := range as {
		if err := suggesttest.CheckAssignment(space, a); err != nil {
			t.Error(err)
		}
		if keys[a.Key()] {
			t.Errorf("repeats %v", a)
		}
		keys[a.Key()] = true
	}
}

func TestSuggestErrors(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	space := suggesttest.MixedSpace()
	bad := suggest.Assignment{"lr": "0.01"}
	tests := map[string]suggest.Request{
		"n zero":      {Space: space, N: 0},
		"empty space": {Space: nil, N: 1},
		"bad history": {Space: space, N: 1, History: []suggest.Observation{{Assignment: bad, Status: suggest.Completed, Value: 1}}},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Suggest(t.Context(), req); err == nil {
				t.Errorf("Suggest succeeded; want an error")
			}
		})
	}
}

// braninBest returns the best value among total trials on Branin, negated
// and maximised when goal is Maximize.
func braninBest(t *testing.T, settings map[string]string, seed uint64, total, batch int, goal ...suggest.Goal) float64 {
	t.Helper()
	s, err := New(settings)
	if err != nil {
		t.Fatal(err)
	}
	g := suggest.Minimize
	if len(goal) > 0 {
		g = goal[0]
	}
	history := suggesttest.Run(t, s, suggesttest.BraninSpace(), g, seed, total, batch, func(a suggest.Assignment) float64 {
		x1, _ := strconv.ParseFloat(a["x1"], 64)
		x2, _ := strconv.ParseFloat(a["x2"], 64)
		if g == suggest.Maximize {
			return -suggesttest.Branin(x1, x2)
		}
		return suggesttest.Branin(x1, x2)
	})
	best := math.Inf(1)
	for _, o := range history {
		v := o.Value
		if g == suggest.Maximize {
			v = -v
		}
		best = min(best, v)
	}
	return best
}

func TestBranin(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		goal     suggest.Goal
		batch    int
		tol      float64
	}{
		"logei sequential":   {tol: 0.05, batch: 1},
		"logei maximize":     {tol: 0.05, batch: 1, goal: suggest.Maximize},
		"logei batches of 4": {tol: 0.05, batch: 4},
		"ucb":                {settings: map[string]string{"acq_func": "ucb"}, tol: 0.05, batch: 1},
		"pi":                 {settings: map[string]string{"acq_func": "pi"}, tol: 0.05, batch: 1},
		"kriging believer":   {settings: map[string]string{"batch_strategy": "kriging_believer"}, tol: 0.05, batch: 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			best := braninBest(t, tc.settings, 1, 40, tc.batch, tc.goal)
			t.Logf("best after 40 trials: %.6f (optimum %.6f)", best, suggesttest.BraninMinimum)
			if best-suggesttest.BraninMinimum > tc.tol {
				t.Errorf("best %v is more than %v above the optimum %v", best, tc.tol, suggesttest.BraninMinimum)
			}
		})
	}
}

func TestSuggestCancelled(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Suggest(ctx, suggest.Request{Space: suggesttest.MixedSpace(), N: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Suggest with a cancelled context: %v, want context.Canceled", err)
	}
}
