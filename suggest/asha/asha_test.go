package asha_test

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/asha"
)

var space = suggest.Space{
	{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
	{Name: "epochs", Type: suggest.Int, Min: 1, Max: 27},
}

func newASHA(t *testing.T, settings map[string]string) *asha.Suggester {
	t.Helper()
	s, err := asha.New(settings)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func suggestN(t *testing.T, s *asha.Suggester, hist []suggest.Observation, n int) []suggest.Assignment {
	t.Helper()
	as, err := s.Suggest(t.Context(), suggest.Request{Space: space, Goal: suggest.Minimize, History: hist, N: n, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func done(a suggest.Assignment, v float64) suggest.Observation {
	return suggest.Observation{Assignment: a, Status: suggest.Completed, Value: v}
}

// TestPromotion: with η = 3, the best of three finished rung-0 trials is
// promoted to rung 1 (epochs 3) once, then new configurations start at
// rung 0; the best third of rung 1 goes to rung 2 (9), and so on to 27.
func TestPromotion(t *testing.T) {
	s := newASHA(t, map[string]string{"resource_name": "epochs"})
	first := suggestN(t, s, nil, 3)
	for _, a := range first {
		if a["epochs"] != "1" {
			t.Fatalf("first trials %v, want all at 1 epoch", first)
		}
	}
	hist := []suggest.Observation{done(first[0], 0.5), done(first[1], 0.2), done(first[2], 0.9)}
	next := suggestN(t, s, hist, 2)
	if next[0]["epochs"] != "3" || next[0]["lr"] != first[1]["lr"] {
		t.Errorf("first of the batch %v, want the best (lr %s) promoted to 3 epochs", next[0], first[1]["lr"])
	}
	if next[1]["epochs"] != "1" || next[1]["lr"] == first[1]["lr"] {
		t.Errorf("second of the batch %v, want a new configuration at 1 epoch", next[1])
	}
	// Pending at rung 1 counts as promoted: no second promotion.
	hist = append(hist, suggest.Observation{Assignment: next[0], Status: suggest.Pending, Value: math.NaN()})
	if again := suggestN(t, s, hist, 1); again[0]["epochs"] != "1" {
		t.Errorf("promoted twice: %v", again)
	}
	// Abandoned at rung 1: promoted again.
	hist[len(hist)-1].Status = suggest.Abandoned
	if again := suggestN(t, s, hist, 1); again[0]["epochs"] != "3" || again[0]["lr"] != first[1]["lr"] {
		t.Errorf("abandoned promotion not redone: %v", again)
	}
	// Rungs: 1, 3, 9, 27 (max).
	hist[len(hist)-1] = done(next[0], 0.1)
	for _, r := range []string{"9", "27"} {
		// Fill the rung below with two worse finished trials of other
		// configurations so the promoted one is in its top third.
		below := hist[len(hist)-1].Assignment["epochs"]
		for i := range 2 {
			a := suggest.Assignment{"lr": "0.00" + string(rune('2'+i)) + r, "epochs": below}
			hist = append(hist, done(a, 5))
		}
		got := suggestN(t, s, hist, 1)[0]
		if got["epochs"] != r || got["lr"] != first[1]["lr"] {
			t.Fatalf("promotion to %s: %v", r, got)
		}
		hist = append(hist, done(got, 0.05))
	}
}

// TestFailedRankLast: a failed trial is never promoted and ranks below the
// finished ones.
func TestFailedRankLast(t *testing.T) {
	s := newASHA(t, map[string]string{"resource_name": "epochs", "reduction_factor": "2"})
	a := suggestN(t, s, nil, 2)
	hist := []suggest.Observation{{Assignment: a[0], Status: suggest.Failed, Value: math.NaN()}, done(a[1], 100)}
	got := suggestN(t, s, hist, 1)[0]
	if got["lr"] != a[1]["lr"] || got["epochs"] != "2" {
		t.Errorf("got %v, want the finished trial promoted to 2 epochs", got)
	}
}

// TestDeterministic: equal seeds and histories give equal suggestions,
// however the calls are batched.
func TestDeterministic(t *testing.T) {
	s := newASHA(t, map[string]string{"resource_name": "epochs"})
	one := suggestN(t, s, nil, 4)
	var split []suggest.Assignment
	var hist []suggest.Observation
	for range 4 {
		a := suggestN(t, s, hist, 1)
		split = append(split, a...)
		hist = append(hist, suggest.Observation{Assignment: a[0], Status: suggest.Pending, Value: math.NaN()})
	}
	if !slices.EqualFunc(one, split, func(a, b suggest.Assignment) bool { return a.Key() == b.Key() }) {
		t.Errorf("batched %v, one by one %v", one, split)
	}
}

// TestBatchWithPromotions: after a history with finished trials at every
// rung, a batch of N equals N calls of one, each with the ones before
// pending, promotions included (the rungs are ranked once per call).
func TestBatchWithPromotions(t *testing.T) {
	s := newASHA(t, map[string]string{"resource_name": "epochs"})
	var hist []suggest.Observation
	for i := 0; len(hist) < 120; i++ {
		for _, a := range suggestN(t, s, hist, 1+i%5) {
			lr, _ := strconv.ParseFloat(a["lr"], 64)
			e, _ := strconv.ParseFloat(a["epochs"], 64)
			hist = append(hist, done(a, math.Abs(math.Log10(lr)+2)/e))
		}
	}
	const n = 12
	batch := suggestN(t, s, hist, n)
	h := slices.Clip(hist)
	promoted := map[string]bool{}
	for i := range n {
		a := suggestN(t, s, h, 1)[0]
		if a.Key() != batch[i].Key() {
			t.Fatalf("suggestion %d: batched %v, one by one %v", i, batch[i], a)
		}
		promoted[a["epochs"]] = true
		h = append(h, suggest.Observation{Assignment: a, Status: suggest.Pending, Value: math.NaN()})
	}
	if !promoted["3"] || !promoted["9"] {
		t.Errorf("the batch %v holds no promotion to 3 and to 9 epochs: the test proves little", batch)
	}
}

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{nil, `"resource_name" is required`},
		{map[string]string{"resource_name": "epochs", "reduction_factor": "1"}, "reduction_factor"},
		{map[string]string{"resource_name": "epochs", "min_resource": "9", "max_resource": "3"}, "must be below"},
		{map[string]string{"resource_name": "epochs", "eta": "3"}, `unknown setting "eta"`},
	} {
		if _, err := asha.New(tc.settings); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error with %q", tc.settings, err, tc.want)
		}
	}
	s := newASHA(t, map[string]string{"resource_name": "lr2"})
	if _, err := s.Suggest(t.Context(), suggest.Request{Space: space, N: 1}); err == nil || !strings.Contains(err.Error(), "lr2") {
		t.Errorf("a resource that is not a parameter: %v", err)
	}
	d := newASHA(t, map[string]string{"resource_name": "lr", "min_resource": "0.001", "max_resource": "0.1", "reduction_factor": "10"})
	got, err := d.Suggest(t.Context(), suggest.Request{Space: space, N: 1})
	if err != nil || got[0]["lr"] != "0.001" {
		t.Errorf("a double resource: %v, %v; want lr 0.001 at rung 0", got, err)
	}
}
