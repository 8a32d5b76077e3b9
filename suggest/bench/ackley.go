package bench

import (
	"math"
	"strconv"
)

// ackley returns the d-dimensional Ackley function on [−32.768, 32.768]^d:
// f(x) = −20·exp(−0.2·√(Σxᵢ²/d)) − exp(Σcos(2πxᵢ)/d) + 20 + e, with
// minimum 0 at the origin.
func ackley(d int) testFunction {
	return vectorFunction("ackley"+strconv.Itoa(d), boxSpace(d, -32.768, 32.768), 0, ackleyValue)
}

// ackleyValue evaluates Ackley at x.
func ackleyValue(x []float64) float64 {
	var sq, cs float64
	for _, v := range x {
		sq += v * v
		cs += math.Cos(2 * math.Pi * v)
	}
	n := float64(len(x))
	return -20*math.Exp(-0.2*math.Sqrt(sq/n)) - math.Exp(cs/n) + 20 + math.E
}

// ackleyShift is the centre of the shifted Ackley function: off-centre,
// not on a symmetry of the box, away from its faces.
var ackleyShift = []float64{-7.1, 12.4, 3.3, -21.7, 9.6}

// ackleyShifted returns Ackley in 5 dimensions on [−32.768, 32.768]^5 with
// its minimum 0 moved to [ackleyShift]: f(x) = ackley(x − shift). A
// searcher drawn to the box's centre, or to its corners, gains nothing.
func ackleyShifted() testFunction {
	return vectorFunction("ackley5shift", boxSpace(5, -32.768, 32.768), 0, func(x []float64) float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v - ackleyShift[i]
		}
		return ackleyValue(y)
	})
}
