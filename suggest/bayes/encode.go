package bayes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/tune-hpo/tune/suggest"
)

// encoder maps assignments to points of the model's unit cube and back:
// one coordinate per numeric parameter ([suggest.Param.ToUnit]) and a
// one-hot block per categorical parameter.
type encoder struct {
	space suggest.Space
	off   []int  // first column of each parameter
	snap  []bool // whether a numeric parameter's coordinate is snapped to cell centres
	dim   int
}

// newEncoder returns the encoder of a validated space.
func newEncoder(space suggest.Space) *encoder {
	e := &encoder{space: space, off: make([]int, len(space)), snap: make([]bool, len(space))}
	for i, p := range space {
		e.off[i] = e.dim
		if p.Type == suggest.Categorical {
			e.dim += len(p.Values)
			continue
		}
		e.snap[i] = p.Type != suggest.Double || p.Step > 0 || p.Min == p.Max
		e.dim++
	}
	return e
}

// encode returns the unit-cube point of a.
func (e *encoder) encode(a suggest.Assignment) ([]float64, error) {
	x := make([]float64, e.dim)
	for i, p := range e.space {
		v, ok := a[p.Name]
		if !ok {
			return nil, fmt.Errorf("assignment %v has no value for parameter %q", a, p.Name)
		}
		if p.Type == suggest.Categorical {
			j := slices.Index(p.Values, v)
			if j < 0 {
				return nil, fmt.Errorf("parameter %q: value %q is not in the list", p.Name, v)
			}
			x[e.off[i]+j] = 1
			continue
		}
		u, err := p.ToUnit(v)
		if err != nil {
			return nil, err
		}
		x[e.off[i]] = min(max(u, 0), 1)
	}
	return x, nil
}

// decode returns the assignment at x: numeric coordinates through
// [suggest.Param.FromUnit], categorical blocks by their largest entry.
func (e *encoder) decode(x []float64) suggest.Assignment {
	a := make(suggest.Assignment, len(e.space))
	for i, p := range e.space {
		if p.Type == suggest.Categorical {
			a[p.Name] = p.Values[argmax(x[e.off[i]:e.off[i]+len(p.Values)])]
			continue
		}
		a[p.Name] = p.FromUnit(x[e.off[i]])
	}
	return a
}

// snapInPlace moves x to the model coordinates of the assignment it
// decodes to, so that candidates are scored where trials would really run:
// stepped, int and discrete coordinates go to their cell centres and
// categorical blocks become one-hot. Continuous coordinates are clamped.
func (e *encoder) snapInPlace(x []float64) {
	for i, p := range e.space {
		c := e.off[i]
		if p.Type == suggest.Categorical {
			k := len(p.Values)
			j := argmax(x[c : c+k])
			for l := range k {
				x[c+l] = 0
			}
			x[c+j] = 1
			continue
		}
		x[c] = min(max(x[c], 0), 1)
		if e.snap[i] {
			if u, err := p.ToUnit(p.FromUnit(x[c])); err == nil {
				x[c] = min(max(u, 0), 1)
			}
		}
	}
}

// setCategory makes x's one-hot block of categorical parameter i say its
// value j.
func (e *encoder) setCategory(x []float64, i, j int) {
	c := e.off[i]
	for l := range len(e.space[i].Values) {
		x[c+l] = 0
	}
	x[c+j] = 1
}

// argmin returns the index of the smallest element, the first among ties.
func argmin(v []float64) int {
	best := 0
	for i, x := range v {
		if x < v[best] {
			best = i
		}
	}
	return best
}

// argmax returns the index of the largest element, the first among ties.
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// designStream is the PCG stream of the initial design. It is far from any
// history length, which the per-call streams use.
const designStream = 1 << 63

// design returns trial k < n of the seeded Latin hypercube design of n
// points. Each parameter's column is stratified into n equal-probability
// strata of its declared distribution: equal cells of the unit coordinate
// for uniform and logUniform (log space) numbers, discrete and categorical
// lists, and strata of the truncated normal for normal and logNormal. The
// design depends only on seed and n, so it is the same whichever call, or
// batch, proposes its points.
func design(space suggest.Space, seed uint64, n, k int) suggest.Assignment {
	r := rand.New(rand.NewPCG(seed, designStream))
	a := make(suggest.Assignment, len(space))
	for _, p := range space {
		perm := r.Perm(n)
		var u float64
		for j := range n {
			v := (float64(perm[j]) + r.Float64()) / float64(n)
			if j == k {
				u = v
			}
		}
		numeric := p.Type == suggest.Double || p.Type == suggest.Int
		if numeric && (p.Distribution == suggest.Normal || p.Distribution == suggest.LogNormal) {
			u = normalQuantile(p, u)
		}
		a[p.Name] = p.FromUnit(u)
	}
	return a
}

// normalQuantile maps a probability u to the unit coordinate of the
// u-quantile of p's normal (or logNormal) prior: mean at the middle of
// [Min, Max] and three standard deviations to each bound (in log space for
// logNormal), truncated to the unit interval, as random search draws it.
func normalQuantile(p suggest.Param, u float64) float64 {
	mu, hi := (p.Min+p.Max)/2, p.Max
	if p.Distribution == suggest.LogNormal {
		mu, hi = math.Sqrt(p.Min*p.Max), p.Max
	}
	mu01, err1 := p.ToUnit(suggest.FormatFloat(mu))
	hi01, err2 := p.ToUnit(suggest.FormatFloat(hi))
	sd := (hi01 - mu01) / 3
	if err1 != nil || err2 != nil || !(sd > 0) {
		return u
	}
	std := distuv.UnitNormal
	lo, up := std.CDF((0-mu01)/sd), std.CDF((1-mu01)/sd)
	q := std.Quantile(lo + u*(up-lo))
	return min(max(mu01+sd*q, 0), 1)
}
