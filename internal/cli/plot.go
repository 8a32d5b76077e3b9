package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/importance"
	"github.com/tune-hpo/tune/internal/plot"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// plotKinds are the kinds of tune plot, in the order the help lists them.
var plotKinds = []string{"history", "parallel", "slice", "contour", "importance", "curves", "edf"}

// importanceShares computes the parameter importance tune plot --kind
// importance draws: the method's name and each parameter's share of the
// objective's variance, as tune importance computes them with its
// defaults. Tests replace it.
var importanceShares = fanovaShares

// fanovaShares is tune importance's computation with its default options.
func fanovaShares(ctx context.Context, t *results.Table) (string, []plot.Share, error) {
	in, err := importance.Encode(t, "", nil)
	if err != nil {
		return "", nil, err
	}
	res, err := importance.EvaluateContext(ctx, in.Space, in.X, in.Y, importance.Options{})
	if err != nil {
		return "", nil, err
	}
	var shares []plot.Share
	for _, sh := range res.Shares() {
		shares = append(shares, plot.Share{Name: sh.Name, Share: sh.Value})
	}
	return "fANOVA", shares, nil
}

// The default image size of tune plot and tune compare --plot, in pixels.
const (
	plotDefaultWidth  = 800
	plotDefaultHeight = 500
)

// Image size limits of tune plot, in pixels: a 5000x5000 PNG is drawn on
// 100 MB of memory.
const (
	plotMinSize = 100
	plotMaxSize = 5000
)

// plotOptions are the inputs of tune plot.
type plotOptions struct {
	f      *factory
	names  []string
	kind   string
	file   string
	params []string
	metric string
	width  int
	height int
	format plot.Format
}

