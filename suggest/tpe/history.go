package tpe

import (
	"math/rand/v2"
	"slices"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// point is one observation in coordinates.
type point struct {
	// index is the observation's position in the history (batch members
	// continue the count).
	index int
	// x holds the coordinates, one per dimension.
	x []float64
	// value is the objective of a completed observation.
	value float64
}

// history is the part of a request's history the estimators use.
type history struct {
	dims []dim
	// completed holds the completed observations that fit the space, in
	// history order.
	completed []point
	// liars holds the failed and pending observations that fit the space,
	// in history order; they join the bad group.
	liars []point
	// seen holds the keys of every assignment of the history and of the
	// batch so far.
	seen map[string]bool
	// next is the index the next added observation gets.
	next int
}

// newHistory converts obs to coordinates. Observations that do not fit the
// space (a missing parameter, a value that is not a number or not in the
// list) are left out of the model but still count as seen.
func newHistory(dims []dim, obs []suggest.Observation) *history {
	h := &history{dims: dims, seen: make(map[string]bool, len(obs)), next: len(obs)}
	for i, o := range obs {
		h.seen[o.Assignment.Key()] = true
		if o.Status == suggest.Abandoned {
			continue // no information; the position still counts
		}
		x, ok := h.coordinates(o.Assignment)
		if !ok {
			continue
		}
		p := point{index: i, x: x, value: o.Value}
		if o.Status == suggest.Completed {
			h.completed = append(h.completed, p)
		} else {
			h.liars = append(h.liars, p)
		}
	}
	return h
}

// coordinates returns the coordinates of a, or false when a does not fit
// the space.
func (h *history) coordinates(a suggest.Assignment) ([]float64, bool) {
	x := make([]float64, len(h.dims))
	for j := range h.dims {
		v, ok := a[h.dims[j].param.Name]
		if !ok {
			return nil, false
		}
		x[j], ok = h.dims[j].coordinate(v)
		if !ok {
			return nil, false
		}
	}
	return x, true
}

// addPending records a suggested assignment as a pending observation: the
// constant liar that keeps the rest of a batch away from it.
func (h *history) addPending(a suggest.Assignment) {
	h.seen[a.Key()] = true
	if x, ok := h.coordinates(a); ok {
		h.liars = append(h.liars, point{index: h.next, x: x})
	}
	h.next++
}

// unique returns a when no earlier trial has its assignment, and otherwise
// the first of up to uniqueTries prior draws that is new; when none is, it
// returns a, since a small space may have no new assignment left.
func (h *history) unique(a suggest.Assignment, r *rand.Rand, prior *random.Prior) suggest.Assignment {
	if !h.seen[a.Key()] {
		return a
	}
	for range uniqueTries {
		b := prior.Sample(r)
		if !h.seen[b.Key()] {
			return b
		}
	}
	return a
}

// group is a set of points with their kernel weights.
type group struct {
	xs [][]float64
	ws []float64
}

// split divides the completed observations into the nGood best under goal
// (ties broken by history order) and the rest; the rest, the failed and the
// pending observations form the bad group. Each group is in history order
// and weighted by [weights].
func (h *history) split(goal suggest.Goal, nGood int) (good, bad group) {
	ranked := slices.Clone(h.completed)
	slices.SortStableFunc(ranked, func(a, b point) int {
		switch {
		case goal.Better(a.value, b.value):
			return -1
		case goal.Better(b.value, a.value):
			return 1
		}
		return 0
	})
	goodPts := ranked[:nGood]
	badPts := append(slices.Clone(ranked[nGood:]), h.liars...)
	return makeGroup(goodPts), makeGroup(badPts)
}

// makeGroup orders pts by history index and weights them.
func makeGroup(pts []point) group {
	slices.SortFunc(pts, func(a, b point) int { return a.index - b.index })
	g := group{xs: make([][]float64, len(pts)), ws: weights(len(pts))}
	for i, p := range pts {
		g.xs[i] = p.x
	}
	return g
}

// weights returns Optuna's default kernel weights for n observations in
// history order: all 1 up to rampAfter observations; beyond, the newest
// rampAfter get 1 and the older ones rise linearly from 1/n.
func weights(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	if n <= rampAfter {
		return w
	}
	m := n - rampAfter
	for i := range m {
		if m == 1 {
			w[i] = 1 / float64(n)
			continue
		}
		w[i] = 1/float64(n) + float64(i)*(1-1/float64(n))/float64(m-1)
	}
	return w
}
