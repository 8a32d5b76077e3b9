package bayes

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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

func TestRegionReplay(t *testing.T) {
	// Values after a design of two (best 5): d for a gain (below every
	// earlier value), f for a failure.
	replay := func(steps string, dim int) float64 {
		z, best := []float64{5, 6}, 5.0
		for _, c := range steps {
			if c == 'd' {
				best--
				z = append(z, best)
			} else {
				z = append(z, best+1)
			}
		}
		return regionReplay(z, dim, 2)
	}
	for _, c := range []struct {
		steps string
		dim   int
		want  float64
	}{
		{"", 2, 0.4},
		{"ddfdd", 2, 0.4},                    // gains must come three in a row
		{"ddd", 2, 0.8},                      // three gains double it
		{"dddddd", 2, 0.8},                   // to at most regionMax
		{"ffff", 2, 0.2},                     // max(4, dim) failures halve it
		{"ffff", 6, 0.4},                     // six in 6-D
		{"ffffff", 6, 0.2},                   // six in 6-D
		{"fffdffff", 2, 0.2},                 // a gain resets the failures
		{strings.Repeat("f", 20), 2, 0.0125}, // five halvings
		{strings.Repeat("f", 24), 2, 0.4},    // a sixth sets it back
		{"ffffddd", 2, 0.4},                  // halved, then doubled
	} {
		if got := replay(c.steps, c.dim); got != c.want {
			t.Errorf("regionReplay(%q, dim %d) = %g, want %g", c.steps, c.dim, got, c.want)
		}
	}
	// The design alone, or less of it than nInitial says, leaves regionStart.
	if got := regionReplay([]float64{3, 1, 2}, 2, 10); got != regionStart {
		t.Errorf("within the design: %g, want %g", got, regionStart)
	}
	// n_initial_points 0: the first value is the design.
	if got := regionReplay([]float64{0, 1, 1, 1, 1}, 2, 0); got != regionStart/2 {
		t.Errorf("nInitial 0: %g, want %g", got, regionStart/2)
	}
}

