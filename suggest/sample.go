package suggest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxSteps is the largest number of values a stepped parameter may have.
// Beyond 2^53 consecutive multiples of a step are no longer distinct
// float64 values.
const maxSteps = 1 << 53

// stepTolerance is the fraction of a step by which the last value may exceed
// max and still count, so that float error in (max−min)/step does not drop
// max itself: 0.01 + 8·0.005 is computed as 0.05000000000000001.
const stepTolerance = 1e-9

// StepCount returns how many values lo, lo+step, lo+2·step, … lie in
// [lo, hi], counting a value that exceeds hi by at most a billionth of a step
// (float error) as inside. step must be positive and lo ≤ hi. It is an error
// when the count exceeds 2^53.
func StepCount(lo, hi, step float64) (int64, error) {
	if !(step > 0) || math.IsInf(step, 0) {
		return 0, fmt.Errorf("step %v is not a positive finite number", step)
	}
	if !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, fmt.Errorf("bounds [%v, %v] are not finite and ordered", lo, hi)
	}
	n := math.Floor((hi-lo)/step+stepTolerance) + 1
	if n > maxSteps {
		return 0, fmt.Errorf("[%v, %v] with step %v has more than 2^53 values", lo, hi, step)
	}
	return int64(n), nil
}

// StepValue returns lo + k·step, rounded to the decimal precision of lo and
// step and clamped to hi, so that [FormatFloat] prints it cleanly:
// StepValue(0.01, 0.05, 0.005, 3) is 0.025, not 0.025000000000000001.
// k counts from 0; see [StepCount] for the largest valid k plus one.
func StepValue(lo, hi, step float64, k int64) float64 {
	v := lo + float64(k)*step
	d := max(decimals(lo), decimals(step))
	if r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', d, 64), 64); err == nil {
		v = r
	}
	return min(v, hi)
}

// decimals returns the number of digits after the decimal point in the
// shortest decimal form of v: 2 for 0.01, 3 for 0.005, 7 for 1e-7, 0 for 5.
func decimals(v float64) int {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// maxExactInt is the largest magnitude of an int parameter's bounds: the
// integers beyond it are not all representable as float64.
const maxExactInt = 1 << 53

// IntRange returns the values of an [Int] parameter as the integers lo,
// lo+step, … ≤ hi: lo is Min rounded up, hi is Max rounded down and step is
// Step, or 1 when Step is zero. n is how many there are. It is an error when
// Step is not a whole number, when the bounds exceed ±2^53 or when no integer
// lies in [Min, Max].
func IntRange(p Param) (lo, hi, step, n int64, err error) {
	if math.Abs(p.Min) > maxExactInt || math.Abs(p.Max) > maxExactInt || math.IsNaN(p.Min) || math.IsNaN(p.Max) {
		return 0, 0, 0, 0, fmt.Errorf("parameter %q: int bounds [%v, %v] exceed ±2^53", p.Name, p.Min, p.Max)
	}
	switch {
	case p.Step == 0:
		step = 1
	case p.Step < 0 || p.Step != math.Trunc(p.Step) || p.Step > maxExactInt:
		return 0, 0, 0, 0, fmt.Errorf("parameter %q: int step %v is not a positive whole number", p.Name, p.Step)
	default:
		step = int64(p.Step)
	}
	lo, hi = int64(math.Ceil(p.Min)), int64(math.Floor(p.Max))
	if lo > hi {
		return 0, 0, 0, 0, fmt.Errorf("parameter %q: no integer in [%v, %v]", p.Name, p.Min, p.Max)
	}
	return lo, hi, step, (hi-lo)/step + 1, nil
}
