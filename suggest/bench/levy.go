package bench

import (
	"math"
	"strconv"
)

// levy returns the d-dimensional Levy function on [−10, 10]^d: with
// wᵢ = 1 + (xᵢ − 1)/4,
// f(x) = sin²(πw₁) + Σ_{i<d} (wᵢ − 1)²·(1 + 10·sin²(πwᵢ + 1))
// + (w_d − 1)²·(1 + sin²(2πw_d)), with minimum 0 at (1, …, 1).
func levy(d int) testFunction {
	return vectorFunction("levy"+strconv.Itoa(d), boxSpace(d, -10, 10), 0, levyValue)
}

// levyValue evaluates Levy at x.
func levyValue(x []float64) float64 {
	w := func(i int) float64 { return 1 + (x[i]-1)/4 }
	sin2 := func(v float64) float64 { s := math.Sin(v); return s * s }
	d := len(x)
	f := sin2(math.Pi * w(0))
	for i := 0; i < d-1; i++ {
		wi := w(i)
		f += (wi - 1) * (wi - 1) * (1 + 10*sin2(math.Pi*wi+1))
	}
	wd := w(d - 1)
	return f + (wd-1)*(wd-1)*(1+sin2(2*math.Pi*wd))
}
