package plot_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"

	"github.com/tune-hpo/tune/internal/plot"
)

var saveDir = flag.String("save", "", "write the rendered test images into this directory")

// synthetic returns a study of n trials over x (linear, -2..4), lr (log,
// 1e-4..1e-1) and opt (categorical), objective (x-1)² + 0.1·|log10 lr + 2|
// + 0.5 for opt "sgd"; every 7th trial fails, every 5th is early stopped.
func synthetic(n int, maximize bool) *plot.Study {
	r := rand.New(rand.NewPCG(1, 2))
	s := &plot.Study{Name: "synth", Objective: "loss", Maximize: maximize, Best: -1,
		Params: []plot.Param{{Name: "x"}, {Name: "lr", Scale: plot.Log}, {Name: "opt", Scale: plot.Categorical, Categories: []string{"adam", "sgd", "rmsprop"}}}}
	best := math.NaN()
	for i := range n {
		x := -2 + 6*r.Float64()
		lr := math.Pow(10, -4+3*r.Float64())
		opt := float64(r.IntN(3))
		v := (x-1)*(x-1) + 0.1*math.Abs(math.Log10(lr)+2)
		if opt == 1 {
			v += 0.5
		}
		if maximize {
			v = -v
		}
		t := plot.Trial{Name: fmt.Sprintf("synth-%d", i+1), Number: i + 1, Value: v, Params: []float64{x, lr, opt}}
		switch {
		case i%7 == 6:
			t.Status, t.Value = plot.Failed, math.NaN()
		case i%5 == 4:
			t.Status = plot.EarlyStopped
		}
		if t.Status == plot.Complete && (math.IsNaN(best) || (maximize && v > best) || (!maximize && v < best)) {
			best, s.Best = v, i
		}
		t.BestSoFar = best
		s.Trials = append(s.Trials, t)
	}
	return s
}

func syntheticCurves(s *plot.Study) []plot.Curve {
	var cs []plot.Curve
	for i, t := range s.Trials {
		c := plot.Curve{Trial: t.Name, Status: t.Status, Best: i == s.Best}
		steps := 10
		if t.Status != plot.Complete {
			steps = 4
		}
		for k := range steps {
			c.Points = append(c.Points, plot.Point{Step: float64(k + 1), Value: math.Abs(t.Value) + 2/float64(k+1)})
		}
		cs = append(cs, c)
	}
	return cs
}

// figures returns a figure of each kind from s.
func figures(t testing.TB, s *plot.Study) map[string]plot.Figure {
	t.Helper()
	figs := map[string]plot.Figure{}
	var errs []error
	add := func(name string, f plot.Figure, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		figs[name] = f
	}
	h, err := plot.History(s)
	add("history", h, err)
	f, err := plot.Parallel(s)
	add("parallel", f, err)
	f, err = plot.Slice(s)
	add("slice", f, err)
	f, err = plot.Contour(s, 0, 1)
	add("contour", f, err)
	f, err = plot.Importance(s.Name, s.Objective, "test", []plot.Share{{"x", 0.8}, {"lr", 0.15}, {"opt", 0.05}})
	add("importance", f, err)
	h, err = plot.Curves(s.Name, s.Objective, syntheticCurves(s))
	add("curves", h, err)
	other := synthetic(len(s.Trials)/2+1, s.Maximize)
	other.Name = "other"
	h, err = plot.EDF([]*plot.Study{s, other})
	add("edf", h, err)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return figs
}

