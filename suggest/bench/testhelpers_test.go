package bench

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// checkMinimum checks that fn evaluates to its optimum at each minimiser,
// within tol, and to no less than the optimum at 2000 random points of its
// space, so that simple regret is never negative.
func checkMinimum(t *testing.T, fn testFunction, tol float64, minimisers ...suggest.Assignment) {
	t.Helper()
	for _, x := range minimisers {
		got, err := fn.eval(x)
		if err != nil {
			t.Fatalf("%s(%v): %v", fn.name, x, err)
		}
		if math.Abs(got-fn.optimum) > tol {
			t.Errorf("%s(%v) = %.9g; want the optimum %.9g ± %g", fn.name, x, got, fn.optimum, tol)
		}
	}
	prior, err := random.NewPrior(fn.space)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		a := prior.Sample(r)
		got, err := fn.eval(a)
		if err != nil {
			t.Fatalf("%s(%v): %v", fn.name, a, err)
		}
		if got < fn.optimum-1e-9 {
			t.Errorf("%s(%v) = %v, below the optimum %v", fn.name, a, got, fn.optimum)
		}
	}
}

// point returns the assignment x1=x[0], x2=x[1], … of a box space.
func point(x ...float64) suggest.Assignment {
	a := make(suggest.Assignment, len(x))
	for i, v := range x {
		a[boxSpace(len(x), 0, 1)[i].Name] = suggest.FormatFloat(v)
	}
	return a
}

// repeat returns n copies of v.
func repeat(v float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}
