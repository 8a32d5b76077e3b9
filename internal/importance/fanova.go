package importance

import (
	"slices"
)

// leaf is one cell of a tree's partition of the unit space: a box whose
// side on a numeric dimension is [lo, hi] and on a categorical one a set
// of categories, with the tree's prediction there.
type leaf struct {
	lo, hi []float64
	cats   [][]bool // per dimension; nil for numeric dimensions
	value  float64
}

// decomposition is the exact functional ANOVA decomposition of one tree's
// prediction over the uniform measure on the space (Hutter et al. 2014,
// §3): the total variance and the variance of each main effect and, when
// asked, of each pairwise interaction.
type decomposition struct {
	total float64
	main  []float64   // main[i]: variance of the marginal of dimension i
	pair  [][]float64 // pair[i][j], i < j: variance of the interaction term
}

// span is a half-open run [a, b) of cells of one dimension.
type span struct{ a, b int }

// grid holds one dimension's cells for one tree: for a numeric dimension
// the intervals between consecutive split thresholds (and 0 and 1), for a
// categorical one its categories.
type grid struct {
	bounds []float64 // numeric: cell k is [bounds[k], bounds[k+1]]
	size   []float64 // each cell's share of the dimension
	used   bool      // the tree splits on the dimension
}

// decompose computes the tree's decomposition; pairs adds the pairwise
// interaction terms.
func decompose(t *tree, dims []dim, pairs bool) decomposition {
	d := len(dims)
	grids := make([]grid, d)
	var thresholds = make([][]float64, d)
	for _, n := range t.nodes {
		if n.left < 0 {
			continue
		}
		grids[n.feature].used = true
		if dims[n.feature].cats == 0 {
			thresholds[n.feature] = append(thresholds[n.feature], n.threshold)
		}
	}
	for i, dm := range dims {
		if dm.cats > 0 {
			grids[i].size = make([]float64, dm.cats)
			for c := range grids[i].size {
				grids[i].size[c] = 1 / float64(dm.cats)
			}
			continue
		}
		ts := thresholds[i]
		slices.Sort(ts)
		ts = slices.Compact(ts)
		b := make([]float64, 0, len(ts)+2)
		b = append(b, 0)
		b = append(b, ts...)
		b = append(b, 1)
		grids[i].bounds = b
		grids[i].size = make([]float64, len(b)-1)
		for k := range grids[i].size {
			grids[i].size[k] = b[k+1] - b[k]
		}
	}

	leaves := collectLeaves(t, dims)
	// Each leaf's width on each dimension and its spans of cells.
	widths := make([][]float64, len(leaves))
	spans := make([][][]span, len(leaves))
	var mean float64
	vols := make([]float64, len(leaves))
	for l, lf := range leaves {
		widths[l] = make([]float64, d)
		spans[l] = make([][]span, d)
		vol := 1.0
		for i, dm := range dims {
			if dm.cats > 0 {
				n := 0
				var runs []span
				for c, in := range lf.cats[i] {
					if !in {
						continue
					}
					n++
					if len(runs) > 0 && runs[len(runs)-1].b == c {
						runs[len(runs)-1].b = c + 1
					} else {
						runs = append(runs, span{c, c + 1})
					}
				}
				widths[l][i] = float64(n) / float64(dm.cats)
				spans[l][i] = runs
			} else {
				widths[l][i] = lf.hi[i] - lf.lo[i]
				b := grids[i].bounds
				a, _ := slices.BinarySearch(b, lf.lo[i])
				z, _ := slices.BinarySearch(b, lf.hi[i])
				spans[l][i] = []span{{a, z}}
			}
			vol *= widths[l][i]
		}
		vols[l] = vol
		mean += lf.value * vol
	}
	dec := decomposition{main: make([]float64, d)}
	for l, lf := range leaves {
		dv := lf.value - mean
		dec.total += vols[l] * dv * dv
	}
	// others returns the leaf's volume outside the given dimensions.
	others := func(l int, skip ...int) float64 {
		v := 1.0
		for i, w := range widths[l] {
			if !slices.Contains(skip, i) {
				v *= w
			}
		}
		return v
	}
	for i := range dims {
		if !grids[i].used {
			continue
		}
		k := len(grids[i].size)
		diff := make([]float64, k+1)
		for l, lf := range leaves {
			c := lf.value * others(l, i)
			for _, s := range spans[l][i] {
				diff[s.a] += c
				diff[s.b] -= c
			}
		}
		var acc, v float64
		for c := range k {
			acc += diff[c]
			dv := acc - mean
			v += grids[i].size[c] * dv * dv
		}
		dec.main[i] = v
	}
	if !pairs {
		return dec
	}
	dec.pair = make([][]float64, d)
	for i := range dims {
		dec.pair[i] = make([]float64, d)
		for j := i + 1; j < d; j++ {
			if !grids[i].used || !grids[j].used {
				continue
			}
			ki, kj := len(grids[i].size), len(grids[j].size)
			diff := make([]float64, (ki+1)*(kj+1))
			w := kj + 1
			for l, lf := range leaves {
				c := lf.value * others(l, i, j)
				for _, si := range spans[l][i] {
					for _, sj := range spans[l][j] {
						diff[si.a*w+sj.a] += c
						diff[si.a*w+sj.b] -= c
						diff[si.b*w+sj.a] -= c
						diff[si.b*w+sj.b] += c
					}
				}
			}
			// Two-dimensional prefix sums turn the differences into the
			// marginal over each cell.
			for a := range ki {
				for b := range kj {
					v := diff[a*w+b]
					if a > 0 {
						v += diff[(a-1)*w+b]
					}
					if b > 0 {
						v += diff[a*w+b-1]
					}
					if a > 0 && b > 0 {
						v -= diff[(a-1)*w+b-1]
					}
					diff[a*w+b] = v
				}
			}
			var v float64
			for a := range ki {
				for b := range kj {
					dv := diff[a*w+b] - mean
					v += grids[i].size[a] * grids[j].size[b] * dv * dv
				}
			}
			// The pair's own term is what its joint marginal explains
			// beyond the two main effects.
			dec.pair[i][j] = max(0, v-dec.main[i]-dec.main[j])
		}
	}
	return dec
}

