package cli_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/internal/plot"
	"github.com/tune-hpo/tune/internal/testutil/browser"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the dashboard screenshot the README shows to docs/img/dashboard.png")

// startUI runs tune ui in-process on 127.0.0.1:0 over the store file
// storePath and returns the address it printed; the server stops when t
// ends, and must then exit 0.
func startUI(t *testing.T, storePath string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := append([]string{"--store", storePath, "ui", "--listen", "127.0.0.1:0"}, extra...)
	go func() {
		done <- cli.Main(ctx, args, cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("tune ui: exit %d: %s", code, errOut.String())
		}
	})
	addr := regexp.MustCompile(`open (http://127\.0\.0\.1:[0-9]+/)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			return strings.TrimSuffix(m[1], "/")
		}
		select {
		case code := <-done:
			t.Fatalf("tune ui exited %d before serving: %s%s", code, out.String(), errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tune ui printed no address in 30s: %q", out.String())
		}
	}
}

// cellValues is what the experiment page's trial table shows: by trial,
// by column key, the cell's full value (data-value) and its text.
type cellValues map[string]map[string][2]string

func tableCells(b *browser.Browser) cellValues {
	return browser.Eval[cellValues](b, `(() => {
		const out = {};
		for (const tr of document.querySelectorAll('#trials tbody tr')) {
			const row = out[tr.dataset.trial] = {};
			for (const td of tr.querySelectorAll('td[data-key]')) row[td.dataset.key] = [td.dataset.value || '', td.textContent];
		}
		return out;
	})()`)
}

// inked counts the pixels of a chart's canvas that are not background.
func inked(b *browser.Browser, chart string) int {
	return browser.Eval[int](b, `(() => {
		const c = tuneCharts.`+chart+`.getDom().querySelector('canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i+3] > 0 && (d[i] < 235 || d[i+1] < 235 || d[i+2] < 235)) n++;
		return n;
	})()`)
}

func parseNum(t *testing.T, what, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %q is not a number", what, s)
	}
	return f
}

// TestUIEndToEnd drives the dashboard as a user would: a real tune run,
// tune ui serving its store, headless Chromium through each page checking
// the numbers shown against values computed from the trials' parameters
// (the objective is known: loss = (x-1)² + (y+2)²), that each chart drew,
// and that pages follow a second tune run, in another process, live.
func TestUIEndToEnd(t *testing.T) {
	b := browser.New(t, 1400, 1100)
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "quad", Parallel: 3, Max: 10, MaxFailed: 3,
		Settings: "      - {name: random_state, value: \"11\"}"})
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run: exit %d: %s", r.code, r.stderr)
	}
	trials := getTrials(t, dir, "quad")
	type want struct{ x, y, loss float64 }
	wants := map[string]want{}
	bestName, bestLoss := "", math.Inf(1)
	for _, tr := range trials {
		w := want{parseNum(t, tr.Name+" x", tr.Parameters["x"]), parseNum(t, tr.Name+" y", tr.Parameters["y"]), quadratic(t, tr.Parameters)}
		wants[tr.Name] = w
		if w.loss < bestLoss {
			bestName, bestLoss = tr.Name, w.loss
		}
	}
	if len(wants) != 10 {
		t.Fatalf("%d trials, want 10", len(wants))
	}
	storePath := filepath.Join(dir, ".tune", "tune.db")
	url := startUI(t, storePath)
	shots := t.ArtifactDir()

	// The experiments list.
	b.Do(chromedp.Navigate(url + "/"))
	b.Wait(`document.body.dataset.ready === 'true'`, 30*time.Second)
	row := browser.Eval[[]string](b, `(() => { const r = document.querySelector('tr[data-name="quad"]');
		return [r.querySelector('.progress-text').textContent, r.querySelector('.best-value').dataset.value, r.cells[4].textContent, r.cells[1].textContent]; })()`)
	if row[0] != "10/10" || !near(parseNum(t, "best value", row[1]), bestLoss) || row[2] != bestName || !strings.HasPrefix(row[3], "Succeeded") {
		t.Errorf("experiments list row = %q, want 10/10, best %v by %s, Succeeded", row, bestLoss, bestName)
	}

	// The experiment page: table, charts, sort, filter, compare.
	b.Do(chromedp.Navigate(url + "/experiments/quad"))
	b.Wait(`document.body.dataset.ready === 'true' && (tuneView.curves || []).length > 0`, 30*time.Second)
	cells := tableCells(b)
	if len(cells) != 10 {
		t.Fatalf("trial table has %d rows, want 10", len(cells))
	}
	for name, w := range wants {
		c := cells[name]
		if c == nil {
			t.Errorf("trial %s is not in the table", name)
			continue
		}
		for key, v := range map[string]float64{"x": w.x, "y": w.y, "loss": w.loss, "accuracy": 1 / (1 + w.loss)} {
			full := parseNum(t, name+" "+key, c[key][0])
			shown := parseNum(t, name+" "+key+" text", c[key][1])
			if !near(full, v) || math.Abs(shown-v) > 5e-4*math.Abs(v) {
				t.Errorf("%s %s: cell %q (shown %q), want %v", name, key, c[key][0], c[key][1], v)
			}
		}
		if c["status"][1] != "Succeeded" {
			t.Errorf("%s: status %q", name, c["status"][1])
		}
	}
	if got := browser.Eval[string](b, `document.querySelector('#best-value').dataset.value`); !near(parseNum(t, "best card", got), bestLoss) {
		t.Errorf("best card = %s, want %v", got, bestLoss)
	}
	for _, chart := range []string{"history", "parallel", "slice"} {
		if got := browser.Eval[int](b, `tuneCharts.`+chart+`.getOption().series[0].data.length`); got != 10 {
			t.Errorf("%s chart: %d points, want 10", chart, got)
		}
	}
	for _, chart := range []string{"history", "parallel", "slice", "curves"} {
		if n := inked(b, chart); n < 500 {
			t.Errorf("%s chart: %d drawn pixels: blank", chart, n)
		}
	}
	if got := browser.Eval[float64](b, `(() => { const d = tuneCharts.history.getOption().series[2].data; return d[d.length-1][1]; })()`); !near(got, bestLoss) {
		t.Errorf("history: best so far ends at %v, want %v", got, bestLoss)
	}
	// Curves: trialprog prints loss+2, loss+1, loss at epochs 1..3.
	curve := browser.Eval[[][2]float64](b, `tuneCharts.curves.getOption().series.find(s => s.name === '`+bestName+`').data`)
	if len(curve) != 3 {
		t.Fatalf("curve of %s: %v, want 3 steps", bestName, curve)
	}
	for i, p := range curve {
		if p[0] != float64(i+1) || !near(p[1], bestLoss+float64(2-i)) {
			t.Errorf("curve of %s step %d = %v, want [%d %v]", bestName, i, p, i+1, bestLoss+float64(2-i))
		}
	}
	// Parameter importance: tune importance's shares, in its order.
	b.Wait(`document.querySelector('#importance').dataset.status !== undefined`, time.Minute)
	if got := browser.Eval[string](b, `document.querySelector('#importance').dataset.status`); got != "200" {
		t.Errorf("importance card status %q, want 200", got)
	}
	var imp struct {
		Importances []struct {
			Parameters []string `json:"parameters"`
			Importance float64  `json:"importance"`
		} `json:"importances"`
	}
	if r := tune(t, dir, "importance", "quad", "-o", "json"); r.code != 0 {
		t.Fatalf("tune importance: exit %d, %s", r.code, r.stderr)
	} else if err := json.Unmarshal([]byte(r.stdout), &imp); err != nil {
		t.Fatalf("tune importance -o json: %v: %s", err, r.stdout)
	}
	var impNames []string
	var impShares []float64
	for _, term := range imp.Importances {
		if len(term.Parameters) == 1 {
			impNames = append(impNames, term.Parameters[0])
			impShares = append(impShares, term.Importance)
		}
	}
	if len(impNames) != 2 {
		t.Fatalf("tune importance: %d single-parameter terms %v, want x and y", len(impNames), impNames)
	}
	// The bar chart: tune importance's shares, in its order (the most
	// important on top: an inverse category axis), each labelled.
	bars := browser.Eval[struct {
		Names   []string  `json:"names"`
		Values  []float64 `json:"values"`
		Inverse bool      `json:"inverse"`
		Labels  []string  `json:"labels"`
	}](b, `(() => { const o = tuneCharts.importance.getOption(); const s = o.series[0];
		return { names: o.yAxis[0].data, values: s.data, inverse: o.yAxis[0].inverse,
			labels: s.data.map((v, i) => s.label.formatter({ value: v, dataIndex: i })) }; })()`)
	if !slices.Equal(bars.Names, impNames) || !bars.Inverse {
		t.Errorf("importance chart bars %q (inverse axis %v), want tune importance's order %q top down", bars.Names, bars.Inverse, impNames)
	}
	for i := range impShares {
		if i >= len(bars.Values) || !near(bars.Values[i], impShares[i]) {
			t.Errorf("importance chart values %v, want %v", bars.Values, impShares)
			break
		}
		// Labels: 4 significant digits.
		if got := parseNum(t, "importance label", bars.Labels[i]); math.Abs(got-impShares[i]) > 5e-4*math.Abs(impShares[i]) || len(strings.Trim(strings.Replace(bars.Labels[i], ".", "", 1), "0")) > 4 {
			t.Errorf("importance label %d = %q, want %v to 4 significant digits", i, bars.Labels[i], impShares[i])
		}
	}
	if n := inked(b, "importance"); n < 300 {
		t.Errorf("importance chart: %d drawn pixels: blank", n)
	}

	// EDF: the sorted losses, the i-th (from 1) at height i/n.
	var losses []float64
	for _, w := range wants {
		losses = append(losses, w.loss)
	}
	slices.Sort(losses)
	edf := browser.Eval[[][2]float64](b, `tuneCharts.edf.getOption().series[0].data`)
	if len(edf) != len(losses) {
		t.Fatalf("EDF has %d points, want %d", len(edf), len(losses))
	}
	for i, p := range edf {
		if !near(p[0], losses[i]) || !near(p[1], float64(i+1)/float64(len(losses))) {
			t.Errorf("EDF point %d = %v, want [%v %v]", i, p, losses[i], float64(i+1)/float64(len(losses)))
		}
	}

	// Contour: once the shares are known, over the two most important
	// parameters; the grid is the losses interpolated by inverse-distance
	// weighting (power 2) on axes mapped to [0, 1], 60 points per axis
	// spanning the trials' values, as tune plot contour computes it.
	b.Wait(`tuneView.contour && tuneView.contour.x === '`+impNames[0]+`' && tuneView.contour.y === '`+impNames[1]+`'`, 10*time.Second)
	coord := func(w want, name string) float64 {
		if name == "x" {
			return w.x
		}
		return w.y
	}
	var cx, cy, cz []float64
	for _, name := range slices.Sorted(maps.Keys(wants)) {
		w := wants[name]
		cx, cy, cz = append(cx, coord(w, impNames[0])), append(cy, coord(w, impNames[1])), append(cz, w.loss)
	}
	unit := func(vs []float64) []float64 {
		lo, hi := slices.Min(vs), slices.Max(vs)
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = (v - lo) / (hi - lo)
		}
		return out
	}
	nx, ny := unit(cx), unit(cy)
	grid := browser.Eval[[][3]float64](b, `tuneCharts.contour.getOption().series[0].data`)
	if len(grid) != plot.GridSize*plot.GridSize {
		t.Fatalf("contour heatmap has %d cells, want %d×%d", len(grid), plot.GridSize, plot.GridSize)
	}
	lo, hi := slices.Min(losses), slices.Max(losses)
	seen, wrong := map[[2]int]bool{}, 0
	for _, cell := range grid {
		c, r := int(cell[0]), int(cell[1])
		seen[[2]int{c, r}] = true
		want := plot.IDW(nx, ny, cz, float64(c)/(plot.GridSize-1), float64(r)/(plot.GridSize-1))
		if math.Abs(cell[2]-want) > 1e-9*math.Max(1, math.Abs(want)) || cell[2] < lo-1e-9 || cell[2] > hi+1e-9 {
			if wrong++; wrong <= 3 {
				t.Errorf("contour cell (%d, %d) = %v, want %v (losses in [%v, %v])", c, r, cell[2], want, lo, hi)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("contour: %d of %d cells differ from the interpolation", wrong, len(grid))
	}
	if len(seen) != plot.GridSize*plot.GridSize {
		t.Errorf("contour heatmap covers %d distinct cells, want %d", len(seen), plot.GridSize*plot.GridSize)
	}
	pts := browser.Eval[[][4]float64](b, `tuneCharts.contour.getOption().series[1].data`)
	if len(pts) != len(wants) {
		t.Errorf("contour shows %d trials, want %d", len(pts), len(wants))
	}
	for _, p := range pts {
		i := slices.IndexFunc(cz, func(z float64) bool { return near(z, p[2]) })
		if i < 0 || !near(p[0], nx[i]*(plot.GridSize-1)) || !near(p[1], ny[i]*(plot.GridSize-1)) {
			t.Errorf("contour point %v is no trial's (grid position, loss)", p)
		}
	}
	for _, chart := range []string{"contour", "edf"} {
		if n := inked(b, chart); n < 500 {
			t.Errorf("%s chart: %d drawn pixels: blank", chart, n)
		}
	}
	png := b.Screenshot()
	writeShot(t, filepath.Join(shots, "experiment.png"), png)
	if *updateScreenshots {
		writeShot(t, filepath.Join("..", "..", "docs", "img", "dashboard.png"), png)
	}

	// Sort by the objective (minimised): the best trial first.
	b.Do(chromedp.Click(chromedp.CSS(`#trials th[data-key="loss"]`)))
	b.Wait(`document.querySelector('#trials tbody tr').dataset.trial === '`+bestName+`'`, 10*time.Second)
	b.Do(chromedp.Click(chromedp.CSS(`#trials th[data-key="loss"]`)))
	b.Wait(`document.querySelector('#trials tbody tr:last-child').dataset.trial === '`+bestName+`'`, 10*time.Second)

	// Filter: x<1 keeps exactly the trials with x < 1.
	var below []string
	for name, w := range wants {
		if w.x < 1 {
			below = append(below, name)
		}
	}
	slices.Sort(below)
	b.Do(chromedp.SendKeys(chromedp.CSS(`#filter`), "x<1"))
	b.Wait(fmt.Sprintf(`document.querySelectorAll('#trials tbody tr').length === %d`, len(below)), 10*time.Second)
	if shown := slices.Sorted(maps.Keys(tableCells(b))); !slices.Equal(shown, below) {
		t.Errorf("filter x<1 shows %v, want %v", shown, below)
	}
	b.Do(setFilter("nosuch<3"))
	b.Wait(`document.querySelector('#filter-error').textContent.includes('unknown column "nosuch"')`, 10*time.Second)
	b.Do(setFilter(""))
	b.Wait(`document.querySelectorAll('#trials tbody tr').length === 10`, 10*time.Second)

	// Brushing the parallel-coordinates x axis to [-1, 1] filters the table.
	var brushed []string
	for name, w := range wants {
		if w.x >= -1 && w.x <= 1 {
			brushed = append(brushed, name)
		}
	}
	slices.Sort(brushed)
	b.Do(chromedp.Evaluate[chromedp.Void](`(() => { const c = tuneCharts.parallel;
		c.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: c.getModel().getComponent('parallelAxis', 0).id, intervals: [[-1, 1]] }); })()`))
	b.Wait(fmt.Sprintf(`document.querySelectorAll('#trials tbody tr').length === %d`, len(brushed)), 10*time.Second)
	if got := slices.Sorted(maps.Keys(tableCells(b))); !slices.Equal(got, brushed) {
		t.Errorf("parallel coordinates x in [-1, 1] shows %v, want %v", got, brushed)
	}
	b.Do(chromedp.Evaluate[chromedp.Void](`(() => { const c = tuneCharts.parallel;
		c.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: c.getModel().getComponent('parallelAxis', 0).id, intervals: [] }); })()`))
	b.Wait(`document.querySelectorAll('#trials tbody tr').length === 10`, 10*time.Second)

	// Compare two trials side by side.
	other := trials[len(trials)-1].Name
	if other == bestName {
		other = trials[0].Name
	}
	b.Do(chromedp.Click(chromedp.CSS(`tr[data-trial="`+bestName+`"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`tr[data-trial="`+other+`"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`#compare-btn`)))
	b.Wait(`!document.querySelector('#compare').hidden`, 10*time.Second)
	cmp := browser.Eval[map[string][]string](b, `(() => { const o = {};
		for (const tr of document.querySelectorAll('#compare-table tr[data-row]')) o[tr.dataset.row] = [...tr.querySelectorAll('td')].map(td => (td.classList.contains('diff') ? '*' : '') + (td.dataset.value || ''));
		return o; })()`)
	for key, f := range map[string]func(want) float64{"x": func(w want) float64 { return w.x }, "y": func(w want) float64 { return w.y }, "loss": func(w want) float64 { return w.loss }} {
		got := cmp[key]
		if len(got) != 2 {
			t.Errorf("compare %s: %q, want two values", key, got)
			continue
		}
		for i, name := range []string{bestName, other} {
			v := strings.TrimPrefix(got[i], "*")
			if !near(parseNum(t, "compare "+key, v), f(wants[name])) {
				t.Errorf("compare %s of %s = %s, want %v", key, name, v, f(wants[name]))
			}
			if key != "loss" && !strings.HasPrefix(got[i], "*") {
				t.Errorf("compare %s: differing values %q not highlighted", key, got)
			}
		}
	}
	// The curves chart follows the selection.
	b.Wait(`tuneView.curves.length === 2`, 10*time.Second)
	writeShot(t, filepath.Join(shots, "compare.png"), b.Screenshot())
	b.Check()

	// The trial page of the best trial.
	b.Do(chromedp.Navigate(url + "/experiments/quad/trials/" + bestName))
	b.Wait(`document.body.dataset.ready === 'true'`, 30*time.Second)
	params := browser.Eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('#params tr')].map(tr => [tr.dataset.param, tr.cells[1].textContent]))`)
	for _, tr := range trials {
		if tr.Name != bestName {
			continue
		}
		if params["x"] != tr.Parameters["x"] || params["y"] != tr.Parameters["y"] {
			t.Errorf("trial page parameters %v, want x=%s y=%s", params, tr.Parameters["x"], tr.Parameters["y"])
		}
	}
	if got := browser.Eval[string](b, `document.querySelector('tr[data-metric="loss"] td').dataset.value`); !near(parseNum(t, "trial loss", got), bestLoss) {
		t.Errorf("trial page loss = %s, want %v", got, bestLoss)
	}
	tc := browser.Eval[[][2]float64](b, `tuneCharts.trial.getOption().series.find(s => s.name === 'loss').data`)
	if len(tc) != 3 || !near(tc[2][1], bestLoss) || !near(tc[0][1], bestLoss+2) {
		t.Errorf("trial page loss curve = %v, want 3 steps ending at %v", tc, bestLoss)
	}
	if n := inked(b, "trial"); n < 500 {
		t.Errorf("trial chart: %d drawn pixels: blank", n)
	}
	if out := browser.Eval[string](b, `document.querySelector('#stdout').textContent`); !strings.Contains(out, "epoch 3: loss=") {
		t.Errorf("stdout tail = %q, want trialprog's epoch lines", out)
	}
	writeShot(t, filepath.Join(shots, "trial.png"), b.Screenshot())
	b.Check()

	// Live: a second experiment run by another tune process, its trials
	// held until the gate file exists. The pages follow it without reloads.
	gate := filepath.Join(dir, "gate")
	liveFile := writeExperiment(t, dir, expParams{Name: "live", Parallel: 2, Max: 4, MaxFailed: 1,
		Extra: fmt.Sprintf(", %q, %q", "--wait-for", gate)})
	run := tuneProcess(t, dir, "run", "-q", liveFile)
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			_ = run.Process.Kill()
			_ = run.Wait()
		}
	})
	b.Do(chromedp.Navigate(url + "/"))
	b.Wait(`document.body.dataset.ready === 'true'`, 30*time.Second)
	b.Do(chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	b.Wait(`(() => { const r = document.querySelector('tr[data-name="live"]');
		return r && r.querySelector('.progress-text').textContent === '0/4, 2 running'; })()`, 60*time.Second)
	b.Do(chromedp.Navigate(url + "/experiments/live"))
	b.Wait(`document.body.dataset.ready === 'true'`, 30*time.Second)
	b.Do(chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	if got := browser.Eval[string](b, `document.querySelector('#phase').textContent`); got != "Running" {
		t.Errorf("live experiment page: phase %q while its trials wait, want Running", got)
	}
	b.Wait(`document.querySelector('#importance').dataset.status === '422'`, 30*time.Second)
	renders := browser.Eval[string](b, `document.body.dataset.renders`)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The table updates first, the charts one per task after it, then the
	// render counter.
	b.Wait(`document.querySelector('#phase').textContent === 'Succeeded' && document.querySelectorAll('#trials tbody tr').length === 4 &&
		[...document.querySelectorAll('#trials td[data-key="loss"]')].every(td => td.dataset.value) &&
		document.body.dataset.renders !== '`+renders+`'`, 60*time.Second)
	if !browser.Eval[bool](b, `window.sameDocument === true`) {
		t.Error("the page reloaded: want it to update in place")
	}
	if got := browser.Eval[int](b, `tuneCharts.history.getOption().series[0].data.length`); got != 4 {
		t.Errorf("live history chart: %d points after the run, want 4", got)
	}
	// The EDF and the contour follow the run; the importance card, which had
	// too few trials while they waited, asks again and draws the shares.
	if got := browser.Eval[int](b, `tuneCharts.edf.getOption().series[0].data.length`); got != 4 {
		t.Errorf("live EDF: %d points after the run, want 4", got)
	}
	b.Wait(`tuneCharts.contour.getOption().series[1].data.length === 4`, 10*time.Second)
	b.Wait(`document.querySelector('#importance').dataset.status === '200' && tuneCharts.importance.getOption().series[0].data.length === 2`, time.Minute)
	waited = true
	if err := run.Wait(); err != nil {
		t.Fatalf("live run: %v: %s", err, runOut.String())
	}
	liveCells := tableCells(b)
	for _, tr := range getTrials(t, dir, "live") {
		got := parseNum(t, tr.Name+" loss", liveCells[tr.Name]["loss"][0])
		if want := quadratic(t, tr.Parameters); !near(got, want) {
			t.Errorf("live %s: loss %v, want %v", tr.Name, got, want)
		}
	}
	writeShot(t, filepath.Join(shots, "live.png"), b.Screenshot())
	b.Check()
}

// setFilter replaces the trial table's filter text, as pasting it would.
func setFilter(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const f = document.querySelector('#filter');
		f.value = %q; f.dispatchEvent(new Event('input')); })()`, text))
}

func writeShot(t *testing.T, path string, png []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
