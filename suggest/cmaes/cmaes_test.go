package cmaes

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// boxSpace returns n doubles x0, x1, … on [lo, hi].
func boxSpace(n int, lo, hi float64) suggest.Space {
	s := make(suggest.Space, n)
	for i := range s {
		s[i] = suggest.Param{Name: "x" + strconv.Itoa(i), Type: suggest.Double, Min: lo, Max: hi}
	}
	return s
}

// point returns the numeric values of a in the order of space.
func point(t testing.TB, space suggest.Space, a suggest.Assignment) []float64 {
	t.Helper()
	var x []float64
	for _, p := range space {
		if !p.Numeric() {
			continue
		}
		v, err := strconv.ParseFloat(a[p.Name], 64)
		if err != nil {
			t.Fatalf("parameter %s: %v", p.Name, err)
		}
		x = append(x, v)
	}
	return x
}

// sphere returns Σ (xᵢ − oᵢ)² for the optimum o = (1, −1, 0.5, 1.5, …),
// away from the centre of [−5, 5]ⁿ where the search starts.
func sphere(x []float64) float64 {
	opt := []float64{1, -1, 0.5, 1.5, -2, 2}
	var f float64
	for i, v := range x {
		d := v - opt[i%len(opt)]
		f += d * d
	}
	return f
}

// rastrigin is the multimodal Rastrigin function, minimum 0 at the origin.
func rastrigin(x []float64) float64 {
	f := 10 * float64(len(x))
	for _, v := range x {
		f += v*v - 10*math.Cos(2*math.Pi*v)
	}
	return f
}

