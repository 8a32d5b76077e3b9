package bench

import "github.com/tune-hpo/tune/suggest/suggesttest"

// braninOptimum is Branin's minimum, 10/(8π), reached at (−π, 12.275),
// (π, 2.275) and (3π, 2.475).
const braninOptimum = suggesttest.BraninMinimum

// branin returns the Branin–Hoo function ([suggesttest.Branin]) on
// x1 ∈ [−5, 10], x2 ∈ [0, 15].
func branin() testFunction {
	space := boxSpace(2, -5, 10)
	space[1].Min, space[1].Max = 0, 15
	return vectorFunction("branin", space, braninOptimum, func(x []float64) float64 { return suggesttest.Branin(x[0], x[1]) })
}
