// Package suggesttest holds what the suggesters' tests share: a space with
// a parameter of every kind, the Branin test function, checks of an
// assignment against its space and of an error against the strings it
// must hold, and loops that drive a suggester through a simulated
// experiment. It is imported by tests and by the suggesters' benchmark
// program (for Branin), never by tune itself.
package suggesttest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

// MixedSpace returns a new space with a parameter of every type and
// distribution: doubles log-uniform (lr), stepped (momentum), normal
// (dropout) and log-normal (decay); ints uniform (layers), log-uniform
// (units) and stepped normal (width); a discrete (batch) and a categorical
// (optimizer, values sgd, adam and ftrl).
func MixedSpace() suggest.Space {
	return suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.001, Max: 0.1, Distribution: suggest.LogUniform},
		{Name: "momentum", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1},
		{Name: "dropout", Type: suggest.Double, Min: 0, Max: 0.5, Distribution: suggest.Normal},
		{Name: "decay", Type: suggest.Double, Min: 1e-6, Max: 1e-2, Distribution: suggest.LogNormal},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
		{Name: "units", Type: suggest.Int, Min: 16, Max: 1024, Distribution: suggest.LogUniform},
		{Name: "width", Type: suggest.Int, Min: 16, Max: 256, Step: 16, Distribution: suggest.Normal},
		{Name: "batch", Type: suggest.Discrete, Values: []string{"16", "32", "64"}},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl"}},
	}
}

// BraninMinimum is the minimum of [Branin] on [BraninSpace], 10/(8π) ≈
// 0.397887, reached at (−π, 12.275), (π, 2.275) and (3π, 2.475).
const BraninMinimum = 10 / (8 * math.Pi)

// Branin returns the Branin–Hoo function at (x1, x2):
// (x2 − b·x1² + c·x1 − 6)² + 10·(1 − t)·cos(x1) + 10 with b = 5.1/(4π²),
// c = 5/π and t = 1/(8π).
func Branin(x1, x2 float64) float64 {
	const (
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		t = 1 / (8 * math.Pi)
	)
	u := x2 - b*x1*x1 + c*x1 - 6
	return u*u + 10*(1-t)*math.Cos(x1) + 10
}

// BraninSpace returns a new space of Branin's domain: doubles x1 on
// [−5, 10] and x2 on [0, 15].
func BraninSpace() suggest.Space {
	return suggest.Space{
		{Name: "x1", Type: suggest.Double, Min: -5, Max: 10},
		{Name: "x2", Type: suggest.Double, Min: 0, Max: 15},
	}
}

// CheckAssignment returns an error saying what is wrong unless a gives
// every parameter of space a value and nothing else: each value passes
// [suggest.Param.Check], and an Int's is written as a whole number (no
// fraction, exponent or sign other than a leading minus).
func CheckAssignment(space suggest.Space, a suggest.Assignment) error {
	if len(a) != len(space) {
		return fmt.Errorf("assignment %v has %d values for %d parameters", a, len(a), len(space))
	}
	for _, p := range space {
		v, ok := a[p.Name]
		if !ok {
			return fmt.Errorf("assignment %v has no %s", a, p.Name)
		}
		if err := p.Check(v); err != nil {
			return err
		}
		if p.Type == suggest.Int {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || strconv.FormatInt(n, 10) != v {
				return fmt.Errorf("parameter %s: %q is not written as an integer", p.Name, v)
			}
		}
	}
	return nil
}

// CheckError checks err, returned by call (as named in messages, e.g.
// "New(map[a:1])"): nil when want is empty, otherwise an error holding
// every string of want. It stops tb on an error not wanted or a wanted one
// missing, and reports each string the error lacks.
func CheckError(tb testing.TB, call string, err error, want []string) {
	tb.Helper()
	if len(want) == 0 {
		if err != nil {
			tb.Fatalf("%s: %v", call, err)
		}
		return
	}
	if err == nil {
		tb.Fatalf("%s succeeded; want an error", call)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			tb.Errorf("%s error %q does not contain %q", call, err, w)
		}
	}
}

// Pending returns as as pending observations, whose values are NaN.
func Pending(as []suggest.Assignment) []suggest.Observation {
	obs := make([]suggest.Observation, len(as))
	for i, a := range as {
		obs[i] = suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()}
	}
	return obs
}

// Collect asks s for total assignments of space with seed, in batches of
// the sizes given (cycled; the last one cut to what remains), each batch
// added to the history as pending trials before the next request, and
// returns them in order. It stops tb when Suggest fails or returns a batch
// of another size.
func Collect(tb testing.TB, s suggest.Suggester, seed uint64, space suggest.Space, total int, batches ...int) []suggest.Assignment {
	tb.Helper()
	var history []suggest.Observation
	var got []suggest.Assignment
	for i := 0; len(got) < total; i++ {
		n := min(batches[i%len(batches)], total-len(got))
		as, err := s.Suggest(tb.Context(), suggest.Request{Space: space, History: history, N: n, Seed: seed})
		if err != nil {
			tb.Fatalf("Suggest after %d assignments: %v", len(got), err)
		}
		if len(as) != n {
			tb.Fatalf("Suggest(N=%d) returned %d assignments", n, len(as))
		}
		history = append(history, Pending(as)...)
		got = append(got, as...)
	}
	return got
}

// Run drives s through an experiment of total trials of space toward goal
// with seed, asked batch at a time (the last batch cut to what remains),
// each batch completed with the values f gives before the next request,
// and returns the history. It stops tb when Suggest fails or returns a
// batch of another size.
func Run(tb testing.TB, s suggest.Suggester, space suggest.Space, goal suggest.Goal, seed uint64, total, batch int, f func(suggest.Assignment) float64) []suggest.Observation {
	tb.Helper()
	var history []suggest.Observation
	for len(history) < total {
		n := min(batch, total-len(history))
		as, err := s.Suggest(tb.Context(), suggest.Request{Space: space, Goal: goal, History: history, N: n, Seed: seed})
		if err != nil {
			tb.Fatalf("Suggest after %d trials: %v", len(history), err)
		}
		if len(as) != n {
			tb.Fatalf("Suggest(N=%d) returned %d assignments", n, len(as))
		}
		for _, a := range as {
			history = append(history, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: f(a)})
		}
	}
	return history
}
