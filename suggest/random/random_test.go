package random

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
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
		"random_state 0":  {settings: map[string]string{"random_state": "0"}},
		"negative":        {settings: map[string]string{"random_state": "-1"}, wantErr: []string{"random_state", `"-1"`, "non-negative integer"}},
		"not a number":    {settings: map[string]string{"random_state": "abc"}, wantErr: []string{"random_state", `"abc"`}},
		"fraction":        {settings: map[string]string{"random_state": "1.5"}, wantErr: []string{"random_state"}},
		"unknown setting": {settings: map[string]string{"n_initial_points": "5"}, wantErr: []string{`"n_initial_points"`, "allowed: random_state"}},
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

func TestSuggestDeterministicAcrossBatches(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	const total = 12
	want := suggesttest.Collect(t, s, 7, suggesttest.MixedSpace(), total, 1)
	tests := map[string][]int{
		"threes":  {3},
		"all":     {total},
		"mixed":   {2, 5, 1},
		"fives":   {5},
		"one,two": {1, 2},
	}
	for name, batches := range tests {
		t.Run(name, func(t *testing.T) {
			got := suggesttest.Collect(t, s, 7, suggesttest.MixedSpace(), total, batches...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("batches %v differ from one at a time (-want +got):\n%s", batches, diff)
			}
		})
	}
	t.Run("trials differ", func(t *testing.T) {
		keys := map[string]bool{}
		for _, a := range want {
			keys[a.Key()] = true
		}
		if len(keys) < total-1 {
			t.Errorf("only %d distinct assignments among %d: %v", len(keys), total, want)
		}
	})
}

func TestSuggestSeeds(t *testing.T) {
	plain, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := New(map[string]string{"random_state": "7"})
	if err != nil {
		t.Fatal(err)
	}
	seed7 := suggesttest.Collect(t, plain, 7, suggesttest.MixedSpace(), 10, 10)
	tests := map[string]struct {
		s        *Suggester
		seed     uint64
		wantSame bool
	}{
		"same seed":                 {s: plain, seed: 7, wantSame: true},
		"other seed":                {s: plain, seed: 8, wantSame: false},
		"seed 0":                    {s: plain, seed: 0, wantSame: false},
		"random_state overrides":    {s: fixed, seed: 99, wantSame: true},
		"random_state equal to req": {s: fixed, seed: 7, wantSame: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := suggesttest.Collect(t, tc.s, tc.seed, suggesttest.MixedSpace(), 10, 10)
			if same := cmp.Equal(seed7, got); same != tc.wantSame {
				t.Errorf("same as seed 7 = %v, want %v:\n%v\n%v", same, tc.wantSame, seed7, got)
			}
		})
	}
}

// draws returns n values of the single parameter p, drawn with seed 1.
func draws(t *testing.T, p suggest.Param, n int) []string {
	t.Helper()
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := s.Suggest(t.Context(), suggest.Request{Space: suggest.Space{p}, N: n, Seed: 1})
	if err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	values := make([]string, len(as))
	for i, a := range as {
		if len(a) != 1 {
			t.Fatalf("assignment %v has %d parameters, want 1", a, len(a))
		}
		values[i] = a[p.Name]
	}
	return values
}

// floats parses values, failing the test on a malformed one.
func floats(t *testing.T, values []string) []float64 {
	t.Helper()
	fs := make([]float64, len(values))
	for i, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("value %q: %v", v, err)
		}
		fs[i] = f
	}
	return fs
}

