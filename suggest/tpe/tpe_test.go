package tpe

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// objective is a made-up loss on suggesttest.MixedSpace, so that histories have
// structure.
func objective(a suggest.Assignment) float64 {
	f := func(name string) float64 {
		v, _ := strconv.ParseFloat(a[name], 64)
		return v
	}
	v := math.Pow(math.Log10(f("lr"))+2, 2) + math.Pow(f("momentum")-0.8, 2) + f("dropout") + float64(f("layers")-4)*float64(f("layers")-4)/10
	if a["optimizer"] == "adam" {
		v -= 0.5
	}
	return v
}

// makeHistory returns n observations of suggesttest.MixedSpace drawn at random, completed
// with objective, except that every seventh fails and every eleventh is
// still pending.
func makeHistory(t testing.TB, n int) []suggest.Observation {
	t.Helper()
	prior, err := random.NewPrior(suggesttest.MixedSpace())
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]suggest.Observation, n)
	for i := range obs {
		a := prior.Sample(rand.New(rand.NewPCG(99, uint64(i))))
		obs[i] = suggest.Observation{Assignment: a, Status: suggest.Completed, Value: objective(a)}
		switch {
		case i%7 == 6:
			obs[i].Status, obs[i].Value = suggest.Failed, math.NaN()
		case i%11 == 10:
			obs[i].Status, obs[i].Value = suggest.Pending, math.NaN()
		}
	}
	return obs
}

// variants returns the two algorithms with default settings.
func variants(t testing.TB, settings map[string]string) map[string]*Suggester {
	t.Helper()
	out := map[string]*Suggester{}
	for name, mv := range map[string]bool{"tpe": false, "multivariate-tpe": true} {
		s, err := New(settings, mv)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		want     *Suggester // nil: an error is wanted
		wantErr  []string
	}{
		"nil": {want: &Suggester{nStartup: 10, nCandidates: 24, priorWeight: 1}},
		"all": {
			settings: map[string]string{"n_startup_trials": "5", "n_ei_candidates": "50", "gamma": "0.25", "prior_weight": "2.5", "random_state": "42"},
			want:     &Suggester{nStartup: 5, nCandidates: 50, gamma: 0.25, priorWeight: 2.5, seed: 42, hasSeed: true},
		},
		"hyperopt spellings": {
			settings: map[string]string{"n_EI_candidates": "12", "n_startup_jobs": "0"},
			want:     &Suggester{nStartup: 0, nCandidates: 12, priorWeight: 1},
		},
		"unknown":          {settings: map[string]string{"n_initial_points": "5"}, wantErr: []string{`"n_initial_points"`, "allowed:", "n_ei_candidates", "prior_weight"}},
		"negative startup": {settings: map[string]string{"n_startup_trials": "-1"}, wantErr: []string{"n_startup_trials", "non-negative"}},
		"zero candidates":  {settings: map[string]string{"n_ei_candidates": "0"}, wantErr: []string{"n_ei_candidates", "positive integer"}},
		"gamma one":        {settings: map[string]string{"gamma": "1"}, wantErr: []string{"gamma", "between 0 and 1"}},
		"gamma text":       {settings: map[string]string{"gamma": "x"}, wantErr: []string{"gamma", `"x"`}},
		"prior zero":       {settings: map[string]string{"prior_weight": "0"}, wantErr: []string{"prior_weight", "positive number"}},
		"prior inf":        {settings: map[string]string{"prior_weight": "+Inf"}, wantErr: []string{"prior_weight"}},
		"seed negative":    {settings: map[string]string{"random_state": "-3"}, wantErr: []string{"random_state", "non-negative integer"}},
		"given twice":      {settings: map[string]string{"n_ei_candidates": "3", "n_EI_candidates": "4"}, wantErr: []string{"given twice"}},
		"every problem": {
			settings: map[string]string{"a": "1", "gamma": "2", "prior_weight": "-1"},
			wantErr:  []string{`"a"`, "gamma", "prior_weight"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := New(tc.settings, false)
			suggesttest.CheckError(t, fmt.Sprintf("New(%v)", tc.settings), err, tc.wantErr)
			if err == nil {
				if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Suggester{})); diff != "" {
					t.Errorf("New(%v) (-want +got):\n%s", tc.settings, diff)
				}
			}
		})
	}
}

