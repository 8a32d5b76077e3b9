package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tune-hpo/tune/internal/testutil/browser"
	"github.com/tune-hpo/tune/internal/web"
	"github.com/tune-hpo/tune/store"
)

// TestExperimentPage5000 measures the experiment page of a 5,000-trial
// experiment in headless Chromium: the time from navigation until the
// table and every chart have drawn, and checks what it drew. The target is
// under 1 s (docs/compare.md); on a shared, loaded test machine the test
// only fails past 60 s, or past 1 s when TUNE_UI_PERF_STRICT=1. It logs
// the browser's processor time too, which depends little on the load.
// processCPU is this process's processor time so far (the server runs in
// it).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestExperimentPage5000(t *testing.T) {
	if os.Getenv("TUNE_UI_PERF") == "" {
		t.Skip("a measurement (fills a 5,000-trial store, about a minute): run it with TUNE_UI_PERF=1, as docs/compare.md says")
	}
	const n = 5000
	b := browser.New(t, 1400, 1000)
	path := filepath.Join(t.TempDir(), "tune.db")
	start := time.Now()
	gen := fillStore(t, path, n)
	t.Logf("filled %d trials in %v", n, time.Since(start).Round(time.Millisecond))
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(st, web.Options{TrialRoot: filepath.Dir(path)}))
	defer srv.Close()
	counted, bestName, bestAcc := 0, "", 0.0
	for _, g := range gen {
		if v, ok := g.objective(); ok {
			counted++
			if bestName == "" || v > bestAcc {
				bestName, bestAcc = g.name, v
			}
		}
	}

	var best, bestTable, bestCPU time.Duration
	for run := range 3 { // the first run warms Chromium's caches
		b.Do(chromedp.Navigate("about:blank"))
		cpu0, _ := b.CPUTime()
		srv0 := processCPU()
		t0 := time.Now()
		b.Do(chromedp.Navigate(srv.URL + "/experiments/mixed"))
		b.Wait(`document.body.dataset.ready === 'true'`, 60*time.Second)
		wall := time.Since(t0)
		cpu1, cpuOK := b.CPUTime()
		srvCPU := processCPU() - srv0
		pageMs, _ := strconv.Atoi(browser.Eval[string](b, `document.body.dataset.readyMs`))
		page := time.Duration(pageMs) * time.Millisecond
		tableMs, _ := strconv.Atoi(browser.Eval[string](b, `document.body.dataset.tableMs || '0'`))
		table := time.Duration(tableMs) * time.Millisecond
		t.Logf("run %d: %d trials: table drawn and answering input %v, all charts drawn %v after navigation (page clock; %v seen here); CPU: browser %v (ok %v), server and test %v; render ms %v",
			run+1, n, table, page, wall.Round(time.Millisecond), cpu1-cpu0, cpuOK, srvCPU.Round(time.Millisecond), browser.Eval[map[string]int](b, `tuneView.timings`))
		if run == 0 || table < bestTable {
			bestTable = table
		}
		if run == 0 || page < best {
			best = page
		}
		if run == 0 || cpu1-cpu0 < bestCPU {
			bestCPU = cpu1 - cpu0
		}
	}
	if got := browser.Eval[string](b, `document.querySelector('#trial-count').textContent`); got != strconv.Itoa(n)+" trials" {
		t.Errorf("trial count = %q", got)
	}
	if got := browser.Eval[int](b, `document.querySelectorAll('#trials tbody tr').length`); got != 100 {
		t.Errorf("table shows %d rows, want the first page of 100", got)
	}
	for chart, want := range map[string]int{"history": counted, "parallel": counted, "slice": counted} {
		if got := browser.Eval[int](b, `tuneCharts.`+chart+`.getOption().series[0].data.length`); got != want {
			t.Errorf("%s chart has %d points, want %d (trials that count)", chart, got, want)
		}
	}
	contour := browser.Eval[map[string]any](b, `Object.assign({ points: tuneCharts.contour.getOption().series[1].data.length }, tuneView.contour)`)
	t.Logf("contour: %v; EDF points: %d", contour, browser.Eval[int](b, `tuneCharts.edf.getOption().series[0].data.length`))
	if pts, _ := contour["points"].(float64); pts < 1 || int(pts) > counted {
		t.Errorf("contour shows %v trials, want between 1 and the %d that count", contour["points"], counted)
	}
	// Interactive: sorting all 5,000 rows by the objective answers at once.
	t0 := time.Now()
	b.Do(chromedp.Click(chromedp.CSS(`#trials th[data-key="accuracy"]`)))
	// The objective is maximised: its first click sorts best first.
	b.Wait(`document.querySelector('#trials tbody tr').dataset.trial === '`+bestName+`'`, 10*time.Second)
	t.Logf("sort of %d rows by accuracy: %v", n, time.Since(t0).Round(time.Millisecond))
	b.Check()
	t.Logf("experiment page of %d trials: best of 3 runs %v from navigation to the table drawn, %v to every chart drawn; browser CPU %v", n, bestTable, best, bestCPU)
	// Interactive: the table drawn and input answered (the charts then
	// draw one per task). TUNE_UI_PERF_STRICT holds it to the 1 s target,
	// for a quiet machine.
	limit := 60 * time.Second
	if os.Getenv("TUNE_UI_PERF_STRICT") == "1" {
		limit = time.Second
	}
	if bestTable > limit {
		t.Errorf("experiment page of %d trials was interactive after %v, over %v", n, bestTable, limit)
	}
}