func TestSuggestBoundsAndSteps(t *testing.T) {
	dists := []suggest.Distribution{"", suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal}
	type param struct {
		typ          suggest.ParamType
		min, max     float64
		step         float64
		wantDecimals int // at most this many digits after the point; 0: unchecked
		wantValues   int // distinct values in 2000 uniform draws; 0: unchecked
	}
	params := map[string]param{
		"double":            {typ: suggest.Double, min: 0.01, max: 0.05},
		"double step":       {typ: suggest.Double, min: 0.01, max: 0.05, step: 0.005, wantDecimals: 3, wantValues: 9},
		"double step 0.1":   {typ: suggest.Double, min: 0.5, max: 0.9, step: 0.1, wantDecimals: 1, wantValues: 5},
		"double point":      {typ: suggest.Double, min: 0.3, max: 0.3, wantValues: 1},
		"double wide":       {typ: suggest.Double, min: 1e-6, max: 1e6},
		"double step 1e-7":  {typ: suggest.Double, min: 1e-7, max: 1e-6, step: 1e-7, wantDecimals: 7, wantValues: 10},
		"double ragged max": {typ: suggest.Double, min: 1, max: 2.05, step: 0.1, wantDecimals: 1, wantValues: 11},
		"int":               {typ: suggest.Int, min: 1, max: 10, wantValues: 10},
		"int step":          {typ: suggest.Int, min: 2, max: 64, step: 4, wantValues: 16},
		"int point":         {typ: suggest.Int, min: 5, max: 5, wantValues: 1},
		"int big":           {typ: suggest.Int, min: 1, max: 1e12},
	}
	for pname, pp := range params {
		for _, dist := range dists {
			t.Run(pname+"/"+string(dist), func(t *testing.T) {
				p := suggest.Param{Name: "x", Type: pp.typ, Min: pp.min, Max: pp.max, Step: pp.step, Distribution: dist}
				values := draws(t, p, 2000)
				seen := map[string]bool{}
				for i, f := range floats(t, values) {
					v := values[i]
					seen[v] = true
					if f < pp.min || f > pp.max {
						t.Fatalf("value %s outside [%v, %v]", v, pp.min, pp.max)
					}
					if pp.typ == suggest.Int {
						if _, err := strconv.ParseInt(v, 10, 64); err != nil {
							t.Fatalf("int value %q is not an integer: %v", v, err)
						}
					}
					if pp.step > 0 {
						k := (f - pp.min) / pp.step
						if math.Abs(k-math.Round(k)) > 1e-6 {
							t.Fatalf("value %s is not min %v + k·%v", v, pp.min, pp.step)
						}
					}
					if pp.wantDecimals > 0 {
						if _, frac, ok := strings.Cut(v, "."); ok && len(frac) > pp.wantDecimals {
							t.Fatalf("value %q has more than %d decimals", v, pp.wantDecimals)
						}
					}
				}
				if pp.wantValues > 0 && (dist == "" || dist == suggest.Uniform) {
					if len(seen) != pp.wantValues {
						t.Errorf("%d distinct values appeared, want %d: %v", len(seen), pp.wantValues, slices.Sorted(maps.Keys(seen)))
					}
				}
			})
		}
	}
}

func TestSuggestStepValuesClean(t *testing.T) {
	values := draws(t, suggest.Param{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005}, 500)
	got := map[string]bool{}
	for _, v := range values {
		got[v] = true
	}
	want := map[string]bool{
		"0.01": true, "0.015": true, "0.02": true, "0.025": true, "0.03": true,
		"0.035": true, "0.04": true, "0.045": true, "0.05": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stepped values (-want +got):\n%s", diff)
	}
}

// median returns the median of fs, which it sorts.
func median(fs []float64) float64 {
	slices.Sort(fs)
	n := len(fs)
	return (fs[(n-1)/2] + fs[n/2]) / 2
}

// fractionIn returns the fraction of fs in [a, b].
func fractionIn(fs []float64, a, b float64) float64 {
	in := 0
	for _, f := range fs {
		if a <= f && f <= b {
			in++
		}
	}
	return float64(in) / float64(len(fs))
}

