package bench

import "testing"

func TestAckley(t *testing.T) {
	checkMinimum(t, ackley(5), 1e-14, point(repeat(0, 5)...))
}
