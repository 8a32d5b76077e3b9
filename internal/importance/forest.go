package importance

import (
	"math"
	"math/rand/v2"
	"slices"
)

// dim describes one input column of the forest: a numeric coordinate in
// [0, 1], or a categorical index in [0, cats).
type dim struct {
	cats int // 0 for numeric
}

// node is one node of a regression tree. A leaf has left < 0.
type node struct {
	feature     int
	threshold   float64 // numeric: x ≤ threshold goes left
	leftCats    []bool  // categorical: leftCats[c] goes left
	left, right int
	value       float64 // mean of the node's samples
}

// tree is a fitted regression tree; nodes[0] is the root.
type tree struct {
	nodes []node
}

// treeParams are the fitting settings of one tree.
type treeParams struct {
	maxDepth        int
	minSamplesSplit int
	minSamplesLeaf  int
}

// fitTree fits a CART regression tree (squared error) on the rows idx of
// x, y. Every feature is tried at every node, in an order drawn from rng so
// that ties between equally good splits fall at random, as scikit-learn's
// RandomForestRegressor does with max_features=1.0. Numeric features split
// at the midpoint between adjacent distinct values; categorical ones into
// the best two groups of the categories ordered by their mean response
// (optimal for squared error, Breiman et al. 1984, §9.4), categories absent
// from the node going right.
func fitTree(dims []dim, x [][]float64, y []float64, idx []int, p treeParams, rng *rand.Rand) *tree {
	t := &tree{}
	b := builder{dims: dims, x: x, y: y, p: p, rng: rng, t: t, order: make([]int, len(dims)),
		sorted: make([][]int, len(dims)), left: make([]bool, len(y)), tmp: make([]int, len(idx))}
	for f := range dims {
		b.order[f] = f
		// Each feature's rows sorted once by its value; splits keep the
		// order (stable partitions), so no node sorts again.
		s := slices.Clone(idx)
		if dims[f].cats == 0 {
			slices.SortStableFunc(s, func(i, j int) int {
				switch xi, xj := x[i][f], x[j][f]; {
				case xi < xj:
					return -1
				case xi > xj:
					return 1
				}
				return 0
			})
		}
		b.sorted[f] = s
	}
	b.grow(0, len(idx), 0)
	return t
}

type builder struct {
	dims  []dim
	x     [][]float64
	y     []float64
	p     treeParams
	rng   *rand.Rand
	t     *tree
	order []int
	// sorted[f][lo:hi] are the node's rows, ordered by feature f for a
	// numeric feature.
	sorted [][]int
	left   []bool // by row: goes left at the split being applied
	tmp    []int
}

// split is a candidate split of a node.
type split struct {
	ok        bool
	feature   int
	threshold float64
	leftCats  []bool
	gain      float64 // reduction of the sum of squared errors
}

