package bench

import (
	"math"
	"testing"
)

func TestHartmann6(t *testing.T) {
	// The published minimiser has six digits, so the value agrees to about
	// 1e-5.
	checkMinimum(t, hartmann6(), 1e-5, point(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573))
	if got, want := hartmann6Optimum, -3.32237; math.Abs(got-want) > 1e-5 {
		t.Errorf("optimum %v; want %v", got, want)
	}
}
