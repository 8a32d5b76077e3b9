package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
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
	p.Add(newRaster(g, cm, s.Params[a], s.Params[b]))
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
	if s.Params[a].Scale != Categorical {
		p.X.Min, p.X.Max = edges(s.Params[a], g.Xs)
	}
	if s.Params[b].Scale != Categorical {
		p.Y.Min, p.Y.Max = edges(s.Params[b], g.Ys)
	}
	return &barFigure{Main: p, Bar: colorBar(cm, s.Objective)}, nil
}

// edges returns the outer edges of the first and last cells of a grid
// axis at coords (at least two, evenly spaced on p's scale).
func edges(p Param, coords []float64) (lo, hi float64) {
	n := len(coords)
	if p.Scale == Log && coords[0] > 0 {
		r := math.Log(coords[1] / coords[0])
		return coords[0] * math.Exp(-r/2), coords[n-1] * math.Exp(r/2)
	}
	d := coords[1] - coords[0]
	return coords[0] - d/2, coords[n-1] + d/2
}

// raster draws a grid's values as an image stretched over the data
// rectangle [x0, x1]×[y0, y1]: one pixel per grid point, which is exact on
// linear and log axes alike because the grid is evenly spaced on the
// axis's own scale.
type raster struct {
	img            image.Image
	x0, x1, y0, y1 float64
}

// newRaster colours g, whose axes are parameters px and py, by cm.
func newRaster(g *Grid, cm palette.ColorMap, px, py Param) *raster {
	x0, x1 := edges(px, g.Xs)
	y0, y1 := edges(py, g.Ys)
	cols, rows := g.Dims()
	img := image.NewRGBA(image.Rect(0, 0, cols, rows))
	for r := range rows {
		for c := range cols {
			col := color.Color(color.White)
			if v := g.Values[r][c]; finite(v) {
				col = colorAt(cm, v)
			}
			img.Set(c, rows-1-r, col)
		}
	}
	return &raster{img: img, x0: x0, x1: x1, y0: y0, y1: y1}
}

// Plot implements plot.Plotter.
func (r *raster) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: trX(r.x0), Y: trY(r.y0)}, Max: vg.Point{X: trX(r.x1), Y: trY(r.y1)}}, r.img)
}

// onePalette is a palette of one colour.
type onePalette struct{ c color.Color }

// Colors implements palette.Palette.
func (p onePalette) Colors() []color.Color { return []color.Color{p.c} }