// grow grows the node holding rows sorted[*][lo:hi] and returns its id.
func (b *builder) grow(lo, hi, depth int) int {
	id := len(b.t.nodes)
	rows := b.sorted[0][lo:hi]
	var sum float64
	for _, i := range rows {
		sum += b.y[i]
	}
	n := hi - lo
	mean := sum / float64(n)
	b.t.nodes = append(b.t.nodes, node{left: -1, right: -1, value: mean})
	if depth >= b.p.maxDepth || n < b.p.minSamplesSplit || n < 2*b.p.minSamplesLeaf {
		return id
	}
	var sse float64
	for _, i := range rows {
		d := b.y[i] - mean
		sse += d * d
	}
	if sse <= 1e-12*max(1, sum*sum/float64(n)) {
		return id
	}
	b.rng.Shuffle(len(b.order), func(i, j int) { b.order[i], b.order[j] = b.order[j], b.order[i] })
	best := split{}
	for _, f := range b.order {
		var s split
		if b.dims[f].cats > 0 {
			s = b.bestCategorical(f, b.sorted[f][lo:hi], sum)
		} else {
			s = b.bestNumeric(f, b.sorted[f][lo:hi], sum)
		}
		// Gains equal up to rounding (two features that split the
		// node's trials alike) tie: the first in the shuffled order wins,
		// whatever the scale of the objective.
		if s.ok && (!best.ok || s.gain > best.gain+1e-9*math.Abs(best.gain)) {
			best = s
		}
	}
	if !best.ok || best.gain <= 0 {
		return id
	}
	nl := 0
	for _, i := range rows {
		b.left[i] = goesLeft(best.feature, best.threshold, best.leftCats, b.x[i])
		if b.left[i] {
			nl++
		}
	}
	// Stable partition of every feature's order: left rows first.
	for f := range b.sorted {
		s := b.sorted[f][lo:hi]
		l, r := 0, nl
		for _, i := range s {
			if b.left[i] {
				b.tmp[l] = i
				l++
			} else {
				b.tmp[r] = i
				r++
			}
		}
		copy(s, b.tmp[:n])
	}
	b.t.nodes[id].feature = best.feature
	b.t.nodes[id].threshold = best.threshold
	b.t.nodes[id].leftCats = best.leftCats
	l := b.grow(lo, lo+nl, depth+1)
	r := b.grow(lo+nl, hi, depth+1)
	b.t.nodes[id].left, b.t.nodes[id].right = l, r
	return id
}

func goesLeft(feature int, threshold float64, leftCats []bool, row []float64) bool {
	if leftCats != nil {
		return leftCats[int(row[feature])]
	}
	return row[feature] <= threshold
}

// bestNumeric finds the best threshold on numeric feature f over rows,
// sorted by f.
func (b *builder) bestNumeric(f int, rows []int, total float64) split {
	n := len(rows)
	minLeaf := b.p.minSamplesLeaf
	best := split{feature: f}
	var leftSum float64
	for k := 0; k < n-1; k++ {
		leftSum += b.y[rows[k]]
		nl := k + 1
		if nl < minLeaf || n-nl < minLeaf {
			continue
		}
		lo, hi := b.x[rows[k]][f], b.x[rows[k+1]][f]
		if lo == hi {
			continue
		}
		// SSE reduction = nl·ml² + nr·mr² − n·m².
		rs := total - leftSum
		gain := leftSum*leftSum/float64(nl) + rs*rs/float64(n-nl) - total*total/float64(n)
		if !best.ok || gain > best.gain {
			best.ok, best.gain, best.threshold = true, gain, lo+(hi-lo)/2
		}
	}
	return best
}

// bestCategorical finds the best two groups of categorical feature f over
// rows.
func (b *builder) bestCategorical(f int, idx []int, total float64) split {
	k := b.dims[f].cats
	sums := make([]float64, k)
	counts := make([]int, k)
	for _, i := range idx {
		c := int(b.x[i][f])
		sums[c] += b.y[i]
		counts[c]++
	}
	present := make([]int, 0, k)
	for c := range k {
		if counts[c] > 0 {
			present = append(present, c)
		}
	}
	best := split{feature: f}
	if len(present) < 2 {
		return best
	}
	slices.SortStableFunc(present, func(a, c int) int {
		ma, mc := sums[a]/float64(counts[a]), sums[c]/float64(counts[c])
		switch {
		case ma < mc:
			return -1
		case ma > mc:
			return 1
		}
		return 0
	})
	n := len(idx)
	var leftSum float64
	nl := 0
	cut := -1
	for j := 0; j < len(present)-1; j++ {
		c := present[j]
		leftSum += sums[c]
		nl += counts[c]
		if nl < b.p.minSamplesLeaf || n-nl < b.p.minSamplesLeaf {
			continue
		}
		rs := total - leftSum
		gain := leftSum*leftSum/float64(nl) + rs*rs/float64(n-nl) - total*total/float64(n)
		if !best.ok || gain > best.gain {
			best.ok, best.gain, cut = true, gain, j
		}
	}
	if best.ok {
		best.leftCats = make([]bool, k)
		for _, c := range present[:cut+1] {
			best.leftCats[c] = true
		}
	}
	return best
}
