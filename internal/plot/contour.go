package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// GridSize is the number of grid points along a numeric axis of Contour.
const GridSize = 60

// IDW interpolates by inverse-distance weighting with power 2 (Shepard's
// method): the value at (x, y) is Σ wᵢ·zᵢ / Σ wᵢ with wᵢ = 1/dᵢ², dᵢ the
// Euclidean distance from (x, y) to (xs[i], ys[i]); at a sample's own
// position, the mean of the samples there. Points with a non-finite
// coordinate or value are ignored; with none left the result is NaN.
func IDW(xs, ys, zs []float64, x, y float64) float64 {
	var num, den, exact float64
	var nexact int
	for i := range zs {
		if !finite(xs[i]) || !finite(ys[i]) || !finite(zs[i]) {
			continue
		}
		dx, dy := x-xs[i], y-ys[i]
		d2 := dx*dx + dy*dy
		if d2 == 0 {
			exact += zs[i]
			nexact++
			continue
		}
		w := 1 / d2
		num += w * zs[i]
		den += w
	}
	switch {
	case nexact > 0:
		return exact / float64(nexact)
	case den == 0:
		return math.NaN()
	}
	return num / den
}

// Grid is the objective interpolated over two parameters: Values[r][c]
// is the value at (Xs[c], Ys[r]). It implements plotter.GridXYZ.
type Grid struct {
	Xs, Ys []float64
	Values [][]float64
}

// Dims implements plotter.GridXYZ.
func (g *Grid) Dims() (c, r int) { return len(g.Xs), len(g.Ys) }

// Z implements plotter.GridXYZ.
func (g *Grid) Z(c, r int) float64 { return g.Values[r][c] }

// X implements plotter.GridXYZ.
func (g *Grid) X(c int) float64 { return g.Xs[c] }

// Y implements plotter.GridXYZ.
func (g *Grid) Y(r int) float64 { return g.Ys[r] }

// Interpolate returns the objective of the trials of s with a value,
// interpolated by [IDW] over parameters a and b (indices into s.Params) on
// a grid of [GridSize] points per numeric axis, spanning the trials' values,
// and one per category of a Categorical axis. Distances are measured
// after mapping each axis onto [0, 1] (by logarithm for a Log axis, by
// category index for a Categorical one), so that neither parameter's
// units dominate.
func Interpolate(s *Study, a, b int) (*Grid, error) {
	var xs, ys, zs []float64
	for _, i := range s.valued() {
		t := &s.Trials[i]
		if finite(t.Params[a]) && finite(t.Params[b]) {
			xs = append(xs, t.Params[a])
			ys = append(ys, t.Params[b])
			zs = append(zs, t.Value)
		}
	}
	if len(zs) == 0 {
		return nil, fmt.Errorf("experiment %s: %w with both %s and %s set", s.Name, ErrNoData, s.Params[a].Name, s.Params[b].Name)
	}
	gx, nx := gridAxis(s.Params[a], xs)
	gy, ny := gridAxis(s.Params[b], ys)
	px, py := Normalize(s.Params[a], xs), Normalize(s.Params[b], ys)
	g := &Grid{Xs: gx, Ys: gy, Values: make([][]float64, len(gy))}
	for r := range gy {
		g.Values[r] = make([]float64, len(gx))
		for c := range gx {
			g.Values[r][c] = IDW(px, py, zs, nx[c], ny[r])
		}
	}
	return g, nil
}

