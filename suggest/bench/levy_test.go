package bench

import "testing"

func TestLevy(t *testing.T) {
	checkMinimum(t, levy(4), 1e-14, point(repeat(1, 4)...))
}