func TestSuggestDistributions(t *testing.T) {
	const n = 2000
	tests := map[string]struct {
		param suggest.Param
		check func(t *testing.T, fs []float64)
	}{
		"logUniform median is the geometric mean": {
			param: suggest.Param{Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
			check: func(t *testing.T, fs []float64) {
				if m := median(fs); math.Abs(math.Log10(m)-(-2)) > 0.2 {
					t.Errorf("median %v, want about 1e-2", m)
				}
			},
		},
		"uniform median is the midpoint": {
			param: suggest.Param{Type: suggest.Double, Min: 1e-4, Max: 1},
			check: func(t *testing.T, fs []float64) {
				if m := median(fs); math.Abs(m-0.5) > 0.05 {
					t.Errorf("median %v, want about 0.5", m)
				}
			},
		},
		"normal concentrates in the middle": {
			param: suggest.Param{Type: suggest.Double, Min: 0, Max: 6, Distribution: suggest.Normal},
			check: func(t *testing.T, fs []float64) {
				// One sigma either side of the mean holds 68%, against a third
				// for a uniform distribution.
				if f := fractionIn(fs, 2, 4); f < 0.6 || f > 0.76 {
					t.Errorf("fraction within one sigma = %v, want about 0.68", f)
				}
				if m := median(fs); math.Abs(m-3) > 0.15 {
					t.Errorf("median %v, want about 3", m)
				}
			},
		},
		"logNormal concentrates around the geometric mean": {
			param: suggest.Param{Type: suggest.Double, Min: 1e-6, Max: 1, Distribution: suggest.LogNormal},
			check: func(t *testing.T, fs []float64) {
				if f := fractionIn(fs, 1e-4, 1e-2); f < 0.6 || f > 0.76 {
					t.Errorf("fraction within one sigma = %v, want about 0.68", f)
				}
			},
		},
		"int normal concentrates in the middle": {
			param: suggest.Param{Type: suggest.Int, Min: 0, Max: 60, Distribution: suggest.Normal},
			check: func(t *testing.T, fs []float64) {
				if f := fractionIn(fs, 20, 40); f < 0.6 || f > 0.8 {
					t.Errorf("fraction within one sigma = %v, want about 0.7", f)
				}
			},
		},
		"int logUniform favours small values": {
			param: suggest.Param{Type: suggest.Int, Min: 1, Max: 1000, Distribution: suggest.LogUniform},
			check: func(t *testing.T, fs []float64) {
				if m := median(fs); m < 20 || m > 45 {
					t.Errorf("median %v, want about sqrt(1000) ≈ 32", m)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.param.Name = "x"
			tc.check(t, floats(t, draws(t, tc.param, n)))
		})
	}
}

func TestSuggestLists(t *testing.T) {
	tests := map[string]suggest.Param{
		"discrete":    {Type: suggest.Discrete, Values: []string{"16", "32", "64", "1e2", "0.50"}},
		"categorical": {Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl", "rmsprop"}},
		"single":      {Type: suggest.Categorical, Values: []string{"only"}},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			p.Name = "x"
			counts := map[string]int{}
			for _, v := range draws(t, p, 1000) {
				counts[v]++
			}
			got := slices.Sorted(maps.Keys(counts))
			if diff := cmp.Diff(slices.Sorted(slices.Values(p.Values)), got); diff != "" {
				t.Errorf("values drawn (-want +got):\n%s", diff)
			}
			for v, c := range counts {
				if want := 1000 / len(p.Values); math.Abs(float64(c-want)) > 0.25*float64(want) {
					t.Errorf("value %q drawn %d times, want about %d", v, c, want)
				}
			}
		})
	}
}

func TestSuggestErrors(t *testing.T) {
	tests := map[string]struct {
		req     suggest.Request
		wantErr string
	}{
		"n zero":       {req: suggest.Request{Space: suggesttest.MixedSpace(), N: 0}, wantErr: "n is 0"},
		"empty space":  {req: suggest.Request{N: 1}, wantErr: "empty search space"},
		"min over max": {req: suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 2, Max: 1}}, N: 1}, wantErr: `"x"`},
		"log of zero": {
			req:     suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1, Distribution: suggest.LogUniform}}, N: 1},
			wantErr: "min > 0",
		},
		"unknown distribution": {
			req:     suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1, Distribution: "beta"}}, N: 1},
			wantErr: `unknown distribution "beta"`,
		},
		"fractional int step": {
			req:     suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 10, Step: 0.5}}, N: 1},
			wantErr: "not a positive whole number",
		},
		"no integer in range": {
			req:     suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0.2, Max: 0.8}}, N: 1},
			wantErr: "no integer",
		},
		"infinite bound": {
			req:     suggest.Request{Space: suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: math.Inf(1)}}, N: 1},
			wantErr: "not finite",
		},
	}
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Suggest = %v, %v; want an error containing %q", got, err, tc.wantErr)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Suggest(ctx, suggest.Request{Space: suggesttest.MixedSpace(), N: 1}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Suggest with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

func BenchmarkSuggest(b *testing.B) {
	s, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	req := suggest.Request{Space: suggesttest.MixedSpace(), N: 8, Seed: 1, History: make([]suggest.Observation, 100)}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Suggest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
