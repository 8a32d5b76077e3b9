package sobol

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

func TestNew(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		wantErr  []string // substrings of the error; nil means success
	}{
		"nil":             {settings: nil},
		"empty":           {settings: map[string]string{}},
		"random_state":    {settings: map[string]string{"random_state": "42"}},
		"negative":        {settings: map[string]string{"random_state": "-1"}, wantErr: []string{"random_state", `"-1"`, "non-negative integer"}},
		"not a number":    {settings: map[string]string{"random_state": "abc"}, wantErr: []string{"random_state", `"abc"`}},
		"unknown setting": {settings: map[string]string{"n_initial_points": "5"}, wantErr: []string{"sobol", `"n_initial_points"`, "allowed: random_state"}},
		"every problem": {
			settings: map[string]string{"b": "1", "a": "2", "random_state": "x"},
			wantErr:  []string{`"a"`, `"b"`, `"x"`},
		},
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

func TestDeterministicAcrossBatches(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	space := suggesttest.MixedSpace()
	one := suggesttest.Collect(t, s, 5, space, 40, 1)
	for _, batches := range [][]int{{40}, {3, 7}, {4}} {
		if diff := cmp.Diff(one, suggesttest.Collect(t, s, 5, space, 40, batches...)); diff != "" {
			t.Errorf("batches %v differ from one at a time (-one +batched):\n%s", batches, diff)
		}
	}
	if cmp.Equal(one, suggesttest.Collect(t, s, 6, space, 40, 1)) {
		t.Error("seeds 5 and 6 give the same assignments")
	}
	// random_state replaces the request's seed.
	fixed, err := New(map[string]string{"random_state": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(one, suggesttest.Collect(t, fixed, 123, space, 40, 1)); diff != "" {
		t.Errorf("random_state=5 differs from seed 5:\n%s", diff)
	}
}

// TestSkipsOrigin checks that trial k gets point k+1 of the sequence.
func TestSkipsOrigin(t *testing.T) {
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "y", Type: suggest.Double, Min: 0, Max: 1},
	}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := suggesttest.Collect(t, s, 11, space, 4, 4)
	seq, err := NewSequence(2, 11)
	if err != nil {
		t.Fatal(err)
	}
	u := make([]float64, 2)
	for k, a := range got {
		seq.Point(uint64(k+1), u)
		want := suggest.Assignment{"x": space[0].FromUnit(u[0]), "y": space[1].FromUnit(u[1])}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("trial %d (-point %d +got):\n%s", k, k+1, diff)
		}
	}
}

func TestContract(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	space := suggesttest.MixedSpace()
	got := suggesttest.Collect(t, s, 1, space, 256, 16)
	seen := map[string]bool{}
	for i, a := range got {
		if err := suggesttest.CheckAssignment(space, a); err != nil {
			t.Errorf("assignment %d: %v", i, err)
		}
		if seen[a.Key()] {
			t.Errorf("assignment %d repeats an earlier one: %v", i, a)
		}
		seen[a.Key()] = true
	}
}

