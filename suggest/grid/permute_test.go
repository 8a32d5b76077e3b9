package grid

import (
	"slices"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

// TestPermutation: every size and seed gives a bijection of [0, n), the
// same one each time, and different seeds give different orders.
func TestPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 255, 256, 257, 1000, 4097} {
		for _, seed := range []uint64{0, 1, 42, 1 << 63} {
			p := newPermutation(n, seed)
			seen := make([]bool, n)
			for i := range n {
				j := p.at(i)
				if j < 0 || j >= n || seen[j] {
					t.Fatalf("n=%d seed=%d: at(%d) = %d, out of range or repeated", n, seed, i, j)
				}
				seen[j] = true
				if again := newPermutation(n, seed).at(i); again != j {
					t.Fatalf("n=%d seed=%d: at(%d) is %d, then %d", n, seed, i, j, again)
				}
			}
		}
	}
	order := func(seed uint64) []int {
		p := newPermutation(100, seed)
		out := make([]int, 100)
		for i := range out {
			out[i] = p.at(i)
		}
		return out
	}
	if a, b := order(1), order(2); slices.Equal(a, b) {
		t.Error("seeds 1 and 2 give the same order")
	}
	if slices.IsSorted(order(1)) {
		t.Error("seed 1 does not shuffle")
	}
	// A huge grid is shuffled without being materialised.
	if j := newPermutation(1<<62, 7).at(12345); j < 0 || j >= 1<<62 {
		t.Errorf("at in a grid of 2^62 points = %d", j)
	}
}

// TestSuggestSeededOrder: with random_state, the grid is visited in a
// seeded order, each point once, and resuming from any history continues
// the same order; without it, in the declared order.
func TestSuggestSeededOrder(t *testing.T) {
	space := katibSpace() // 9 × 5 points
	run := func(settings map[string]string, batch int) []string {
		s, err := New(settings)
		if err != nil {
			t.Fatal(err)
		}
		var hist []suggest.Observation
		var keys []string
		for {
			as, err := s.Suggest(t.Context(), suggest.Request{Space: space, N: batch, History: hist})
			if err == suggest.ErrExhausted {
				return keys
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				keys = append(keys, a.Key())
				hist = append(hist, suggest.Observation{Assignment: a, Status: suggest.Completed})
			}
		}
	}
	plain := run(nil, 45)
	seeded := run(map[string]string{"random_state": "3"}, 45)
	if len(seeded) != 45 {
		t.Fatalf("seeded grid gave %d points, want 45", len(seeded))
	}
	if slices.Equal(plain, seeded) {
		t.Error("random_state did not change the order")
	}
	a, b := slices.Clone(plain), slices.Clone(seeded)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) || len(slices.Compact(slices.Clone(b))) != 45 {
		t.Error("the seeded order is not the same 45 points, each once")
	}
	// One at a time (a resumed experiment asks again with its history)
	// gives the same sequence as all at once.
	if one := run(map[string]string{"random_state": "3"}, 1); !slices.Equal(one, seeded) {
		t.Errorf("seeded order one at a time:\n%v\nall at once:\n%v", one, seeded)
	}
	if other := run(map[string]string{"random_state": "4"}, 7); slices.Equal(other, seeded) {
		t.Error("random_state 3 and 4 give the same order")
	}
}
