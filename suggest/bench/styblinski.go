package bench

import "strconv"

// styblinskiTangMinimiser is the coordinate at which each term of the
// Styblinski–Tang function is smallest: the root of 4x³ − 32x + 5 = 0 near
// −2.9.
const styblinskiTangMinimiser = -2.903534027771177

// styblinskiTangTerm is the smallest value of one term,
// ½(x⁴ − 16x² + 5x) at styblinskiTangMinimiser; the usual rounding is
// −39.16617.
const styblinskiTangTerm = -39.16616570377142

// styblinskiTang returns the d-dimensional Styblinski–Tang function on
// [−5, 5]^d: f(x) = ½·Σ(xᵢ⁴ − 16xᵢ² + 5xᵢ), with minimum
// d·styblinskiTangTerm at (−2.903534, …).
func styblinskiTang(d int) testFunction {
	return vectorFunction("styblinskitang"+strconv.Itoa(d), boxSpace(d, -5, 5), float64(d)*styblinskiTangTerm, styblinskiTangValue)
}

// styblinskiTangValue evaluates Styblinski–Tang at x.
func styblinskiTangValue(x []float64) float64 {
	var f float64
	for _, v := range x {
		f += v*v*v*v - 16*v*v + 5*v
	}
	return f / 2
}