// TestCategoricalBalanced checks that a categorical's values get equal
// shares of a block of 2^m points when len divides 2^m.
func TestCategoricalBalanced(t *testing.T) {
	space := suggest.Space{
		{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b", "c", "d"}},
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
	}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Trials 63…126 are points 64…127, a block of 64.
	history := make([]suggest.Observation, 63)
	got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: history, N: 64, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range got {
		count[a["c"]]++
	}
	want := map[string]int{"a": 16, "b": 16, "c": 16, "d": 16}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

// TestNormalFollowsDistribution checks that a normal parameter's values
// follow the normal truncated to ±3σ: the first quartile and the median of
// a block of 1024 points sit at the distribution's, whose first quartile is
// Φ⁻¹(Φ(−3) + ¼(1 − 2Φ(−3)))·σ = −0.67236σ, in linear and in log space.
func TestNormalFollowsDistribution(t *testing.T) {
	tests := map[string]struct {
		p          suggest.Param
		q1, median float64 // expected, in the parameter's scale
		log        bool
	}{
		"normal": {
			p:  suggest.Param{Name: "x", Type: suggest.Double, Min: -3, Max: 3, Distribution: suggest.Normal},
			q1: -0.67236, median: 0,
		},
		"logNormal": {
			p:  suggest.Param{Name: "x", Type: suggest.Double, Min: 1e-3, Max: 1e3, Distribution: suggest.LogNormal},
			q1: -0.67236 * math.Log(1e3) / 3, median: 0, log: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(nil)
			if err != nil {
				t.Fatal(err)
			}
			space := suggest.Space{tc.p}
			history := make([]suggest.Observation, 1023)
			got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: history, N: 1024, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			xs := make([]float64, len(got))
			for i, a := range got {
				f, err := strconv.ParseFloat(a["x"], 64)
				if err != nil {
					t.Fatal(err)
				}
				if tc.log {
					f = math.Log(f)
				}
				xs[i] = f
			}
			sort.Float64s(xs)
			q1, med := xs[len(xs)/4], xs[len(xs)/2]
			if math.Abs(q1-tc.q1) > 0.01*math.Abs(tc.q1) {
				t.Errorf("first quartile %v; want %v", q1, tc.q1)
			}
			if math.Abs(med-tc.median) > 0.01*math.Abs(tc.q1) {
				t.Errorf("median %v; want %v", med, tc.median)
			}
		})
	}
}

func TestNormalStepped(t *testing.T) {
	// An int normal on [0, 10]: mean 5, σ 5/3; values snap to integers and
	// the middle value is the most frequent.
	p := suggest.Param{Name: "n", Type: suggest.Int, Min: 0, Max: 10, Distribution: suggest.Normal}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Suggest(t.Context(), suggest.Request{Space: suggest.Space{p}, History: make([]suggest.Observation, 511), N: 512, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, 11)
	for _, a := range got {
		v, err := strconv.Atoi(a["n"])
		if err != nil || v < 0 || v > 10 {
			t.Fatalf("value %q not an int in [0, 10]", a["n"])
		}
		count[v]++
	}
	for v := range count {
		if count[v] > count[5] {
			t.Errorf("value %d drawn %d times, more than the mean 5 (%d): %v", v, count[v], count[5], count)
		}
	}
	if count[0] == 0 || count[10] == 0 {
		t.Errorf("the bounds are never drawn: %v", count)
	}
	if count[5] < 3*count[0] {
		t.Errorf("counts %v are not peaked at the mean", count)
	}
}

func TestSuggestErrors(t *testing.T) {
	tests := map[string]struct {
		req  suggest.Request
		want string
	}{
		"n zero":      {req: suggest.Request{Space: suggesttest.MixedSpace(), N: 0}, want: "n is 0"},
		"empty space": {req: suggest.Request{N: 1}, want: "empty search space"},
		"invalid":     {req: suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 2, Max: 1}}, N: 1}, want: "min 2 > max 1"},
		"unknown distribution": {
			req:  suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1, Distribution: "beta"}}, N: 1},
			want: `unknown distribution "beta"`,
		},
		"infinite": {
			req:  suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: math.Inf(1)}}, N: 1},
			want: "not finite",
		},
		"fractional int step": {
			req:  suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 5, Step: 0.5}}, N: 1},
			want: "not a positive whole number",
		},
		"too many dimensions": {
			req:  suggest.Request{Space: manyParams(MaxDims + 1), N: 1},
			want: "at most 1024",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Suggest(t.Context(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sobol: ") {
				t.Errorf("Suggest error %v; want one starting with sobol: and containing %q", err, tc.want)
			}
		})
	}
}

// manyParams returns a space of n unit doubles.
func manyParams(n int) suggest.Space {
	s := make(suggest.Space, n)
	for i := range s {
		s[i] = suggest.Param{Name: "x" + strconv.Itoa(i), Type: suggest.Double, Min: 0, Max: 1}
	}
	return s
}

func BenchmarkSuggest(b *testing.B) {
	s, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	space := suggesttest.MixedSpace()
	history := make([]suggest.Observation, 100)
	for b.Loop() {
		if _, err := s.Suggest(b.Context(), suggest.Request{Space: space, History: history, N: 8, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
