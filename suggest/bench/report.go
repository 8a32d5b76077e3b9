package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/tune-hpo/tune/suggest/algorithms"
)

// rawRecord is one line of the -raw file: one run's regret at one budget.
type rawRecord struct {
	Function    string  `json:"function"`
	Algorithm   string  `json:"algorithm"`
	Parallelism int     `json:"parallelism"`
	Seed        int     `json:"seed"`
	Budget      int     `json:"budget"`
	Regret      float64 `json:"regret"`
}

// rawRegrets returns every run's regret at every budget as JSON lines.
func rawRegrets(o *options, algs []algorithm, res results) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for p, par := range o.parallel {
		for f, fn := range o.functions {
			for a, alg := range algs {
				for s, r := range res[p][f][a] {
					for _, budget := range o.budgets {
						_ = enc.Encode(rawRecord{Function: fn.name, Algorithm: alg.name, Parallelism: par, Seed: s, Budget: budget, Regret: bestOf(r.values, budget) - fn.optimum})
					}
				}
			}
		}
	}
	return b.Bytes()
}

// renderReport formats the results as markdown: per parallelism, a regret
// table (rows function × budget, columns algorithm), what auto chose, the
// algorithms' average ranks, the category and boundary tables and a table
// of Suggest call times.
func renderReport(o *options, algs []algorithm, res results) string {
	var b strings.Builder
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = a.name
	}
	fmt.Fprintf(&b, "# Simple regret\n\n")
	fmt.Fprintf(&b, "`tune bench suggest%s`\n\n", quoteArgs(o.args))
	fmt.Fprintf(&b, "Budgets %s, %d seeds, parallelism %s, algorithms %s.\n",
		joinInts(o.budgets), o.seeds, joinInts(o.parallel), strings.Join(names, ", "))
	fmt.Fprintf(&b, "Each cell is the median [first quartile, third quartile] over the seeds of the simple regret:\n"+
		"the best objective among the first *budget* trials minus the function's minimum (lower is better;\n"+
		"the best median of a row is in bold). One run of %d trials per seed gives every budget.\n",
		o.budgets[len(o.budgets)-1])
	for p, par := range o.parallel {
		fmt.Fprintf(&b, "\n## Parallelism %d\n\n", par)
		t := table.NewWriter()
		t.AppendHeader(headerRow(names, "function", "budget"))
		// meds[b][f][a] is the median regret at budget o.budgets[b].
		meds := make([][][]float64, len(o.budgets))
		for b := range meds {
			meds[b] = make([][]float64, len(o.functions))
		}
		for f, fn := range o.functions {
			for b, budget := range o.budgets {
				row := table.Row{fmt.Sprintf("%s (%dD)", fn.name, len(fn.space)), budget}
				medians := make([]float64, len(algs))
				cells := make([]string, len(algs))
				for a := range algs {
					q1, med, q3 := quartiles(regretsAt(res[p][f][a], budget, fn.optimum))
					medians[a] = med
					cells[a] = fmt.Sprintf("%s [%s, %s]", formatRegret(med), formatRegret(q1), formatRegret(q3))
				}
				best := slices.Min(medians)
				meds[b][f] = medians
				for a, c := range cells {
					if len(algs) > 1 && medians[a] == best {
						c = "**" + c + "**"
					}
					row = append(row, c)
				}
				t.AppendRow(row)
			}
		}
		b.WriteString(t.RenderMarkdown())
		b.WriteString("\n")

		writeAutoChoices(&b, o, names, par)
		writeRankTable(&b, o, names, meds)
		writeCategoryTable(&b, o, names, res[p])
		writeBoundaryTable(&b, o, names, res[p])

		fmt.Fprintf(&b, "\nTime per Suggest call, parallelism %d (all functions and seeds; runs share the CPUs):\n\n", par)
		tt := table.NewWriter()
		tt.AppendHeader(table.Row{"algorithm", "calls", "mean", "p95"})
		for a, n := range names {
			var calls []time.Duration
			for f := range o.functions {
				for _, r := range res[p][f][a] {
					calls = append(calls, r.calls...)
				}
			}
			mean, p95 := timeStats(calls)
			tt.AppendRow(table.Row{n, len(calls), formatDuration(mean), formatDuration(p95)})
		}
		b.WriteString(tt.RenderMarkdown())
		b.WriteString("\n")
	}
	writeParallelTable(&b, o, names, res)
	return b.String()
}

