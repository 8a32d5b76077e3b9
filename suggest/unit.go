package suggest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Numeric reports whether p's values are ordered numbers (double, int or
// discrete), which [Param.ToUnit] and [Param.FromUnit] map to the unit
// interval. Categorical parameters are not numeric.
func (p Param) Numeric() bool {
	return p.Type == Double || p.Type == Int || p.Type == Discrete
}

// logScale reports whether p is searched in log space.
func (p Param) logScale() bool {
	return p.Distribution == LogUniform || p.Distribution == LogNormal
}

// ToUnit maps a value of numeric parameter p to [0, 1], the coordinate that
// model-based algorithms (Gaussian processes, CMA-ES, TPE) work in:
//
//   - a continuous double maps linearly, or logarithmically for logUniform
//     and logNormal, from [Min, Max];
//   - an int, or a double with a step, is one of n values; each owns a cell
//     of width 1/n (in log space for log distributions) and maps to its
//     cell's centre, so that every value gets an equal share of [0, 1];
//   - a discrete value maps to the centre of its cell by rank among the
//     listed numbers.
//
// [Param.FromUnit] is its inverse on those centres. Values outside the
// bounds map outside [0, 1]; values that are not numbers are an error.
func (p Param) ToUnit(value string) (float64, error) {
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("parameter %q: value %q is not a finite number", p.Name, value)
	}
	switch p.Type {
	case Discrete:
		sorted, err := p.sortedValues()
		if err != nil {
			return 0, err
		}
		i, _ := slices.BinarySearch(sorted, v)
		if i == len(sorted) || (i > 0 && v-sorted[i-1] < sorted[i]-v) {
			i--
		}
		return (float64(i) + 0.5) / float64(len(sorted)), nil
	case Double, Int:
	default:
		return 0, fmt.Errorf("parameter %q: %s values have no numeric coordinate", p.Name, p.Type)
	}
	a, b, _, _ := p.unitRange()
	if p.logScale() {
		if v <= 0 {
			return 0, fmt.Errorf("parameter %q: value %v is not positive on a log scale", p.Name, v)
		}
		if la, lb, ok := logRange(a, b); ok {
			return (math.Log(v) - la) / (lb - la), nil
		}
	}
	return unitOf(v, a, b), nil
}

// unitOf returns (v − a) / (b − a) for a < b, also when b − a exceeds the
// float64 range (a parameter from -1e308 to 1e308).
func unitOf(v, a, b float64) float64 {
	if d := b - a; !math.IsInf(d, 0) {
		return (v - a) / d
	}
	return (v/2 - a/2) / (b/2 - a/2)
}

// logRange returns the logarithms of a and b, and false when they do not
// make a usable range: math.Log does not tell subnormals apart, so bounds
// near 5e-324 fall back to the linear map.
func logRange(a, b float64) (la, lb float64, ok bool) {
	la, lb = math.Log(a), math.Log(b)
	return la, lb, lb > la && !math.IsInf(la, 0) && !math.IsInf(lb, 0)
}

// atUnit returns a + u·(b − a) for u ∈ [0, 1], also when b − a exceeds the
// float64 range.
func atUnit(u, a, b float64) float64 {
	if d := b - a; !math.IsInf(d, 0) {
		return a + u*d
	}
	return a*(1-u) + b*u
}

// FromUnit maps u ∈ [0, 1] (clamped) to the value of numeric parameter p
// at that coordinate, snapped to p's step, integers or list, and formatted
// as assignments are. It is the inverse of [Param.ToUnit]. For a parameter
// whose Min equals Max it returns that value.
func (p Param) FromUnit(u float64) string {
	if math.IsNaN(u) {
		u = 0.5
	}
	u = min(max(u, 0), 1)
	switch p.Type {
	case Discrete, Categorical:
		i := min(int(u*float64(len(p.Values))), len(p.Values)-1)
		if p.Type == Categorical {
			return p.Values[i]
		}
		sorted, err := p.sortedValues()
		if err != nil {
			return p.Values[i]
		}
		// Return the value as written in the list.
		target := sorted[i]
		for _, s := range p.Values {
			if f, _ := strconv.ParseFloat(s, 64); f == target {
				return s
			}
		}
		return FormatFloat(target)
	}
	a, b, stepped, n := p.unitRange()
	x := atUnit(u, a, b)
	if la, lb, ok := logRange(a, b); ok && p.logScale() {
		x = math.Exp(la + u*(lb-la))
	}
	if !stepped {
		// Twelve significant digits: a tuning coordinate needs no more, and
		// it keeps exp/log noise (1.0000000000000009e-4) out of assignments.
		x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
		return FormatFloat(min(max(x, p.Min), p.Max))
	}
	step := p.Step
	if p.Type == Int && step == 0 {
		step = 1
	}
	lo := p.Min
	if p.Type == Int {
		lo = math.Ceil(p.Min)
	}
	k := min(max(int64(math.Round((x-lo)/step)), 0), n-1)
	if p.Type == Int {
		return FormatInt(int64(lo) + k*int64(step))
	}
	return FormatFloat(StepValue(p.Min, p.Max, p.Step, k))
}

// unitRange returns the interval [a, b] that [0, 1] maps onto, whether p
// takes stepped values, and how many. Stepped values own cells of one step
// around each value; in log space the lowest cell starts at half the lowest
// value when a half step below it would not be positive.
func (p Param) unitRange() (a, b float64, stepped bool, n int64) {
	switch {
	case p.Type == Int:
		lo, _, step, count, err := IntRange(p)
		if err != nil {
			return p.Min, p.Max, false, 0
		}
		half := float64(step) / 2
		a, b, n, stepped = float64(lo)-half, float64(lo)+float64(count-1)*float64(step)+half, count, true
	case p.Step > 0:
		count, err := StepCount(p.Min, p.Max, p.Step)
		if err != nil {
			return p.Min, p.Max, false, 0
		}
		a, b, n, stepped = p.Min-p.Step/2, p.Min+float64(count-1)*p.Step+p.Step/2, count, true
	default:
		a, b = p.Min, p.Max
	}
	if p.logScale() && a <= 0 {
		a = p.Min / 2
	}
	if a == b {
		// A single value: give the map a non-empty range around it, wide
		// enough to survive rounding at any magnitude and clamped to
		// finite numbers.
		d := max(0.5, math.Abs(a)/(1<<20))
		a, b = max(a-d, -math.MaxFloat64), min(b+d, math.MaxFloat64)
		if p.logScale() {
			a, b = p.Min/2, min(p.Min*2, math.MaxFloat64)
		}
	}
	if p.logScale() && a <= 0 {
		// Min/2 underflowed: Min is one of the smallest subnormals.
		a = math.SmallestNonzeroFloat64
		if a == b {
			b = 4 * a
		}
	}
	return a, b, stepped, n
}

// sortedValues returns a discrete parameter's list as sorted numbers.
func (p Param) sortedValues() ([]float64, error) {
	out := make([]float64, len(p.Values))
	for i, s := range p.Values {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: list value %q is not a number", p.Name, s)
		}
		out[i] = f
	}
	slices.Sort(out)
	return out, nil
}
