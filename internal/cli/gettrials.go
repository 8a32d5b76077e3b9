package cli

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// trialListOptions are the inputs of tune get trials beyond getOptions.
type trialListOptions struct {
	sortBy        string
	desc          bool
	limit         int
	status        string
	filter        string
	columns       string
	watch         bool
	watchInterval time.Duration
}

const filterHelp = `comma-separated COLUMN OP VALUE terms that must all hold, e.g.
'lr<0.01,optimizer=adam'; OP is = != < <= > >=; metrics, numeric parameters,
duration (90s or seconds) and created (RFC 3339 or 2006-01-02) compare as
numbers, the rest as text (status case-insensitively); a trial without a
value for the column matches no term on it`

func addTrialListFlags(cmd *cobra.Command, o *getOptions) {
	fl := cmd.Flags()
	fl.StringVar(&o.list.sortBy, "sort-by", "", "sort by a metric, parameter, algorithm output (generation, parent), name, status, reason, created or duration; a leading - sorts descending (default: best first by the objective)")
	fl.BoolVar(&o.list.desc, "desc", false, "sort --sort-by descending")
	fl.IntVar(&o.list.limit, "limit", 0, "print at most N trials (0: all)")
	fl.StringVar(&o.list.status, "status", "", "only trials in these states, comma-separated, any case: "+strings.Join(results.StateNames(), ","))
	fl.StringVar(&o.list.filter, "filter", "", filterHelp)
	fl.StringVar(&o.list.columns, "columns", "", "the table's and csv's columns, comma-separated, from name, status, reason, message, created, started, finished, duration, exit, dir and the metrics and parameters")
	fl.BoolVarP(&o.list.watch, "watch", "w", false, "after the list, print each trial again whenever it appears or changes, until the experiment finishes")
	fl.DurationVar(&o.list.watchInterval, "watch-interval", time.Second, "how often --watch reads the store")
	_ = fl.MarkHidden("watch-interval")
}

// trialCol is one column of the trial table and csv.
type trialCol struct {
	name   string // as --columns and csv name it
	header string // as the table heads it
	// cell returns the row's value: rounded for reading, or in full for
	// csv; "" when absent.
	cell func(r *results.Row, full bool, now time.Time) string
}

// trialColumns returns the columns a table of t can show, by name, and
// the default ones (wide adds times, exit code and directory).
func trialColumns(t *results.Table, wide bool) (all map[string]trialCol, order []string, defaults []string) {
	all = map[string]trialCol{}
	add := func(c trialCol) {
		if _, dup := all[c.name]; !dup {
			order = append(order, c.name)
		}
		all[c.name] = c
	}
	timeCell := func(get func(*trial.Trial) time.Time) func(*results.Row, bool, time.Time) string {
		return func(r *results.Row, full bool, _ time.Time) string {
			tm := get(&r.Trial)
			switch {
			case tm.IsZero():
				return ""
			case full:
				return tm.UTC().Format(time.RFC3339Nano)
			}
			return tm.UTC().Format(time.RFC3339)
		}
	}
	add(trialCol{"name", "TRIAL", func(r *results.Row, _ bool, _ time.Time) string { return r.Trial.Name }})
	add(trialCol{"status", "STATUS", func(r *results.Row, _ bool, _ time.Time) string { return string(r.Trial.State) }})
	for _, m := range t.Metrics {
		c := trialCol{m, m, func(r *results.Row, full bool, _ time.Time) string {
			v, ok := r.Metrics[m]
			switch {
			case !ok && full:
				return r.Trial.Metrics[m].Text // reported as text, if at all
			case !ok:
				return shorten(r.Trial.Metrics[m].Text)
			case full:
				return strconv.FormatFloat(v, 'g', -1, 64)
			}
			return output.Number(v)
		}}
		add(c)
		add(trialCol{"metrics." + m, m, c.cell})
	}
	for i, p := range t.Space {
		c := trialCol{p.Name, p.Name, func(r *results.Row, full bool, _ time.Time) string {
			v := r.Params[i]
			if !full && p.Type == suggest.Double && v.Numeric {
				return output.Number(v.Num)
			}
			return v.Text
		}}
		if _, dup := all[p.Name]; !dup {
			add(c)
		}
		add(trialCol{"params." + p.Name, p.Name, c.cell})
	}
	// The values the algorithm adds to each assignment (DARTS's search
	// space, pbt's lineage), which NAS experiments have instead of
	// parameters: by their last path element when free (generation,
	// parent), else by their full name, and as params.NAME.
	var outputs []string
	for _, out := range t.Experiment.Spec.Outputs() {
		name := out.Name
		short := path.Base(name)
		c := trialCol{name, short, func(r *results.Row, full bool, _ time.Time) string {
			if full {
				return r.Trial.Parameters[name]
			}
			return shorten(r.Trial.Parameters[name])
		}}
		if _, dup := all[short]; !dup {
			c.name = short
		}
		if _, dup := all[c.name]; !dup {
			add(c)
			outputs = append(outputs, c.name)
		}
		add(trialCol{"params." + name, short, c.cell})
	}
	add(trialCol{"duration", "DURATION", func(r *results.Row, full bool, now time.Time) string {
		if r.Trial.Started.IsZero() {
			return ""
		}
		if full {
			return strconv.FormatFloat(r.Duration(now).Seconds(), 'f', -1, 64)
		}
		return output.Duration(r.Duration(now))
	}})
	add(trialCol{"reason", "REASON", func(r *results.Row, full bool, _ time.Time) string {
		if !full && r.Trial.State == trial.Succeeded {
			return ""
		}
		return r.Trial.Reason
	}})
	add(trialCol{"message", "MESSAGE", func(r *results.Row, full bool, _ time.Time) string {
		if full {
			return r.Trial.Message
		}
		return firstLine(r.Trial.Message)
	}})
	add(trialCol{"created", "CREATED", timeCell(func(t *trial.Trial) time.Time { return t.Created })})
	add(trialCol{"started", "STARTED", timeCell(func(t *trial.Trial) time.Time { return t.Started })})
	add(trialCol{"finished", "FINISHED", timeCell(func(t *trial.Trial) time.Time { return t.Finished })})
	add(trialCol{"exit", "EXIT", func(r *results.Row, _ bool, _ time.Time) string {
		if r.Trial.ExitCode == nil {
			return ""
		}
		return strconv.Itoa(*r.Trial.ExitCode)
	}})
	add(trialCol{"dir", "DIR", func(r *results.Row, _ bool, _ time.Time) string { return r.Trial.Dir }})

	defaults = []string{"name", "status"}
	defaults = append(defaults, t.Metrics...)
	for _, p := range t.Space {
		if slices.Contains(t.Metrics, p.Name) {
			defaults = append(defaults, "params."+p.Name)
		} else {
			defaults = append(defaults, p.Name)
		}
	}
	defaults = append(defaults, outputs...)
	defaults = append(defaults, "duration", "reason")
	if wide {
		defaults = append(defaults, outputs...)
		defaults = append(defaults, "created", "started", "finished", "exit", "dir")
	}
	return all, order, defaults
}

