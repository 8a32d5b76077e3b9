package bench

import (
	"fmt"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// testFunction is a benchmark objective with a known global minimum.
type testFunction struct {
	// name identifies the function on the command line and in tables.
	name string
	// space is its search space.
	space suggest.Space
	// optimum is the global minimum value f*; simple regret is the best
	// value found minus optimum.
	optimum float64
	// eval computes the objective of an assignment of space.
	eval func(a suggest.Assignment) (float64, error)
	// category names the categorical parameter whose value bestCategory
	// holds the optimum, for functions where finding it is the point;
	// "" for the others.
	category, bestCategory string
}

// functions returns every test function, in the order of the tables.
func functions() []testFunction {
	return []testFunction{
		branin(),
		hartmann6(),
		rosenbrock(4),
		ackley(5),
		levy(4),
		styblinskiTang(8),
		mixed(),
		decoy(),
		conditional(),
		ackleyShifted(),
		levy(16),
		levyShifted(),
		styblinskiTang(16),
	}
}

// boxSpace returns the space of d doubles x1…xd on [lo, hi].
func boxSpace(d int, lo, hi float64) suggest.Space {
	s := make(suggest.Space, d)
	for i := range s {
		s[i] = suggest.Param{Name: "x" + strconv.Itoa(i+1), Type: suggest.Double, Min: lo, Max: hi}
	}
	return s
}

// vectorFunction adapts f on a vector to an assignment of space, whose
// parameters must all be doubles, read in order.
func vectorFunction(name string, space suggest.Space, optimum float64, f func(x []float64) float64) testFunction {
	return testFunction{
		name:    name,
		space:   space,
		optimum: optimum,
		eval: func(a suggest.Assignment) (float64, error) {
			x := make([]float64, len(space))
			for i, p := range space {
				v, err := strconv.ParseFloat(a[p.Name], 64)
				if err != nil {
					return 0, fmt.Errorf("%s: parameter %s=%q: %w", name, p.Name, a[p.Name], err)
				}
				x[i] = v
			}
			return f(x), nil
		},
	}
}
