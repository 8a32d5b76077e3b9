package grid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tune-hpo/tune/suggest"
)

// ctxCheckEvery is how many grid points Suggest visits between checks of
// its context.
const ctxCheckEvery = 1 << 12

// Suggester is the grid-search [suggest.Suggester]. It holds no mutable state
// and is safe for concurrent use.
type Suggester struct {
	seed     uint64
	shuffled bool // random_state given: visit the grid in a seeded order
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns a grid-search Suggester. Its one setting is Katib's
// random_state, a non-negative integer (as Katib's grid service checks
// it): given, the grid is visited in an order shuffled by it (see the
// package documentation). Any other entry is an error. A nil map means no
// settings.
func New(settings map[string]string) (*Suggester, error) {
	seed, ok, err := suggest.SeedOnly("grid", settings)
	if err != nil {
		return nil, err
	}
	return &Suggester{seed: seed, shuffled: ok}, nil
}

// Suggest returns the first req.N points of the grid, in the order described
// in the package documentation, whose [suggest.Assignment.Key] is not in
// req.History. It returns fewer than req.N when fewer are left, and
// [suggest.ErrExhausted] when none are. req.Seed and req.Settings are
// ignored: the order depends on New's random_state only.
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "grid", req); err != nil {
		return nil, err
	}
	g, err := compile(req.Space)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(req.History)+req.N)
	for _, o := range req.History {
		if o.Status != suggest.Abandoned {
			seen[o.Assignment.Key()] = true
		}
	}
	var (
		out    []suggest.Assignment
		values = make([]string, len(g.axes))
		key    []byte
		order  = identity
	)
	if s.shuffled {
		order = newPermutation(g.size, s.seed).at
	}
	for i := 0; i < g.size && len(out) < req.N; i++ {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		g.point(order(i), values)
		key = g.appendKey(key[:0], values)
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true // suggest each point once
		a := make(suggest.Assignment, len(g.axes))
		for j, ax := range g.axes {
			a[ax.name] = values[j]
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, suggest.ErrExhausted
	}
	return out, nil
}

// Size returns the number of points of the grid over space: the product of
// the number of values of each parameter. It is an error when the space is
// invalid or empty, when a double parameter has no step, or when the product
// overflows an int. A value repeated in a discrete or categorical list is
// counted once.
func Size(space suggest.Space) (int, error) {
	g, err := compile(space)
	if err != nil {
		return 0, err
	}
	return g.size, nil
}

// cacheValues is the most values of one axis that compile formats in
// advance; the values of longer axes are formatted when needed.
const cacheValues = 1 << 12

// axis is one parameter's list of values.
type axis struct {
	name  string
	n     int
	value func(k int) string
}

// grid is a compiled search space.
type grid struct {
	axes []axis // in the order of the space
	// byName lists the indices of axes sorted by name: the order of the
	// pairs in an [suggest.Assignment.Key].
	byName []int
	size   int
}

// point stores in values the value of each axis at the grid point with index
// i: i written in the mixed radix of the axes' lengths, last axis least
// significant.
func (g *grid) point(i int, values []string) {
	for j := len(g.axes) - 1; j >= 0; j-- {
		ax := g.axes[j]
		values[j] = ax.value(i % ax.n)
		i /= ax.n
	}
}

// appendKey appends to key what [suggest.Assignment.Key] returns for the
// point whose values are values, without building the Assignment.
func (g *grid) appendKey(key []byte, values []string) []byte {
	for _, j := range g.byName {
		key = suggest.AppendKeyPair(key, g.axes[j].name, values[j])
	}
	return key
}

// compile validates space and returns its grid.
func compile(space suggest.Space) (*grid, error) {
	if len(space) == 0 {
		return nil, errors.New("grid: empty search space")
	}
	if err := space.Validate(); err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	g := &grid{axes: make([]axis, len(space)), byName: make([]int, len(space)), size: 1}
	for j, p := range space {
		ax, err := compileParam(p)
		if err != nil {
			return nil, fmt.Errorf("grid: %w", err)
		}
		if g.size > math.MaxInt/ax.n {
			return nil, fmt.Errorf("grid: the grid has more than %d points", math.MaxInt)
		}
		g.size *= ax.n
		if ax.n <= cacheValues {
			values := make([]string, ax.n)
			for k := range values {
				values[k] = ax.value(k)
			}
			ax.value = func(k int) string { return values[k] }
		}
		g.axes[j] = ax
		g.byName[j] = j
	}
	slices.SortFunc(g.byName, func(a, b int) int { return strings.Compare(g.axes[a].name, g.axes[b].name) })
	return g, nil
}

// compileParam returns the axis of one parameter.
func compileParam(p suggest.Param) (axis, error) {
	switch p.Type {
	case suggest.Double:
		if !(p.Step > 0) {
			return axis{}, fmt.Errorf("parameter %q: grid search needs a positive step for a double parameter", p.Name)
		}
		n, err := suggest.StepCount(p.Min, p.Max, p.Step)
		if err != nil {
			return axis{}, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		if n > math.MaxInt {
			return axis{}, fmt.Errorf("parameter %q: %d values do not fit an int", p.Name, n)
		}
		return axis{name: p.Name, n: int(n), value: func(k int) string {
			return suggest.FormatFloat(suggest.StepValue(p.Min, p.Max, p.Step, int64(k)))
		}}, nil
	case suggest.Int:
		lo, _, step, n, err := suggest.IntRange(p)
		if err != nil {
			return axis{}, err
		}
		if n > math.MaxInt {
			return axis{}, fmt.Errorf("parameter %q: %d values do not fit an int", p.Name, n)
		}
		return axis{name: p.Name, n: int(n), value: func(k int) string {
			return suggest.FormatInt(lo + int64(k)*step)
		}}, nil
	default: // Discrete and Categorical; Validate rejected other types.
		// Repeated values would make points that Suggest has to skip:
		// six lists of one value written 1,000 times would be 10^18
		// points to walk past once the only real one is taken.
		values := make([]string, 0, len(p.Values))
		seen := make(map[string]bool, len(p.Values))
		for _, v := range p.Values {
			if !seen[v] {
				seen[v] = true
				values = append(values, v)
			}
		}
		return axis{name: p.Name, n: len(values), value: func(k int) string { return values[k] }}, nil
	}
}