// gridAxis returns the grid coordinates of parameter p's axis over the
// values vals, and the same positions mapped onto [0, 1] as [Normalize]
// maps vals.
func gridAxis(p Param, vals []float64) (coords, norm []float64) {
	scale := axisScale(p, vals)
	if scale == Categorical {
		n := len(p.Categories)
		if n <= 1 {
			return []float64{-0.25, 0.25}, []float64{0.5, 0.5}
		}
		for i := range n {
			coords = append(coords, float64(i))
			norm = append(norm, float64(i)/float64(n-1))
		}
		return coords, norm
	}
	lo, hi := finiteRange(vals)
	if lo == hi {
		// One value: a narrow band around it, all at the same distance.
		d := math.Max(math.Abs(lo)*0.1, 0.5)
		if scale == Log {
			return []float64{lo / 1.5, lo * 1.5}, []float64{0.5, 0.5}
		}
		return []float64{lo - d, lo + d}, []float64{0.5, 0.5}
	}
	for i := range GridSize {
		f := float64(i) / float64(GridSize-1)
		v := lo + f*(hi-lo)
		if scale == Log {
			v = math.Exp(math.Log(lo) + f*(math.Log(hi)-math.Log(lo)))
		}
		coords = append(coords, v)
		norm = append(norm, f)
	}
	return coords, norm
}

// Contour draws the objective over parameters a and b (indices into
// s.Params) as a heat map interpolated by [Interpolate], with iso-lines,
// the trials as black points and the best as a red ring; a colour bar
// gives the scale (red best).
func Contour(s *Study, a, b int) (Figure, error) {
	if a < 0 || b < 0 || a >= len(s.Params) || b >= len(s.Params) || a == b {
		return nil, fmt.Errorf("contour: want two different parameters, got indices %d and %d of %d", a, b, len(s.Params))
	}
	g, err := Interpolate(s, a, b)
	if err != nil {
		return nil, err
	}
	var all []float64
	for _, row := range g.Values {
		all = append(all, row...)
	}
	cm := colorMap(all, s.Maximize)
	p := plot.New()
	p.Title.Text = (fmt.Sprintf("%s: contour of %s (%s, inverse-distance weighted)", s.Name, s.Objective, goalWord(s.Maximize)))
	hm := plotter.NewHeatMap(g, cm.Palette(255))
	hm.Min, hm.Max = cm.Min(), cm.Max()
	p.Add(hm)
	if lo, hi := finiteRange(all); hi > lo {
		levels := make([]float64, 7)
		for i := range levels {
			levels[i] = lo + (hi-lo)*float64(i+1)/float64(len(levels)+1)
		}
		ct := plotter.NewContour(g, levels, onePalette{color.RGBA{A: 90}})
		ct.LineStyles = []draw.LineStyle{{Color: color.RGBA{A: 90}, Width: vg.Points(0.6)}}
		p.Add(ct)
	}
	var pts, best plotter.XYs
	var xs, ys []float64
	for _, i := range s.valued() {
		t := &s.Trials[i]
		x, y := t.Params[a], t.Params[b]
		if !finite(x) || !finite(y) {
			continue
		}
		xs, ys = append(xs, x), append(ys, y)
		pts = append(pts, plotter.XY{X: x, Y: y})
		if i == s.Best {
			best = plotter.XYs{{X: x, Y: y}}
		}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = glyph(draw.CircleGlyph{}, color.Black, vg.Points(1.8))
	p.Add(sc)
	if best != nil {
		bs, err := plotter.NewScatter(best)
		if err != nil {
			return nil, err
		}
		bs.GlyphStyle = glyph(draw.RingGlyph{}, colorBest, vg.Points(5))
		p.Add(bs)
	}
	setAxis(&p.X, s.Params[a], append(xs, g.Xs...))
	setAxis(&p.Y, s.Params[b], append(ys, g.Ys...))
	fitGrid(&p.X, s.Params[a], g.Xs)
	fitGrid(&p.Y, s.Params[b], g.Ys)
	return &barFigure{Main: p, Bar: colorBar(cm, s.Objective)}, nil
}

// fitGrid makes a numeric axis span exactly the heat map's cells.
func fitGrid(ax *plot.Axis, p Param, coords []float64) {
	if p.Scale == Categorical || len(coords) < 2 {
		return
	}
	n := len(coords)
	ax.Min = coords[0] - (coords[1]-coords[0])/2
	ax.Max = coords[n-1] + (coords[n-1]-coords[n-2])/2
}

// onePalette is a palette of one colour.
type onePalette struct{ c color.Color }

// Colors implements palette.Palette.
func (p onePalette) Colors() []color.Color { return []color.Color{p.c} }
