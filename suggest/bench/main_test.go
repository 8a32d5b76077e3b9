package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
)

func TestRunQuick(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.md")
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"-quick", "-algorithms", "random,sobol", "-o", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	report := stdout.String()
	for _, want := range []string{
		"Budgets 10,20, 2 seeds, parallelism 1,2",
		"## Parallelism 1", "## Parallelism 2",
		"| function | budget | random | sobol |",
		"| algorithm | calls | mean | p95 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	for _, name := range functionNames() {
		for _, budget := range []string{"10", "20"} {
			row := "| " + name + " ("
			if !strings.Contains(report, row) || !strings.Contains(report, ") | "+budget+" | ") {
				t.Errorf("report lacks the %s row at budget %s", name, budget)
			}
		}
	}
	if strings.Contains(report, "NaN") {
		t.Errorf("report has NaN:\n%s", report)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(report, string(file)); diff != "" {
		t.Errorf("-o file differs from stdout:\n%s", diff)
	}
	if strings.Contains(stderr.String(), "skipping") {
		t.Errorf("random or sobol skipped:\n%s", stderr.String())
	}
}

func TestRunSkipsUnimplemented(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-quick", "-seeds", "1", "-parallel", "1", "-functions", "branin", "-algorithms", "random,no-such-algorithm"}
	if err := Run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stderr.String(), "skipping no-such-algorithm") {
		t.Errorf("stderr %q does not note the skipped algorithm", stderr.String())
	}
	if !strings.Contains(stdout.String(), "| function | budget | random |\n") {
		t.Errorf("report has other columns than random:\n%s", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"bad budget":         {args: []string{"-budgets", "10,x"}, want: `-budgets: "x" is not a positive integer`},
		"zero budget":        {args: []string{"-budgets", "0"}, want: `-budgets: "0"`},
		"empty parallel":     {args: []string{"-parallel", ","}, want: "-parallel: empty list"},
		"zero seeds":         {args: []string{"-seeds", "0"}, want: "-seeds 0"},
		"unknown function":   {args: []string{"-functions", "branin,sphere"}, want: `unknown function "sphere"`},
		"nothing to run":     {args: []string{"-algorithms", "tpe-not-here"}, want: "no implemented algorithm"},
		"invalid flag":       {args: []string{"-nope"}, want: "flag provided but not defined"},
		"trailing arguments": {args: []string{"extra"}, want: "unexpected arguments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) error %v; want one containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	if err := Run(ctx, []string{"-quick", "-algorithms", "random"}, &stdout, &stderr); err == nil {
		t.Error("a cancelled run succeeded")
	}
}

// recorder is a Suggester that records its requests and proposes x = the
// trial number.
type recorder struct {
	reqs []suggest.Request
}

func (r *recorder) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	r.reqs = append(r.reqs, req)
	out := make([]suggest.Assignment, req.N)
	for i := range out {
		out[i] = suggest.Assignment{"x": strconv.Itoa(len(req.History) + i)}
	}
	return out, nil
}

// TestSimulateParallel checks the simulated driver: it keeps par trials
// pending, asks for the free slots and completes trials in order.
func TestSimulateParallel(t *testing.T) {
	fn := testFunction{
		name:  "identity",
		space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 100}},
		eval: func(a suggest.Assignment) (float64, error) {
			return strconv.ParseFloat(a["x"], 64)
		},
	}
	type call struct{ History, Pending, N int }
	tests := map[string]struct {
		par, budget int
		want        []call
	}{
		"sequential":   {par: 1, budget: 3, want: []call{{0, 0, 1}, {1, 0, 1}, {2, 0, 1}}},
		"parallel 3":   {par: 3, budget: 7, want: []call{{0, 0, 3}, {3, 2, 1}, {4, 2, 1}, {5, 2, 1}, {6, 2, 1}}},
		"par > budget": {par: 5, budget: 2, want: []call{{0, 0, 2}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			r, err := simulate(t.Context(), rec, fn, 9, tc.budget, tc.par)
			if err != nil {
				t.Fatal(err)
			}
			var got []call
			for _, req := range rec.reqs {
				c := call{History: len(req.History), N: req.N}
				for i, o := range req.History {
					switch o.Status {
					case suggest.Pending:
						c.Pending++
						if !math.IsNaN(o.Value) {
							t.Errorf("pending trial %d has value %v", i, o.Value)
						}
					case suggest.Completed:
						if o.Value != float64(i) {
							t.Errorf("completed trial %d has value %v", i, o.Value)
						}
					}
				}
				if req.Seed != 9 || req.Goal != suggest.Minimize {
					t.Errorf("request seed %d goal %v; want 9, Minimize", req.Seed, req.Goal)
				}
				got = append(got, c)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			wantValues := make([]float64, tc.budget)
			for i := range wantValues {
				wantValues[i] = float64(i)
			}
			if diff := cmp.Diff(wantValues, r.values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if len(r.calls) != len(tc.want) {
				t.Errorf("%d call times; want %d", len(r.calls), len(tc.want))
			}
		})
	}
}

// exhausting is a Suggester with only two assignments.
type exhausting struct{}

func (exhausting) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if len(req.History) >= 2 {
		return nil, suggest.ErrExhausted
	}
	return []suggest.Assignment{{"x": "1"}, {"x": "2"}}[len(req.History):min(2, len(req.History)+req.N)], nil
}