// writeParallelTable writes, per function, parallelism p other than 1 and
// algorithm, what running p trials at once cost at the largest budget B:
// the median regret after B trials at p over the sequential run's, and the
// fewest trials after which the sequential median is as low as p's after
// B (">B" when the sequential run's after B is higher); nothing unless
// o.parallel has 1 and another.
func writeParallelTable(b *strings.Builder, o *options, names []string, res results) {
	seq := slices.Index(o.parallel, 1)
	if seq < 0 || len(o.parallel) < 2 {
		return
	}
	last := o.budgets[len(o.budgets)-1]
	t := table.NewWriter()
	t.AppendHeader(headerRow(names, "function", "parallelism"))
	for f, fn := range o.functions {
		// curves[a][n-1] is algorithm a's sequential median regret after n trials.
		curves := make([][]float64, len(names))
		for a := range names {
			curves[a] = medianCurve(res[seq][f][a], last, fn.optimum)
		}
		for p, par := range o.parallel {
			if p == seq {
				continue
			}
			row := table.Row{fn.name, par}
			for a := range names {
				_, med, _ := quartiles(regretsAt(res[p][f][a], last, fn.optimum))
				curve := curves[a]
				worth := fmt.Sprintf(">%d", last)
				if n := slices.IndexFunc(curve, func(c float64) bool { return c <= med }); n >= 0 {
					worth = strconv.Itoa(n + 1)
				}
				row = append(row, formatRatio(med, curve[len(curve)-1])+" · "+worth)
			}
			t.AppendRow(row)
		}
	}
	fmt.Fprintf(b, "\n## Parallel against sequential\n\n"+
		"After %[1]d trials: the median regret at the parallelism over the sequential one, "+
		"then the fewest trials after which the sequential median is as low as the parallel one after %[1]d "+
		"(the parallel run's worth in sequential trials; >%[1]d: lower than the sequential one after %[1]d):\n\n", last)
	b.WriteString(t.RenderMarkdown())
	b.WriteString("\n")
}

// regretsAt returns each run's simple regret after its first n trials.
func regretsAt(runs []runResult, n int, optimum float64) []float64 {
	out := make([]float64, len(runs))
	for s, r := range runs {
		out[s] = bestOf(r.values, n) - optimum
	}
	return out
}

// medianCurve returns the median over runs of the simple regret after
// 1, 2, …, n trials; it never rises.
func medianCurve(runs []runResult, n int, optimum float64) []float64 {
	curve := make([]float64, n)
	for i := range curve {
		_, curve[i], _ = quartiles(regretsAt(runs, i+1, optimum))
	}
	return curve
}

// formatRatio writes num/den with three significant digits; 1 when both
// are 0 and ∞ when only den is.
func formatRatio(num, den float64) string {
	switch {
	case num == 0 && den == 0:
		return "1"
	case den == 0:
		return "∞"
	}
	return strconv.FormatFloat(num/den, 'g', 3, 64)
}

