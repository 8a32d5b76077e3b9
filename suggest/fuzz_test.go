package suggest_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

// paramTypes are the types FuzzParam picks from by index.
var paramTypes = []suggest.ParamType{suggest.Double, suggest.Int, suggest.Discrete, suggest.Categorical}

// distributions are the distributions FuzzParam picks from by index.
var distributions = []suggest.Distribution{"", suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal}

// FuzzParam builds a parameter from arbitrary bounds, step and list and
// checks the unit-interval maps and step arithmetic on it: nothing panics;
// for a parameter that [suggest.Space.Validate] accepts, [suggest.Param.FromUnit]
// returns a value inside [Min, Max] (or in the list) that
// [suggest.Param.ToUnit] maps back into [0, 1].
func FuzzParam(f *testing.F) {
	f.Add(uint8(0), uint8(0), 0.01, 0.1, 0.0, "", "", 0.5)
	f.Add(uint8(0), uint8(2), 1e-4, 1.0, 0.0, "", "", 0.0)
	f.Add(uint8(0), uint8(0), 0.01, 0.05, 0.005, "", "", 1.0)
	f.Add(uint8(1), uint8(0), 1.0, 1000.0, 0.0, "", "", 0.999)
	f.Add(uint8(1), uint8(2), 1.0, 1024.0, 0.0, "", "", 0.3)
	f.Add(uint8(1), uint8(0), -9007199254740992.0, 9007199254740992.0, 3.0, "", "", 0.7)
	f.Add(uint8(0), uint8(0), -1.7976931348623157e308, 1.7976931348623157e308, 0.0, "", "", 0.5)
	f.Add(uint8(0), uint8(0), 0.0, 1e300, 1e-300, "", "", 0.5)
	f.Add(uint8(0), uint8(4), 5e-324, 5e-324, 0.0, "", "", 0.5)
	f.Add(uint8(2), uint8(0), 0.0, 0.0, 0.0, "1", "0.5", 0.9)
	f.Add(uint8(2), uint8(0), 0.0, 0.0, 0.0, "1e308", "-1e308", 0.1)
	f.Add(uint8(3), uint8(0), 0.0, 0.0, 0.0, "adam", "sgd", 0.5)
	f.Fuzz(func(t *testing.T, typ, dist uint8, lo, hi, step float64, v1, v2 string, u float64) {
		p := suggest.Param{
			Name:         "p",
			Type:         paramTypes[int(typ)%len(paramTypes)],
			Min:          lo,
			Max:          hi,
			Step:         step,
			Distribution: distributions[int(dist)%len(distributions)],
		}
		if p.Type == suggest.Discrete || p.Type == suggest.Categorical {
			p.Values = []string{v1, v2}
		}
		// None of these may panic, whatever the parameter.
		_, _ = suggest.StepCount(lo, hi, step)
		_ = suggest.StepValue(lo, hi, step, 3)
		_, _, _, _, _ = suggest.IntRange(p)
		_, _ = p.ToUnit(v1)
		_, _ = p.ToUnit(suggest.FormatFloat(lo))

		if !usable(p) {
			return
		}
		s := p.FromUnit(u)
		switch p.Type {
		case suggest.Categorical, suggest.Discrete:
			if s != v1 && s != v2 {
				t.Fatalf("FromUnit(%v) = %q, not in the list", u, s)
			}
			if p.Type == suggest.Categorical {
				return
			}
		default:
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("FromUnit(%v) = %q: %v", u, s, err)
			}
			if x < p.Min || x > p.Max {
				t.Fatalf("FromUnit(%v) = %q, outside [%v, %v]", u, s, p.Min, p.Max)
			}
		}
		back, err := p.ToUnit(s)
		if err != nil {
			t.Fatalf("ToUnit(FromUnit(%v) = %q): %v", u, s, err)
		}
		if !(back >= 0 && back <= 1) {
			t.Fatalf("ToUnit(FromUnit(%v) = %q) = %v, outside [0, 1]", u, s, back)
		}
	})
}

// usable reports whether p is a parameter the engine can be given: one
// that Space.Validate accepts, with finite bounds, and for stepped and
// integer parameters a countable number of values.
func usable(p suggest.Param) bool {
	if err := (suggest.Space{p}).Validate(); err != nil {
		return false
	}
	switch p.Type {
	case suggest.Double, suggest.Int:
		for _, f := range []float64{p.Min, p.Max, p.Step} {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
		if p.Type == suggest.Int {
			_, _, _, _, err := suggest.IntRange(p)
			return err == nil
		}
		if p.Step > 0 {
			_, err := suggest.StepCount(p.Min, p.Max, p.Step)
			return err == nil
		}
	case suggest.Discrete:
		for _, v := range p.Values {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
	}
	return true
}
