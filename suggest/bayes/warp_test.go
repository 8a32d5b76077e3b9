package bayes

import (
	"slices"
	"testing"
)

func TestWarp(t *testing.T) {
	sym := []float64{-2, -1, 0, 1, 2}
	if got := warp(sym); !slices.Equal(got, sym) {
		t.Errorf("warp(%v) = %v, want it unchanged (no skew)", sym, got)
	}
	heavy := []float64{1, 2, 3, 2, 1, 4, 3, 2, 1000, 2, 3, 1}
	got := warp(heavy)
	if slices.Equal(got, heavy) {
		t.Fatalf("warp(%v) left heavy-tailed values unchanged", heavy)
	}
	for i := range heavy {
		for j := range heavy {
			if (heavy[i] < heavy[j]) != (got[i] < got[j]) {
				t.Fatalf("warp is not increasing: %v → %v", heavy, got)
			}
		}
	}
	if same := []float64{3, 3, 3}; !slices.Equal(warp(same), same) {
		t.Errorf("warp of constant values changed them")
	}
}