func TestSimulateExhausted(t *testing.T) {
	fn := testFunction{
		name:  "identity",
		space: suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 100}},
		eval: func(a suggest.Assignment) (float64, error) {
			return strconv.ParseFloat(a["x"], 64)
		},
	}
	r, err := simulate(t.Context(), exhausting{}, fn, 0, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{1, 2}, r.values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestQuartiles(t *testing.T) {
	tests := map[string]struct {
		xs          []float64
		q1, med, q3 float64
	}{
		"one":             {xs: []float64{4}, q1: 4, med: 4, q3: 4},
		"five":            {xs: []float64{5, 1, 4, 2, 3}, q1: 2, med: 3, q3: 4},
		"four":            {xs: []float64{1, 2, 3, 4}, q1: 1.75, med: 2.5, q3: 3.25},
		"NaN sorted last": {xs: []float64{math.NaN(), 1, 2, 3, 4}, q1: 2, med: 3, q3: math.NaN()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q1, med, q3 := quartiles(tc.xs)
			got := []float64{q1, med, q3}
			want := []float64{tc.q1, tc.med, tc.q3}
			if diff := cmp.Diff(want, got, cmpNaN()); diff != "" {
				t.Errorf("quartiles (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpNaN makes cmp treat NaN as equal to NaN.
func cmpNaN() cmp.Option {
	return cmp.Comparer(func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) })
}

func TestBestOf(t *testing.T) {
	values := []float64{5, math.NaN(), 3, 4, 1}
	for n, want := range map[int]float64{1: 5, 2: 5, 3: 3, 5: 1, 10: 1} {
		if got := bestOf(values, n); got != want {
			t.Errorf("bestOf(%v, %d) = %v; want %v", values, n, got, want)
		}
	}
	if got := bestOf([]float64{math.NaN()}, 1); !math.IsNaN(got) {
		t.Errorf("bestOf(NaN) = %v; want NaN", got)
	}
}

func TestTimeStats(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	mean, p95 := timeStats(ds)
	if mean != 50500*time.Microsecond || p95 != 95*time.Millisecond {
		t.Errorf("timeStats = %v, %v; want 50.5ms, 95ms", mean, p95)
	}
}

func TestRunRaw(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw.jsonl")
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"-quick", "-algorithms", "random", "-functions", "branin", "-parallel", "1", "-raw", raw}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 { // 2 seeds × budgets 10, 20
		t.Fatalf("raw file has %d lines, want 4:\n%s", len(lines), data)
	}
	var prev rawRecord
	for i, l := range lines {
		var r rawRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if r.Function != "branin" || r.Algorithm != "random" || r.Parallelism != 1 || r.Regret < 0 {
			t.Errorf("line %d = %+v", i, r)
		}
		// A larger budget never has a larger regret for the same run.
		if i%2 == 1 && (r.Seed != prev.Seed || r.Budget != 20 || r.Regret > prev.Regret) {
			t.Errorf("line %d = %+v after %+v", i, r, prev)
		}
		prev = r
	}
}

func TestOnBoundary(t *testing.T) {
	space := suggest.Space{
		{Name: "a", Type: suggest.Double, Min: 0, Max: 1},
		{Name: "b", Type: suggest.Double, Min: -5, Max: 5},
		{Name: "n", Type: suggest.Int, Min: 0, Max: 3},
		{Name: "k", Type: suggest.Categorical, Values: []string{"x", "y"}},
	}
	for _, c := range []struct {
		a    suggest.Assignment
		want bool
	}{
		{suggest.Assignment{"a": "0.5", "b": "0.1", "n": "0", "k": "x"}, false}, // ints and categoricals do not count
		{suggest.Assignment{"a": "1", "b": "0.1", "n": "1", "k": "x"}, true},    // half of the doubles
		{suggest.Assignment{"a": "0.999", "b": "-5", "n": "1", "k": "x"}, true},
		{suggest.Assignment{"a": "0.999", "b": "-4.99", "n": "3", "k": "y"}, false},
	} {
		if got := onBoundary(space, c.a); got != c.want {
			t.Errorf("onBoundary(%v) = %v, want %v", c.a, got, c.want)
		}
	}
	if onBoundary(suggest.Space{{Name: "n", Type: suggest.Int, Min: 0, Max: 3}}, suggest.Assignment{"n": "0"}) {
		t.Error("a space without doubles has no boundary here")
	}
}

// TestCategoryAndBoundaryTables checks the two tables from runs whose
// trials are known: the right category counts the best trial's, the
// boundary share counts only trials after the 50th.
func TestCategoryAndBoundaryTables(t *testing.T) {
	fn := testFunction{name: "f", category: "kind", bestCategory: "good"}
	o := &options{functions: []testFunction{fn}, budgets: []int{2, 60}, seeds: 2}
	fake := func(bestKind string, edges int) runResult {
		r := runResult{values: make([]float64, 60), categories: make([]string, 60), onBoundary: make([]bool, 60)}
		for i := range r.values {
			r.values[i], r.categories[i] = float64(100-i), "bad"
			r.onBoundary[i] = i < 50 || i-50 < edges // the first 50 must not count
		}
		r.values[1], r.categories[1] = -1, bestKind // best at both budgets
		return r
	}
	res := [][][]runResult{{{fake("good", 1), fake("bad", 3)}}}
	var b strings.Builder
	writeCategoryTable(&b, o, []string{"alg"}, res)
	writeBoundaryTable(&b, o, []string{"alg"}, res)
	out := b.String()
	for _, want := range []string{"| f (kind = good) | 2 | 50 % |", "| f (kind = good) | 60 | 50 % |", "trials 51 to 60", "| f | 20.0 % |"} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
}

// TestParallelTable checks the parallel table from runs whose regrets are
// known: the ratio of the medians after the last budget, and the trials
// the sequential median needs to be as low.
func TestParallelTable(t *testing.T) {
	o := &options{functions: []testFunction{{name: "f", optimum: -1}}, budgets: []int{5, 10}, parallel: []int{1, 4}, seeds: 3}
	// run returns a run whose regret after n trials is from − n + s: the
	// median of runs(from) is from − n + 1.
	run := func(from float64, s int) runResult {
		r := runResult{values: make([]float64, 10)}
		for i := range r.values {
			r.values[i] = from - float64(i+1) + float64(s) + o.functions[0].optimum
		}
		return r
	}
	runs := func(from float64) []runResult { return []runResult{run(from, 0), run(from, 1), run(from, 2)} }
	res := results{
		{{runs(10), runs(18)}}, // sequential: a's median 11 − n, b's 19 − n
		{{runs(13), runs(18)}}, // at 4: a's median after 10 is 4, b's 9
	}
	var b strings.Builder
	writeParallelTable(&b, o, []string{"a", "b"}, res)
	out := b.String()
	for _, want := range []string{
		"## Parallel against sequential",
		"After 10 trials",
		"| function | parallelism | a | b |",
		"| f | 4 | 4 · 7 | 1 · 10 |", // a: 4 / 1, sequential 11 − n ≤ 4 from n = 7; b: level
	} {
		if !strings.Contains(out, want) {
			t.Errorf("parallel table lacks %q:\n%s", want, out)
		}
	}

	res[1][0][1] = runs(16) // b's median after 10 at 4: 7, below its sequential 9
	b.Reset()
	writeParallelTable(&b, o, []string{"a", "b"}, res)
	if want := "| f | 4 | 4 · 7 | 0.778 · >10 |"; !strings.Contains(b.String(), want) {
		t.Errorf("parallel table lacks %q:\n%s", want, b.String())
	}

	o.parallel = []int{4, 8}
	b.Reset()
	writeParallelTable(&b, o, []string{"a", "b"}, res)
	if b.Len() != 0 {
		t.Errorf("a report without parallelism 1 has a parallel table:\n%s", b.String())
	}
}

func TestFormatRatio(t *testing.T) {
	for _, tc := range []struct {
		num, den float64
		want     string
	}{{3, 2, "1.5"}, {1, 3, "0.333"}, {0, 0, "1"}, {2, 0, "∞"}, {0, 4, "0"}} {
		if got := formatRatio(tc.num, tc.den); got != tc.want {
			t.Errorf("formatRatio(%v, %v) = %q, want %q", tc.num, tc.den, got, tc.want)
		}
	}
}

func TestRanks(t *testing.T) {
	nan := math.NaN()
	tests := map[string]struct {
		xs, want []float64
	}{
		"distinct":         {xs: []float64{3, 1, 2}, want: []float64{3, 1, 2}},
		"tie shares mean":  {xs: []float64{2, 1, 2, 5}, want: []float64{2.5, 1, 2.5, 4}},
		"all tied":         {xs: []float64{7, 7, 7}, want: []float64{2, 2, 2}},
		"NaN last, tied":   {xs: []float64{nan, 4, nan, 1}, want: []float64{3.5, 2, 3.5, 1}},
		"infinity not NaN": {xs: []float64{math.Inf(1), nan, 0}, want: []float64{2, 3, 1}},
		"none":             {xs: nil, want: []float64{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ranks(tc.xs)); diff != "" {
				t.Errorf("ranks(%v) (-want +got):\n%s", tc.xs, diff)
			}
		})
	}
}

// TestRankTable checks the average ranks from known medians: per function
// the algorithms are ranked, ties sharing, then the ranks are averaged.
func TestRankTable(t *testing.T) {
	o := &options{functions: []testFunction{{name: "f"}, {name: "g"}}, budgets: []int{50, 100}}
	meds := [][][]float64{
		{{1, 2, 3}, {3, 1, 2}}, // budget 50: a (1+3)/2, b (2+1)/2, c (3+2)/2
		{{1, 1, 2}, {2, 1, 1}}, // budget 100: a (1.5+3)/2, b (1.5+1.5)/2, c (3+1.5)/2
	}
	var b strings.Builder
	writeRankTable(&b, o, []string{"a", "b", "c"}, meds)
	out := b.String()
	for _, want := range []string{
		"Average rank over the 2 functions",
		"| budget | a | b | c |",
		"| 50 | 2.00 | **1.50** | 2.50 |",
		"| 100 | 2.25 | **1.50** | 2.25 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rank table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeRankTable(&b, o, []string{"a"}, [][][]float64{{{1}, {2}}, {{1}, {2}}})
	if b.Len() != 0 {
		t.Errorf("one algorithm has a rank table:\n%s", b.String())
	}
}

// TestRunAuto checks that auto runs in the benchmark, choosing as tune run
// does from the function's space, the largest budget and the parallelism,
// and that the report says what it ran and ranks it.
func TestRunAuto(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-seeds", "2", "-budgets", "4,8", "-parallel", "1,8", "-functions", "branin,mixed", "-algorithms", "auto,sobol,random"}
	if err := Run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	report := stdout.String()
	for _, want := range []string{
		"| function | budget | auto | sobol | random |",
		"auto ran (budget 8, parallelism 1): bayesianoptimization on branin, mixed.",
		"auto ran (budget 8, parallelism 8): sobol on branin, mixed.",
		"| budget | auto | sobol | random |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	// At parallelism 8 of 8 trials auto is sobol, run after run: the same
	// regrets, so the same rank in each row.
	section := report[strings.Index(report, "## Parallelism 8"):]
	section, _, _ = strings.Cut(section, "## Parallel against sequential")
	for _, line := range strings.Split(section, "\n") {
		if cells := strings.Split(line, " | "); strings.HasPrefix(line, "| branin") || strings.HasPrefix(line, "| mixed") {
			if len(cells) < 4 || strings.Trim(cells[2], "*") != strings.Trim(cells[3], "*") {
				t.Errorf("auto and sobol differ at parallelism 8: %s", line)
			}
		}
	}
}
