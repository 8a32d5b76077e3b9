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

// levyShiftCentre is the minimiser of the shifted 16-dimensional Levy
// function: off the centre of the box in every coordinate (at 13 % to 87 %
// of each range), no two coordinates alike, at least 2.6 from every face.
var levyShiftCentre = []float64{-5.5, 6.2, -3.1, 4.4, -6.8, 2.7, -1.9, 7.3, -4.2, 5.1, -7.4, 3.6, -2.6, 6.9, -5, 1.8}

// levyShifted returns Levy in 16 dimensions on [−10, 10]^16 with its
// minimum 0 moved from (1, …, 1), near the centre of the box, to
// [levyShiftCentre]: f(x) = levy(x − levyShiftCentre + 1). A searcher that
// starts at the centre of the box gains nothing.
func levyShifted() testFunction {
	return vectorFunction("levy16shift", boxSpace(16, -10, 10), 0, func(x []float64) float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v - levyShiftCentre[i] + 1
		}
		return levyValue(y)
	})
}
