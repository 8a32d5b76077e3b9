package bayes

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestRegionWidth(t *testing.T) {
	// z in completion order; the best is at index best, then fails more.
	values := func(best, fails int) []float64 {
		z := make([]float64, best+1+fails)
		for i := range z {
			z[i] = float64(i % 7)
		}
		z[best] = -1
		return z
	}
	for _, c := range []struct {
		best, fails, dim int
		want             float64
	}{
		{best: 10, fails: 0, dim: 2, want: 0.4},
		{best: 10, fails: 3, dim: 2, want: 0.4},
		{best: 10, fails: 4, dim: 2, want: 0.2},
		{best: 10, fails: 8, dim: 2, want: 0.1},
		{best: 10, fails: 8, dim: 8, want: 0.2},    // max(4, dim) = 8 trials per halving
		{best: 0, fails: 20, dim: 2, want: 0.0125}, // five halvings
		{best: 0, fails: 24, dim: 2, want: 0.4},    // and back to the start
		{best: 0, fails: 28, dim: 2, want: 0.2},
	} {
		if got := regionWidth(values(c.best, c.fails), c.dim); got != c.want {
			t.Errorf("regionWidth(best %d, %d trials after, dim %d) = %g, want %g", c.best, c.fails, c.dim, got, c.want)
		}
	}
}

// slopeHistory encodes trials of a space of x1, x2 ∈ [0, 1] and kind ∈
// {broad, narrow}: broad points near a shallow basin at (0.3, 0.7), valued
// 0.5 + d², and narrow ones on a slope falling towards (0.7, 0.3), valued
// 1 + d, the last narrow ones no better than its first.
func slopeHistory(t *testing.T, enc *encoder) (xs [][]float64, ys []float64) {
	t.Helper()
	add := func(x1, x2 float64, kind string) {
		p, err := enc.encode(suggest.Assignment{"x1": suggest.FormatFloat(x1), "x2": suggest.FormatFloat(x2), "kind": kind})
		if err != nil {
			t.Fatal(err)
		}
		var y float64
		if kind == "broad" {
			y = 0.5 + (x1-0.3)*(x1-0.3) + (x2-0.7)*(x2-0.7)
		} else {
			y = 1 + math.Hypot(x1-0.7, x2-0.3)
		}
		xs, ys = append(xs, p), append(ys, y)
	}
	for _, p := range [][2]float64{{0.1, 0.9}, {0.9, 0.9}, {0.5, 0.5}, {0.1, 0.1}, {0.35, 0.65}, {0.25, 0.75}, {0.3, 0.6}} {
		add(p[0], p[1], "broad")
	}
	for _, p := range [][2]float64{{0.95, 0.05}, {0.9, 0.6}, {0.3, 0.2}, {1, 0.4}} {
		add(p[0], p[1], "narrow")
	}
	return xs, ys
}

func slopeSpace() suggest.Space {
	return suggest.Space{
		{Name: "x1", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "x2", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "kind", Type: suggest.Categorical, Values: []string{"broad", "narrow"}},
	}
}

func TestOpenCategories(t *testing.T) {
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "k", Type: suggest.Categorical, Values: []string{"a", "b", "c", "d"}},
	}
	enc := newEncoder(space)
	var xs [][]float64
	var z []float64
	add := func(k string, v float64) {
		x, err := enc.encode(suggest.Assignment{"x": "0.5", "k": k})
		if err != nil {
			t.Fatal(err)
		}
		xs, z = append(xs, x), append(z, v)
	}
	// a holds the incumbent; b's best is followed by categoryPatience
	// trials that do not beat it; c's by one fewer; d has none.
	add("a", -2)
	add("b", 0)
	for range categoryPatience {
		add("b", 1)
	}
	add("c", 0.5)
	for range categoryPatience - 1 {
		add("c", 0.7)
	}
	got := openCategories(enc, xs, z)
	if len(got) != 2 {
		t.Fatalf("open categories %+v, want c and d", got)
	}
	c, d := got[0], got[1]
	if c.value != 2 || c.best != 0.5 || len(c.top) != categoryPatience {
		t.Errorf("c: value %d, best %g, %d top points; want 2, 0.5, %d", c.value, c.best, len(c.top), categoryPatience)
	}
	if d.value != 3 || d.best != -2 || len(d.top) != 0 {
		t.Errorf("d: value %d, best %g, %d top points; want 3, the incumbent's -2, none", d.value, d.best, len(d.top))
	}
}

// TestCategoryStep checks that a category step proposes the open category
// within its trust region, where the main step keeps to the broad basin,
// whose values all beat the narrow one's so far.
func TestCategoryStep(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder(slopeSpace())
	xs, ys := slopeHistory(t, enc)
	m, err := s.newModel(enc, rand.New(rand.NewPCG(1, 2)), xs, ys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.open) != 1 || m.open[0].value != 1 {
		t.Fatalf("open categories %+v, want narrow alone", m.open)
	}
	k := categoryPeriod - 1 // a category step
	a := m.next(rand.New(rand.NewPCG(3, 4)), nil, map[string]bool{}, k)
	if a["kind"] != "narrow" {
		t.Fatalf("category step proposed %v, want kind narrow", a)
	}
	x, _ := enc.encode(a)
	lo, hi := m.region(m.open[0].top[0], categoryRegion)
	for j := range 2 {
		if !inside(x[j], lo[j], hi[j]) {
			t.Errorf("category step proposed %v, outside its region [%v, %v]", a, lo[:2], hi[:2])
		}
	}
	main := m.next(rand.New(rand.NewPCG(3, 4)), nil, map[string]bool{}, k+1)
	if main["kind"] != "broad" {
		t.Errorf("main step proposed %v, want kind broad", main)
	}
}

// TestProposalsStayInRegion checks that, with the incumbent unbeaten for a
// while, the proposal lies in the narrowed region around it, although the
// far corners of the cube, never tried, have the larger posterior spread.
func TestProposalsStayInRegion(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	space := suggest.Space{
		{Name: "x1", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "x2", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "x3", Type: suggest.Double, Min: 0, Max: 1},
	}
	enc := newEncoder(space)
	r := rand.New(rand.NewPCG(5, 6))
	f := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += (v - 0.45) * (v - 0.45)
		}
		return s
	}
	var xs [][]float64
	var ys []float64
	// The incumbent first, then trials around the centre that do not beat
	// it: three halvings' worth.
	xs, ys = append(xs, []float64{0.45, 0.45, 0.46}), append(ys, f([]float64{0.45, 0.45, 0.46}))
	for range 12 {
		x := []float64{0.3 + 0.3*r.Float64(), 0.3 + 0.3*r.Float64(), 0.3 + 0.3*r.Float64()}
		xs, ys = append(xs, x), append(ys, f(x)+0.01)
	}
	m, err := s.newModel(enc, r, xs, ys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.width != regionStart/8 {
		t.Fatalf("width %g, want %g", m.width, regionStart/8)
	}
	lo, hi := m.region(xs[0], m.width)
	for k := range 5 {
		a := m.next(rand.New(rand.NewPCG(7, uint64(k))), nil, map[string]bool{}, 10+k)
		x, _ := enc.encode(a)
		for j := range x {
			if !inside(x[j], lo[j], hi[j]) {
				t.Errorf("proposal %v outside the region [%v, %v]", a, lo, hi)
				break
			}
		}
	}
}

// inside reports whether v is in [lo, hi] up to the rounding of an
// assignment's decimal form.
func inside(v, lo, hi float64) bool {
	return v >= lo-1e-9 && v <= hi+1e-9
}
