package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/internal/plot"
)

var plotImages = flag.String("plot-images", "", "TestPlot copies one PNG of each kind (800x500) into this directory (docs/img)")

// plotExperiment writes an experiment over x, y (linear), lr (logUniform),
// opt (categorical) and epochs (int) running trialprog, whose loss is
// (x-1)² + (y+2)² and which fails when x > failAbove; goal is minimize or
// maximize (the objective is then accuracy, 1/(1+loss)).
func plotExperiment(t *testing.T, dir, name, objective string, seed, max int, failAbove float64) string {
	t.Helper()
	typ := "minimize"
	if objective == "accuracy" {
		typ = "maximize"
	}
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  objective:
    type: %s
    objectiveMetricName: %s
    additionalMetricNames: [%s]
  algorithm:
    algorithmName: random
    algorithmSettings:
      - {name: random_state, value: "%d"}
  parallelTrialCount: 3
  maxTrialCount: %d
  maxFailedTrialCount: %d
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "0.1", distribution: logUniform}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [adam, sgd]}}
    - {name: epochs, parameterType: int, feasibleSpace: {min: "2", max: "5"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
      - {name: lr, reference: lr}
      - {name: opt, reference: opt}
      - {name: epochs, reference: epochs}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: ignored-locally
                command: [%q]
                args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}", "--epochs=${trialParameters.epochs}", "--label=${trialParameters.opt}", "--fail-above=%g"]
                env: [{name: LR, value: "${trialParameters.lr}"}]
`, name, typ, objective, other(objective), seed, max, max, trialBin, failAbove)
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func other(metric string) string {
	if metric == "loss" {
		return "accuracy"
	}
	return "loss"
}

// runPlotExperiment runs an experiment written by plotExperiment and
// returns its trials as tune get trials -o json prints them.
func runPlotExperiment(t *testing.T, dir, name, objective string, seed, max int, failAbove float64) []jsonTrial {
	t.Helper()
	file := plotExperiment(t, dir, name, objective, seed, max, failAbove)
	if r := tune(t, dir, "run", "-q", file); r.code != 0 && !strings.Contains(r.stdout+r.stderr, "Failed") {
		t.Fatalf("tune run %s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
	}
	return getTrials(t, dir, name)
}

// succeeded returns the trials that Succeeded, and each one's loss
// computed from its parameters (not read from the store).
func succeeded(t *testing.T, trials []jsonTrial) ([]jsonTrial, []float64) {
	t.Helper()
	var ok []jsonTrial
	var loss []float64
	for _, tr := range trials {
		if tr.Status == "Succeeded" {
			ok = append(ok, tr)
			loss = append(loss, quadratic(t, tr.Parameters))
		}
	}
	return ok, loss
}

// decodePNG decodes the PNG file at path and checks its size.
func decodePNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil || format != "png" {
		t.Fatalf("%s: not a PNG: %v (%s)", path, err, format)
	}
	if got := img.Bounds().Size(); got != image.Pt(w, h) {
		t.Fatalf("%s: %v, want %dx%d", path, got, w, h)
	}
	return img
}

// inkStats returns the number of distinct colours of img and how many of
// its pixels are coloured (not white, black or grey: text, axes and grid
// lines are those; the data are drawn in colour).
func inkStats(img image.Image) (distinct, coloured int) {
	b := img.Bounds()
	seen := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			hi := max(c.R, c.G, c.B)
			lo := min(c.R, c.G, c.B)
			if hi-lo > 40 {
				coloured++
			}
		}
	}
	return len(seen), coloured
}

// svgText returns the text elements of an SVG file, and checks that it
// parses with the width and height of w×h CSS pixels.
func svgText(t *testing.T, path string, w, h int) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: not XML: %v", path, err)
	}
	pt := func(px int) string { return strconv.FormatFloat(float64(px)*0.75, 'g', -1, 64) + "pt" }
	if doc.Width != pt(w) || doc.Height != pt(h) {
		t.Errorf("%s: size %s × %s, want %s × %s (%dx%d px)", path, doc.Width, doc.Height, pt(w), pt(h), w, h)
	}
	var texts []string
	dec := xml.NewDecoder(bytes.NewReader(b))
	inText := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return texts
}

// fmt4 formats v as the plots label axes: 4 significant digits.
func fmt4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	// About one trial in six has x > 3 and fails. The images for the docs
	// get more trials.
	n := 14
	if *plotImages != "" {
		n = 40
	}
	trials := runPlotExperiment(t, dir, "quad", "loss", 11, n, 3)
	ok, loss := succeeded(t, trials)
	if len(ok) < 3 || len(ok) == len(trials) {
		t.Fatalf("%d of %d trials succeeded: the test wants some of each", len(ok), len(trials))
	}
	bestLoss := slices.Min(loss)
	bestTrial := ok[slices.Index(loss, bestLoss)].Name

	copied := map[string]bool{} // the first image of each kind is the documented one
	png := func(t *testing.T, kind string, args ...string) image.Image {
		t.Helper()
		file := filepath.Join(dir, kind+".png")
		r := tune(t, dir, append([]string{"plot", "--kind", kind, "-o", file}, args...)...)
		if r.code != 0 {
			t.Fatalf("tune plot --kind %s: exit %d: %s", kind, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "wrote "+file) {
			t.Errorf("stderr %q does not name the file written", r.stderr)
		}
		img := decodePNG(t, file, 800, 500)
		if *plotImages != "" && args[0] == "quad" && !copied[kind] {
			copied[kind] = true
			b, _ := os.ReadFile(file)
			if err := os.WriteFile(filepath.Join(*plotImages, "plot-"+kind+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return img
	}
	svg := func(t *testing.T, kind string, w, h int, args ...string) []string {
		t.Helper()
		file := filepath.Join(dir, kind+".svg")
		size := []string{"--width", strconv.Itoa(w), "--height", strconv.Itoa(h)}
		r := tune(t, dir, append(append([]string{"plot", "--kind", kind, "-o", file}, size...), args...)...)
		if r.code != 0 {
			t.Fatalf("tune plot --kind %s -o svg: exit %d: %s", kind, r.code, r.stderr)
		}
		return svgText(t, file, w, h)
	}
	content := func(t *testing.T, img image.Image, minColours, minColoured int) {
		t.Helper()
		distinct, coloured := inkStats(img)
		t.Logf("%d colours, %d coloured pixels", distinct, coloured)
		if distinct < minColours || coloured < minColoured {
			t.Errorf("%d colours, %d coloured pixels; want at least %d and %d", distinct, coloured, minColours, minColoured)
		}
	}
	has := func(t *testing.T, texts []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(texts, w) {
				t.Errorf("no text %q in the plot; texts: %q", w, texts)
			}
		}
	}

	t.Run("history", func(t *testing.T) {
		content(t, png(t, "history", "quad"), 20, 1000)
		texts := svg(t, "history", 640, 480, "quad")
		// The legend counts the trials without a value: those that failed.
		has(t, texts, fmt.Sprintf("no value (%d)", len(trials)-len(ok)), "best so far", "quad: optimization history (minimize loss)")
		// One filled circle per succeeded trial and one in the legend; two
		// strokes per cross of a failed trial and two in the legend.
		b, err := os.ReadFile(filepath.Join(dir, "history.svg"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Count(string(b), "fill:#1F77B4"), len(ok)+1; got != want {
			t.Errorf("history.svg: %d trial markers, want %d (%d succeeded trials + legend)", got, want, len(ok))
		}
		if got, want := strings.Count(string(b), "stroke:#D62728;stroke-width:0.5"), 2*(len(trials)-len(ok)+1); got != want {
			t.Errorf("history.svg: %d cross strokes, want %d (%d failed trials + legend, 2 each)", got, want, len(trials)-len(ok))
		}
	})
	t.Run("parallel", func(t *testing.T) {
		content(t, png(t, "parallel", "quad"), 500, 10000)
		texts := svg(t, "parallel", 800, 500, "quad", "--params", "x,opt,lr")
		// Each axis is labelled with the least and greatest value among
		// the trials drawn (those that succeeded), the objective's computed
		// here from the parameters.
		var xs, lrs []float64
		for _, tr := range ok {
			x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
			lr, _ := strconv.ParseFloat(tr.Parameters["lr"], 64)
			xs, lrs = append(xs, x), append(lrs, lr)
		}
		has(t, texts, "x", "opt", "lr", "loss", "adam", "sgd",
			fmt4(slices.Min(xs)), fmt4(slices.Max(xs)),
			fmt4(slices.Min(lrs)), fmt4(slices.Max(lrs)), fmt4(math.Sqrt(slices.Min(lrs)*slices.Max(lrs))),
			fmt4(bestLoss), fmt4(slices.Max(loss)))
		if slices.Contains(texts, "y") {
			t.Errorf("--params x,opt,lr drew y")
		}
	})
	t.Run("slice", func(t *testing.T) {
		content(t, png(t, "slice", "quad"), 100, 1000)
		texts := svg(t, "slice", 900, 600, "quad")
		has(t, texts, "x", "y", "lr", "opt", "epochs", "adam", "sgd")
		// lr is drawn on a log axis: its ticks are powers of ten.
		if !slices.Contains(texts, "0.001") && !slices.Contains(texts, "0.01") {
			t.Errorf("no power-of-ten tick on the lr axis: %q", texts)
		}
	})
	t.Run("contour", func(t *testing.T) {
		img := png(t, "contour", "quad", "--params", "x,y")
		// A heat map: many shades.
		content(t, img, 1000, 100000)
		has(t, svg(t, "contour", 800, 500, "quad", "--params", "lr,opt"), "lr", "opt", "adam", "sgd")
		// Five parameters: which two must be said.
		r := tune(t, dir, "plot", "quad", "--kind", "contour", "-o", "c.png")
		if r.code != 2 || !strings.Contains(r.stderr, "--params") || !strings.Contains(r.stderr, "x, y, lr, opt, epochs") {
			t.Errorf("contour without --params: exit %d, %q; want 2 naming --params and the parameters", r.code, r.stderr)
		}
		for _, p := range []string{"x", "x,y,lr", "x,bogus", "x,x"} {
			if r := tune(t, dir, "plot", "quad", "--kind", "contour", "--params", p, "-o", "c.png"); r.code != 2 {
				t.Errorf("contour --params %s: exit %d (%s), want 2", p, r.code, r.stderr)
			}
		}
	})
	t.Run("curves", func(t *testing.T) {
		content(t, png(t, "curves", "quad"), 200, 4000)
		texts := svg(t, "curves", 800, 500, "quad")
		has(t, texts, "best: "+bestTrial, "trial")
		// The failed trials (x > 3) exit before printing: no curve.
		for _, s := range texts {
			if strings.HasPrefix(s, "failed") {
				t.Errorf("legend %q: the failed trials reported nothing", s)
			}
		}
		// trialprog prints accuracy too; a metric nobody printed is named.
		has(t, svg(t, "curves", 800, 500, "quad", "--metric", "accuracy"), "quad: intermediate values of accuracy")
		r := tune(t, dir, "plot", "quad", "--kind", "curves", "--metric", "f1", "-o", "c.png")
		if r.code != 1 || !strings.Contains(r.stderr, "no trial reported f1") || !strings.Contains(r.stderr, "accuracy, loss") {
			t.Errorf("curves --metric f1: exit %d, %q; want 1 naming the metrics reported", r.code, r.stderr)
		}
	})
	t.Run("edf", func(t *testing.T) {
		trials2 := runPlotExperiment(t, dir, "quad2", "loss", 12, 8, 100)
		ok2, _ := succeeded(t, trials2)
		content(t, png(t, "edf", "quad", "quad2"), 100, 2000)
		// The legend counts each experiment's succeeded trials.
		has(t, svg(t, "edf", 800, 500, "quad", "quad2"), fmt.Sprintf("quad (%d)", len(ok)), fmt.Sprintf("quad2 (%d)", len(ok2)))

		// tune compare EXP EXP --plot: both experiments' best-so-far curves.
		for _, ext := range []string{"png", "svg"} {
			file := filepath.Join(dir, "best."+ext)
			r := tune(t, dir, "compare", "quad", "quad2", "--plot", file)
			if r.code != 0 || !strings.Contains(r.stderr, "wrote "+file) || !strings.Contains(r.stdout, "best after") {
				t.Fatalf("compare --plot %s: exit %d, stdout %q, stderr %q", ext, r.code, r.stdout, r.stderr)
			}
			if ext == "png" {
				content(t, decodePNG(t, file, 800, 500), 50, 1000)
			} else {
				has(t, svgText(t, file, 800, 500), "quad", "quad2", "quad, quad2: best loss so far (minimize)")
			}
		}
		for _, args := range [][]string{
			{"compare", "quad", "1", "2", "--plot", "t.png"},
			{"compare", "quad", "quad2", "--plot", "best.gif"},
		} {
			if r := tune(t, dir, args...); r.code != 2 {
				t.Errorf("tune %q: exit %d, %q; want a usage error", args, r.code, r.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "t.png")); err == nil {
			t.Error("compare --plot of trials wrote a file")
		}
	})
	t.Run("importance", func(t *testing.T) {
		// The plot draws what tune importance computes with its defaults.
		r := tune(t, dir, "importance", "quad", "-o", "json")
		if r.code != 0 {
			t.Fatalf("tune importance: exit %d, %s", r.code, r.stderr)
		}
		var imp struct {
			Importances []struct {
				Parameters []string `json:"parameters"`
				Importance float64  `json:"importance"`
			} `json:"importances"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &imp); err != nil || len(imp.Importances) == 0 {
			t.Fatalf("tune importance -o json: %v: %s", err, r.stdout)
		}
		want := []string{"quad: parameter importance for loss (fANOVA)"}
		for _, term := range imp.Importances {
			want = append(want, term.Parameters[0], strconv.FormatFloat(term.Importance, 'g', 4, 64))
		}
		content(t, png(t, "importance", "quad"), 50, 2000)
		has(t, svg(t, "importance", 600, 400, "quad"), want...)

		// Whatever the computation gives is drawn.
		var got *results.Table
		defer cli.SetImportanceShares(func(_ context.Context, tb *results.Table) (string, []plot.Share, error) {
			got = tb
			return "test method", []plot.Share{{Name: "x", Share: 0.625}, {Name: "y", Share: 0.25}, {Name: "lr", Share: 0.125}}, nil
		})()
		content(t, png(t, "importance", "quad"), 50, 20000)
		if got == nil || got.Experiment.Name != "quad" || len(got.Rows) != len(trials) {
			t.Fatalf("the importance computation did not get quad's table")
		}
		has(t, svg(t, "importance", 600, 400, "quad"), "0.625", "0.25", "0.125", "x", "y", "lr", "quad: parameter importance for loss (test method)")
	})
	t.Run("maximize", func(t *testing.T) {
		trials := runPlotExperiment(t, dir, "acc", "accuracy", 13, 6, 100)
		_, loss := succeeded(t, trials)
		best := 1 / (1 + slices.Min(loss))
		for _, kind := range []string{"history", "parallel", "slice", "curves", "edf"} {
			content(t, png(t, kind, "acc"), 20, 200)
		}
		has(t, svg(t, "parallel", 800, 500, "acc"), "accuracy", fmt4(best))
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"plot", "quad", "-o", "a.png"}, 2, "--kind is required"},
			{[]string{"plot", "quad", "--kind", "pie", "-o", "a.png"}, 2, "history, parallel, slice, contour, importance, curves, edf"},
			{[]string{"plot", "quad", "--kind", "history"}, 2, "-o FILE is required"},
			{[]string{"plot", "quad", "--kind", "history", "-o", "a.jpg"}, 2, ".jpg: want .png or .svg"},
			{[]string{"plot", "quad", "--kind", "history", "-o", "a.png", "--width", "5"}, 2, "--width 5"},
			{[]string{"plot", "quad", "quad2", "--kind", "history", "-o", "a.png"}, 2, "only edf takes several"},
			{[]string{"plot", "quad", "--kind", "history", "--params", "x", "-o", "a.png"}, 2, "--params applies to"},
			{[]string{"plot", "--kind", "history", "-o", "a.png"}, 2, "expected EXPERIMENT"},
			{[]string{"plot", "nope", "--kind", "history", "-o", "a.png"}, 1, `experiment "nope" not found`},
			{[]string{"plot", "quad", "--kind", "history", "-o", filepath.Join("no", "such", "dir", "a.png")}, 1, "-o no/such/dir/a.png"},
		} {
			r := tune(t, dir, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("tune %s: exit %d, %q; want %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "a.png")); err == nil {
			t.Errorf("a refused plot wrote a.png")
		}
	})
	t.Run("no succeeded trial", func(t *testing.T) {
		trials := runPlotExperiment(t, dir, "broken", "loss", 14, 3, -100)
		for _, kind := range []string{"history", "parallel", "slice", "contour", "edf"} {
			file := filepath.Join(dir, "broken-"+kind+".png")
			r := tune(t, dir, "plot", "broken", "--kind", kind, "--params", "x,y", "-o", file)
			if kind == "history" || kind == "edf" {
				r = tune(t, dir, "plot", "broken", "--kind", kind, "-o", file)
			}
			if r.code != 1 || !strings.Contains(r.stderr, "nothing to plot") || !strings.Contains(r.stderr, fmt.Sprintf("%d Failed", len(trials))) {
				t.Errorf("%s of an experiment without success: exit %d, %q", kind, r.code, r.stderr)
			}
			if _, err := os.Stat(file); err == nil {
				t.Errorf("%s: wrote %s anyway", kind, file)
			}
		}
	})
}

func TestPlotKindCompletion(t *testing.T) {
	r := tune(t, t.TempDir(), "__complete", "plot", "quad", "--kind", "")
	for _, k := range []string{"history", "parallel", "slice", "contour", "importance", "curves", "edf"} {
		if !slices.Contains(strings.Split(r.stdout, "\n"), k) {
			t.Errorf("--kind completion %q lacks %s", r.stdout, k)
		}
	}
}
