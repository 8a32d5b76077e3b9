package bayes

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
)

// mixedSpace returns a space with one parameter of every kind.
func mixedSpace() suggest.Space {
	return suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.001, Max: 0.1, Distribution: suggest.LogUniform},
		{Name: "momentum", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1},
		{Name: "dropout", Type: suggest.Double, Min: 0, Max: 0.5, Distribution: suggest.Normal},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
		{Name: "batch", Type: suggest.Discrete, Values: []string{"16", "32", "64"}},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl"}},
		{Name: "units", Type: suggest.Int, Min: 16, Max: 1024, Distribution: suggest.LogUniform},
		{Name: "decay", Type: suggest.Double, Min: 1e-6, Max: 1e-2, Distribution: suggest.LogNormal},
	}
}

// mixedObjective is a smooth function of a mixedSpace assignment.
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
			if tc.wantErr == nil {
				if err != nil || s == nil {
					t.Fatalf("New(%v) = %v, %v; want a suggester", tc.settings, s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%v) succeeded; want an error", tc.settings)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New(%v) error %q does not contain %q", tc.settings, err, want)
				}
			}
		})
	}
}

// run asks s for total trials in batches of size batch, evaluating each
// with f and recording it as completed.
func run(t *testing.T, s *Suggester, space suggest.Space, goal suggest.Goal, seed uint64, total, batch int, f func(suggest.Assignment) float64) []suggest.Observation {
	t.Helper()
	var history []suggest.Observation
	for len(history) < total {
		n := min(batch, total-len(history))
		as, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: goal, History: history, N: n, Seed: seed})
		if err != nil {
			t.Fatalf("Suggest after %d trials: %v", len(history), err)
		}
		if len(as) != n {
			t.Fatalf("Suggest(N=%d) returned %d assignments", n, len(as))
		}
		for _, a := range as {
			history = append(history, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: f(a)})
		}
	}
	return history
}

// checkInSpace fails when a is not a valid assignment of space.
func checkInSpace(t *testing.T, space suggest.Space, a suggest.Assignment) {
	t.Helper()
	if len(a) != len(space) {
		t.Errorf("assignment %v has %d parameters, want %d", a, len(a), len(space))
	}
	for _, p := range space {
		v, ok := a[p.Name]
		if !ok {
			t.Errorf("assignment %v lacks %q", a, p.Name)
			continue
		}
		switch p.Type {
		case suggest.Categorical, suggest.Discrete:
			if !slices.Contains(p.Values, v) {
				t.Errorf("%s=%q is not in %v", p.Name, v, p.Values)
			}
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < p.Min || f > p.Max {
			t.Errorf("%s=%q outside [%v, %v]", p.Name, v, p.Min, p.Max)
		}
		if p.Type == suggest.Int && f != math.Trunc(f) {
			t.Errorf("%s=%q is not an integer", p.Name, v)
		}
		if p.Step > 0 {
			k := (f - p.Min) / p.Step
			if math.Abs(k-math.Round(k)) > 1e-6 {
				t.Errorf("%s=%q is not on the step %v", p.Name, v, p.Step)
			}
		}
	}
}

func TestSuggestContract(t *testing.T) {
	space := mixedSpace()
	for _, strategy := range []string{"kriging_believer", "constant_liar_min", "constant_liar_max", "constant_liar_mean"} {
		for _, acq := range []string{"logei", "ucb", "pi"} {
			t.Run(strategy+"/"+acq, func(t *testing.T) {
				s, err := New(map[string]string{"batch_strategy": strategy, "acq_func": acq, "n_initial_points": "6"})
				if err != nil {
					t.Fatal(err)
				}
				history := run(t, s, space, suggest.Minimize, 3, 20, 4, func(a suggest.Assignment) float64 { return mixedObjective(t, a) })
				keys := map[string]bool{}
				for _, o := range history {
					checkInSpace(t, space, o.Assignment)
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
					checkInSpace(t, space, a)
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
	space := mixedSpace()
	s, err := New(map[string]string{"n_initial_points": "5"})
	if err != nil {
		t.Fatal(err)
	}
	obj := func(a suggest.Assignment) float64 { return mixedObjective(t, a) }
	h1 := run(t, s, space, suggest.Maximize, 11, 12, 3, obj)
	h2 := run(t, s, space, suggest.Maximize, 11, 12, 3, obj)
	if diff := cmp.Diff(h1, h2); diff != "" {
		t.Errorf("same seed, different runs (-first +second):\n%s", diff)
	}
	h3 := run(t, s, space, suggest.Maximize, 12, 12, 3, obj)
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
	space := mixedSpace()
	obj := func(a suggest.Assignment) float64 { return mixedObjective(t, a) }
	one := run(t, s, space, suggest.Minimize, 5, 10, 1, obj)
	all := run(t, s, space, suggest.Minimize, 5, 10, 10, obj)
	if diff := cmp.Diff(one, all); diff != "" {
		t.Errorf("initial design depends on batching (-one at a time +all at once):\n%s", diff)
	}
}

func TestSuggestPendingAndFailed(t *testing.T) {
	space := mixedSpace()
	s, err := New(map[string]string{"n_initial_points": "4"})
	if err != nil {
		t.Fatal(err)
	}
	history := run(t, s, space, suggest.Minimize, 1, 8, 4, func(a suggest.Assignment) float64 { return mixedObjective(t, a) })
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
		checkInSpace(t, space, a)
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
	space := mixedSpace()
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

// branin is the Branin–Hoo function; its minimum is 0.397887.
func branin(x1, x2 float64) float64 {
	const (
		a = 1
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6
		s = 10
		t = 1 / (8 * math.Pi)
	)
	return a*math.Pow(x2-b*x1*x1+c*x1-r, 2) + s*(1-t)*math.Cos(x1) + s
}

// braninSpace is Branin's domain.
var braninSpace = suggest.Space{
	{Name: "x1", Type: suggest.Double, Min: -5, Max: 10},
	{Name: "x2", Type: suggest.Double, Min: 0, Max: 15},
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
	history := run(t, s, braninSpace, g, seed, total, batch, func(a suggest.Assignment) float64 {
		x1, _ := strconv.ParseFloat(a["x1"], 64)
		x2, _ := strconv.ParseFloat(a["x2"], 64)
		if g == suggest.Maximize {
			return -branin(x1, x2)
		}
		return branin(x1, x2)
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
	const optimum = 0.397887
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
			t.Logf("best after 40 trials: %.6f (optimum %.6f)", best, optimum)
			if best-optimum > tc.tol {
				t.Errorf("best %v is more than %v above the optimum %v", best, tc.tol, optimum)
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
	if _, err := s.Suggest(ctx, suggest.Request{Space: mixedSpace(), N: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Suggest with a cancelled context: %v, want context.Canceled", err)
	}
}