// collectLeaves returns the leaves of t with their boxes.
func collectLeaves(t *tree, dims []dim) []leaf {
	d := len(dims)
	lo := make([]float64, d)
	hi := make([]float64, d)
	cats := make([][]bool, d)
	for i, dm := range dims {
		hi[i] = 1
		if dm.cats > 0 {
			cats[i] = make([]bool, dm.cats)
			for c := range cats[i] {
				cats[i][c] = true
			}
		}
	}
	var out []leaf
	var walk func(id int, lo, hi []float64, cats [][]bool)
	walk = func(id int, lo, hi []float64, cats [][]bool) {
		n := &t.nodes[id]
		if n.left < 0 {
			lf := leaf{lo: slices.Clone(lo), hi: slices.Clone(hi), cats: make([][]bool, d), value: n.value}
			for i := range cats {
				if cats[i] != nil {
					lf.cats[i] = slices.Clone(cats[i])
				}
			}
			out = append(out, lf)
			return
		}
		f := n.feature
		if n.leftCats != nil {
			saved := cats[f]
			l := slices.Clone(saved)
			r := slices.Clone(saved)
			for c := range saved {
				l[c] = saved[c] && n.leftCats[c]
				r[c] = saved[c] && !n.leftCats[c]
			}
			cats[f] = l
			walk(n.left, lo, hi, cats)
			cats[f] = r
			walk(n.right, lo, hi, cats)
			cats[f] = saved
			return
		}
		savedHi, savedLo := hi[f], lo[f]
		hi[f] = n.threshold
		walk(n.left, lo, hi, cats)
		hi[f] = savedHi
		lo[f] = n.threshold
		walk(n.right, lo, hi, cats)
		lo[f] = savedLo
	}
	walk(0, lo, hi, cats)
	return out
}
