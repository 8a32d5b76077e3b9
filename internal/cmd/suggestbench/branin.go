package main

import "math"

// braninOptimum is Branin's minimum, 10/(8π), reached at (−π, 12.275),
// (π, 2.275) and (3π, 2.475).
const braninOptimum = 10 / (8 * math.Pi)

// branin returns the Branin–Hoo function on x1 ∈ [−5, 10], x2 ∈ [0, 15]:
// f(x) = (x2 − b·x1² + c·x1 − 6)² + 10·(1 − t)·cos(x1) + 10 with
// b = 5.1/(4π²), c = 5/π and t = 1/(8π).
func branin() testFunction {
	space := boxSpace(2, -5, 10)
	space[1].Min, space[1].Max = 0, 15
	return vectorFunction("branin", space, braninOptimum, braninValue)
}

// braninValue evaluates Branin at x.
func braninValue(x []float64) float64 {
	const (
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		t = 1 / (8 * math.Pi)
	)
	u := x[1] - b*x[0]*x[0] + c*x[0] - 6
	return u*u + 10*(1-t)*math.Cos(x[0]) + 10
}