func newPlotCommand(f *factory) *cobra.Command {
	o := &plotOptions{f: f}
	cmd := &cobra.Command{
		Use:   "plot EXPERIMENT [EXPERIMENT...] --kind KIND -o FILE",
		Short: "Draw an experiment's trials as a PNG or SVG plot",
		Long: `Draw an experiment's trials as a plot, written to FILE as PNG or SVG (from
FILE's extension). Kinds:

  history     objective per trial in creation order, the best so far as a
              step line, early-stopped trials as triangles and trials
              without a value (failed, killed, running) as crosses on the
              bottom edge
  parallel    parallel coordinates: one axis per parameter (--params chooses
              and orders them) and the objective last, one line per trial
              coloured by its objective (red best)
  slice       the objective against each parameter, one panel each
  contour     the objective over two parameters (--params a,b; required
              when the experiment has more than two), interpolated on a
              grid by inverse-distance weighting, with the trials as points
  importance  each parameter's share of the objective's variance
  curves      each trial's intermediate values (--metric, default the
              objective) by step; early-stopped trials dashed, the best
              trial thick red
  edf         the empirical distribution of the objective over the
              succeeded trials; several experiments on one plot

Log-scale parameters (logUniform, logNormal) are drawn on log axes,
categorical ones as categories. Only edf takes more than one experiment.`,
		Example: `  tune plot mnist --kind history -o history.png
  tune plot mnist --kind contour --params lr,momentum -o lr-momentum.svg
  tune plot mnist-random mnist-tpe --kind edf -o edf.png`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s: expected EXPERIMENT; see %s --help", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			return runPlot(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.kind, "kind", "", "what to draw: "+strings.Join(plotKinds, ", "))
	fl.StringVarP(&o.file, "output", "o", "", "the file to write: .png or .svg")
	fl.StringSliceVar(&o.params, "params", nil, "parameters to draw, comma-separated (parallel, slice: which and in what order; contour: exactly two)")
	fl.StringVar(&o.metric, "metric", "", "the metric of --kind curves (default the objective)")
	fl.IntVar(&o.width, "width", plotDefaultWidth, "image width in pixels (SVG: CSS pixels)")
	fl.IntVar(&o.height, "height", plotDefaultHeight, "image height in pixels (SVG: CSS pixels)")
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(plotKinds, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("output", "png", "svg")
	return cmd
}

// checkFlags validates the flags that need no store.
func (o *plotOptions) checkFlags() error {
	if o.kind == "" {
		return usageErrorf("--kind is required: one of %s", strings.Join(plotKinds, ", "))
	}
	if !slices.Contains(plotKinds, o.kind) {
		return usageErrorf("--kind %q: want one of %s", o.kind, strings.Join(plotKinds, ", "))
	}
	if o.file == "" {
		return usageErrorf("-o FILE is required: the .png or .svg file to write")
	}
	format, err := plot.FormatOf(o.file)
	if err != nil {
		return usageErrorf("-o: %v", err)
	}
	o.format = format
	for _, s := range []struct {
		flag string
		v    int
	}{{"--width", o.width}, {"--height", o.height}} {
		if s.v < plotMinSize || s.v > plotMaxSize {
			return usageErrorf("%s %d: want %d to %d pixels", s.flag, s.v, plotMinSize, plotMaxSize)
		}
	}
	if len(o.names) > 1 && o.kind != "edf" {
		return usageErrorf("--kind %s draws one experiment, got %d (only edf takes several)", o.kind, len(o.names))
	}
	if len(o.params) > 0 && !slices.Contains([]string{"parallel", "slice", "contour"}, o.kind) {
		return usageErrorf("--params applies to --kind parallel, slice and contour, not %s", o.kind)
	}
	if o.metric != "" && o.kind != "curves" {
		return usageErrorf("--metric applies to --kind curves, not %s", o.kind)
	}
	return nil
}

func runPlot(ctx context.Context, o *plotOptions) error {
	if err := o.checkFlags(); err != nil {
		return err
	}
	st, err := o.f.readStore()
	if err != nil {
		return err
	}
	defer st.Close()
	tables := make([]*results.Table, len(o.names))
	for i, name := range o.names {
		t, err := results.Load(ctx, st, name)
		if err != nil {
			return notFoundHint(err, name)
		}
		tables[i] = t
	}
	fig, err := o.figure(ctx, st, tables)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := plot.Render(&buf, fig, o.format, o.width, o.height); err != nil {
		return fmt.Errorf("plot %s: %w", o.kind, err)
	}
	if err := writeFileAtomic(o.file, buf.Bytes()); err != nil {
		return fmt.Errorf("-o %s: %w", o.file, err)
	}
	fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("wrote %s (%s, %dx%d)", o.file, o.kind, o.width, o.height), false))
	return nil
}

// figure draws the kind of o from tables.
func (o *plotOptions) figure(ctx context.Context, st *store.Store, tables []*results.Table) (plot.Figure, error) {
	t := tables[0]
	name := o.names[0]
	switch o.kind {
	case "edf":
		studies := make([]*plot.Study, len(tables))
		for i, tt := range tables {
			studies[i] = studyOf(tt, allParams(tt))
			if i > 0 && tt.Objective != t.Objective {
				fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("warning: %s's objective is %s, %s's is %s: the x axis mixes them", o.names[i], tt.Objective, name, t.Objective), false))
			}
		}
		fig, err := plot.EDF(studies)
		return fig, noValueHint(err, tables...)
	case "importance":
		method, shares, err := importanceShares(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("experiment %s: importance: %w", name, err)
		}
		return plot.Importance(name, t.Objective, method, shares)
	case "curves":
		return o.curves(ctx, st, t)
	}
	params, err := o.selectParams(t)
	if err != nil {
		return nil, err
	}
	s := studyOf(t, params)
	var fig plot.Figure
	switch o.kind {
	case "history":
		fig, err = plot.History(s)
	case "parallel":
		fig, err = plot.Parallel(s)
	case "slice":
		fig, err = plot.Slice(s)
	case "contour":
		fig, err = plot.Contour(s, 0, 1)
	}
	return fig, noValueHint(err, t)
}

