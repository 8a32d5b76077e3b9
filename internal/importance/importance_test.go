package importance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func doubles(names ...string) suggest.Space {
	s := make(suggest.Space, len(names))
	for i, n := range names {
		s[i] = suggest.Param{Name: n, Type: suggest.Double, Min: 0, Max: 1}
	}
	return s
}

// sample draws n uniform points of d dimensions and evaluates f on them.
func sample(n, d int, seed uint64, f func(x []float64) float64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = rng.Float64()
		}
		y[i] = f(x[i])
	}
	return x, y
}

func byName(t *testing.T, r *Result) map[string]Term {
	t.Helper()
	m := map[string]Term{}
	var sum float64
	for _, term := range r.Terms {
		if math.IsNaN(term.Importance) || math.IsNaN(term.Std) || math.IsNaN(term.Variance) {
			t.Fatalf("NaN in %+v", term)
		}
		m[term.Name()] = term
		sum += term.Importance
	}
	if !r.Constant && math.Abs(sum-1) > 1e-9 {
		t.Errorf("importances sum to %v, want 1", sum)
	}
	return m
}

// TestLinear: f = 10·x1 + x2 + 0·x3 on uniform x has variance shares
// 100/101, 1/101 and 0.
func TestLinear(t *testing.T) {
	x, y := sample(200, 3, 7, func(x []float64) float64 { return 10*x[0] + x[1] + 0*x[2] })
	r, err := Evaluate(doubles("x1", "x2", "x3"), x, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := byName(t, r)
	t.Logf("%+v", r.Terms)
	if got := []string{r.Terms[0].Name(), r.Terms[1].Name(), r.Terms[2].Name()}; !reflect.DeepEqual(got, []string{"x1", "x2", "x3"}) {
		t.Errorf("ranking %v, want x1, x2, x3", got)
	}
	if got, want := m["x1"].Importance, 100.0/101; math.Abs(got-want) > 0.02 {
		t.Errorf("x1 = %.4f, want %.4f ± 0.02", got, want)
	}
	// A forest of fully grown trees underestimates a small effect next to
	// a large one (its leaves are thin slabs across x1, few of them split
	// on x2): on this design Optuna 3.1's FanovaImportanceEvaluator gives
	// x2 0.0021 to 0.0029 for three sample seeds, against 1/101 ≈ 0.0099
	// analytically. The test asks for that order of magnitude.
	if got, want := m["x2"].Importance, 1.0/101; got < want/10 || got > want+0.007 {
		t.Errorf("x2 = %.4f, want between %.4f and %.4f", got, want/10, want+0.007)
	}
	if got := m["x3"].Importance; got > 0.002 || got > m["x2"].Importance/5 {
		t.Errorf("x3 = %.5f, want ≈ 0 and well below x2", got)
	}
	if m["x1"].Importance < 20*m["x2"].Importance {
		t.Errorf("x1 %.4f is not ≫ x2 %.4f", m["x1"].Importance, m["x2"].Importance)
	}
	if r.Trials != 200 || r.Trees != 64 || r.Varying != 64 {
		t.Errorf("trials %d, trees %d, varying %d; want 200, 64, 64", r.Trials, r.Trees, r.Varying)
	}
}

// TestAdditive: an additive function has no interactions: every pair term
// is close to 0 and the main effects carry the variance.
func TestAdditive(t *testing.T) {
	// Var(x1²) = 4/45 ≈ 0.0889, Var(sin 2πx2) = 1/2, x3 unused.
	x, y := sample(300, 3, 11, func(x []float64) float64 { return x[0]*x[0] + math.Sin(2*math.Pi*x[1]) })
	r, err := Evaluate(doubles("x1", "x2", "x3"), x, y, Options{Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	m := byName(t, r)
	t.Logf("%+v", r.Terms)
	if len(r.Terms) != 6 {
		t.Fatalf("%d terms, want 3 main effects and 3 pairs", len(r.Terms))
	}
	for _, p := range []string{"x1 × x2", "x1 × x3", "x2 × x3"} {
		if got := m[p].Importance; got > 0.03 {
			t.Errorf("pair %s = %.4f, want ≈ 0", p, got)
		}
	}
	// The main effects explain nearly all the forest's variance.
	if got := m["x1"].Variance + m["x2"].Variance + m["x3"].Variance; got < 0.93 {
		t.Errorf("main effects explain %.3f of the variance, want ≈ 1", got)
	}
	if got, want := m["x2"].Importance/m["x1"].Importance, 0.5/(4.0/45); got < want*0.7 || got > want*1.4 {
		t.Errorf("x2/x1 = %.2f, want ≈ %.2f", got, want)
	}
}

// TestInteraction: f = (x1−½)(x2−½) has no main effects; all its variance
// is the pair's.
func TestInteraction(t *testing.T) {
	x, y := sample(300, 3, 13, func(x []float64) float64 { return (x[0] - 0.5) * (x[1] - 0.5) })
	r, err := Evaluate(doubles("x1", "x2", "x3"), x, y, Options{Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	m := byName(t, r)
	t.Logf("%+v", r.Terms)
	if r.Terms[0].Name() != "x1 × x2" {
		t.Errorf("first term %s, want the pair x1 × x2", r.Terms[0].Name())
	}
	// Shares, for plots: the terms' names and importances, in order.
	shares := r.Shares()
	if len(shares) != len(r.Terms) || shares[0] != (Share{Name: "x1 × x2", Value: m["x1 × x2"].Importance}) {
		t.Errorf("Shares() = %v, want the terms in order, x1 × x2 first", shares)
	}
	for i := 1; i < len(shares); i++ {
		if shares[i].Value > shares[i-1].Value {
			t.Errorf("Shares() not sorted: %v", shares)
		}
	}
	if got := m["x1 × x2"].Importance; got < 0.7 {
		t.Errorf("pair = %.3f, want most of the variance", got)
	}
	for _, p := range []string{"x1", "x2", "x3"} {
		if got := m[p].Importance; got > 0.12 {
			t.Errorf("main effect %s = %.3f, want ≈ 0", p, got)
		}
	}
}

// TestCategorical: a categorical parameter that decides the objective
// ranks first, and one that does not ranks last.
func TestCategorical(t *testing.T) {
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam", "rmsprop", "adagrad"}},
		{Name: "noise", Type: suggest.Categorical, Values: []string{"a", "b"}},
	}
	level := []float64{0, 4, 1, 3}
	rng := rand.New(rand.NewPCG(5, 5))
	var x [][]float64
	var y []float64
	for range 150 {
		row := []float64{rng.Float64(), float64(rng.IntN(4)), float64(rng.IntN(2))}
		x = append(x, row)
		y = append(y, level[int(row[1])]+0.5*row[0])
	}
	r, err := Evaluate(space, x, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := byName(t, r)
	t.Logf("%+v", r.Terms)
	// Var(level) = 2.5 against Var(0.5·lr) = 1/48.
	if r.Terms[0].Name() != "optimizer" || m["optimizer"].Importance < 0.95 {
		t.Errorf("optimizer = %.3f ranked %s first; want optimizer first with ≈ 0.99", m["optimizer"].Importance, r.Terms[0].Name())
	}
	if r.Terms[2].Name() != "noise" || m["noise"].Importance > 0.005 {
		t.Errorf("noise = %.4f, want last and ≈ 0", m["noise"].Importance)
	}
}

func TestTooFew(t *testing.T) {
	for _, n := range []int{0, 1} {
		x, y := sample(n, 2, 1, func(x []float64) float64 { return x[0] })
		_, err := Evaluate(doubles("a", "b"), x, y, Options{})
		if !errors.Is(err, ErrTooFewTrials) {
			t.Errorf("%d rows: err = %v, want ErrTooFewTrials", n, err)
		}
	}
	// Two rows are enough.
	r, err := Evaluate(doubles("a", "b"), [][]float64{{0.1, 0.5}, {0.9, 0.5}}, []float64{1, 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := byName(t, r); m["a"].Importance != 1 || m["b"].Importance != 0 {
		t.Errorf("two rows differing in a: %+v, want a = 1", r.Terms)
	}
}

func TestConstant(t *testing.T) {
	x, y := sample(50, 2, 3, func([]float64) float64 { return 0.25 })
	r, err := Evaluate(doubles("a", "b"), x, y, Options{Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Constant || r.Varying != 0 {
		t.Errorf("constant = %v, varying %d; want true, 0", r.Constant, r.Varying)
	}
	for _, term := range r.Terms {
		if term.Importance != 0 || term.Std != 0 || term.Variance != 0 {
			t.Errorf("%+v, want all zero", term)
		}
	}
}

func TestBadInput(t *testing.T) {
	space := suggest.Space{{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b"}}}
	cases := map[string]struct {
		x [][]float64
		y []float64
	}{
		"NaN objective":   {[][]float64{{0}, {1}}, []float64{1, math.NaN()}},
		"Inf objective":   {[][]float64{{0}, {1}}, []float64{1, math.Inf(1)}},
		"bad category":    {[][]float64{{0}, {2}}, []float64{1, 2}},
		"row too short":   {[][]float64{{0}, {}}, []float64{1, 2}},
		"lengths differ":  {[][]float64{{0}, {1}}, []float64{1}},
		"NaN coordinate":  {[][]float64{{0}, {math.NaN()}}, []float64{1, 2}},
		"fractional cat.": {[][]float64{{0}, {0.5}}, []float64{1, 2}},
	}
	for name, c := range cases {
		if _, err := Evaluate(space, c.x, c.y, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Evaluate(nil, [][]float64{{}, {}}, []float64{1, 2}, Options{}); err == nil {
		t.Error("empty space: no error")
	}
}

// TestDeterministic: equal seeds give equal results; another seed another
// forest.
func TestDeterministic(t *testing.T) {
	x, y := sample(80, 3, 17, func(x []float64) float64 { return x[0] + 2*x[1]*x[2] })
	a, err := Evaluate(doubles("a", "b", "c"), x, y, Options{Seed: 3, Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Evaluate(doubles("a", "b", "c"), x, y, Options{Seed: 3, Pairs: true})
	c, _ := Evaluate(doubles("a", "b", "c"), x, y, Options{Seed: 4, Pairs: true})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different results:\n%+v\n%+v", a, b)
	}
	if reflect.DeepEqual(a.Terms, c.Terms) {
		t.Error("seeds 3 and 4 gave identical terms")
	}
}

// TestDecomposeExact checks the decomposition of hand-built trees against
// values computed by hand.
func TestDecomposeExact(t *testing.T) {
	dims := []dim{{}, {}}
	// f = 1 where x1 > 0.25, else 0: mean 0.75, variance 0.75·0.25.
	step := &tree{nodes: []node{
		{feature: 0, threshold: 0.25, left: 1, right: 2},
		{left: -1, right: -1, value: 0},
		{left: -1, right: -1, value: 1},
	}}
	d := decompose(step, dims, true)
	if want := 0.1875; math.Abs(d.total-want) > 1e-12 || math.Abs(d.main[0]-want) > 1e-12 || d.main[1] != 0 || d.pair[0][1] != 0 {
		t.Errorf("step: %+v, want total = main[0] = %v", d, want)
	}
	// XOR on the halves: f = 1 when exactly one of x1, x2 exceeds ½. Both
	// marginals are ½ everywhere: no main effect, all variance (¼) in the
	// pair.
	xor := &tree{nodes: []node{
		{feature: 0, threshold: 0.5, left: 1, right: 2},
		{feature: 1, threshold: 0.5, left: 3, right: 4},
		{feature: 1, threshold: 0.5, left: 5, right: 6},
		{left: -1, right: -1, value: 0},
		{left: -1, right: -1, value: 1},
		{left: -1, right: -1, value: 1},
		{left: -1, right: -1, value: 0},
	}}
	d = decompose(xor, dims, true)
	if math.Abs(d.total-0.25) > 1e-12 || math.Abs(d.main[0]) > 1e-12 || math.Abs(d.main[1]) > 1e-12 || math.Abs(d.pair[0][1]-0.25) > 1e-12 {
		t.Errorf("xor: %+v, want total ¼, mains 0, pair ¼", d)
	}
	// A categorical of 3 categories, {0} against {1, 2}, values 3 and 0,
	// and a numeric split at 0.5 under {1, 2} with values 0 and 6:
	// f(c, x) = 3 for c = 0; 6·[x > ½] otherwise.
	// mean = (3 + 3 + 3)/3 = 3; the variance is ⅓·0 + ⅔·9 = 6.
	// Marginal over c: 3 for each category: main[c] = 0.
	// Marginal over x: (3 + 0 + 0)/3 = 1 for x ≤ ½, (3 + 6 + 6)/3 = 5
	// above: main[x] = 4. The pair term is 6 − 0 − 4 = 2.
	mixed := &tree{nodes: []node{
		{feature: 0, leftCats: []bool{true, false, false}, left: 1, right: 2},
		{left: -1, right: -1, value: 3},
		{feature: 1, threshold: 0.5, left: 3, right: 4},
		{left: -1, right: -1, value: 0},
		{left: -1, right: -1, value: 6},
	}}
	d = decompose(mixed, []dim{{cats: 3}, {}}, true)
	if math.Abs(d.total-6) > 1e-12 || math.Abs(d.main[0]) > 1e-12 || math.Abs(d.main[1]-4) > 1e-12 || math.Abs(d.pair[0][1]-2) > 1e-12 {
		t.Errorf("mixed: total %v, main %v, pair %v; want 6, [0 4], 2", d.total, d.main, d.pair[0][1])
	}
}

// BenchmarkEvaluate measures a forest on n trials of 6 parameters (one
// categorical), main effects and pairs.
func BenchmarkEvaluate(b *testing.B) {
	space := append(doubles("a", "b", "c", "d", "e"), suggest.Param{Name: "opt", Type: suggest.Categorical, Values: []string{"p", "q", "r", "s"}})
	for _, n := range []int{100, 1000, 5000} {
		x, y := sample(n, 6, 1, func(x []float64) float64 {
			return 3*x[0] + math.Sin(6*x[1]) + x[2]*x[3] + 0.1*x[4]
		})
		for i := range x {
			x[i][5] = math.Floor(x[i][5] * 4)
			y[i] += x[i][5] / 4
		}
		for _, pairs := range []bool{false, true} {
			b.Run(fmt.Sprintf("n=%d/pairs=%v", n, pairs), func(b *testing.B) {
				for b.Loop() {
					if _, err := Evaluate(space, x, y, Options{Pairs: pairs}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestScaleInvariant: importances are fractions of variance, so scaling
// the objective changes nothing, down to values near the float64 limits,
// and nothing overflows into NaN.
func TestScaleInvariant(t *testing.T) {
	x, y := sample(60, 2, 23, func(x []float64) float64 { return 3*x[0] - x[1] })
	base, err := Evaluate(doubles("a", "b"), x, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []float64{1e305, -1e305, 1e-305} {
		ys := make([]float64, len(y))
		for i, v := range y {
			ys[i] = k * (v - 1)
		}
		r, err := Evaluate(doubles("a", "b"), x, ys, Options{})
		if err != nil {
			t.Fatal(err)
		}
		byName(t, r)
		for i := range r.Terms {
			if r.Terms[i].Name() != base.Terms[i].Name() || math.Abs(r.Terms[i].Importance-base.Terms[i].Importance) > 1e-6 {
				t.Errorf("y·%g: %+v, want %+v", k, r.Terms, base.Terms)
				break
			}
		}
	}
}

func TestEvaluateContextCancelled(t *testing.T) {
	x, y := sample(50, 2, 1, func(x []float64) float64 { return x[0] })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := EvaluateContext(ctx, doubles("a", "b"), x, y, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
