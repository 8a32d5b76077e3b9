package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
)

// renderReport formats the results as markdown: per parallelism, a regret
// table (rows function × budget, columns algorithm) and a table of Suggest
// call times.
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

func renderReport(o *options, algs []algorithm, res results) string {
	var b strings.Builder
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = a.name
	}
	fmt.Fprintf(&b, "# Simple regret\n\n")
	fmt.Fprintf(&b, "`go run ./internal/cmd/suggestbench%s`\n\n", quoteArgs(o.args))
	fmt.Fprintf(&b, "Budgets %s, %d seeds, parallelism %s, algorithms %s.\n",
		joinInts(o.budgets), o.seeds, joinInts(o.parallel), strings.Join(names, ", "))
	fmt.Fprintf(&b, "Each cell is the median [first quartile, third quartile] over the seeds of the simple regret:\n"+
		"the best objective among the first *budget* trials minus the function's minimum (lower is better;\n"+
		"the best median of a row is in bold). One run of %d trials per seed gives every budget.\n",
		o.budgets[len(o.budgets)-1])
	for p, par := range o.parallel {
		fmt.Fprintf(&b, "\n## Parallelism %d\n\n", par)
		t := table.NewWriter()
		header := table.Row{"function", "budget"}
		for _, n := range names {
			header = append(header, n)
		}
		t.AppendHeader(header)
		for f, fn := range o.functions {
			for _, budget := range o.budgets {
				row := table.Row{fmt.Sprintf("%s (%dD)", fn.name, len(fn.space)), budget}
				medians := make([]float64, len(algs))
				cells := make([]string, len(algs))
				for a := range algs {
					regrets := make([]float64, o.seeds)
					for s, r := range res[p][f][a] {
						regrets[s] = bestOf(r.values, budget) - fn.optimum
					}
					q1, med, q3 := quartiles(regrets)
					medians[a] = med
					cells[a] = fmt.Sprintf("%s [%s, %s]", formatRegret(med), formatRegret(q1), formatRegret(q3))
				}
				best := slices.Min(medians)
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
	return b.String()
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
		return cmpFloat(a, b)
	})
	return quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
}

// cmpFloat compares two numbers that are not NaN.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
