package bench

import "testing"

func TestLevy(t *testing.T) {
	checkMinimum(t, levy(4), 1e-14, point(repeat(1, 4)...))
}

func TestLevyShifted(t *testing.T) {
	checkMinimum(t, levyShifted(), 1e-14, point(levyShiftCentre...))
	if got, _ := levyShifted().eval(point(repeat(1, 16)...)); got < 10 {
		t.Errorf("shifted Levy at (1, …, 1) = %v, want far from its minimum", got)
	}
}
