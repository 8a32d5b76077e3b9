package bench

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// Centres of the decoy function's two basins, in its unit square.
var (
	decoyBroad  = [2]float64{0.3, 0.7}
	decoyNarrow = [2]float64{0.72, 0.28}
)

// decoy returns a mixed function of this benchmark's design whose best
// category is not the one that looks best at first:
//
//	x1, x2  double       [0, 1]
//	kind    categorical  {broad, narrow, flat}
//	n       int          [1, 8]
//
// With d the distance from x to the kind's centre, broad is a wide, shallow
// basin, 0.5 + 0.4·d², at least 0.5 everywhere; narrow is a narrow, deep
// one on a slope, 0.9·(1 − exp(−d²/(2·0.12²))) + 0.6·d, 1 or more away
// from its centre (below 0.5 only within about 0.13 of it) and 0 at it; flat is 0.85 + 0.1·x1. Every kind adds 0.02·(n − 5)². Its
// minimum 0 is at kind = narrow, x = (0.72, 0.28), n = 5, inside the box;
// a searcher that settles in broad stays at 0.5 or more.
func decoy() testFunction {
	space := suggest.Space{
		{Name: "x1", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "x2", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "kind", Type: suggest.Categorical, Values: []string{"broad", "narrow", "flat"}},
		{Name: "n", Type: suggest.Int, Min: 1, Max: 8},
	}
	return testFunction{name: "decoy", space: space, optimum: 0, eval: decoyValue, category: "kind", bestCategory: "narrow"}
}

// decoyValue evaluates the decoy function at a.
func decoyValue(a suggest.Assignment) (float64, error) {
	x, err := floats("decoy", a, "x1", "x2")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(a["n"])
	if err != nil {
		return 0, fmt.Errorf("decoy: n=%q: %w", a["n"], err)
	}
	dist := func(c [2]float64) float64 { return math.Hypot(x[0]-c[0], x[1]-c[1]) }
	var f float64
	switch a["kind"] {
	case "broad":
		d := dist(decoyBroad)
		f = 0.5 + 0.4*d*d
	case "narrow":
		d := dist(decoyNarrow)
		f = 0.9*(1-math.Exp(-d*d/(2*0.12*0.12))) + 0.6*d
	case "flat":
		f = 0.85 + 0.1*x[0]
	default:
		return 0, fmt.Errorf("decoy: kind=%q is not one of broad, narrow, flat", a["kind"])
	}
	dn := float64(n - 5)
	return f + 0.02*dn*dn, nil
}

// floats parses the named double parameters of a, for function fn's errors.
func floats(fn string, a suggest.Assignment, names ...string) ([]float64, error) {
	out := make([]float64, len(names))
	for i, name := range names {
		v, err := strconv.ParseFloat(a[name], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s=%q: %w", fn, name, a[name], err)
		}
		out[i] = v
	}
	return out, nil
}