// writeAutoChoices writes which algorithm auto ran on each function at
// parallelism par, grouped by algorithm; nothing when auto is not among
// names.
func writeAutoChoices(b *strings.Builder, o *options, names []string, par int) {
	if !slices.Contains(names, algorithms.Auto) {
		return
	}
	budget := o.budgets[len(o.budgets)-1]
	var order []string
	ran := map[string][]string{}
	for _, fn := range o.functions {
		c := algorithms.Choose(benchExperiment(fn.space, budget, par))
		if ran[c.Algorithm] == nil {
			order = append(order, c.Algorithm)
		}
		ran[c.Algorithm] = append(ran[c.Algorithm], fn.name)
	}
	parts := make([]string, len(order))
	for i, alg := range order {
		parts[i] = fmt.Sprintf("%s on %s", alg, strings.Join(ran[alg], ", "))
	}
	fmt.Fprintf(b, "\nauto ran (budget %d, parallelism %d): %s.\n", budget, par, strings.Join(parts, "; "))
}

// writeRankTable writes each algorithm's average rank at each budget: per
// function, the algorithms ranked by median regret (meds[b][f][a]; 1 the
// lowest, ties sharing the mean of their ranks), averaged over the
// functions; nothing for a single algorithm.
func writeRankTable(b *strings.Builder, o *options, names []string, meds [][][]float64) {
	if len(names) < 2 {
		return
	}
	t := table.NewWriter()
	t.AppendHeader(headerRow(names, "budget"))
	for bi, budget := range o.budgets {
		avg := averageRanks(meds[bi])
		best := slices.Min(avg)
		row := table.Row{budget}
		for _, r := range avg {
			c := strconv.FormatFloat(r, 'f', 2, 64)
			if r == best {
				c = "**" + c + "**"
			}
			row = append(row, c)
		}
		t.AppendRow(row)
	}
	fmt.Fprintf(b, "\nAverage rank over the %d functions: per function and budget, the algorithms ranked by median regret (1 the lowest; ties share the mean of their ranks), then averaged (lower is better):\n\n", len(o.functions))
	b.WriteString(t.RenderMarkdown())
	b.WriteString("\n")
}

// averageRanks returns, for rows[f][a] (one row of values per function),
// each column's mean over the rows of its [ranks] within its row.
func averageRanks(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	avg := make([]float64, len(rows[0]))
	for _, row := range rows {
		for a, r := range ranks(row) {
			avg[a] += r / float64(len(rows))
		}
	}
	return avg
}

// ranks returns the rank of each of xs in ascending order, from 1; equal
// values share the mean of the ranks they span, and NaN values rank last
// (tied with each other).
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	// cmp.Compare orders NaN first and equal to NaN; ranks wants it last.
	order := func(i, j int) int {
		if a, b := math.IsNaN(xs[i]), math.IsNaN(xs[j]); a || b {
			return cmp.Compare(btoi(a), btoi(b))
		}
		return cmp.Compare(xs[i], xs[j])
	}
	slices.SortStableFunc(idx, order)
	out := make([]float64, len(xs))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && order(idx[hi], idx[lo]) == 0 {
			hi++
		}
		shared := float64(lo+1+hi) / 2 // the mean of ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			out[i] = shared
		}
		lo = hi
	}
	return out
}

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeCategoryTable writes, for the functions whose optimum lies in one
// value of a categorical parameter, the share of seeds whose best trial
// among the first budget trials has that value; nothing when there is no
// such function.
func writeCategoryTable(b *strings.Builder, o *options, names []string, res [][][]runResult) {
	t := table.NewWriter()
	t.AppendHeader(headerRow(names, "function", "budget"))
	rows := 0
	for f, fn := range o.functions {
		if fn.category == "" {
			continue
		}
		for _, budget := range o.budgets {
			row := table.Row{fmt.Sprintf("%s (%s = %s)", fn.name, fn.category, fn.bestCategory), budget}
			for a := range names {
				right := 0
				for _, r := range res[f][a] {
					if i := bestIndex(r.values, budget); i >= 0 && r.categories[i] == fn.bestCategory {
						right++
					}
				}
				row = append(row, fmt.Sprintf("%d %%", (100*right+o.seeds/2)/o.seeds))
			}
			t.AppendRow(row)
			rows++
		}
	}
	if rows == 0 {
		return
	}
	b.WriteString("\nRight category: the share of seeds whose best trial among the first *budget* has the category that holds the optimum:\n\n")
	b.WriteString(t.RenderMarkdown())
	b.WriteString("\n")
}