// trialList is what get trials prints: the table, the chosen rows in
// order and the columns.
type trialList struct {
	format output.Format
	tab    *results.Table
	filter results.Filter
	states []trial.State
	cols   []trialCol
	now    time.Time
}

// prepare checks the flags against the table and returns the list's rows
// in order. Flag errors are usage errors.
func (o *getOptions) prepare(tab *results.Table, format output.Format) (*trialList, []int, error) {
	l := &trialList{format: format, tab: tab, now: time.Now()}
	states, err := results.ParseStates(o.list.status)
	if err != nil {
		return nil, nil, usageErrorf("--status: %v", err)
	}
	l.states = states
	if l.filter, err = tab.ParseFilter(o.list.filter); err != nil {
		return nil, nil, usageErrorf("--filter: %v", err)
	}
	all, order, cols := trialColumns(tab, format.Kind() == output.Wide || format.Kind() == output.CSV)
	if o.list.columns != "" {
		cols = nil
		for _, c := range strings.Split(o.list.columns, ",") {
			c = strings.TrimSpace(c)
			if _, ok := all[c]; !ok {
				return nil, nil, usageErrorf("--columns: unknown column %q (known: %s)", c, strings.Join(order, ", "))
			}
			cols = append(cols, c)
		}
	}
	for _, c := range cols {
		l.cols = append(l.cols, all[c])
	}
	var idx []int
	if key := o.list.sortBy; key != "" {
		desc := o.list.desc
		if k, ok := strings.CutPrefix(key, "-"); ok {
			key, desc = k, true
		}
		k, err := tab.Key(key)
		if err != nil {
			return nil, nil, usageErrorf("--sort-by: %v", err)
		}
		idx = tab.Ranked() // ties keep the best-first order
		tab.Sort(idx, k, desc, l.now)
	} else {
		if o.list.desc {
			return nil, nil, usageErrorf("--desc: needs --sort-by COLUMN")
		}
		idx = tab.Ranked()
	}
	idx = slices.DeleteFunc(idx, func(i int) bool { return !l.match(&tab.Rows[i]) })
	if o.list.limit > 0 && len(idx) > o.list.limit {
		idx = idx[:o.list.limit]
	}
	return l, idx, nil
}

func (l *trialList) match(r *results.Row) bool {
	if len(l.states) > 0 && !slices.Contains(l.states, r.Trial.State) {
		return false
	}
	return l.tab.Match(l.filter, r, l.now)
}

// header returns the column headers: the table's, or csv's names.
func (l *trialList) header() []string {
	h := make([]string, len(l.cols))
	for i, c := range l.cols {
		if l.format.Kind() == output.CSV {
			h[i] = c.name
		} else {
			h[i] = c.header
		}
	}
	return h
}