// render renders f as format and, with -save, writes it as name.
func render(t testing.TB, name string, f plot.Figure, format plot.Format, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := plot.Render(&buf, f, format, w, h); err != nil {
		t.Fatalf("%s: Render: %v", name, err)
	}
	if *saveDir != "" {
		if err := os.WriteFile(filepath.Join(*saveDir, name+"."+string(format)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// colours returns the number of distinct colours of img and how many
// pixels are not white.
func colours(img image.Image) (distinct, inked int) {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				inked++
			}
		}
	}
	return len(seen), inked
}

func TestKindsRenderPNG(t *testing.T) {
	for _, maximize := range []bool{false, true} {
		for name, f := range figures(t, synthetic(60, maximize)) {
			if maximize {
				name += "-max"
			}
			b := render(t, name, f, plot.PNG, 640, 400)
			img, format, err := image.Decode(bytes.NewReader(b))
			if err != nil || format != "png" {
				t.Fatalf("%s: decode: %v (%s)", name, err, format)
			}
			if got := img.Bounds().Size(); got != image.Pt(640, 400) {
				t.Errorf("%s: size %v, want 640x400", name, got)
			}
			distinct, inked := colours(img)
			// Text and axes alone give grey shades; the data adds colours.
			if distinct < 20 || inked < 640*400/50 {
				t.Errorf("%s: %d colours, %d non-white pixels: looks empty", name, distinct, inked)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	nan := math.NaN()
	for name, tc := range map[string]struct {
		p    plot.Param
		in   []float64
		want []float64
	}{
		"linear":           {plot.Param{}, []float64{2, 4, 3, nan}, []float64{0, 1, 0.5, nan}},
		"log":              {plot.Param{Scale: plot.Log}, []float64{1e-4, 1e-2, 1e-3}, []float64{0, 1, 0.5}},
		"log not positive": {plot.Param{Scale: plot.Log}, []float64{0, 10, 5}, []float64{0, 1, 0.5}},
		"categorical":      {plot.Param{Scale: plot.Categorical, Categories: []string{"a", "b", "c", "d", "e"}}, []float64{0, 4, 1}, []float64{0, 1, 0.25}},
		"one category":     {plot.Param{Scale: plot.Categorical, Categories: []string{"a"}}, []float64{0, 0}, []float64{0.5, 0.5}},
		"constant":         {plot.Param{}, []float64{7, 7}, []float64{0.5, 0.5}},
		"inf":              {plot.Param{}, []float64{math.Inf(1), 1, 3}, []float64{nan, 0, 1}},
	} {
		got := plot.Normalize(tc.p, tc.in)
		for i := range tc.want {
			if !(math.Abs(got[i]-tc.want[i]) < 1e-12 || math.IsNaN(got[i]) && math.IsNaN(tc.want[i])) {
				t.Errorf("%s: Normalize(%v) = %v, want %v", name, tc.in, got, tc.want)
				break
			}
		}
	}
}

func TestIDW(t *testing.T) {
	xs, ys, zs := []float64{0, 1, 0}, []float64{0, 0, 1}, []float64{1, 3, 5}
	// At a sample: its value.
	if got := plot.IDW(xs, ys, zs, 1, 0); got != 3 {
		t.Errorf("IDW at a sample = %v, want 3", got)
	}
	// At (1, 1): distances² 2, 1, 1: weights 1/2, 1, 1.
	want := (0.5*1 + 3 + 5) / 2.5
	if got := plot.IDW(xs, ys, zs, 1, 1); math.Abs(got-want) > 1e-12 {
		t.Errorf("IDW(1,1) = %v, want %v", got, want)
	}
	// Two samples at one place: their mean there.
	if got := plot.IDW([]float64{0, 0, 1}, []float64{0, 0, 0}, []float64{2, 4, 9}, 0, 0); got != 3 {
		t.Errorf("IDW at a doubled sample = %v, want 3", got)
	}
	// NaN samples are ignored; none left is NaN.
	if got := plot.IDW([]float64{0, 1}, []float64{0, 0}, []float64{math.NaN(), 4}, 0.3, 0); got != 4 {
		t.Errorf("IDW with a NaN sample = %v, want 4", got)
	}
	if got := plot.IDW([]float64{0}, []float64{0}, []float64{math.NaN()}, 0, 0); !math.IsNaN(got) {
		t.Errorf("IDW with no sample = %v, want NaN", got)
	}
}

func TestInterpolate(t *testing.T) {
	// Two trials at the corners of a log × linear square.
	s := &plot.Study{Name: "e", Objective: "loss", Best: 0,
		Params: []plot.Param{{Name: "lr", Scale: plot.Log}, {Name: "x"}},
		Trials: []plot.Trial{
			{Number: 1, Value: 1, Params: []float64{1e-4, 0}},
			{Number: 2, Value: 3, Params: []float64{1e-2, 10}},
			{Number: 3, Status: plot.Failed, Value: math.NaN(), Params: []float64{1e-3, 5}},
		}}
	g, err := plot.Interpolate(s, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, r := g.Dims()
	if c != plot.GridSize || r != plot.GridSize {
		t.Fatalf("grid %dx%d, want %dx%d", c, r, plot.GridSize, plot.GridSize)
	}
	// The x axis is log-spaced: the middle column is at the geometric mean.
	if got := g.X(0); math.Abs(got-1e-4) > 1e-16 {
		t.Errorf("X(0) = %v, want 1e-4", got)
	}
	if got := g.X(c - 1); math.Abs(got-1e-2) > 1e-14 {
		t.Errorf("X(last) = %v, want 1e-2", got)
	}
	ratio := g.X(1) / g.X(0)
	if got := g.X(c-1) / g.X(c-2); math.Abs(got-ratio) > 1e-9 {
		t.Errorf("log grid steps %v and %v differ", ratio, got)
	}
	if got, want := g.Z(0, 0), 1.0; got != want {
		t.Errorf("Z at trial 1 = %v, want %v", got, want)
	}
	if got, want := g.Z(c-1, r-1), 3.0; got != want {
		t.Errorf("Z at trial 2 = %v, want %v", got, want)
	}
	// The opposite corners are as far from both trials on the normalised
	// axes: the mean. The failed trial (no value) does not count.
	if got := g.Z(c-1, 0); math.Abs(got-2) > 1e-12 {
		t.Errorf("Z at (1e-2, 0) = %v, want 2", got)
	}
	// Nearer to trial 1 is nearer its value.
	if a, b := g.Z(1, 1), g.Z(c-2, r-2); !(a < 2 && b > 2) {
		t.Errorf("Z near trial 1 = %v, near trial 2 = %v; want < 2 and > 2", a, b)
	}
}

func TestEDFSteps(t *testing.T) {
	xs, ys := plot.EDFSteps([]float64{3, 1, math.NaN(), 2, 2, math.Inf(1)})
	wantX, wantY := []float64{1, 2, 2, 3}, []float64{0.25, 0.5, 0.75, 1}
	if fmt.Sprint(xs) != fmt.Sprint(wantX) || fmt.Sprint(ys) != fmt.Sprint(wantY) {
		t.Errorf("EDFSteps = %v, %v; want %v, %v", xs, ys, wantX, wantY)
	}
	if xs, ys := plot.EDFSteps(nil); len(xs) != 0 || len(ys) != 0 {
		t.Errorf("EDFSteps(nil) = %v, %v", xs, ys)
	}
}

func TestFormatOf(t *testing.T) {
	for file, want := range map[string]plot.Format{"a.png": plot.PNG, "dir.x/B.SVG": plot.SVG, "a.svg": plot.SVG} {
		if got, err := plot.FormatOf(file); got != want || err != nil {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", file, got, err, want)
		}
	}
	for _, file := range []string{"a.jpg", "a", "dir.png/a", "a.png.txt"} {
		if _, err := plot.FormatOf(file); err == nil {
			t.Errorf("FormatOf(%q): no error", file)
		}
	}
}

// svgDoc is the part of an SVG file the tests read.
type svgDoc struct {
	Width   string `xml:"width,attr"`
	Height  string `xml:"height,attr"`
	ViewBox string `xml:"viewBox,attr"`
}

func TestRenderSVG(t *testing.T) {
	h, err := plot.History(synthetic(30, false))
	if err != nil {
		t.Fatal(err)
	}
	b := render(t, "history", h, plot.SVG, 800, 500)
	var doc svgDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("SVG does not parse: %v", err)
	}
	// 800×500 CSS pixels are 600×375 points.
	if doc.Width != "600pt" || doc.Height != "375pt" {
		t.Errorf("SVG size %s × %s, want 600pt × 375pt", doc.Width, doc.Height)
	}
	if err := plot.Render(&bytes.Buffer{}, h, plot.PNG, 0, 10); err == nil {
		t.Error("Render 0x10: no error")
	}
}

// panicky is a figure whose drawing panics, as gonum/plot does on input
// it considers impossible.
type panicky struct{}

func (panicky) Draw(draw.Canvas) { panic("illegal range") }

func TestRenderPanicIsError(t *testing.T) {
	for _, f := range []plot.Format{plot.PNG, plot.SVG} {
		err := plot.Render(io.Discard, panicky{}, f, 100, 100)
		if err == nil || !strings.Contains(err.Error(), "illegal range") {
			t.Errorf("%s: Render of a panicking figure = %v, want the panic as an error", f, err)
		}
	}
}

// TestHistoryMarks counts the markers of each kind in the SVG: a circle
// path per complete trial, a triangle per early-stopped one, a cross per
// trial without a value.
func TestHistoryMarks(t *testing.T) {
	s := &plot.Study{Name: "e", Objective: "loss", Best: 0, Trials: []plot.Trial{
		{Number: 1, Value: 5, BestSoFar: 5},
		{Number: 2, Status: plot.Failed, Value: math.NaN(), BestSoFar: 5},
		{Number: 3, Status: plot.EarlyStopped, Value: 7, BestSoFar: 5},
		{Number: 4, Value: 2, BestSoFar: 2},
		{Number: 5, Status: plot.Failed, Value: math.NaN(), BestSoFar: 2},
	}}
	h, err := plot.History(s)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(render(t, "history-marks", h, plot.SVG, 400, 300))
	// Each kind's style identifies its markers; the legend adds one of
	// each.
	for _, c := range []struct {
		what, style string
		want        int
	}{
		{"complete (filled circles)", "fill:#1F77B4", 2 + 1},
		{"early stopped (triangles)", "stroke:#FF7F0E;", 1 + 1},
		{"no value (crosses, two strokes each)", "stroke:#D62728;stroke-width:0.5", 2*2 + 2},
	} {
		if got := strings.Count(svg, c.style); got != c.want {
			t.Errorf("%s: %d %q, want %d", c.what, got, c.style, c.want)
		}
	}
	if !strings.Contains(svg, "no value (2)") {
		t.Errorf("legend does not count the 2 trials without a value")
	}
}

func TestNoData(t *testing.T) {
	s := &plot.Study{Name: "e", Objective: "loss", Best: -1, Params: []plot.Param{{Name: "x"}, {Name: "y"}},
		Trials: []plot.Trial{{Number: 1, Status: plot.Failed, Value: math.NaN(), BestSoFar: math.NaN(), Params: []float64{1, 2}}}}
	for name, f := range map[string]func() error{
		"history":  func() error { _, err := plot.History(s); return err },
		"parallel": func() error { _, err := plot.Parallel(s); return err },
		"slice":    func() error { _, err := plot.Slice(s); return err },
		"contour":  func() error { _, err := plot.Contour(s, 0, 1); return err },
		"edf":      func() error { _, err := plot.EDF([]*plot.Study{s}); return err },
		"best":     func() error { _, err := plot.BestSoFar([]*plot.Study{s}); return err },
		"curves":   func() error { _, err := plot.Curves("e", "loss", []plot.Curve{{Trial: "t"}}); return err },
	} {
		if err := f(); !errors.Is(err, plot.ErrNoData) {
			t.Errorf("%s on a study without values: %v, want ErrNoData", name, err)
		}
	}
}

// TestDegenerate draws every kind from one trial, from a constant
// objective and from NaN parameters: no panic, an image with content.
func TestDegenerate(t *testing.T) {
	one := synthetic(1, false)
	constant := synthetic(20, true)
	for i := range constant.Trials {
		if !math.IsNaN(constant.Trials[i].Value) {
			constant.Trials[i].Value, constant.Trials[i].BestSoFar = 3, 3
		}
		constant.Trials[i].Params[1] = 0.01 // one lr for all
	}
	holes := synthetic(20, false)
	for i := range holes.Trials {
		if i%2 == 0 {
			holes.Trials[i].Params[0] = math.NaN()
		}
	}
	for name, s := range map[string]*plot.Study{"one": one, "constant": constant, "holes": holes} {
		for kind, f := range figures(t, s) {
			b := render(t, name+"-"+kind, f, plot.PNG, 300, 200)
			img, _, err := image.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s %s: %v", name, kind, err)
			}
			if _, inked := colours(img); inked < 300*200/100 {
				t.Errorf("%s %s: %d non-white pixels", name, kind, inked)
			}
		}
	}
}

// BenchmarkKinds5000 renders each kind of a 5,000-trial study as PNG
// (800x500): go test ./internal/plot -run '^$' -bench Kinds5000.
func BenchmarkKinds5000(b *testing.B) {
	s := synthetic(5000, false)
	for kind, f := range figures(b, s) {
		for _, format := range []plot.Format{plot.PNG, plot.SVG} {
			b.Run(kind+"/"+string(format), func(b *testing.B) {
				for b.Loop() {
					if err := plot.Render(io.Discard, f, format, 800, 500); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestBestSoFar checks that each study with values gets a line and a legend
// entry, and that the value axis spans every best-so-far value.
func TestBestSoFar(t *testing.T) {
	a, b := synthetic(60, false), synthetic(30, false)
	b.Name = "other"
	empty := &plot.Study{Name: "empty", Objective: "loss", Best: -1,
		Trials: []plot.Trial{{Number: 1, Status: plot.Failed, Value: math.NaN(), BestSoFar: math.NaN()}}}
	p, err := plot.BestSoFar([]*plot.Study{a, b, empty})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range []*plot.Study{a, b} {
		for _, tr := range s.Trials {
			if !math.IsNaN(tr.BestSoFar) {
				lo, hi = min(lo, tr.BestSoFar), max(hi, tr.BestSoFar)
			}
		}
	}
	if p.Y.Min > lo || p.Y.Max < hi {
		t.Errorf("value axis [%v, %v] does not span the best-so-far values [%v, %v]", p.Y.Min, p.Y.Max, lo, hi)
	}
	if p.X.Max < 60 {
		t.Errorf("trial axis ends at %v, before the longest study's 60 trials", p.X.Max)
	}
	var buf bytes.Buffer
	if err := plot.Render(&buf, p, plot.SVG, 800, 500); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	for _, want := range []string{">synth<", ">other<", "best loss so far"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, ">empty<") {
		t.Error("a study without values has a legend entry")
	}
}
