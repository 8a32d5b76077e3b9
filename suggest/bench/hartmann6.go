package bench

import "math"

// hartmann6Optimum is the 6D Hartmann function's minimum.
const hartmann6Optimum = -3.32236801141551

// hartmann6 returns the 6D Hartmann function on [0, 1]^6:
// f(x) = −Σᵢ αᵢ exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²).
func hartmann6() testFunction {
	return vectorFunction("hartmann6", boxSpace(6, 0, 1), hartmann6Optimum, hartmann6Value)
}

// hartmann6Value evaluates the 6D Hartmann function at x.
func hartmann6Value(x []float64) float64 {
	alpha := [4]float64{1.0, 1.2, 3.0, 3.2}
	a := [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	p := [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
	var f float64
	for i := range alpha {
		var s float64
		for j := range 6 {
			d := x[j] - p[i][j]*1e-4
			s += a[i][j] * d * d
		}
		f -= alpha[i] * math.Exp(-s)
	}
	return f
}
