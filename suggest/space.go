package suggest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// ParamType is the type of a parameter, with Katib's names.
type ParamType string

// The parameter types Katib defines.
const (
	Double      ParamType = "double"
	Int         ParamType = "int"
	Discrete    ParamType = "discrete"
	Categorical ParamType = "categorical"
)

// Distribution is the prior a parameter is sampled from, with Katib's names.
type Distribution string

// The distributions Katib defines. The zero value means Uniform.
const (
	Uniform    Distribution = "uniform"
	LogUniform Distribution = "logUniform"
	Normal     Distribution = "normal"
	LogNormal  Distribution = "logNormal"
)

// Param is one dimension of a search space.
//
// For Double and Int, Min and Max are inclusive bounds and Step, when
// positive, restricts values to Min + k·Step. For Discrete, Values holds the
// allowed numbers as written in the experiment; for Categorical, the allowed
// strings. Distribution applies to Double and Int.
type Param struct {
	Name         string
	Type         ParamType
	Min, Max     float64
	Step         float64
	Values       []string
	Distribution Distribution
}

// Space is a search space: an ordered list of parameters with unique names.
type Space []Param

// Assignment maps each parameter name to its value, formatted as Katib
// formats parameter assignments (decimal strings for numbers).
type Assignment map[string]string

// Key returns a canonical string for a, usable as a map key: the
// name/value pairs sorted by name, each written by [AppendKeyPair]. Equal
// assignments have equal keys and different ones different keys, whatever
// bytes the names and values hold.
func (a Assignment) Key() string {
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(a)) {
		b = AppendKeyPair(b, name, a[name])
	}
	return string(b)
}

// AppendKeyPair appends one name/value pair of an [Assignment.Key] to b:
// both length-prefixed, so no choice of bytes can make two different
// assignments collide. Callers building keys without an Assignment (the
// grid does, for speed) append the pairs in name order.
func AppendKeyPair(b []byte, name, value string) []byte {
	b = strconv.AppendInt(b, int64(len(name)), 10)
	b = append(b, ':')
	b = append(b, name...)
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, ':')
	return append(b, value...)
}

// FormatFloat formats a double value the way tune writes assignments: the
// shortest decimal that parses back to v.
func FormatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// FormatInt formats an int value.
func FormatInt(v int64) string {
	return strconv.FormatInt(v, 10)
}

// Validate checks that the space is usable by a suggester: unique non-empty
// names, Min ≤ Max, non-negative steps, non-empty lists and positive bounds
// for log distributions.
func (s Space) Validate() error {
	seen := make(map[string]bool, len(s))
	for _, p := range s {
		if p.Name == "" {
			return fmt.Errorf("parameter with empty name")
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter %q declared twice", p.Name)
		}
		seen[p.Name] = true
		switch p.Type {
		case Double, Int:
			if p.Min > p.Max {
				return fmt.Errorf("parameter %q: min %v > max %v", p.Name, p.Min, p.Max)
			}
			if p.Step < 0 {
				return fmt.Errorf("parameter %q: negative step %v", p.Name, p.Step)
			}
			if (p.Distribution == LogUniform || p.Distribution == LogNormal) && p.Min <= 0 {
				return fmt.Errorf("parameter %q: %s needs min > 0, got %v", p.Name, p.Distribution, p.Min)
			}
		case Discrete, Categorical:
			if len(p.Values) == 0 {
				return fmt.Errorf("parameter %q: empty list", p.Name)
			}
		default:
			return fmt.Errorf("parameter %q: unknown type %q", p.Name, p.Type)
		}
	}
	return nil
}

// Check reports whether value is a value of p: one of Values for Discrete
// and Categorical parameters (as written there), otherwise a decimal number
// within [Min, Max], whole for Int, and on the grid Min + k·Step when Step
// is set. The error says what is allowed.
func (p Param) Check(value string) error {
	switch p.Type {
	case Discrete, Categorical:
		if slices.Contains(p.Values, value) {
			return nil
		}
		return fmt.Errorf("parameter %s: %q is not one of %q", p.Name, value, p.Values)
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("parameter %s: %q is not a number", p.Name, value)
	}
	if v < p.Min || v > p.Max {
		return fmt.Errorf("parameter %s: %s is outside [%s, %s]", p.Name, value, FormatFloat(p.Min), FormatFloat(p.Max))
	}
	if p.Type == Int && v != math.Trunc(v) {
		return fmt.Errorf("parameter %s: %s is not a whole number", p.Name, value)
	}
	if p.Step > 0 {
		k := (v - p.Min) / p.Step
		if math.Abs(k-math.Round(k)) > 1e-9*max(1, math.Abs(k)) {
			return fmt.Errorf("parameter %s: %s is not %s plus a multiple of the step %s", p.Name, value, FormatFloat(p.Min), FormatFloat(p.Step))
		}
	}
	return nil
}

// SplitResource returns the parameter named name, which must be an int or
// double (the resource of Hyperband and ASHA: epochs, steps), the space
// without it, and a function formatting a resource value as that
// parameter's values are formatted (rounded for an int).
func (s Space) SplitResource(name string) (resource Param, others Space, format func(float64) string, err error) {
	i := slices.IndexFunc(s, func(p Param) bool { return p.Name == name })
	if i < 0 || s[i].Type != Int && s[i].Type != Double {
		return Param{}, nil, nil, fmt.Errorf("resource_name %q is not an int or double parameter of the experiment", name)
	}
	resource = s[i]
	others = append(slices.Clone(s[:i:i]), s[i+1:]...)
	format = func(v float64) string {
		if resource.Type == Int {
			return FormatInt(int64(math.Round(v)))
		}
		return FormatFloat(v)
	}
	return resource, others, format, nil
}