func TestSuggestContract(t *testing.T) {
	space := suggesttest.MixedSpace()
	for name, s := range variants(t, nil) {
		for _, n := range []int{0, 5, 40} {
			t.Run(fmt.Sprintf("%s/history %d", name, n), func(t *testing.T) {
				req := suggest.Request{Space: space, History: makeHistory(t, n), N: 8, Seed: 3}
				got, err := s.Suggest(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != req.N {
					t.Fatalf("got %d assignments, want %d", len(got), req.N)
				}
				keys := map[string]bool{}
				for _, o := range req.History {
					keys[o.Assignment.Key()] = true
				}
				for _, a := range got {
					if err := suggesttest.CheckAssignment(space, a); err != nil {
						t.Error(err)
					}
					if keys[a.Key()] {
						t.Errorf("%v repeats an earlier assignment", a)
					}
					keys[a.Key()] = true
				}
				again, err := s.Suggest(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(got, again); diff != "" {
					t.Errorf("second call differs (-first +second):\n%s", diff)
				}
				req.Seed = 4
				other, err := s.Suggest(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if cmp.Equal(got, other) {
					t.Errorf("seeds 3 and 4 gave the same batch %v", got)
				}
			})
		}
	}
}

func TestSuggestResume(t *testing.T) {
	space := suggesttest.MixedSpace()
	for name, s := range variants(t, nil) {
		t.Run(name, func(t *testing.T) {
			base := makeHistory(t, 30)
			batch, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: base, N: 6, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			h := slices.Clone(base)
			var singles []suggest.Assignment
			for range 6 {
				one, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 1, Seed: 11})
				if err != nil {
					t.Fatal(err)
				}
				singles = append(singles, one...)
				h = append(h, suggest.Observation{Assignment: one[0], Status: suggest.Pending, Value: math.NaN()})
			}
			if diff := cmp.Diff(batch, singles); diff != "" {
				t.Errorf("batch differs from one at a time (-batch +singles):\n%s", diff)
			}
		})
	}
}

func TestSuggestRandomState(t *testing.T) {
	space := suggesttest.MixedSpace()
	for name, s := range variants(t, map[string]string{"random_state": "5"}) {
		t.Run(name, func(t *testing.T) {
			h := makeHistory(t, 25)
			a, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 3, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 3, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("random_state did not override the request seed (-seed 1 +seed 2):\n%s", diff)
			}
		})
	}
}

func TestSuggestStartupUsesPrior(t *testing.T) {
	space := suggesttest.MixedSpace()
	rs, err := random.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nine completed trials (with failed and pending ones) is below the
	// default n_startup_trials of 10, so TPE must draw exactly what random
	// search draws for the same trial numbers.
	h := makeHistory(t, 11)
	completed := 0
	for _, o := range h {
		if o.Status == suggest.Completed {
			completed++
		}
	}
	if completed >= DefaultNStartupTrials {
		t.Fatalf("history has %d completed trials; the test needs fewer than %d", completed, DefaultNStartupTrials)
	}
	req := suggest.Request{Space: space, History: h, N: 4, Seed: 8}
	want, err := rs.Suggest(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range variants(t, nil) {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("startup suggestions differ from random search (-random +tpe):\n%s", diff)
			}
		})
	}
}

