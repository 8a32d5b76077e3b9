package bench

import "strconv"

// rosenbrock returns the d-dimensional Rosenbrock function on [−5, 10]^d:
// f(x) = Σ_{i<d} 100·(x_{i+1} − xᵢ²)² + (xᵢ − 1)², with minimum 0 at
// (1, …, 1).
func rosenbrock(d int) testFunction {
	return vectorFunction("rosenbrock"+strconv.Itoa(d), boxSpace(d, -5, 10), 0, rosenbrockValue)
}

// rosenbrockValue evaluates Rosenbrock at x.
func rosenbrockValue(x []float64) float64 {
	var f float64
	for i := 0; i+1 < len(x); i++ {
		u, v := x[i+1]-x[i]*x[i], x[i]-1
		f += 100*u*u + v*v
	}
	return f
}