// TestRegionRuleBySpace: a space with a categorical parameter keeps the
// rule that restarts at regionStart after every gain (wide main steps
// still reach another value's basin); one without replays TuRBO's rule.
func TestRegionRuleBySpace(t *testing.T) {
	s, err := New(map[string]string{SettingNInitialPoints: "2"})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	// Four gains in a row after a design of two: the replay doubles the
	// region once (three gains), the other rule is at regionStart after
	// the last gain.
	ys := []float64{5, 6, 4, 3, 2, 1}
	for _, c := range []struct {
		space suggest.Space
		want  float64
	}{
		{suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1}, {Name: "y", Type: suggest.Double, Min: 0, Max: 1}}, regionMax},
		{suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1}, {Name: "c", Type: suggest.Categorical, Values: []string{"a", "b"}}}, regionStart},
	} {
		enc := newEncoder(c.space)
		var xs [][]float64
		for i := range ys {
			a := suggest.Assignment{}
			for _, p := range c.space {
				if p.Type == suggest.Categorical {
					a[p.Name] = p.Values[i%2]
				} else {
					a[p.Name] = suggest.FormatFloat(float64(i) / 10)
				}
			}
			x, err := enc.encode(a)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, x)
		}
		m, err := s.newModel(enc, r, xs, ys, indexes(len(xs)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.width != c.want {
			t.Errorf("space %v: width %g, want %g", c.space, m.width, c.want)
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
		{Name: "k", Type: suggest.Categorical, Values: []string{"a", "b", "c", "d", "e", "f", "g"}},
	}
	enc := newEncoder(space)
	var xs [][]float64
	var z []float64
	var ks []int
	const nInitial = 4
	// record records a trial of value v proposed as proposal k.
	record := func(v string, y float64, k int) {
		x, err := enc.encode(suggest.Assignment{"x": "0.5", "k": v})
		if err != nil {
			t.Fatal(err)
		}
		xs, z, ks = append(xs, x), append(z, y), append(ks, k)
	}
	// add records a trial of value v, made in a category step when step
	// says so, in the next proposal slot of that kind after the design.
	k := nInitial - 1
	add := func(v string, y float64, step bool) {
		for k++; categoryStep(k, nInitial) != step; k++ {
		}
		record(v, y, k)
	}
	// a holds the incumbent, -2. b's best is followed by categoryPatience
	// trials, main and category steps in turn, that do not beat it:
	// closed. c's by one fewer, and by trials of the initial design (late
	// to complete), which do not count: open. e improves in every category
	// step, by 0.32 in all, less than categoryGain of its gap of 2 to the
	// incumbent: closed.
	// f improves enough in its last: open. g improves as e does in one
	// fewer: open, with a box that has not narrowed, as its best kept
	// falling. d has no trial: open.
	add("a", -2, false)
	add("b", 0, false)
	for i := range categoryPatience {
		add("b", 1, i%2 == 0)
	}
	add("c", 0.5, true)
	for range categoryPatience - 1 {
		add("c", 0.7, true)
	}
	for d := range nInitial - 1 {
		record("c", 0.6, d) // design trials
	}
	add("e", 0, true)
	for i := range categoryPatience {
		add("e", -0.04*float64(i+1), true)
	}
	add("f", 0, true)
	for range categoryPatience - 1 {
		add("f", 0.1, true)
	}
	add("f", -0.6, true)
	add("g", 0, true)
	for i := range categoryPatience - 1 {
		add("g", -0.04*float64(i+1), true)
	}
	got := openCategories(enc, xs, z, ks, nInitial)
	var values []int
	for _, c := range got {
		values = append(values, c.value)
	}
	if !slices.Equal(values, []int{2, 3, 5, 6}) {
		t.Fatalf("open values %v, want c, d, f, g (2, 3, 5, 6)", values)
	}
	c, d, f, g := got[0], got[1], got[2], got[3]
	if c.best != 0.5 || len(c.top) != topPoints || c.stale != categoryPatience-1 {
		t.Errorf("c: best %g, %d top points, %d stale; want 0.5, %d, %d", c.best, len(c.top), c.stale, topPoints, categoryPatience-1)
	}
	if want := categoryRegion / float64(int(1)<<((categoryPatience-1)/categoryShrink)); c.box() != want {
		t.Errorf("c: box %g after %d trials that did not lower its best, want %g", c.box(), c.flat, want)
	}
	if g.stale != categoryPatience-1 || g.flat != 0 || g.box() != categoryRegion {
		t.Errorf("g: %d stale, %d flat, box %g; want %d, 0, %g", g.stale, g.flat, g.box(), categoryPatience-1, categoryRegion)
	}
	if d.best != -2 || len(d.top) != 0 {
		t.Errorf("d: best %g, %d top points; want the incumbent's -2, none", d.best, len(d.top))
	}
	if f.best != -0.6 || f.stale != 0 || f.box() != categoryRegion {
		t.Errorf("f: best %g, %d stale, box %g; want -0.6, 0, %g", f.best, f.stale, f.box(), categoryRegion)
	}
}

// TestNextOpen checks that category steps go, in turn, to the open values
// with the fewest trials since their last gain.
func TestNextOpen(t *testing.T) {
	open := []category{{value: 0, stale: 2}, {value: 1}, {value: 2, stale: 1}, {value: 3}}
	var got []int
	for k := 1; len(got) < 4; k++ {
		if categoryStep(k, 0) {
			got = append(got, nextOpen(open, k).value)
		}
	}
	if !slices.Equal(got, []int{1, 3, 1, 3}) {
		t.Errorf("category steps went to values %v, want 1, 3, 1, 3", got)
	}
	for i := range open {
		open[i].stale = 0
	}
	seen := map[int]bool{}
	for k := range 4 * categoryPeriod {
		if categoryStep(k, 0) {
			seen[nextOpen(open, k).value] = true
		}
	}
	if len(seen) != len(open) {
		t.Errorf("with no value stalling, category steps reached %d of %d values", len(seen), len(open))
	}
}

// TestCategoryStep checks that a category step proposes the open category
// within its box, down the slope its own trials show, where the main step
// keeps to the broad basin, whose values all beat the narrow one's so far.
func TestCategoryStep(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder(slopeSpace())
	xs, ys := slopeHistory(t, enc)
	m, err := s.newModel(enc, rand.New(rand.NewPCG(1, 2)), xs, ys, indexes(len(xs)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.open) != 1 || m.open[0].value != 1 {
		t.Fatalf("open categories %+v, want narrow alone", m.open)
	}
	k := s.nInitial // the first category step
	for !categoryStep(k, s.nInitial) {
		k++
	}
	a := m.next(rand.New(rand.NewPCG(3, 4)), nil, map[string]bool{}, k)
	if a["kind"] != "narrow" {
		t.Fatalf("category step proposed %v, want kind narrow", a)
	}
	x, _ := enc.encode(a)
	w := m.open[0].box()
	lo, hi := m.box(m.open[0].top[0], []float64{w, w, 0, 0})
	for j := range 2 {
		if !inside(x[j], lo[j], hi[j]) {
			t.Errorf("category step proposed %v, outside its region [%v, %v]", a, lo[:2], hi[:2])
		}
	}
	// Narrow's own trials say its slope falls towards (0.7, 0.3); the joint
	// model, drawn towards broad's basin, sends the step uphill.
	best := 1 + math.Hypot(1-0.7, 0.4-0.3)
	if v := 1 + math.Hypot(x[0]-0.7, x[1]-0.3); v >= best {
		t.Errorf("category step proposed %v, valued %g on narrow's slope; want below narrow's best %g", a, v, best)
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
	s, err := New(map[string]string{SettingNInitialPoints: "1"})
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
	// The incumbent first (the initial design), then trials around the
	// centre that do not beat it: three halvings' worth.
	xs, ys = append(xs, []float64{0.45, 0.45, 0.46}), append(ys, f([]float64{0.45, 0.45, 0.46}))
	for range 12 {
		x := []float64{0.3 + 0.3*r.Float64(), 0.3 + 0.3*r.Float64(), 0.3 + 0.3*r.Float64()}
		xs, ys = append(xs, x), append(ys, f(x)+0.01)
	}
	m, err := s.newModel(enc, r, xs, ys, indexes(len(xs)), nil)
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

// indexes returns 0, 1, …, n−1: the proposal indexes of n trials made
// one after the other.
func indexes(n int) []int {
	ks := make([]int, n)
	for i := range ks {
		ks[i] = i
	}
	return ks
}

// inside reports whether v is in [lo, hi] up to the rounding of an
// assignment's decimal form.
func inside(v, lo, hi float64) bool {
	return v >= lo-1e-9 && v <= hi+1e-9
}
