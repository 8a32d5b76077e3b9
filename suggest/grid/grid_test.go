package grid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// katibSpace returns the search space of Katib's examples/v1beta1/hp-tuning/grid.yaml.
func katibSpace() suggest.Space {
	return suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005},
		{Name: "momentum", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1},
	}
}

// newGrid returns a Suggester with no settings.
func newGrid(tb testing.TB) *Suggester {
	tb.Helper()
	s, err := New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		settings map[string]string
		wantErr  []string
	}{
		"nil":          {},
		"empty":        {settings: map[string]string{}},
		"random_state": {settings: map[string]string{"random_state": "1"}},
		"unknown":      {settings: map[string]string{"random_state": "1", "step": "2"}, wantErr: []string{`"step"`, "allowed: random_state"}},
		// Katib's grid service checks int(random_state) >= 0.
		"negative random_state":       {settings: map[string]string{"random_state": "-1"}, wantErr: []string{`random_state="-1"`, "non-negative integer"}},
		"random_state not an integer": {settings: map[string]string{"random_state": "1.5"}, wantErr: []string{`random_state="1.5"`, "non-negative integer"}},
		"two":                         {settings: map[string]string{"b": "1", "a": "1"}, wantErr: []string{`"a"`, `"b"`}},
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

func TestSuggestKatibGrid(t *testing.T) {
	lrs := []string{"0.01", "0.015", "0.02", "0.025", "0.03", "0.035", "0.04", "0.045", "0.05"}
	momenta := []string{"0.5", "0.6", "0.7", "0.8", "0.9"}
	var want []suggest.Assignment
	for _, lr := range lrs {
		for _, m := range momenta {
			want = append(want, suggest.Assignment{"lr": lr, "momentum": m})
		}
	}
	for _, n := range []int{1, 2, 3, 7, 45, 100} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			s := newGrid(t)
			var got []suggest.Assignment
			for range 100 {
				as, err := s.Suggest(t.Context(), suggest.Request{Space: katibSpace(), History: suggesttest.Pending(got), N: n})
				if errors.Is(err, suggest.ErrExhausted) {
					break
				}
				if err != nil {
					t.Fatalf("Suggest after %d points: %v", len(got), err)
				}
				if wantLen := min(n, len(want)-len(got)); len(as) != wantLen {
					t.Fatalf("Suggest after %d points returned %d, want %d", len(got), len(as), wantLen)
				}
				got = append(got, as...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("grid points (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuggestHistory(t *testing.T) {
	a := func(lr, m string) suggest.Assignment { return suggest.Assignment{"lr": lr, "momentum": m} }
	tests := map[string]struct {
		history []suggest.Observation
		n       int
		want    []suggest.Assignment
		wantErr error
	}{
		"first": {n: 2, want: []suggest.Assignment{a("0.01", "0.5"), a("0.01", "0.6")}},
		"skips tried points of any status": {
			history: []suggest.Observation{
				{Assignment: a("0.01", "0.5"), Status: suggest.Completed, Value: 1},
				{Assignment: a("0.01", "0.6"), Status: suggest.Failed, Value: math.NaN()},
				{Assignment: a("0.01", "0.8"), Status: suggest.Pending, Value: math.NaN()},
			},
			n:    3,
			want: []suggest.Assignment{a("0.01", "0.7"), a("0.01", "0.9"), a("0.015", "0.5")},
		},
		"suggests abandoned points again": {
			history: []suggest.Observation{
				{Assignment: a("0.01", "0.5"), Status: suggest.Completed, Value: 1},
				{Assignment: a("0.01", "0.6"), Status: suggest.Abandoned, Value: math.NaN()},
			},
			n:    2,
			want: []suggest.Assignment{a("0.01", "0.6"), a("0.01", "0.7")},
		},
		"ignores points outside the grid": {
			history: []suggest.Observation{
				{Assignment: a("0.0123", "0.5")},
				{Assignment: suggest.Assignment{"lr": "0.01"}},
			},
			n:    1,
			want: []suggest.Assignment{a("0.01", "0.5")},
		},
		"partial last batch": {
			history: suggesttest.Pending(allBut(t, 2)),
			n:       5,
			want:    []suggest.Assignment{a("0.05", "0.8"), a("0.05", "0.9")},
		},
		"exhausted": {
			history: suggesttest.Pending(allBut(t, 0)),
			n:       1,
			wantErr: suggest.ErrExhausted,
		},
	}
	s := newGrid(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := s.Suggest(t.Context(), suggest.Request{Space: katibSpace(), History: tc.history, N: tc.n})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Suggest error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Suggest (-want +got):\n%s", diff)
			}
		})
	}
}

// allBut returns every point of the Katib grid except the last n.
func allBut(t *testing.T, n int) []suggest.Assignment {
	t.Helper()
	as, err := newGrid(t).Suggest(t.Context(), suggest.Request{Space: katibSpace(), N: 45 - n})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestSuggestValues(t *testing.T) {
	tests := map[string]struct {
		param suggest.Param
		want  []string
	}{
		"double": {
			param: suggest.Param{Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005},
			want:  []string{"0.01", "0.015", "0.02", "0.025", "0.03", "0.035", "0.04", "0.045", "0.05"},
		},
		"double tenths": {
			param: suggest.Param{Type: suggest.Double, Min: 0, Max: 1, Step: 0.1},
			want:  []string{"0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"},
		},
		"double max off the grid": {
			param: suggest.Param{Type: suggest.Double, Min: 1, Max: 1.25, Step: 0.1},
			want:  []string{"1", "1.1", "1.2"},
		},
		"double negative": {
			param: suggest.Param{Type: suggest.Double, Min: -0.3, Max: 0.3, Step: 0.15},
			want:  []string{"-0.3", "-0.15", "0", "0.15", "0.3"},
		},
		"double tiny step": {
			param: suggest.Param{Type: suggest.Double, Min: 1e-7, Max: 5e-7, Step: 1e-7},
			want:  []string{"1e-07", "2e-07", "3e-07", "4e-07", "5e-07"},
		},
		"double point": {
			param: suggest.Param{Type: suggest.Double, Min: 0.3, Max: 0.3, Step: 0.1},
			want:  []string{"0.3"},
		},
		"double ignores distribution": {
			param: suggest.Param{Type: suggest.Double, Min: 1, Max: 3, Step: 1, Distribution: suggest.LogUniform},
			want:  []string{"1", "2", "3"},
		},
		"int": {
			param: suggest.Param{Type: suggest.Int, Min: -2, Max: 2},
			want:  []string{"-2", "-1", "0", "1", "2"},
		},
		"int step": {
			param: suggest.Param{Type: suggest.Int, Min: 16, Max: 64, Step: 16},
			want:  []string{"16", "32", "48", "64"},
		},
		"int step off the grid": {
			param: suggest.Param{Type: suggest.Int, Min: 1, Max: 10, Step: 4},
			want:  []string{"1", "5", "9"},
		},
		"discrete as listed": {
			param: suggest.Param{Type: suggest.Discrete, Values: []string{"0.50", "1e2", "3"}},
			want:  []string{"0.50", "1e2", "3"},
		},
		"categorical in order": {
			param: suggest.Param{Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl"}},
			want:  []string{"sgd", "adam", "ftrl"},
		},
		"repeated list value once": {
			param: suggest.Param{Type: suggest.Categorical, Values: []string{"a", "b", "a"}},
			want:  []string{"a", "b"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.param.Name = "x"
			as, err := newGrid(t).Suggest(t.Context(), suggest.Request{Space: suggest.Space{tc.param}, N: 1000})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(as))
			for i, a := range as {
				got[i] = a["x"]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuggestMixedOrder(t *testing.T) {
	space := suggest.Space{
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 2},
		{Name: "batch", Type: suggest.Discrete, Values: []string{"32", "64"}},
		{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
	}
	a := func(l, b, o string) suggest.Assignment { return suggest.Assignment{"layers": l, "batch": b, "opt": o} }
	want := []suggest.Assignment{
		a("1", "32", "sgd"), a("1", "32", "adam"), a("1", "64", "sgd"), a("1", "64", "adam"),
		a("2", "32", "sgd"), a("2", "32", "adam"), a("2", "64", "sgd"), a("2", "64", "adam"),
	}
	got, err := newGrid(t).Suggest(t.Context(), suggest.Request{Space: space, N: 10})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grid order (-want +got):\n%s", diff)
	}
}

func TestSuggestHugeGrid(t *testing.T) {
	// 10^4 values per parameter, 10^16 points: iterated lazily.
	space := suggest.Space{
		{Name: "a", Type: suggest.Int, Min: 1, Max: 10000},
		{Name: "b", Type: suggest.Int, Min: 1, Max: 10000},
		{Name: "c", Type: suggest.Double, Min: 0, Max: 0.9999, Step: 0.0001},
		{Name: "d", Type: suggest.Int, Min: 1, Max: 10000},
	}
	size, err := Size(space)
	if err != nil {
		t.Fatal(err)
	}
	if size != 1e16 {
		t.Errorf("Size = %d, want 1e16", size)
	}
	s := newGrid(t)
	first, err := s.Suggest(t.Context(), suggest.Request{Space: space, N: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: suggesttest.Pending(first), N: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []suggest.Assignment{
		{"a": "1", "b": "1", "c": "0", "d": "4"},
		{"a": "1", "b": "1", "c": "0", "d": "5"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Suggest (-want +got):\n%s", diff)
	}
}

func TestSize(t *testing.T) {
	tests := map[string]struct {
		space   suggest.Space
		want    int
		wantErr string
	}{
		"katib": {space: katibSpace(), want: 45},
		"mixed": {
			space: suggest.Space{
				{Name: "a", Type: suggest.Int, Min: 0, Max: 9},
				{Name: "b", Type: suggest.Discrete, Values: []string{"1", "2", "3"}},
				{Name: "c", Type: suggest.Categorical, Values: []string{"x", "y"}},
				{Name: "d", Type: suggest.Double, Min: 0, Max: 1, Step: 0.25},
			},
			want: 10 * 3 * 2 * 5,
		},
		"double without step": {
			space:   suggest.Space{{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05}},
			wantErr: `parameter "lr": grid search needs a positive step`,
		},
		"overflow": {
			space: suggest.Space{
				{Name: "a", Type: suggest.Int, Min: 1, Max: 1e9},
				{Name: "b", Type: suggest.Int, Min: 1, Max: 1e9},
				{Name: "c", Type: suggest.Int, Min: 1, Max: 1e9},
			},
			wantErr: "more than",
		},
		"too many steps": {
			space:   suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1, Step: 1e-300}},
			wantErr: `parameter "x"`,
		},
		"empty":       {wantErr: "empty search space"},
		"invalid":     {space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 2, Max: 1}}, wantErr: `"x"`},
		"empty list":  {space: suggest.Space{{Name: "x", Type: suggest.Categorical}}, wantErr: "empty list"},
		"int no ints": {space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0.2, Max: 0.8}}, wantErr: "no integer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Size(tc.space)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Size = %d, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Size = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestSuggestErrors(t *testing.T) {
	tests := map[string]struct {
		req     suggest.Request
		wantErr string
	}{
		"double without step": {
			req:     suggest.Request{Space: suggest.Space{{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05}}, N: 1},
			wantErr: `parameter "lr": grid search needs a positive step`,
		},
		"n zero":      {req: suggest.Request{Space: katibSpace()}, wantErr: "n is 0"},
		"empty space": {req: suggest.Request{N: 1}, wantErr: "empty search space"},
	}
	s := newGrid(t)
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
		if _, err := s.Suggest(ctx, suggest.Request{Space: katibSpace(), N: 1}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Suggest with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

func BenchmarkSuggest(b *testing.B) {
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.001, Max: 0.1, Step: 0.001},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 100},
		{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl"}},
	}
	s := newGrid(b)
	ctx := context.Background()
	first, err := s.Suggest(ctx, suggest.Request{Space: space, N: 1000})
	if err != nil {
		b.Fatal(err)
	}
	req := suggest.Request{Space: space, History: suggesttest.Pending(first), N: 8}
	for b.Loop() {
		if _, err := s.Suggest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendKeyMatchesAssignmentKey(t *testing.T) {
	space := suggest.Space{
		{Name: "zeta", Type: suggest.Int, Min: 1, Max: 3},
		{Name: "alpha", Type: suggest.Categorical, Values: []string{"x", "y"}},
		{Name: "mid", Type: suggest.Double, Min: 0, Max: 1, Step: 0.5},
		{Name: "alphabet", Type: suggest.Discrete, Values: []string{"1"}},
	}
	g, err := compile(space)
	if err != nil {
		t.Fatal(err)
	}
	values := make([]string, len(space))
	for i := range g.size {
		g.point(i, values)
		a := suggest.Assignment{}
		for j, p := range space {
			a[p.Name] = values[j]
		}
		if got, want := string(g.appendKey(nil, values)), a.Key(); got != want {
			t.Fatalf("point %d: appendKey = %q, want %q", i, got, want)
		}
	}
}
