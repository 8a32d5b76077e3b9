package bench

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// mixed returns a function of this benchmark's design that mixes every
// kind of parameter a tuning job has:
//
//	x    double      [−5, 5]
//	n    int         [0, 10]
//	lr   double      [1e-4, 1], logUniform
//	kind categorical {a, b, c, d}
//
// f = (x − shift(kind))² + ¼(n − 7)² + (log₁₀ lr + 2)² + offset(kind),
// with shift = {a: −2, b: 1.5, c: 3, d: 0} and offset = {a: ½, b: 0, c: 1,
// d: ¼}. Its minimum 0 is at x = 1.5, n = 7, lr = 0.01, kind = b; every
// other kind is at least ¼ worse, and the best x depends on the kind, so a
// searcher must find the interaction. Its negation is like a validation
// accuracy.
func mixed() testFunction {
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: -5, Max: 5},
		{Name: "n", Type: suggest.Int, Min: 0, Max: 10},
		{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
		{Name: "kind", Type: suggest.Categorical, Values: []string{"a", "b", "c", "d"}},
	}
	return testFunction{name: "mixed", space: space, optimum: 0, eval: mixedValue, category: "kind", bestCategory: "b"}
}

// mixedValue evaluates the mixed function at a.
func mixedValue(a suggest.Assignment) (float64, error) {
	x, err := strconv.ParseFloat(a["x"], 64)
	if err != nil {
		return 0, fmt.Errorf("mixed: x=%q: %w", a["x"], err)
	}
	n, err := strconv.Atoi(a["n"])
	if err != nil {
		return 0, fmt.Errorf("mixed: n=%q: %w", a["n"], err)
	}
	lr, err := strconv.ParseFloat(a["lr"], 64)
	if err != nil || lr <= 0 {
		return 0, fmt.Errorf("mixed: lr=%q is not a positive number", a["lr"])
	}
	shift, offset, err := mixedKind(a["kind"])
	if err != nil {
		return 0, err
	}
	dx, dn, dl := x-shift, float64(n-7), math.Log10(lr)+2
	return dx*dx + dn*dn/4 + dl*dl + offset, nil
}

// mixedKind returns the x that the categorical value kind moves the optimum
// of x to, and the constant it adds. Only "b" reaches 0.
func mixedKind(kind string) (shift, offset float64, err error) {
	switch kind {
	case "a":
		return -2, 0.5, nil
	case "b":
		return 1.5, 0, nil
	case "c":
		return 3, 1, nil
	case "d":
		return 0, 0.25, nil
	}
	return 0, 0, fmt.Errorf("mixed: kind=%q is not one of a, b, c, d", kind)
}
