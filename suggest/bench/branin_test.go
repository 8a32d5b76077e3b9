package bench

import (
	"math"
	"testing"
)

func TestBranin(t *testing.T) {
	checkMinimum(t, branin(), 1e-12,
		point(-math.Pi, 12.275),
		point(math.Pi, 2.275),
		point(3*math.Pi, 2.475),
	)
	if got, want := braninOptimum, 0.397887; math.Abs(got-want) > 1e-6 {
		t.Errorf("optimum %v; want %v", got, want)
	}
}