func (l *trialList) cells(r *results.Row) []string {
	full := l.format.Kind() == output.CSV
	row := make([]string, len(l.cols))
	for i, c := range l.cols {
		row[i] = c.cell(r, full, l.now)
		if row[i] == "" && !full && c.name != "reason" && c.name != "message" {
			row[i] = "-"
		}
	}
	return row
}

// write prints rows idx; with header, the header too (table, wide, csv)
// and, for json and yaml, the rows as one list. Without it (a watch), data
// formats print each row on its own.
func (o *getOptions) write(l *trialList, tw *output.Aligned, idx []int, header bool) error {
	out := o.f.io.Out
	switch l.format.Kind() {
	case output.Table, output.Wide, output.CSV:
		rows := make([][]string, len(idx))
		for i, j := range idx {
			rows[i] = l.cells(&l.tab.Rows[j])
		}
		var h []string
		if header && !o.noHeaders {
			h = l.header()
		}
		if l.format.Kind() == output.CSV {
			return output.WriteCSV(out, escapeCells(h), escapeRows(rows))
		}
		return tw.Write(escapeCells(h), escapeRows(rows))
	case output.Name:
		names := make([]string, len(idx))
		for i, j := range idx {
			names[i] = escapeControl(l.tab.Rows[j].Trial.Name, false)
		}
		return output.WriteNames(out, names)
	}
	views := make([]trialView, len(idx))
	for i, j := range idx {
		views[i] = newTrialView(&l.tab.Rows[j].Trial, l.tab.Experiment)
	}
	if header && (!o.list.watch || l.format.Kind() == output.CustomColumns) {
		if l.format.Kind() == output.CustomColumns && o.noHeaders {
			return writeData(out, l.format, views, true)
		}
		return writeData(out, l.format, views, false)
	}
	for _, v := range views {
		var err error
		switch l.format.Kind() {
		case output.CustomColumns:
			err = writeData(out, l.format, v, true)
		case output.YAML:
			if _, err = fmt.Fprintln(out, "---"); err == nil {
				err = writeData(out, l.format, v, false)
			}
		case output.JSONPath:
			if err = writeData(out, l.format, v, false); err == nil {
				_, err = fmt.Fprintln(out)
			}
		default:
			err = writeData(out, l.format, v, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func escapeCells(cells []string) []string {
	if cells == nil {
		return nil
	}
	return escapeRows([][]string{cells})[0]
}

func runGetTrials(ctx context.Context, o *getOptions) error {
	format, err := output.ParseFormat(o.format)
	if err != nil {
		return usageErrorf("-o: %v", err)
	}
	if o.list.limit < 0 {
		return usageErrorf("--limit %d: want 0 (all) or more", o.list.limit)
	}
	if o.list.watchInterval <= 0 {
		return usageErrorf("--watch-interval %v: want more than 0", o.list.watchInterval)
	}
	top := 0
	if l := o.list; l.limit > 0 && l.sortBy == "" && l.status == "" && l.filter == "" && !l.watch {
		// Best first, cut at the limit: the first limit rows of
		// Ranked are all that is printed.
		top = l.limit
	}
	st, tab, err := o.loadTable(ctx, top)
	if err != nil {
		return err
	}
	defer st.Close()
	l, idx, err := o.prepare(tab, format)
	if err != nil {
		return err
	}
	tw := output.NewAligned(o.f.io.Out)
	if err := o.write(l, tw, idx, true); err != nil {
		return err
	}
	if !o.list.watch {
		return nil
	}
	seen := map[string]string{}
	for i := range tab.Rows {
		seen[tab.Rows[i].Trial.Name] = trialSignature(&tab.Rows[i])
	}
	tick := time.NewTicker(o.list.watchInterval)
	defer tick.Stop()
	for !experimentDone(tab.Experiment) {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		next, err := results.Load(ctx, st, o.name)
		if err != nil {
			return fmt.Errorf("watch %s: %w", o.name, err)
		}
		l.tab, l.now = next, time.Now()
		var changed []int
		for i := range next.Rows {
			r := &next.Rows[i]
			sig := trialSignature(r)
			if seen[r.Trial.Name] == sig {
				continue
			}
			seen[r.Trial.Name] = sig
			if l.match(r) {
				changed = append(changed, i)
			}
		}
		if err := o.write(l, tw, changed, false); err != nil {
			return err
		}
		tab = next
	}
	return nil
}

// experimentDone reports whether rec's runner has finished with it.
func experimentDone(rec *experiment.Record) bool {
	switch rec.Status.Phase {
	case experiment.Succeeded, experiment.Failed, experiment.Stopped:
		return true
	}
	return false
}

// trialSignature changes whenever a watch should print the trial again:
// its state, reason or metric values change.
func trialSignature(r *results.Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%v", r.Trial.State, r.Trial.Reason, r.Trial.Started.IsZero())
	keys := make([]string, 0, len(r.Trial.Metrics))
	for k := range r.Trial.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := r.Trial.Metrics[k]
		fmt.Fprintf(&b, "|%s:%d:%v:%v:%v", k, s.Count, s.Min, s.Max, s.Latest)
	}
	return b.String()
}