// boundaryFrom is the number of trials after which proposals are counted
// by writeBoundaryTable: late in a run, when an algorithm has a model.
const boundaryFrom = 50

// writeBoundaryTable writes, per function and algorithm, the share of the
// trials after the first boundaryFrom whose double parameters sit, half or
// more of them, exactly on a bound; nothing when no run is that long.
func writeBoundaryTable(b *strings.Builder, o *options, names []string, res [][][]runResult) {
	if o.budgets[len(o.budgets)-1] <= boundaryFrom {
		return
	}
	t := table.NewWriter()
	t.AppendHeader(headerRow(names, "function"))
	for f, fn := range o.functions {
		row := table.Row{fn.name}
		for a := range names {
			on, all := 0, 0
			for _, r := range res[f][a] {
				for _, edge := range r.onBoundary[min(boundaryFrom, len(r.onBoundary)):] {
					all++
					if edge {
						on++
					}
				}
			}
			cell := "–"
			if all > 0 {
				cell = fmt.Sprintf("%.1f %%", 100*float64(on)/float64(all))
			}
			row = append(row, cell)
		}
		t.AppendRow(row)
	}
	fmt.Fprintf(b, "\nOn the boundary: the share of trials %d to %d with half or more of their double parameters exactly at a bound of the space (every function's optimum is inside):\n\n", boundaryFrom+1, o.budgets[len(o.budgets)-1])
	b.WriteString(t.RenderMarkdown())
	b.WriteString("\n")
}

// headerRow returns a table header of the columns first, then one per
// algorithm name.
func headerRow(names []string, first ...string) table.Row {
	row := make(table.Row, 0, len(first)+len(names))
	for _, c := range first {
		row = append(row, c)
	}
	for _, n := range names {
		row = append(row, n)
	}
	return row
}

// bestIndex returns the index of the smallest of the first n values (the
// earliest on ties), ignoring NaN; −1 when there is none.
func bestIndex(values []float64, n int) int {
	best := -1
	for i, v := range values[:min(n, len(values))] {
		if !math.IsNaN(v) && (best < 0 || v < values[best]) {
			best = i
		}
	}
	return best
}

// bestOf returns the smallest of the first n values, ignoring NaN, or NaN
// when there is none.
func bestOf(values []float64, n int) float64 {
	best := math.NaN()
	for _, v := range values[:min(n, len(values))] {
		if math.IsNaN(best) || v < best {
			best = v
		}
	}
	return best
}

// quartiles returns the first quartile, median and third quartile of xs,
// interpolating linearly between order statistics (the R type 7 definition
// also used by NumPy). NaN values sort last.
func quartiles(xs []float64) (q1, med, q3 float64) {
	s := slices.Clone(xs)
	slices.SortFunc(s, func(a, b float64) int {
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			return 0
		case math.IsNaN(a):
			return 1
		case math.IsNaN(b):
			return -1
		}
		return cmp.Compare(a, b)
	})
	return quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
}

// quantile returns the q-quantile of the sorted, non-empty s.
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// timeStats returns the mean and the 95th percentile (nearest rank) of ds.
func timeStats(ds []time.Duration) (mean, p95 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	rank := int(math.Ceil(0.95*float64(len(s)))) - 1
	return sum / time.Duration(len(s)), s[max(rank, 0)]
}

// formatRegret writes a regret with three significant digits.
func formatRegret(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// formatDuration writes d with three significant digits in a readable unit.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// quoteArgs writes args as a shell would need them, each preceded by a
// space.
func quoteArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=:+") == "" {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

// joinInts writes ns comma-separated.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
