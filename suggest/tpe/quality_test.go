package tpe

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// budget is the number of evaluations of each quality run.
const budget = 60

// qualitySeeds are the seeds of the quality comparison.
var qualitySeeds = []uint64{1, 2, 3, 4, 5}

// problem is a test function to minimise.
type problem struct {
	space suggest.Space
	f     func(x1, x2 float64) float64
	// optimum is the global minimum, for reporting.
	optimum float64
}

// problems returns the quality benchmarks.
func problems() map[string]problem {
	return map[string]problem{
		"quadratic": {
			space: suggest.Space{
				{Name: "x1", Type: suggest.Double, Min: -10, Max: 10},
				{Name: "x2", Type: suggest.Double, Min: -10, Max: 10},
			},
			f:       func(x1, x2 float64) float64 { return (x1-3)*(x1-3) + (x2+1)*(x2+1) },
			optimum: 0,
		},
		"branin": {
			space:   suggesttest.BraninSpace(),
			f:       suggesttest.Branin,
			optimum: suggesttest.BraninMinimum,
		},
	}
}

// bestOf runs s on p for budget sequential evaluations and returns the best
// value found.
func bestOf(tb testing.TB, s suggest.Suggester, p problem, seed uint64) float64 {
	tb.Helper()
	var h []suggest.Observation
	best := math.Inf(1)
	for range budget {
		as, err := s.Suggest(tb.Context(), suggest.Request{Space: p.space, History: h, N: 1, Seed: seed})
		if err != nil {
			tb.Fatal(err)
		}
		x1, err1 := strconv.ParseFloat(as[0]["x1"], 64)
		x2, err2 := strconv.ParseFloat(as[0]["x2"], 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("unparsable assignment %v", as[0])
		}
		v := p.f(x1, x2)
		best = min(best, v)
		h = append(h, suggest.Observation{Assignment: as[0], Status: suggest.Completed, Value: v})
	}
	return best
}

// median returns the median of v.
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestQualityBeatsRandom(t *testing.T) {
	rs, err := random.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for pname, p := range problems() {
		var randBest []float64
		for _, seed := range qualitySeeds {
			randBest = append(randBest, bestOf(t, rs, p, seed))
		}
		randMedian := median(randBest)
		for name, s := range variants(t, nil) {
			t.Run(pname+"/"+name, func(t *testing.T) {
				var got []float64
				for _, seed := range qualitySeeds {
					got = append(got, bestOf(t, s, p, seed))
				}
				t.Logf("best after %d: %s %v (median %.4g), random %v (median %.4g), optimum %v",
					budget, name, got, median(got), randBest, randMedian, p.optimum)
				if m := median(got); !(m < randMedian) {
					t.Errorf("median best %v of %s does not beat random search's %v", m, name, randMedian)
				}
			})
		}
	}
}
