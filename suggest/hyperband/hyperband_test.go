package hyperband

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
)

// TestSchedule is Table 1 of Li et al. (R = 81, η = 3).
func TestSchedule(t *testing.T) {
	type rung struct {
		n int
		r float64
	}
	var got [][]rung
	for _, st := range schedule(81, 3) {
		if st.rung == 0 {
			got = append(got, nil)
		}
		got[len(got)-1] = append(got[len(got)-1], rung{st.count, math.Round(st.resource)})
	}
	want := [][]rung{
		{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
		{{34, 3}, {11, 9}, {3, 27}, {1, 81}},
		{{15, 9}, {5, 27}, {1, 81}},
		{{8, 27}, {2, 81}},
		{{5, 81}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(rung{})); diff != "" {
		t.Errorf("schedule (-want +got):\n%s", diff)
	}
}

var space = suggest.Space{
	{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
	{Name: "epochs", Type: suggest.Int, Min: 1, Max: 9},
}

// TestRun plays a whole Hyperband run (R = 9, η = 3) with a loss that is
// the learning rate: rungs wait for the rung below, promote its best, the
// next bracket starts when a bracket ends, and the search ends after the
// last bracket (9+3+1, 5+1, 3 trials).
func TestRun(t *testing.T) {
	s, err := New(map[string]string{"resource_name": "epochs", "r_l": "9"})
	if err != nil {
		t.Fatal(err)
	}
	var hist []suggest.Observation
	finishAll := func() {
		for i := range hist {
			if hist[i].Status == suggest.Pending {
				lr := hist[i].Assignment["lr"]
				var v float64
				for j, c := range lr { // a deterministic loss from the value
					v += float64(c) * float64(j+1)
				}
				hist[i].Status, hist[i].Value = suggest.Completed, v
			}
		}
	}
	var epochs []string
	for round := 0; ; round++ {
		as, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: suggest.Minimize, History: hist, N: 4, Seed: 1})
		if errors.Is(err, suggest.ErrExhausted) {
			break
		}
		if err != nil && !errors.Is(err, suggest.ErrWait) {
			t.Fatal(err)
		}
		for _, a := range as {
			epochs = append(epochs, a["epochs"])
			hist = append(hist, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
		}
		if errors.Is(err, suggest.ErrWait) || len(as) < 4 {
			finishAll()
		}
		if round > 100 {
			t.Fatal("no end")
		}
	}
	want := strings.Split("1 1 1 1 1 1 1 1 1 3 3 3 9 3 3 3 3 3 9 9 9 9", " ")
	if diff := cmp.Diff(want, epochs); diff != "" {
		t.Errorf("epochs in order (-want +got):\n%s", diff)
	}
	// The rung-1 trials are the three best of rung 0.
	best := rank(hist[:9], suggest.Minimize)
	for i := range 3 {
		if hist[9+i].Assignment["lr"] != best[i].Assignment["lr"] {
			t.Errorf("rung 1 trial %d has lr %s, want the %d-th best %s", i, hist[9+i].Assignment["lr"], i+1, best[i].Assignment["lr"])
		}
	}
}

// TestWaits: while a rung runs, the next one is not suggested.
func TestWaits(t *testing.T) {
	s, err := New(map[string]string{"resource_name": "epochs", "r_l": "9", "eta": "3"})
	if err != nil {
		t.Fatal(err)
	}
	as, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: nil, N: 20, Seed: 1})
	if !errors.Is(err, suggest.ErrWait) || len(as) != 9 {
		t.Fatalf("first call: %d assignments, %v; want the 9 of rung 0 and ErrWait", len(as), err)
	}
	var hist []suggest.Observation
	for _, a := range as {
		hist = append(hist, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
	}
	hist[0].Status, hist[0].Value = suggest.Completed, 1
	if more, err := s.Suggest(t.Context(), suggest.Request{Space: space, History: hist, N: 4, Seed: 1}); !errors.Is(err, suggest.ErrWait) || len(more) != 0 {
		t.Errorf("with rung 0 running: %v, %v; want nothing and ErrWait", more, err)
	}
}

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{"r_l": "9"}, `"resource_name" is required`},
		{map[string]string{"resource_name": "epochs"}, `"r_l" is required`},
		{map[string]string{"resource_name": "epochs", "r_l": "9", "eta": "1"}, "eta"},
		{map[string]string{"resource_name": "epochs", "r_l": "0.5"}, "r_l"},
		{map[string]string{"resource_name": "epochs", "r_l": "9", "x": "1"}, `unknown setting "x"`},
	} {
		if _, err := New(tc.settings); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error with %q", tc.settings, err, tc.want)
		}
	}
}
