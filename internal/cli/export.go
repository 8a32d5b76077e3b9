package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/suggest"
)

// exportOptions are the inputs of tune export.
type exportOptions struct {
	f            *factory
	name         string
	format       string
	out          string
	observations bool
}

// The export formats.
const (
	exportCSV     = "csv"
	exportJSONL   = "jsonl"
	exportParquet = "parquet"
)

func newExportCommand(f *factory) *cobra.Command {
	o := &exportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Write an experiment's trials (or their per-step metric log) as csv, jsonl or parquet",
		Long: `export writes one row per trial, in creation order: trial, seq, status, reason,
message, exit_code, created, started, finished, duration_seconds, each
parameter (typed: numbers as numbers), each value a NAS algorithm adds (darts:
algorithm-settings, search-space, num-layers), then for each metric its value
chosen by the metric's strategy (METRIC) and METRIC.min, METRIC.max,
METRIC.latest and METRIC.count, and METRIC.text when some trial reported it
as text (as DARTS's Best-Genotype). A value that is absent (a metric never reported, a trial
not finished) is empty in csv and null in jsonl and parquet. Times are RFC
3339 in UTC (timestamps in parquet).

--observations writes the per-step observation log instead: trial, metric,
step (null when the source gave none), value, time, text (a value reported
as text, such as DARTS's Best-Genotype, with value null; null otherwise); one
row per reported value, trial by trial in creation order.

The file is written whole or not at all (a temporary file renamed into
place); - (the default) is standard output. Without --format the format
comes from FILE's extension (.csv, .jsonl or .ndjson, .parquet), csv
otherwise.`,
		Args: exactArgs(1, "EXPERIMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runExport(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "", "csv, jsonl or parquet (default from -o's extension, else csv)")
	cmd.Flags().StringVarP(&o.out, "output", "o", "-", "file to write; - is standard output")
	cmd.Flags().BoolVar(&o.observations, "observations", false, "export the per-step metric log instead of one row per trial")
	return cmd
}

// exportCol is one column of an export: its name, its type, and the value
// of one row (ok false when absent).
type exportCol struct {
	name string
	kind colKind
}

type colKind int

const (
	colString colKind = iota
	colInt
	colFloat
	colTime
)

// exportTable is the columns and rows of an export; each cell is a string,
// int64, float64 or time.Time by its column's kind, or nil when absent.
type exportTable struct {
	cols []exportCol
	rows [][]any
	// escape makes csv and jsonl safe for a terminal (standard output):
	// control characters in csv cells are written as visible escapes, and
	// C1 characters in jsonl as JSON's \u escapes (the same strings).
	escape bool
}

func exportFormat(o *exportOptions) (string, error) {
	switch o.format {
	case exportCSV, exportJSONL, exportParquet:
		return o.format, nil
	case "":
		switch strings.ToLower(filepath.Ext(o.out)) {
		case ".jsonl", ".ndjson":
			return exportJSONL, nil
		case ".parquet":
			return exportParquet, nil
		}
		return exportCSV, nil
	}
	return "", usageErrorf("--format %q: want csv, jsonl or parquet", o.format)
}

func runExport(ctx context.Context, o *exportOptions) error {
	format, err := exportFormat(o)
	if err != nil {
		return err
	}
	st, tab, err := o.f.readTable(ctx, o.name)
	if err != nil {
		return err
	}
	defer st.Close()
	var et *exportTable
	if o.observations {
		et = &exportTable{cols: []exportCol{{"trial", colString}, {"metric", colString}, {"step", colInt}, {"value", colFloat}, {"time", colTime}, {"text", colString}}}
		for i := range tab.Rows {
			name := tab.Rows[i].Trial.Name
			logs, err := st.Logs(ctx, o.name, name)
			if err != nil {
				return fmt.Errorf("export %s: %w", o.name, err)
			}
			for _, l := range logs {
				var step any
				if l.Step >= 0 {
					step = l.Step
				}
				var value, text any = l.Value, nil
				if l.Text != "" { // a value reported as text, not a number
					value, text = nil, l.Text
				}
				et.rows = append(et.rows, []any{name, l.Metric, step, value, l.Time, text})
			}
		}
	} else {
		et = trialExport(tab)
	}
	et.escape = o.out == "" || o.out == "-"
	return writeAtomic(o.f.io.Out, o.out, func(w io.Writer) error {
		switch format {
		case exportJSONL:
			return et.writeJSONL(w)
		case exportParquet:
			return et.writeParquet(w)
		}
		return et.writeCSV(w)
	})
}

// trialExport lays out tab as one row per trial.
func trialExport(tab *results.Table) *exportTable {
	et := &exportTable{cols: []exportCol{
		{"trial", colString}, {"seq", colInt}, {"status", colString}, {"reason", colString}, {"message", colString},
		{"exit_code", colInt}, {"created", colTime}, {"started", colTime}, {"finished", colTime}, {"duration_seconds", colFloat},
	}}
	taken := map[string]bool{}
	for _, c := range et.cols {
		taken[c.name] = true
	}
	for _, m := range tab.Metrics {
		taken[m] = true
	}
	paramCols := make([]string, len(tab.Space))
	for i, p := range tab.Space {
		name := p.Name
		if taken[name] {
			name = "params." + name
		}
		taken[name] = true
		paramCols[i] = name
		kind := colString
		switch {
		case p.Type == suggest.Int:
			kind = colInt
		case p.Type == suggest.Double:
			kind = colFloat
		case p.Type == suggest.Discrete && allNumbers(p.Values):
			kind = colFloat
		}
		et.cols = append(et.cols, exportCol{name, kind})
	}
	// The values a NAS algorithm adds to each assignment, as text.
	var outputs []string
	for _, o := range tab.Experiment.Spec.Outputs() {
		name := o.Name
		if taken[name] {
			name = "params." + name
		}
		taken[name] = true
		outputs = append(outputs, o.Name)
		et.cols = append(et.cols, exportCol{name, colString})
	}
	// A metric some trial reported as text gets a column for it.
	texts := map[string]bool{}
	for _, m := range tab.Metrics {
		et.cols = append(et.cols, exportCol{m, colFloat}, exportCol{m + ".min", colFloat}, exportCol{m + ".max", colFloat},
			exportCol{m + ".latest", colFloat}, exportCol{m + ".count", colInt})
		if slices.ContainsFunc(tab.Rows, func(r results.Row) bool { return r.Trial.Metrics[m].Text != "" }) {
			texts[m] = true
			et.cols = append(et.cols, exportCol{m + ".text", colString})
		}
	}
	now := time.Now()
	for i := range tab.Rows {
		r := &tab.Rows[i]
		t := &r.Trial
		row := []any{t.Name, int64(t.Seq), string(t.State), t.Reason, t.Message, nil, timeOrNil(t.Created), timeOrNil(t.Started), timeOrNil(t.Finished), nil}
		if t.ExitCode != nil {
			row[5] = int64(*t.ExitCode)
		}
		if !t.Started.IsZero() {
			row[9] = r.Duration(now).Seconds()
		}
		for j, p := range tab.Space {
			v := r.Params[j]
			switch et.cols[len(row)].kind {
			case colInt:
				if n, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
					row = append(row, n)
				} else if v.Numeric && v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1<<53 {
					row = append(row, int64(v.Num))
				} else {
					row = append(row, nil)
				}
			case colFloat:
				if v.Numeric {
					row = append(row, v.Num)
				} else {
					row = append(row, nil)
				}
			default:
				if _, ok := t.Parameters[p.Name]; ok {
					row = append(row, v.Text)
				} else {
					row = append(row, nil)
				}
			}
		}
		for _, name := range outputs {
			if v, ok := t.Parameters[name]; ok {
				row = append(row, v)
			} else {
				row = append(row, nil)
			}
		}
		for _, m := range tab.Metrics {
			s, ok := t.Metrics[m]
			if !ok || s.Count == 0 {
				row = append(row, nil, nil, nil, nil, int64(0))
			} else {
				var val any
				if v, ok := r.Metrics[m]; ok {
					val = v
				}
				row = append(row, val, s.Min, s.Max, s.Latest, int64(s.Count))
			}
			if texts[m] {
				var text any
				if s.Text != "" {
					text = s.Text
				}
				row = append(row, text)
			}
		}
		et.rows = append(et.rows, row)
	}
	return et
}

func allNumbers(vals []string) bool {
	for _, v := range vals {
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return len(vals) > 0
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// exportText formats a cell for csv: numbers in full, times RFC 3339, absent
// empty.
func exportText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func (et *exportTable) writeCSV(w io.Writer) error {
	header := make([]string, len(et.cols))
	for i, c := range et.cols {
		header[i] = c.name
	}
	rows := make([][]string, len(et.rows))
	for i, r := range et.rows {
		rows[i] = make([]string, len(r))
		for j, v := range r {
			rows[i][j] = exportText(v)
		}
	}
	if et.escape {
		header, rows = escapeCells(header), escapeRows(rows)
	}
	return output.WriteCSV(w, header, rows)
}

func (et *exportTable) writeJSONL(w io.Writer) error {
	for _, r := range et.rows {
		// An object whose keys keep the columns' order.
		b := []byte{'{'}
		for j, v := range r {
			if j > 0 {
				b = append(b, ',')
			}
			k, err := json.Marshal(et.cols[j].name)
			if err != nil {
				return err
			}
			b = append(b, k...)
			b = append(b, ':')
			var jv []byte
			if t, ok := v.(time.Time); ok {
				jv, err = json.Marshal(t.Format(time.RFC3339Nano))
			} else {
				jv, err = json.Marshal(v)
			}
			if err != nil {
				return fmt.Errorf("encode jsonl: column %s: %w", et.cols[j].name, err)
			}
			b = append(b, jv...)
		}
		b = append(b, '}')
		if et.escape {
			b = output.EscapeJSON(b)
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writeParquet writes the table as one parquet file, every column
// optional, Snappy-compressed. The file's columns are in name order (a
// parquet group's are).
func (et *exportTable) writeParquet(w io.Writer) error {
	group := parquet.Group{}
	for _, c := range et.cols {
		var n parquet.Node
		switch c.kind {
		case colInt:
			n = parquet.Int(64)
		case colFloat:
			n = parquet.Leaf(parquet.DoubleType)
		case colTime:
			n = parquet.Timestamp(parquet.Nanosecond)
		default:
			n = parquet.String()
		}
		group[c.name] = parquet.Compressed(parquet.Optional(n), &parquet.Snappy)
	}
	schema := parquet.NewSchema("tune", group)
	index := map[string]int{}
	for i, path := range schema.Columns() {
		index[path[0]] = i
	}
	pw := parquet.NewWriter(w, schema)
	row := make(parquet.Row, len(et.cols))
	for _, r := range et.rows {
		for j, v := range r {
			col := index[et.cols[j].name]
			var pv parquet.Value
			switch x := v.(type) {
			case nil:
				pv = parquet.NullValue().Level(0, 0, col)
			case time.Time:
				pv = parquet.ValueOf(x.UnixNano()).Level(0, 1, col)
			default:
				pv = parquet.ValueOf(x).Level(0, 1, col)
			}
			row[col] = pv
		}
		if _, err := pw.WriteRows([]parquet.Row{row}); err != nil {
			return fmt.Errorf("write parquet: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

// writeAtomic calls write with standard output when path is - or empty,
// else with a temporary file beside path that it renames to path once
// write succeeded (and removes otherwise).
func writeAtomic(stdout io.Writer, path string, write func(io.Writer) error) (err error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriter(stdout)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	return nil
}