// run drives s through an experiment of total trials asked batch at a
// time, each trial valued by f at its numeric values, and returns the
// history.
func run(t testing.TB, s *Suggester, space suggest.Space, seed uint64, total, batch int, f func([]float64) float64) []suggest.Observation {
	t.Helper()
	return suggesttest.Run(t, s, space, suggest.Minimize, seed, total, batch, func(a suggest.Assignment) float64 { return f(point(t, space, a)) })
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		want     *Suggester
		wantErr  []string // substrings of the error; nil means success
	}{
		"nil": {
			settings: nil,
			want:     &Suggester{sigma: DefaultSigma, restart: RestartNone, incPopsize: DefaultIncPopsize},
		},
		"all": {
			settings: map[string]string{"sigma": "0.3", "restart_strategy": "bipop", "random_state": "7", "popsize": "12", "inc_popsize": "1.5"},
			want:     &Suggester{sigma: 0.3, restart: RestartBIPOP, seed: 7, hasSeed: true, popsize: 12, incPopsize: 1.5},
		},
		"katib None": {
			settings: map[string]string{"restart_strategy": "None"},
			want:     &Suggester{sigma: DefaultSigma, restart: RestartNone, incPopsize: DefaultIncPopsize},
		},
		"ipop": {
			settings: map[string]string{"restart_strategy": "ipop"},
			want:     &Suggester{sigma: DefaultSigma, restart: RestartIPOP, incPopsize: DefaultIncPopsize},
		},
		"zero sigma":       {settings: map[string]string{"sigma": "0"}, wantErr: []string{"sigma", `"0"`, "positive number"}},
		"nan sigma":        {settings: map[string]string{"sigma": "NaN"}, wantErr: []string{"sigma"}},
		"bad strategy":     {settings: map[string]string{"restart_strategy": "lpop"}, wantErr: []string{"restart_strategy", `"lpop"`, "none, ipop or bipop"}},
		"negative seed":    {settings: map[string]string{"random_state": "-1"}, wantErr: []string{"random_state", "non-negative integer"}},
		"popsize 1":        {settings: map[string]string{"popsize": "1"}, wantErr: []string{"popsize", "≥ 2"}},
		"popsize fraction": {settings: map[string]string{"popsize": "4.5"}, wantErr: []string{"popsize"}},
		"inc_popsize 1":    {settings: map[string]string{"inc_popsize": "1"}, wantErr: []string{"inc_popsize", "> 1"}},
		"unknown": {
			settings: map[string]string{"n_initial_points": "5"},
			wantErr:  []string{`"n_initial_points"`, "allowed: sigma, restart_strategy, random_state, popsize, inc_popsize"},
		},
		"every problem": {
			settings: map[string]string{"b": "1", "sigma": "-1", "popsize": "x"},
			wantErr:  []string{`"b"`, `"-1"`, `"x"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(tc.settings)
			suggesttest.CheckError(t, fmt.Sprintf("New(%v)", tc.settings), err, tc.wantErr)
			if err == nil {
				if diff := cmp.Diff(tc.want, s, cmp.AllowUnexported(Suggester{})); diff != "" {
					t.Errorf("New(%v) mismatch (-want +got):\n%s", tc.settings, diff)
				}
			}
		})
	}
}

func TestSuggestErrors(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := suggest.Param{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b"}}
	tests := map[string]struct {
		req  suggest.Request
		want string
	}{
		"one numeric": {
			req:  suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Max: 1}, cat}, N: 1},
			want: "at least 2 numeric",
		},
		"categorical only": {
			req:  suggest.Request{Space: suggest.Space{cat}, N: 1},
			want: "got 0",
		},
		"n zero": {
			req:  suggest.Request{Space: boxSpace(2, 0, 1), N: 0},
			want: "n is 0",
		},
		"invalid space": {
			req:  suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 2, Max: 1}, {Name: "y", Type: suggest.Double, Max: 1}}, N: 1},
			want: "min 2 > max 1",
		},
		"unreadable history": {
			req: suggest.Request{Space: boxSpace(2, 0, 1), N: 1, History: slices.Repeat([]suggest.Observation{
				{Assignment: suggest.Assignment{"x0": "oops", "x1": "0.5"}, Status: suggest.Completed, Value: 1},
			}, 6)},
			want: `trial 0: parameter "x0": value "oops"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := s.Suggest(t.Context(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Suggest error = %v; want one containing %q", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Suggest(ctx, suggest.Request{Space: boxSpace(2, 0, 1), N: 1}); err == nil {
		t.Error("Suggest with a cancelled context succeeded")
	}
}

// TestSuggestContract checks that every assignment lies in the space and
// is written as tune writes values, over an experiment with restarts.
func TestSuggestContract(t *testing.T) {
	space := suggesttest.MixedSpace()
	s, err := New(map[string]string{"restart_strategy": "ipop"})
	if err != nil {
		t.Fatal(err)
	}
	history := run(t, s, space, 3, 300, 3, func(x []float64) float64 { return sphere(x) })
	for i, o := range history {
		if err := suggesttest.CheckAssignment(space, o.Assignment); err != nil {
			t.Errorf("trial %d: %v", i, err)
		}
	}
	cats := map[string]bool{}
	for _, o := range history {
		cats[o.Assignment["optimizer"]] = true
	}
	if len(cats) != 3 {
		t.Errorf("categorical values drawn: %v; want all three", cats)
	}
}

func TestSuggestDeterminism(t *testing.T) {
	space := boxSpace(3, -5, 5)
	newS := func(settings map[string]string) *Suggester {
		s, err := New(settings)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := run(t, newS(nil), space, 1, 40, 4, sphere)
	b := run(t, newS(nil), space, 1, 40, 4, sphere)
	if diff := cmp.Diff(a, b, cmp.Comparer(func(x, y float64) bool { return x == y })); diff != "" {
		t.Errorf("equal seeds gave different experiments (-first +second):\n%s", diff)
	}
	c := run(t, newS(nil), space, 2, 40, 4, sphere)
	if cmp.Equal(a[0].Assignment, c[0].Assignment) {
		t.Errorf("seeds 1 and 2 gave the same first trial %v", a[0].Assignment)
	}
	d := run(t, newS(map[string]string{"random_state": "1"}), space, 99, 40, 4, sphere)
	if !cmp.Equal(a[39].Assignment, d[39].Assignment) {
		t.Errorf("random_state 1 did not replace the request seed: %v vs %v", a[39].Assignment, d[39].Assignment)
	}
}

func TestSuggestBatchDistinct(t *testing.T) {
	space := boxSpace(4, -5, 5)
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// 20 pending trials span two full generations of 8 plus extras.
	as, err := s.Suggest(t.Context(), suggest.Request{Space: space, N: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, a := range as {
		if j, ok := seen[a.Key()]; ok {
			t.Errorf("assignments %d and %d are equal: %v", j, i, a)
		}
		seen[a.Key()] = i
	}
}

// TestSuggestResume simulates an asynchronous experiment with up to three
// trials running, finishing in random order, and checks at every step that
// a batch equals the same trials asked one at a time with the earlier ones
// pending, and that a fresh Suggester rebuilds the same answer. The small
// integer space stalls quickly, so its runs restart.
func TestSuggestResume(t *testing.T) {
	ints := suggest.Space{
		{Name: "a", Type: suggest.Int, Min: 0, Max: 3},
		{Name: "b", Type: suggest.Int, Min: -2, Max: 2},
		{Name: "c", Type: suggest.Categorical, Values: []string{"x", "y"}},
	}
	tests := map[string]struct {
		space       suggest.Space
		strategy    string
		trials      int
		wantRestart bool
	}{
		"mixed none":  {space: suggesttest.MixedSpace(), strategy: "none", trials: 120},
		"mixed ipop":  {space: suggesttest.MixedSpace(), strategy: "ipop", trials: 120},
		"mixed bipop": {space: suggesttest.MixedSpace(), strategy: "bipop", trials: 120},
		"ints ipop":   {space: ints, strategy: "ipop", trials: 300, wantRestart: true},
		"ints bipop":  {space: ints, strategy: "bipop", trials: 300, wantRestart: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			space := tc.space
			settings := map[string]string{"restart_strategy": tc.strategy}
			s, err := New(settings)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			var history []suggest.Observation
			var running []int
			for len(history) < tc.trials {
				n := 1 + r.IntN(3)
				req := suggest.Request{Space: space, History: slices.Clone(history), N: n, Seed: 11}
				batch, err := s.Suggest(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				// One at a time, each earlier one pending.
				h := slices.Clone(history)
				for i := range n {
					one, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: h, N: 1, Seed: 11})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(batch[i], one[0]); diff != "" {
						t.Fatalf("after %d trials, member %d of a batch of %d differs from asking one at a time (-batch +one):\n%s", len(history), i, n, diff)
					}
					h = append(h, suggest.Observation{Assignment: one[0], Status: suggest.Pending, Value: math.NaN()})
				}
				// A fresh suggester (a resumed experiment) agrees.
				fresh, err := New(settings)
				if err != nil {
					t.Fatal(err)
				}
				again, err := fresh.Suggest(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(batch, again); diff != "" {
					t.Fatalf("after %d trials a fresh suggester differs (-first +fresh):\n%s", len(history), diff)
				}
				for _, a := range batch {
					running = append(running, len(history))
					history = append(history, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
				}
				// Finish some running trials in random order; one in ten fails.
				for len(running) > 0 && (len(running) > 3 || r.IntN(2) == 0) {
					k := r.IntN(len(running))
					i := running[k]
					running = slices.Delete(running, k, k+1)
					if r.IntN(10) == 0 {
						history[i].Status = suggest.Failed
						continue
					}
					history[i].Status = suggest.Completed
					history[i].Value = sphere(point(t, space, history[i].Assignment))
				}
			}
			rp, err := s.replay(t.Context(), suggest.Request{Space: space, History: history}, 11)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantRestart && rp.restart == 0 {
				t.Errorf("no restart in %d trials", len(history))
			}
		})
	}
}

// TestSuggestSphereConverges checks convergence on a 4-D sphere in
// [−5, 5]⁴. Standard CMA-ES with λ = 8 gains a decade of the objective in
// about 45 evaluations here, so 150 evaluations reach 1e-2 for about 40% of
// seeds (median 0.011 over 40 seeds) and 250 reach it for all 40: the test
// pins two seeds at 150 and checks ten at 250.
func TestSuggestSphereConverges(t *testing.T) {
	space := boxSpace(4, -5, 5)
	tests := map[string]struct {
		seeds  []uint64
		budget int
	}{
		"150 trials, fixed seeds": {seeds: []uint64{2, 3}, budget: 150},
		"250 trials, ten seeds":   {seeds: []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, budget: 250},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, batch := range []int{1, 8} {
				for _, seed := range tc.seeds {
					s, err := New(nil)
					if err != nil {
						t.Fatal(err)
					}
					history := run(t, s, space, seed, tc.budget, batch, sphere)
					best := math.Inf(1)
					for _, o := range history {
						best = min(best, o.Value)
					}
					if best > 1e-2 {
						t.Errorf("seed %d, batches of %d: best value after %d trials %g; want ≤ 1e-2", seed, batch, tc.budget, best)
					}
				}
			}
		})
	}
}

func TestSuggestMaximize(t *testing.T) {
	space := boxSpace(2, -5, 5)
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var history []suggest.Observation
	for len(history) < 120 {
		as, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: suggest.Maximize, History: history, N: 6, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			history = append(history, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: -sphere(point(t, space, a))})
		}
	}
	if best := slices.MaxFunc(history, func(a, b suggest.Observation) int { return int(math.Copysign(1, a.Value-b.Value)) }); best.Value < -1e-2 {
		t.Errorf("best value %g; want ≥ −1e-2", best.Value)
	}
}

// TestSuggestRestarts runs Rastrigin, whose local minima stall a run, and
// checks the restart strategies' population sizes.
func TestSuggestRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("4000 trials of Rastrigin")
	}
	space := boxSpace(4, -5, 5)
	for _, tc := range []struct {
		strategy string
		check    func(popsizes []int) bool
	}{
		{"ipop", func(p []int) bool { return len(p) >= 3 && p[1] == 16 && p[2] == 32 }},
		{"bipop", func(p []int) bool { return len(p) >= 3 && slices.Max(p) > 8 }},
		{"none", func(p []int) bool { return len(p) == 1 }},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			s, err := New(map[string]string{"restart_strategy": tc.strategy})
			if err != nil {
				t.Fatal(err)
			}
			history := run(t, s, space, 1, 4000, 8, rastrigin)
			rp, err := s.replay(t.Context(), suggest.Request{Space: space, History: history}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(rp.popsizes) {
				t.Errorf("population sizes of the runs: %v", rp.popsizes)
			}
			t.Logf("runs %v, best %g", rp.popsizes, slices.MinFunc(history, func(a, b suggest.Observation) int {
				return int(math.Copysign(1, a.Value-b.Value))
			}).Value)
		})
	}
}

