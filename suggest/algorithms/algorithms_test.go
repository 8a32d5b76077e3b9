package algorithms_test

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// space mixes every parameter type and distribution, with numeric
// parameters enough for CMA-ES.
var space = suggest.Space{
	{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
	{Name: "x", Type: suggest.Double, Min: -5, Max: 5},
	{Name: "m", Type: suggest.Double, Min: 0, Max: 1, Step: 0.1},
	{Name: "n", Type: suggest.Int, Min: 1, Max: 64},
	{Name: "w", Type: suggest.Double, Min: 0, Max: 10, Distribution: suggest.Normal},
	{Name: "bs", Type: suggest.Discrete, Values: []string{"16", "32", "64"}},
	{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam", "rmsprop"}},
}

func objective(a suggest.Assignment) float64 {
	f := func(name string) float64 { v, _ := strconv.ParseFloat(a[name], 64); return v }
	v := math.Pow(math.Log10(f("lr"))+2, 2) + f("x")*f("x") + math.Abs(f("n")-20)/10 + f("m")
	if a["opt"] != "adam" {
		v += 1
	}
	return v
}

// run simulates an experiment with parallelism par: ask for up to par
// trials, complete the oldest pending one, repeat, until total trials.
func run(t *testing.T, s suggest.Suggester, seed uint64, total, par int) []suggest.Observation {
	t.Helper()
	var hist []suggest.Observation
	pending := 0
	for len(hist) < total {
		n := min(par-pending, total-len(hist))
		if n > 0 {
			as, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: slices.Clone(hist), N: n, Seed: seed})
			if err != nil {
				t.Fatalf("Suggest after %d trials: %v", len(hist), err)
			}
			if len(as) != n {
				t.Fatalf("Suggest returned %d assignments, want %d", len(as), n)
			}
			for _, a := range as {
				hist = append(hist, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
			}
			pending += n
		}
		for i := range hist {
			if hist[i].Status == suggest.Pending {
				hist[i].Status, hist[i].Value = suggest.Completed, objective(hist[i].Assignment)
				pending--
				break
			}
		}
	}
	return hist
}

func TestContract(t *testing.T) {
	for _, name := range algorithms.Implemented() {
		switch name {
		case "grid":
			continue // needs a step on every double; covered by its own tests
		case "pbt":
			continue // waits for each generation and reruns abandoned members; covered by its own tests
		}
		if a, _ := algorithms.Lookup(name); a.NAS {
			continue // searches spec.nasConfig, not a space; covered by its own tests
		}
		t.Run(name, func(t *testing.T) {
			var settings map[string]string
			switch name {
			case "asha":
				settings = map[string]string{"resource_name": "n"} // 1 to 64
			case "hyperband":
				settings = map[string]string{"resource_name": "n", "r_l": "64", "eta": "4"}
			}
			s, err := algorithms.New(name, settings)
			if err != nil {
				t.Fatal(err)
			}
			hist := run(t, s, 7, 30, 4)
			seen := map[string]bool{}
			for i, o := range hist {
				if err := suggesttest.CheckAssignment(space, o.Assignment); err != nil {
					t.Errorf("trial %d: %v", i, err)
				}
				seen[o.Assignment.Key()] = true
			}
			if len(seen) < len(hist)-2 {
				t.Errorf("%d distinct assignments in %d trials", len(seen), len(hist))
			}
			// Determinism and resume: the same seed and history give the
			// same trials, however the calls were batched.
			again := run(t, s, 7, 30, 4)
			for i := range hist {
				if hist[i].Assignment.Key() != again[i].Assignment.Key() {
					t.Fatalf("trial %d differs between two runs with the same seed", i)
				}
			}
			// A batch of 8 from a non-trivial history is 8 distinct points.
			batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: hist, N: 8, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, a := range batch {
				keys[a.Key()] = true
			}
			if len(keys) != 8 {
				t.Errorf("batch of 8 has %d distinct points", len(keys))
			}
			// Abandoned trials (the runner died while they ran) keep their
			// place in the history: the next suggestions are new points,
			// not a replay of the abandoned ones.
			withAbandoned := slices.Clone(hist)
			for _, a := range batch[:4] {
				withAbandoned = append(withAbandoned, suggest.Observation{Assignment: a, Status: suggest.Abandoned, Value: math.NaN()})
			}
			next, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: withAbandoned, N: 4, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range next {
				if err := suggesttest.CheckAssignment(space, a); err != nil {
					t.Errorf("after abandoned trials: %v", err)
				}
				if keys[a.Key()] && slices.ContainsFunc(batch[:4], func(b suggest.Assignment) bool { return b.Key() == a.Key() }) {
					t.Errorf("after abandoned trials: %v repeats an abandoned assignment", a)
				}
			}
		})
	}
}

func TestUnknownAlgorithm(t *testing.T) {
	for _, name := range []string{"nonsense"} {
		if _, err := algorithms.New(name, nil); !errors.Is(err, algorithms.ErrNotImplemented) {
			t.Errorf("New(%q) error = %v, want ErrNotImplemented", name, err)
		}
	}
}

// TestLengthOnly checks every algorithm that says it looks at the history
// only for its length (suggest.LengthOnly): after a history of completed,
// failed and pending trials, it suggests the same when the observations
// hold no name and no assignment.
func TestLengthOnly(t *testing.T) {
	var lengthOnly []string
	for _, name := range algorithms.Names() {
		s, err := algorithms.New(name, nil)
		if err != nil {
			continue // needs settings or a NAS space: not a sequence
		}
		lo, ok := s.(suggest.LengthOnly)
		if !ok || !lo.HistoryLengthOnly() {
			continue
		}
		lengthOnly = append(lengthOnly, name)
		full := suggesttest.Run(t, s, space, suggest.Minimize, 3, 30, 4, objective)
		full[5].Status, full[5].Value = suggest.Failed, math.NaN()
		full[9].Status, full[9].Value = suggest.Pending, math.NaN()
		bare := make([]suggest.Observation, len(full))
		for i, o := range full {
			bare[i] = suggest.Observation{Status: o.Status, Value: o.Value}
			full[i].Name = "trial-" + strconv.Itoa(i)
		}
		want, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: full, N: 3, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: bare, N: 3, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, maps.Equal) {
			t.Errorf("%s: with the history's length only it suggests %v, with the whole history %v", name, got, want)
		}
	}
	if !slices.Equal(lengthOnly, []string{"random", "sobol"}) {
		t.Errorf("length-only algorithms: %v, want random and sobol", lengthOnly)
	}
}
