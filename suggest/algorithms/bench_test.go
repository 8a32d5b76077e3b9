package algorithms_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/suggest/random"
)

// The grid of BenchmarkSuggest: parameters searched and completed trials
// in the history. -short keeps the histories of at most shortMaxN trials.
var (
	benchDims  = []int{2, 6, 20}
	benchSizes = []int{10, 100, 1000, 10000}
)

const shortMaxN = 100

// skipSize skips a benchmark of alg after n trials that -short leaves
// out, or whose setup takes minutes.
func skipSize(b *testing.B, alg string, dim, n int) {
	switch {
	case alg == algorithms.Auto:
		b.Skip("auto runs another algorithm of the registry (New: bayesianoptimization), measured under that name")
	case testing.Short() && n > shortMaxN:
		b.Skipf("-short: n > %d", shortMaxN)
	case testing.Short() && alg == "enas" && (n > 10 || dim > 6):
		// Its setup trains the controller on every trial of the history:
		// 125 ms a trial in 20 layers.
		b.Skip("-short: enas's setup trains on each trial; n > 10 or dim > 6")
	case alg == "enas" && n > 1000 && dim > 2:
		b.Skipf("setup would train enas's controller on %d trials of %d layers (5 min in 6, 20 in 20); dim=2 measures the cost at this n", n, dim)
	}
}

// BenchmarkSuggest measures one suggestion (N = 1) of every algorithm of
// the registry, built by [algorithms.New] as tune run builds it, after a
// history of n completed trials in a space of dim parameters:
// BenchmarkSuggest/alg=NAME/dim=D/n=N. See benchFixture for each
// algorithm's setup; docs/performance.md has the figures.
func BenchmarkSuggest(b *testing.B) {
	for _, alg := range algorithms.Names() {
		for _, dim := range benchDims {
			for _, n := range benchSizes {
				b.Run(fmt.Sprintf("alg=%s/dim=%d/n=%d", alg, dim, n), func(b *testing.B) {
					benchSuggest(b, alg, dim, n, 1)
				})
			}
		}
	}
}

// BenchmarkSuggestBatch measures a call for 8 suggestions in 6 dimensions,
// as with a parallelTrialCount of 8; ms/suggestion is the time per
// assignment returned.
func BenchmarkSuggestBatch(b *testing.B) {
	for _, alg := range algorithms.Names() {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("alg=%s/dim=6/n=%d/batch=8", alg, n), func(b *testing.B) {
				benchSuggest(b, alg, 6, n, 8)
			})
		}
	}
}

