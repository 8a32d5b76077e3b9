// Package plot draws the comparison plots of tune plot from plain data:
// optimisation history, parallel coordinates, slices, contour, parameter
// importance, intermediate-value curves and the empirical distribution of
// the objective. It knows nothing of the store: the caller turns an
// experiment into a [Study] (and [Curve]s, [Share]s). Each kind returns a
// [Figure], which [Render] writes as PNG or SVG.
//
// # Conventions
//
// Parameters on a log scale are drawn on log axes, categorical ones as
// categories (their index in [Param.Categories], one tick per category).
// Values that are NaN or ±Inf are left out of the data they would be drawn
// as; a trial without an objective value is still counted (history marks
// it on the bottom edge). Degenerate ranges (one trial, a constant
// objective) are widened so that every axis has a span.
package plot

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Scale is how a parameter's values are laid out on an axis.
type Scale int

// The scales.
const (
	// Linear lays values out evenly.
	Linear Scale = iota
	// Log lays values out by their logarithm; every value must be > 0,
	// else the axis falls back to Linear.
	Log
	// Categorical places category i at i, with the category's name as the
	// tick label.
	Categorical
)

// Param is one parameter of a study.
type Param struct {
	Name  string
	Scale Scale
	// Categories are the categories of a Categorical parameter, in the
	// order of its axis; a trial's value is the index into them.
	Categories []string
}

// Status is how a trial ended, as far as plots distinguish it.
type Status int

// The statuses.
const (
	// Complete trials succeeded; their value counts for the best.
	Complete Status = iota
	// EarlyStopped trials were stopped by the early-stopping rule; their
	// value is the objective they had reached.
	EarlyStopped
	// Failed covers every other final or unfinished state (failed,
	// killed, metrics unavailable, running).
	Failed
)

// Trial is one trial of a study.
type Trial struct {
	// Name is the trial's name; Number its position in creation order,
	// from 1.
	Name   string
	Number int
	Status Status
	// Value is the objective value, NaN when the trial has none.
	Value float64
	// BestSoFar is the best value among the Complete trials up to this
	// one, NaN before the first.
	BestSoFar float64
	// Params holds the value of each of Study.Params, at the same index:
	// the number for Linear and Log, the category index for Categorical,
	// NaN when missing.
	Params []float64
}

// Study is one experiment's trials in creation order.
type Study struct {
	// Name is the experiment's name.
	Name      string
	Objective string
	Maximize  bool
	Params    []Param
	Trials    []Trial
	// Best is the index in Trials of the best trial, -1 when none.
	Best int
}

// ErrNoData is returned (wrapped) when there is nothing to draw: no trial
// has an objective value. A caller should say so rather than write an
// empty image.
var ErrNoData = errors.New("no trial has a value to plot")

// Figure is something that draws itself on a canvas: a *plot.Plot or a
// composite of plots.
type Figure interface {
	Draw(c draw.Canvas)
}

// Format is an output format of [Render].
type Format string

// The formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// FormatOf returns the format a file name's extension names (.png or .svg,
// in any case), or an error naming the extension.
func FormatOf(file string) (Format, error) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 || strings.ContainsRune(file[i:], '/') {
		return "", fmt.Errorf("file %q has no extension: want .png or .svg", file)
	}
	switch ext := strings.ToLower(file[i+1:]); ext {
	case "png":
		return PNG, nil
	case "svg":
		return SVG, nil
	default:
		return "", fmt.Errorf("file %q: unknown extension .%s: want .png or .svg", file, ext)
	}
}

// DPI is the resolution Render draws at: a width of W pixels is W·72/DPI
// points, so text keeps its size in points whatever the image size.
const DPI = 96

// Render draws fig on a canvas of width×height pixels and writes it to w
// in format. A PNG is exactly width×height pixels on a white background;
// an SVG is width·0.75×height·0.75 points, which is width×height CSS
// pixels.
//
// gonum/plot panics on some inputs it considers impossible; Render returns
// such a panic as an error rather than let it reach the user.
func Render(w io.Writer, fig Figure, format Format, width, height int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing the plot failed: %v", r)
		}
	}()
	if width < 1 || height < 1 {
		return fmt.Errorf("image size %dx%d: want positive width and height", width, height)
	}
	pt := func(px int) vg.Length { return vg.Length(px) * vg.Inch / DPI }
	switch format {
	case PNG:
		img := image.NewRGBA(image.Rect(0, 0, width, height))
		c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(DPI))
		fig.Draw(draw.New(c))
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	case SVG:
		c := vgsvg.New(pt(width), pt(height))
		fig.Draw(draw.New(c))
		_, err := c.WriteTo(w)
		return err
	}
	return fmt.Errorf("unknown format %q: want png or svg", format)
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// valued returns the indices of the trials with a finite value.
func (s *Study) valued() []int {
	var idx []int
	for i := range s.Trials {
		if finite(s.Trials[i].Value) {
			idx = append(idx, i)
		}
	}
	return idx
}

// noData returns ErrNoData wrapped with the study's name.
func (s *Study) noData() error {
	return fmt.Errorf("experiment %s: %w (objective %s)", s.Name, ErrNoData, s.Objective)
}

// newPlot returns a plot with tune's defaults.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Add(plotter.NewGrid())
	return p
}

// goalWord is "maximize" or "minimize".
func goalWord(maximize bool) string {
	if maximize {
		return "maximize"
	}
	return "minimize"
}