// selectParams returns the indices in t.Space of the parameters --params
// names (all of them when it is empty, both when contour has two).
func (o *plotOptions) selectParams(t *results.Table) ([]int, error) {
	names := make([]string, len(t.Space))
	for i, p := range t.Space {
		names[i] = p.Name
	}
	var idx []int
	for _, n := range o.params {
		n = strings.TrimSpace(n)
		i := t.Param(n)
		if i < 0 {
			return nil, usageErrorf("--params: experiment %s has no parameter %q; it has %s", t.Experiment.Name, n, strings.Join(names, ", "))
		}
		if slices.Contains(idx, i) {
			return nil, usageErrorf("--params: %q named twice", n)
		}
		idx = append(idx, i)
	}
	if o.kind == "contour" {
		switch {
		case len(idx) == 0 && len(t.Space) == 2:
			return []int{0, 1}, nil
		case len(idx) == 0 && len(t.Space) < 2:
			return nil, usageErrorf("--kind contour needs two parameters; experiment %s has %d (try --kind slice)", t.Experiment.Name, len(t.Space))
		case len(idx) == 0:
			return nil, usageErrorf("--kind contour: --params a,b is required when the experiment has more than two parameters; experiment %s has %s", t.Experiment.Name, strings.Join(names, ", "))
		case len(idx) != 2:
			return nil, usageErrorf("--kind contour: --params wants exactly two parameters, got %d", len(idx))
		}
		return idx, nil
	}
	if len(idx) == 0 {
		return allParams(t), nil
	}
	return idx, nil
}