// TestSuggestFailures checks that failed trials neither stop the search
// nor drag the mean: a generation with fewer than μ completed trials is
// dropped.
func TestSuggestFailures(t *testing.T) {
	space := boxSpace(3, -5, 5)
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var history []suggest.Observation
	for len(history) < 150 {
		as, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: history, N: 1, Seed: 8})
		if err != nil {
			t.Fatal(err)
		}
		x := point(t, space, as[0])
		o := suggest.Observation{Assignment: as[0], Status: suggest.Completed, Value: sphere(x)}
		if x[0] > 2 || len(history) < 7 {
			// A failing region, and a whole first generation lost.
			o = suggest.Observation{Assignment: as[0], Status: suggest.Failed, Value: math.NaN()}
		}
		history = append(history, o)
	}
	best := math.Inf(1)
	for _, o := range history {
		if o.Status == suggest.Completed {
			best = min(best, o.Value)
		}
	}
	// The optimum (1, −1, 0.5) lies in the working region.
	if best > 0.1 {
		t.Errorf("best value %g with failures; want ≤ 0.1", best)
	}
}

func TestPriorCentre(t *testing.T) {
	tests := map[string]struct {
		p    suggest.Param
		want float64
	}{
		"uniform":    {suggest.Param{Name: "a", Type: suggest.Double, Min: 0, Max: 10}, 0.5},
		"normal":     {suggest.Param{Name: "a", Type: suggest.Double, Min: 0, Max: 10, Distribution: suggest.Normal}, 0.5},
		"logUniform": {suggest.Param{Name: "a", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform}, 0.5},
		"logNormal":  {suggest.Param{Name: "a", Type: suggest.Double, Min: 1, Max: 100, Distribution: suggest.LogNormal}, 0.5},
		"int":        {suggest.Param{Name: "a", Type: suggest.Int, Min: 1, Max: 8}, 0.5},
		"discrete":   {suggest.Param{Name: "a", Type: suggest.Discrete, Values: []string{"1", "2", "5"}}, 0.5},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := priorCentre(tc.p); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("priorCentre(%+v) = %v; want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestEigenSym(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 4, 10} {
		// A random symmetric positive definite matrix G·Gᵀ + I.
		g := make([]float64, n*n)
		for i := range g {
			g[i] = r.NormFloat64()
		}
		a := make([]float64, n*n)
		for i := range n {
			for j := range n {
				for k := range n {
					a[i*n+j] += g[i*n+k] * g[j*n+k]
				}
			}
			a[i*n+i]++
		}
		vecs, vals := make([]float64, n*n), make([]float64, n)
		eigenSym(n, a, vecs, vals)
		for i := range n {
			for j := range n {
				var rec, orth float64
				for k := range n {
					rec += vecs[i*n+k] * vals[k] * vecs[j*n+k]
					orth += vecs[k*n+i] * vecs[k*n+j]
				}
				if math.Abs(rec-a[i*n+j]) > 1e-9 {
					t.Errorf("n=%d: B·Λ·Bᵀ[%d,%d] = %v; want %v", n, i, j, rec, a[i*n+j])
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(orth-want) > 1e-9 {
					t.Errorf("n=%d: Bᵀ·B[%d,%d] = %v; want %v", n, i, j, orth, want)
				}
			}
		}
	}
}

func TestMirror(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0.3, 0.3}, {-0.2, 0.2}, {1.25, 0.75}, {2.5, 0.5}, {-1.5, 0.5}, {math.NaN(), 0.5},
	} {
		if got := mirror(tc.in); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("mirror(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

// BenchmarkSuggest100x6 measures one suggestion after 100 completed trials
// in six dimensions, replay included.
func BenchmarkSuggest100x6(b *testing.B) {
	benchmarkSuggest(b, 100, 6)
}

// BenchmarkSuggest1000x6 shows that replay grows linearly with the history.
func BenchmarkSuggest1000x6(b *testing.B) {
	benchmarkSuggest(b, 1000, 6)
}

// benchmarkSuggest measures one suggestion after trials completed trials
// of a sphere in dim dimensions.
func benchmarkSuggest(b *testing.B, trials, dim int) {
	space := boxSpace(dim, -5, 5)
	s, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	history := run(b, s, space, 1, trials, 10, sphere)
	req := suggest.Request{Space: space, History: history, N: 1, Seed: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Suggest(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReplayGenerations checks how a history is cut into generations.
func TestReplayGenerations(t *testing.T) {
	space := boxSpace(2, 0, 1)
	obs := func(status suggest.Status, v float64, x string) suggest.Observation {
		return suggest.Observation{Assignment: suggest.Assignment{"x0": x, "x1": "0.5"}, Status: status, Value: v}
	}
	done := func(v float64) suggest.Observation {
		return obs(suggest.Completed, v, strconv.FormatFloat(v/10, 'g', -1, 64))
	}
	pending := obs(suggest.Pending, math.NaN(), "0.5")
	failed := obs(suggest.Failed, math.NaN(), "0.9")
	type want struct{ Pos, Gen, Updates int }
	tests := map[string]struct {
		history []suggest.Observation
		want    want
	}{
		"empty":                 {nil, want{0, 0, 0}},
		"three done":            {[]suggest.Observation{done(1), done(2), done(3)}, want{0, 0, 0}},
		"one generation":        {[]suggest.Observation{done(1), done(2), done(3), done(4)}, want{4, 1, 1}},
		"pending in generation": {[]suggest.Observation{done(1), pending, done(3), done(4), done(5)}, want{0, 0, 0}},
		"extra members":         {[]suggest.Observation{done(1), done(2), done(3), done(4), done(5), done(6), pending, done(8), done(9)}, want{4, 1, 1}},
		"failures ranked last":  {[]suggest.Observation{failed, done(2), failed, done(4)}, want{4, 1, 1}},
		"too many failures":     {[]suggest.Observation{failed, failed, failed, done(4)}, want{4, 1, 0}},
		"nan value":             {[]suggest.Observation{obs(suggest.Completed, math.NaN(), "0.1"), failed, failed, done(4)}, want{4, 1, 0}},
	}
	s, err := New(map[string]string{"popsize": "4"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rp, err := s.replay(t.Context(), suggest.Request{Space: space, History: tc.history}, 1)
			if err != nil {
				t.Fatal(err)
			}
			got := want{rp.pos, rp.gen, rp.st.gen}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replay mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFirstGenerationFollowsPrior checks that with default settings the
// first generation draws normal and logNormal parameters from their
// declared prior: mean at the centre and deviation (Max−Min)/6, in log
// space for logNormal (slightly less after truncation to the bounds).
func TestFirstGenerationFollowsPrior(t *testing.T) {
	space := suggest.Space{
		{Name: "n", Type: suggest.Double, Min: 0, Max: 12, Distribution: suggest.Normal},
		{Name: "l", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogNormal},
	}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// With no history every member comes from the initial distribution.
	as, err := s.Suggest(t.Context(), suggest.Request{Space: space, N: 4000, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		value            func(a suggest.Assignment) float64
		wantMean, wantSD float64
	}{
		"normal": {
			value:    func(a suggest.Assignment) float64 { v, _ := strconv.ParseFloat(a["n"], 64); return v },
			wantMean: 6, wantSD: 2,
		},
		"logNormal": {
			value:    func(a suggest.Assignment) float64 { v, _ := strconv.ParseFloat(a["l"], 64); return math.Log(v) },
			wantMean: math.Log(1e-2), wantSD: math.Log(1e4) / 6,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var sum, sq float64
			for _, a := range as {
				v := tc.value(a)
				sum += v
				sq += v * v
			}
			mean := sum / float64(len(as))
			sd := math.Sqrt(sq/float64(len(as)) - mean*mean)
			if math.Abs(mean-tc.wantMean) > 0.05*tc.wantSD {
				t.Errorf("mean %v; want %v", mean, tc.wantMean)
			}
			if sd < 0.93*tc.wantSD || sd > 1.03*tc.wantSD {
				t.Errorf("deviation %v; want about %v", sd, tc.wantSD)
			}
		})
	}
}
