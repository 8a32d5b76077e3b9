package bench

import "testing"

func TestRosenbrock(t *testing.T) {
	checkMinimum(t, rosenbrock(4), 0, point(repeat(1, 4)...))
	if got := rosenbrockValue([]float64{0, 0}); got != 1 {
		t.Errorf("rosenbrock(0, 0) = %v; want 1", got)
	}
}