// allParams returns the indices of every parameter of t.
func allParams(t *results.Table) []int {
	idx := make([]int, len(t.Space))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// studyOf returns the plot data of t with the parameters at indices
// params of t.Space. A trial's value is its objective when it Succeeded
// or was EarlyStopped, NaN otherwise.
func studyOf(t *results.Table, params []int) *plot.Study {
	s := &plot.Study{
		Name:      t.Experiment.Name,
		Objective: t.Objective,
		Maximize:  t.Goal == suggest.Maximize,
		Params:    make([]plot.Param, len(params)),
		Trials:    make([]plot.Trial, len(t.Rows)),
		Best:      t.Best(),
	}
	for k, j := range params {
		s.Params[k] = plotParam(t.Space[j], t, j)
	}
	best := t.BestSoFar()
	for i := range t.Rows {
		r := &t.Rows[i]
		tr := plot.Trial{Name: r.Trial.Name, Number: i + 1, Status: plotStatus(r.Trial.State), Value: math.NaN(), BestSoFar: best[i], Params: make([]float64, len(params))}
		if tr.Status != plot.Failed {
			if v, ok := r.Metrics[t.Objective]; ok {
				tr.Value = v
			}
		}
		for k, j := range params {
			tr.Params[k] = paramNum(&s.Params[k], r.Params[j])
		}
		s.Trials[i] = tr
	}
	return s
}

// plotParam returns how parameter p (index j of t.Space) is drawn: Log for
// log distributions, Categorical for categorical parameters and for
// discrete ones with a value that is not a number.
func plotParam(p suggest.Param, t *results.Table, j int) plot.Param {
	out := plot.Param{Name: p.Name}
	categorical := p.Type == suggest.Categorical
	if p.Type == suggest.Discrete {
		for i := range t.Rows {
			if v := t.Rows[i].Params[j]; v.Text != "" && !v.Numeric {
				categorical = true
			}
		}
	}
	switch {
	case categorical:
		out.Scale = plot.Categorical
		out.Categories = slices.Clone(p.Values)
	case p.Distribution == suggest.LogUniform || p.Distribution == suggest.LogNormal:
		out.Scale = plot.Log
	}
	return out
}

// paramNum returns v's number on p's axis: the category index (adding a
// category the space does not list), the number, or NaN.
func paramNum(p *plot.Param, v results.Value) float64 {
	if p.Scale == plot.Categorical {
		if v.Text == "" {
			return math.NaN()
		}
		i := slices.Index(p.Categories, v.Text)
		if i < 0 {
			p.Categories = append(p.Categories, v.Text)
			i = len(p.Categories) - 1
		}
		return float64(i)
	}
	if !v.Numeric {
		return math.NaN()
	}
	return v.Num
}

// plotStatus maps a trial state onto the statuses plots distinguish.
func plotStatus(s trial.State) plot.Status {
	switch s {
	case trial.Succeeded:
		return plot.Complete
	case trial.EarlyStopped:
		return plot.EarlyStopped
	}
	return plot.Failed
}

// curves draws the intermediate values of --metric (the objective by
// default) of each trial of t, read from the store's observation logs.
func (o *plotOptions) curves(ctx context.Context, st *store.Store, t *results.Table) (plot.Figure, error) {
	metric := o.metric
	if metric == "" {
		metric = t.Objective
	}
	best := t.Best()
	curves := make([]plot.Curve, 0, len(t.Rows))
	seen := map[string]bool{}
	for i := range t.Rows {
		tr := &t.Rows[i].Trial
		logs, err := st.Logs(ctx, t.Experiment.Name, tr.Name)
		if err != nil {
			return nil, fmt.Errorf("experiment %s: trial %s: %w", t.Experiment.Name, tr.Name, err)
		}
		c := plot.Curve{Trial: tr.Name, Status: plotStatus(tr.State), Best: i == best, Points: curvePoints(logs, metric, seen)}
		curves = append(curves, c)
	}
	fig, err := plot.Curves(t.Experiment.Name, metric, curves)
	if errors.Is(err, plot.ErrNoData) {
		reported := slices.Sorted(maps.Keys(seen))
		if len(reported) == 0 {
			return nil, fmt.Errorf("experiment %s: no trial has intermediate values (%d trials): nothing to plot", t.Experiment.Name, len(t.Rows))
		}
		return nil, fmt.Errorf("experiment %s: no trial reported %s; the trials reported %s (--metric chooses)", t.Experiment.Name, metric, strings.Join(reported, ", "))
	}
	return fig, err
}

// curvePoints returns the values of metric in logs, in report order: at
// their step, or at their position among the metric's values when the
// source gives no step. It adds every metric name in logs to seen.
func curvePoints(logs []metrics.Log, metric string, seen map[string]bool) []plot.Point {
	var pts []plot.Point
	n := 0
	for _, l := range logs {
		seen[l.Metric] = true
		if l.Metric != metric || l.Text != "" { // text is no point of a curve
			continue
		}
		n++
		step := float64(l.Step)
		if l.Step < 0 {
			step = float64(n)
		}
		pts = append(pts, plot.Point{Step: step, Value: l.Value})
	}
	return pts
}

// noValueHint explains plot.ErrNoData with the experiments' trial counts
// by state.
func noValueHint(err error, tables ...*results.Table) error {
	if !errors.Is(err, plot.ErrNoData) {
		return err
	}
	var parts []string
	for _, t := range tables {
		counts := map[trial.State]int{}
		for i := range t.Rows {
			counts[t.Rows[i].Trial.State]++
		}
		var c []string
		for _, s := range slices.Sorted(maps.Keys(counts)) {
			c = append(c, fmt.Sprintf("%d %s", counts[s], s))
		}
		desc := "no trials"
		if len(c) > 0 {
			desc = strings.Join(c, ", ")
		}
		parts = append(parts, fmt.Sprintf("experiment %s: no succeeded or early-stopped trial reported the objective %s (%s)", t.Experiment.Name, t.Objective, desc))
	}
	return fmt.Errorf("%s: nothing to plot", strings.Join(parts, "; "))
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half an image.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