// BenchmarkResume measures the first suggestion of a new enas Suggester
// (as after tune run resumes an experiment) after n completed trials of
// dim layers: enas replays its controller's training on the whole
// history, which BenchmarkSuggest's running experiment does once per
// trial. Every other algorithm keeps nothing between calls, so its first
// call costs what BenchmarkSuggest measures.
func BenchmarkResume(b *testing.B) {
	for _, dim := range benchDims {
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("alg=enas/dim=%d/n=%d", dim, n), func(b *testing.B) {
				skipSize(b, "enas", dim, n)
				if n*dim > 10000 {
					b.Skip("the replay alone would take minutes: its cost is linear in n (see n=100)")
				}
				f := cachedFixture(b, "enas", dim, n)
				req := f.req
				b.ReportAllocs()
				for b.Loop() {
					s, err := algorithms.New("enas", nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.Suggest(b.Context(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func benchSuggest(b *testing.B, alg string, dim, n, batch int) {
	skipSize(b, alg, dim, n)
	f := cachedFixture(b, alg, dim, n)
	req := f.req
	req.N = batch
	b.ReportAllocs()
	got := 0
	for b.Loop() {
		if f.grow {
			// A running experiment: the suggestion before has completed.
			f.complete(f.last)
			req.History = f.req.History
		}
		as, err := f.s.Suggest(b.Context(), req)
		if err != nil && !errors.Is(err, suggest.ErrWait) {
			b.Fatal(err)
		}
		if len(as) == 0 {
			b.Fatalf("Suggest returned nothing (%v)", err)
		}
		got += len(as)
		f.last = as
	}
	if batch > 1 {
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(got), "ms/suggestion")
	}
}

// fixture is an algorithm ready to suggest after n completed trials.
type fixture struct {
	s   suggest.Suggester
	req suggest.Request // N = 1, History of n completed trials
	// grow says that each op first completes the op before's suggestion,
	// as trials finish in a running experiment: the algorithm keeps
	// state between calls (enas's replay) that the op measures.
	grow bool
	last []suggest.Assignment
	obj  func(suggest.Assignment) float64
}

// complete appends as to the history, completed with their objective
// values.
func (f *fixture) complete(as []suggest.Assignment) {
	for _, a := range as {
		i := len(f.req.History)
		f.req.History = append(f.req.History, suggest.Observation{
			Name: "trial-" + strconv.Itoa(i), Assignment: a, Status: suggest.Completed, Value: f.obj(a),
		})
	}
}

// lastFixture keeps the fixture of the benchmark that ran last, by name:
// the testing package runs a benchmark once with b.N = 1 and then again,
// and a history of 10,000 trials driven through an algorithm is worth
// keeping between the two; one is enough, since sub-benchmarks run in
// turn.
var lastFixture struct {
	key string
	f   *fixture
}

func cachedFixture(b *testing.B, alg string, dim, n int) *fixture {
	key := b.Name()
	if lastFixture.key != key {
		lastFixture.key, lastFixture.f = "", nil
		f, err := benchFixture(alg, dim, n)
		if err != nil {
			b.Fatal(err)
		}
		lastFixture.key, lastFixture.f = key, f
	}
	return lastFixture.f
}

// benchFixture returns alg built with its default settings (plus those it
// requires) after n completed trials in a space of dim parameters:
//
//   - random, sobol, tpe, multivariate-tpe, bayesianoptimization, cmaes:
//     benchSpace(dim), n trials drawn from the prior;
//   - grid: benchSpace(dim) with a step of a hundredth of each double's
//     range (10,201 points in two dimensions), a third in twenty
//     dimensions (4 values, so that the grid's size fits an int), its
//     first n points;
//   - hyperband: benchSpace(dim) and an int resource "epochs" from 1 to
//     r_l, r_l the smallest power of 3 whose brackets hold more than n
//     trials (eta 3), the history driven through it;
//   - asha: the same resource from 1 to 81 (rungs 1, 3, 9, 27, 81), the
//     history driven through it in batches of n/100 (at least 1);
//   - pbt: n_population 40 and truncation_threshold 0.2 (Katib's
//     simple-pbt.yaml), the history driven through it a generation at a
//     time;
//   - enas, darts: no parameters but a nasConfig of dim layers and 10
//     operations, the history driven through the suggester (enas in
//     batches of n/20), which enas then keeps: each op completes the
//     suggestion of the op before, as in a running experiment.
//
// Every objective value is benchObjective's, minimised.
func benchFixture(alg string, dim, n int) (*fixture, error) {
	space := benchSpace(dim)
	var settings map[string]string
	var nas *suggest.NASConfig
	switch alg {
	case "grid":
		// m values per double: 101, fewer when the grid's size would not
		// fit an int64 (4 in 20 dimensions).
		others, doubles := 1.0, 0
		for _, p := range space {
			switch p.Type {
			case suggest.Double:
				doubles++
			case suggest.Int:
				others *= p.Max - p.Min + 1
			default:
				others *= float64(len(p.Values))
			}
		}
		m := min(101, math.Floor(math.Pow(1e17/others, 1/float64(doubles))))
		for i, p := range space {
			if p.Type == suggest.Double {
				space[i].Step = (p.Max - p.Min) / (m - 1)
			}
		}
	case "hyperband":
		r := 3
		for hyperbandTrials(r, 3) <= n {
			r *= 3
		}
		space = append(space, suggest.Param{Name: "epochs", Type: suggest.Int, Min: 1, Max: float64(r)})
		settings = map[string]string{"resource_name": "epochs", "r_l": strconv.Itoa(r)}
	case "asha":
		space = append(space, suggest.Param{Name: "epochs", Type: suggest.Int, Min: 1, Max: 81})
		settings = map[string]string{"resource_name": "epochs"}
	case "pbt":
		settings = map[string]string{"suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "40", "truncation_threshold": "0.2"}
	case "enas", "darts":
		space = nil
		nas = benchNAS(dim)
	}
	s, err := algorithms.New(alg, settings)
	if err != nil {
		return nil, err
	}
	f := &fixture{s: s, req: suggest.Request{Space: space, Goal: suggest.Minimize, N: 1, Seed: 1, Settings: settings, NAS: nas}}
	f.obj = func(a suggest.Assignment) float64 { return benchObjective(space, a) }
	if nas != nil {
		f.obj = nasObjective
	}
	switch alg {
	case "random", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes":
		prior, err := random.NewPrior(space)
		if err != nil {
			return nil, err
		}
		r := rand.New(rand.NewPCG(uint64(dim), uint64(n)))
		for range n {
			f.complete([]suggest.Assignment{prior.Sample(r)})
		}
		return f, nil
	}
	batch := n // the rest at once
	switch alg {
	case "asha":
		batch = max(1, n/100)
	case "pbt":
		batch = 40
	case "enas":
		batch = max(1, n/20)
		f.grow = true
	}
	if err := f.drive(n, batch); err != nil {
		return nil, fmt.Errorf("%s: %w", alg, err)
	}
	if f.grow {
		// Learn the last batch now, so that an op learns one trial.
		as, err := f.s.Suggest(context.Background(), f.req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", alg, err)
		}
		f.last = as
	}
	return f, nil
}

// drive asks f's algorithm for up to batch trials at a time and completes
// them, until the history holds n.
func (f *fixture) drive(n, batch int) error {
	for len(f.req.History) < n {
		req := f.req
		req.N = min(batch, n-len(req.History))
		as, err := f.s.Suggest(context.Background(), req)
		if err != nil && !errors.Is(err, suggest.ErrWait) {
			return fmt.Errorf("after %d trials: %w", len(req.History), err)
		}
		if len(as) == 0 {
			return fmt.Errorf("after %d trials: no suggestion (%v)", len(req.History), err)
		}
		f.complete(as)
	}
	return nil
}

// benchSpace returns dim parameters x0, x1, …: doubles on [-5, 5], but
// every sixth from x3 on a log-uniform double on [1e-4, 1], from x4 an int
// from 1 to 100 and from x5 a categorical of four values. Two dimensions
// are two doubles, six are four doubles, an int and a categorical, twenty
// are fourteen doubles, three ints and three categoricals.
func benchSpace(dim int) suggest.Space {
	space := make(suggest.Space, dim)
	for i := range space {
		p := suggest.Param{Name: "x" + strconv.Itoa(i), Type: suggest.Double, Min: -5, Max: 5}
		switch i % 6 {
		case 3:
			p.Min, p.Max, p.Distribution = 1e-4, 1, suggest.LogUniform
		case 4:
			p.Type, p.Min, p.Max = suggest.Int, 1, 100
		case 5:
			p = suggest.Param{Name: p.Name, Type: suggest.Categorical, Values: []string{"a", "b", "c", "d"}}
		}
		space[i] = p
	}
	return space
}

// benchObjective is a smooth function with one minimum in the unit
// coordinates of the numeric parameters of space, plus a term per
// categorical value, divided by the log of epochs when a has them.
func benchObjective(space suggest.Space, a suggest.Assignment) float64 {
	var y float64
	for i, p := range space {
		v := a[p.Name]
		if p.Type == suggest.Categorical {
			y += 0.1 * float64(slices.Index(p.Values, v))
			continue
		}
		u, err := p.ToUnit(v)
		if err != nil {
			return math.NaN()
		}
		c := 0.2 + 0.6*float64(i%5)/4
		y += (1+float64(i%3))*(u-c)*(u-c) + 0.05*math.Sin(13*u)
	}
	if e, err := strconv.ParseFloat(a["epochs"], 64); err == nil {
		y /= math.Log(e + 2)
	}
	return y
}

// benchNAS returns a nasConfig of layers layers and 10 operations (the
// enas tests' toy space).
func benchNAS(layers int) *suggest.NASConfig {
	cat := func(name string, vals ...string) suggest.Param {
		return suggest.Param{Name: name, Type: suggest.Categorical, Values: vals}
	}
	return &suggest.NASConfig{
		NumLayers: layers, InputSizes: []int{32, 32, 3}, OutputSizes: []int{10},
		Operations: []suggest.NASOperation{
			{Type: "convolution", Parameters: suggest.Space{cat("filter_size", "3", "5", "7"), cat("num_filter", "32", "64")}},
			{Type: "separable_convolution", Parameters: suggest.Space{cat("filter_size", "3", "5")}},
			{Type: "reduction", Parameters: suggest.Space{cat("reduction_type", "max_pooling", "avg_pooling")}},
		},
	}
}

// nasObjective scores an assignment of enas or darts by the digits of its
// values: deterministic, in [0, 1), and different for different
// architectures.
func nasObjective(a suggest.Assignment) float64 {
	var h uint64 = 14695981039346656037
	for _, k := range slices.Sorted(maps.Keys(a)) {
		for _, c := range []byte(a[k]) {
			h = (h ^ uint64(c)) * 1099511628211
		}
	}
	return float64(h>>11) / (1 << 53)
}

// hyperbandTrials returns how many trials Hyperband's brackets hold for
// R = r and η = eta (Li et al., Table 1; suggest/hyperband's schedule).
func hyperbandTrials(r, eta int) int {
	e := float64(eta)
	sMax := int(math.Floor(math.Log(float64(r))/math.Log(e) + 1e-9))
	total := 0
	for s := sMax; s >= 0; s-- {
		n := int(math.Ceil(float64(sMax+1) / float64(s+1) * math.Pow(e, float64(s))))
		for i := 0; i <= s; i++ {
			total += max(1, int(math.Floor(float64(n)*math.Pow(e, -float64(i)))))
		}
	}
	return total
}
