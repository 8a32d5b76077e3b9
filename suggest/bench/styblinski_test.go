package bench

import (
	"math"
	"testing"
)

func TestStyblinskiTang(t *testing.T) {
	checkMinimum(t, styblinskiTang(8), 1e-9, point(repeat(styblinskiTangMinimiser, 8)...))
	checkMinimum(t, styblinskiTang(16), 1e-9, point(repeat(styblinskiTangMinimiser, 16)...))
	if got, want := styblinskiTang(8).optimum, -39.16617*8; math.Abs(got-want) > 1e-3 {
		t.Errorf("optimum %v; want %v", got, want)
	}
	// The minimiser is a stationary point: 4x³ − 32x + 5 = 0.
	x := styblinskiTangMinimiser
	if d := 4*x*x*x - 32*x + 5; math.Abs(d) > 1e-9 {
		t.Errorf("derivative at the minimiser %v; want 0", d)
	}
}