func TestSuggestSmallSpaceBatch(t *testing.T) {
	// Twelve possible assignments, ten of them tried: a batch of 8 still
	// gets the two new ones first and repeats only once it must.
	space := suggest.Space{
		{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b", "c"}},
		{Name: "k", Type: suggest.Int, Min: 1, Max: 4},
	}
	var h []suggest.Observation
	for i, c := range []string{"a", "b", "c"} {
		for k := 1; k <= 4; k++ {
			if len(h) == 10 {
				break
			}
			a := suggest.Assignment{"c": c, "k": strconv.Itoa(k)}
			h = append(h, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: float64(i + k)})
		}
	}
	for name, s := range variants(t, nil) {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 8, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var first []string
			for _, a := range got[:2] {
				if err := suggesttest.CheckAssignment(space, a); err != nil {
					t.Error(err)
				}
				first = append(first, a["c"]+a["k"])
			}
			slices.Sort(first)
			if diff := cmp.Diff([]string{"c3", "c4"}, first); diff != "" {
				t.Errorf("first two suggestions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuggestErrors(t *testing.T) {
	s, err := New(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := map[string]struct {
		ctx context.Context
		req suggest.Request
	}{
		"n zero":      {ctx: t.Context(), req: suggest.Request{Space: suggesttest.MixedSpace(), N: 0}},
		"empty space": {ctx: t.Context(), req: suggest.Request{N: 1}},
		"bad space":   {ctx: t.Context(), req: suggest.Request{Space: suggest.Space{{Name: "x", Type: "complex"}}, N: 1}},
		"cancelled":   {ctx: cancelled, req: suggest.Request{Space: suggesttest.MixedSpace(), N: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Suggest(tc.ctx, tc.req); err == nil {
				t.Errorf("Suggest succeeded; want an error")
			}
		})
	}
}

func TestSuggestIgnoresForeignObservations(t *testing.T) {
	space := suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1}}
	var h []suggest.Observation
	for i := range 20 {
		h = append(h, suggest.Observation{Assignment: suggest.Assignment{"x": suggest.FormatFloat(float64(i) / 20)}, Status: suggest.Completed, Value: float64(i)})
	}
	h = append(h,
		suggest.Observation{Assignment: suggest.Assignment{"y": "1"}, Status: suggest.Completed, Value: -1},
		suggest.Observation{Assignment: suggest.Assignment{"x": "abc"}, Status: suggest.Completed, Value: -1},
		suggest.Observation{Assignment: suggest.Assignment{"x": "7"}, Status: suggest.Completed, Value: 0.5},
	)
	for name, s := range variants(t, nil) {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 3, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range got {
				if err := suggesttest.CheckAssignment(space, a); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestSuggestMaximize(t *testing.T) {
	// The objective grows with x: maximising, TPE should propose large x.
	space := suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1}}
	var h []suggest.Observation
	for i := range 30 {
		x := (float64(i) + 0.5) / 30
		h = append(h, suggest.Observation{Assignment: suggest.Assignment{"x": suggest.FormatFloat(x)}, Status: suggest.Completed, Value: x})
	}
	for name, s := range variants(t, nil) {
		for goal, wantHigh := range map[suggest.Goal]bool{suggest.Maximize: true, suggest.Minimize: false} {
			t.Run(fmt.Sprintf("%s/goal %d", name, goal), func(t *testing.T) {
				got, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: goal, History: h, N: 5, Seed: 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range got {
					x, _ := strconv.ParseFloat(a["x"], 64)
					if (x > 0.5) != wantHigh {
						t.Errorf("goal %d suggested x=%v", goal, x)
					}
				}
			})
		}
	}
}

func TestSuggestNoStartup(t *testing.T) {
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b"}},
	}
	for name, s := range variants(t, map[string]string{"n_startup_trials": "0"}) {
		for n := range 4 {
			t.Run(fmt.Sprintf("%s/%d completed", name, n), func(t *testing.T) {
				var h []suggest.Observation
				for i := range n {
					a := suggest.Assignment{"x": suggest.FormatFloat(float64(i) / 4), "c": "a"}
					h = append(h, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: float64(i)})
				}
				got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 4, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range got {
					if err := suggesttest.CheckAssignment(space, a); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
}

func TestSplit(t *testing.T) {
	dims := []dim{newDim(suggest.Param{Name: "x", Type: suggest.Double, Min: 0, Max: 10})}
	obs := func(x string, st suggest.Status, v float64) suggest.Observation {
		return suggest.Observation{Assignment: suggest.Assignment{"x": x}, Status: st, Value: v}
	}
	nan := math.NaN()
	h := newHistory(dims, []suggest.Observation{
		obs("1", suggest.Completed, 5),
		obs("2", suggest.Failed, nan),
		obs("3", suggest.Completed, 1),
		obs("4", suggest.Pending, nan),
		obs("5", suggest.Completed, 3),
		obs("6", suggest.Completed, nan),
	})
	h.addPending(suggest.Assignment{"x": "7"})
	xs := func(g group) []float64 {
		var out []float64
		for _, x := range g.xs {
			out = append(out, math.Round(x[0]*10))
		}
		return out
	}
	tests := map[string]struct {
		goal      suggest.Goal
		nGood     int
		good, bad []float64
	}{
		"minimize one": {goal: suggest.Minimize, nGood: 1, good: []float64{3}, bad: []float64{1, 2, 4, 5, 6, 7}},
		"minimize two": {goal: suggest.Minimize, nGood: 2, good: []float64{3, 5}, bad: []float64{1, 2, 4, 6, 7}},
		"maximize one": {goal: suggest.Maximize, nGood: 1, good: []float64{1}, bad: []float64{2, 3, 4, 5, 6, 7}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			good, bad := h.split(tc.goal, tc.nGood)
			if diff := cmp.Diff(tc.good, xs(good)); diff != "" {
				t.Errorf("good (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.bad, xs(bad)); diff != "" {
				t.Errorf("bad (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuggestEdgeSpaces(t *testing.T) {
	space := suggest.Space{
		{Name: "one", Type: suggest.Double, Min: 3, Max: 3, Distribution: suggest.Normal},
		{Name: "onei", Type: suggest.Int, Min: 2, Max: 2},
		{Name: "logint", Type: suggest.Int, Min: 1, Max: 1000, Distribution: suggest.LogNormal},
		{Name: "huge", Type: suggest.Int, Min: -1e9, Max: 1e9},
		{Name: "logstep", Type: suggest.Double, Min: 0.1, Max: 1.6, Step: 0.5, Distribution: suggest.LogUniform},
		{Name: "disc", Type: suggest.Discrete, Values: []string{"0.5", "-1", "8", "2"}},
		{Name: "single", Type: suggest.Categorical, Values: []string{"only"}},
	}
	prior, err := random.NewPrior(space)
	if err != nil {
		t.Fatal(err)
	}
	var h []suggest.Observation
	for i := range 30 {
		r := rand.New(rand.NewPCG(7, uint64(i)))
		h = append(h, suggest.Observation{Assignment: prior.Sample(r), Status: suggest.Completed, Value: r.Float64()})
	}
	for name, s := range variants(t, nil) {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: suggest.Maximize, History: h, N: 8, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, a := range got {
				if err := suggesttest.CheckAssignment(space, a); err != nil {
					t.Error(err)
				}
				keys[a.Key()] = true
			}
			if len(keys) != len(got) {
				t.Errorf("batch has %d distinct assignments, want %d: %v", len(keys), len(got), got)
			}
		})
	}
}

func TestSuggestRespectsNormalPrior(t *testing.T) {
	// With an overwhelming prior weight both estimators are the prior, so
	// the suggestions follow the declared distribution: normal (truncated at
	// three deviations, deviation about 0.165 of the span) rather than
	// uniform (0.289 of the span), in log space for logNormal.
	space := suggest.Space{
		{Name: "n", Type: suggest.Double, Min: -3, Max: 3, Distribution: suggest.Normal},
		{Name: "ln", Type: suggest.Double, Min: 1e-3, Max: 1e3, Distribution: suggest.LogNormal},
	}
	prior, err := random.NewPrior(space)
	if err != nil {
		t.Fatal(err)
	}
	var h []suggest.Observation
	for i := range 20 {
		a := prior.Sample(rand.New(rand.NewPCG(1, uint64(i))))
		h = append(h, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: float64(i)})
	}
	for name, s := range variants(t, map[string]string{"prior_weight": "1e9", "random_state": "3"}) {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 300})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				f    func(float64) float64
				span float64
			}{
				{"n", func(x float64) float64 { return x }, 6},
				{"ln", math.Log10, 6},
			} {
				var sum, sq float64
				for _, a := range got {
					v, _ := strconv.ParseFloat(a[c.name], 64)
					x := c.f(v) / c.span
					sum += x
					sq += x * x
				}
				n := float64(len(got))
				mean := sum / n
				sd := math.Sqrt(sq/n - mean*mean)
				if math.Abs(mean) > 0.05 || sd < 0.12 || sd > 0.21 {
					t.Errorf("%s: mean %.3f, deviation %.3f of the span; want about 0 and 0.165", c.name, mean, sd)
				}
			}
		})
	}
}
