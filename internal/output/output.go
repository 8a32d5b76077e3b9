// Package output renders command results the same way for every read
// command, in the formats of kubectl get's -o: table, wide, json, yaml,
// csv, name, jsonpath=TEMPLATE and custom-columns=SPEC. It knows nothing
// of experiments: commands hand it rows of cells or values to encode.
package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"
)

// Format is an output format as given to -o: a name, or for jsonpath and
// custom-columns the name, "=" and its argument.
type Format string

// The format names.
const (
	Table         Format = "table"
	Wide          Format = "wide"
	JSON          Format = "json"
	YAML          Format = "yaml"
	CSV           Format = "csv"
	Name          Format = "name"
	JSONPath      Format = "jsonpath"
	CustomColumns Format = "custom-columns"
)

// Formats lists the accepted formats, for help and errors.
const Formats = "table|wide|json|yaml|csv|name|jsonpath=TEMPLATE|custom-columns=SPEC"

// ParseFormat returns the Format s names, or an error naming the allowed
// ones. A jsonpath template and a custom-columns spec are parsed here, so
// that a bad one is refused before anything is read.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	switch f.Kind() {
	case Table, Wide, JSON, YAML, CSV, Name:
		if f.Arg() == "" && !strings.Contains(s, "=") {
			return f, nil
		}
		return "", fmt.Errorf("output format %q takes no argument (allowed: %s)", f.Kind(), Formats)
	case JSONPath:
		if f.Arg() == "" {
			return "", fmt.Errorf("jsonpath needs a template, e.g. -o jsonpath='{.items[*].name}'")
		}
		if _, err := parseJSONPath(f.Arg()); err != nil {
			return "", err
		}
		return f, nil
	case CustomColumns:
		if _, err := parseColumns(f.Arg()); err != nil {
			return "", err
		}
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (allowed: %s)", s, Formats)
}

// Kind is the format's name without its argument.
func (f Format) Kind() Format {
	k, _, _ := strings.Cut(string(f), "=")
	return Format(k)
}

// Arg is the jsonpath template or custom-columns spec; empty for the other
// formats.
func (f Format) Arg() string {
	_, a, _ := strings.Cut(string(f), "=")
	return a
}

// IsData reports whether Data renders f (json, yaml, jsonpath,
// custom-columns); the others are cells (table, wide, csv) or names.
func (f Format) IsData() bool {
	switch f.Kind() {
	case JSON, YAML, JSONPath, CustomColumns:
		return true
	}
	return false
}

// Data writes v as indented JSON (control characters escaped, see
// EscapeJSON), as YAML (the same, in YAML's escapes), through a jsonpath template or
// as custom columns; v's JSON tags name the fields in all of them, and map
// keys come out sorted. When v encodes as a JSON array (a list), a
// jsonpath template sees it as {"kind": "List", "items": [...]}, as
// kubectl's does, and custom-columns prints one row per item. Missing
// keys print nothing in a template and <none> in a column. Other formats
// are an error.
func Data(w io.Writer, f Format, v any) error {
	switch f.Kind() {
	case YAML:
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode yaml: %w", err)
		}
		b, err := yaml.JSONToYAML(EscapeJSON(j))
		if err != nil {
			return fmt.Errorf("encode yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	case JSON:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		_, err := w.Write(EscapeJSON(b.Bytes()))
		return err
	case JSONPath:
		jp, err := parseJSONPath(f.Arg())
		if err != nil {
			return err
		}
		obj, err := generic(v)
		if err != nil {
			return err
		}
		if items, ok := obj.([]any); ok {
			obj = map[string]any{"kind": "List", "items": items}
		}
		if err := jp.Execute(w, obj); err != nil {
			return fmt.Errorf("jsonpath %s: %w", f.Arg(), err)
		}
		return nil
	case CustomColumns:
		return writeColumns(w, f.Arg(), v, false)
	}
	return fmt.Errorf("output format %q is not a data format", f)
}

// CustomColumnRows writes v as custom columns (see Data) without the
// header line, for a watch that prints one item at a time.
func CustomColumnRows(w io.Writer, f Format, v any) error {
	return writeColumns(w, f.Arg(), v, true)
}

// generic returns v as encoding/json decodes its JSON into an any.
func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	var obj any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	return obj, nil
}

func parseJSONPath(tmpl string) (*jsonpath.JSONPath, error) {
	jp := jsonpath.New("output").AllowMissingKeys(true)
	if err := jp.Parse(tmpl); err != nil {
		return nil, fmt.Errorf("jsonpath template %q: %w", tmpl, err)
	}
	return jp, nil
}

type column struct {
	header string
	path   *jsonpath.JSONPath
}

// parseColumns parses HEADER:FIELD[,HEADER:FIELD...], FIELD a jsonpath
// expression with or without its braces and leading dot (.metrics.loss,
// metrics.loss and {.metrics.loss} are the same).
func parseColumns(spec string) ([]column, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("custom-columns needs a spec, e.g. -o custom-columns=NAME:.name,LOSS:.metrics.loss")
	}
	var cols []column
	for _, part := range strings.Split(spec, ",") {
		header, field, ok := strings.Cut(part, ":")
		if !ok || header == "" || field == "" {
			return nil, fmt.Errorf("custom-columns: %q is not HEADER:FIELD (e.g. LOSS:.metrics.loss)", part)
		}
		expr := field
		if !strings.HasPrefix(expr, "{") {
			if !strings.HasPrefix(expr, ".") && !strings.HasPrefix(expr, "[") {
				expr = "." + expr
			}
			expr = "{" + expr + "}"
		}
		jp := jsonpath.New(header).AllowMissingKeys(true)
		if err := jp.Parse(expr); err != nil {
			return nil, fmt.Errorf("custom-columns: column %s: field %q: %w", header, field, err)
		}
		cols = append(cols, column{header: header, path: jp})
	}
	return cols, nil
}

func writeColumns(w io.Writer, spec string, v any, noHeader bool) error {
	cols, err := parseColumns(spec)
	if err != nil {
		return err
	}
	obj, err := generic(v)
	if err != nil {
		return err
	}
	items, ok := obj.([]any)
	if !ok {
		items = []any{obj}
	}
	var header []string
	if !noHeader {
		for _, c := range cols {
			header = append(header, c.header)
		}
	}
	rows := make([][]string, len(items))
	for i, item := range items {
		for _, c := range cols {
			res, err := c.path.FindResults(item)
			var vals []string
			if err == nil {
				for _, rs := range res {
					for _, r := range rs {
						if r.IsValid() && r.CanInterface() && r.Interface() != nil {
							vals = append(vals, printValue(r.Interface()))
						}
					}
				}
			}
			cell := strings.Join(vals, ",")
			if len(vals) == 0 {
				cell = "<none>"
			}
			rows[i] = append(rows[i], cell)
		}
	}
	return NewAligned(w).Write(header, rows)
}

// printValue formats a decoded JSON value: numbers in full, objects and
// arrays as JSON.
func printValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Number formats x for reading in a table: 4 significant digits, "-" for
// NaN, "inf" and "-inf" for the infinities.
func Number(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// Duration formats d for reading in a table: to the 10 ms under 10 s, to
// the 100 ms under a minute, to the second above.
func Duration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// WriteCSV writes the header (none when nil) and rows as RFC 4180 CSV.
func WriteCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if header != nil {
		if err := cw.Write(header); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteNames writes one name a line, for -o name.
func WriteNames(w io.Writer, names []string) error {
	for _, n := range names {
		if _, err := io.WriteString(w, n+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Aligned writes rows in left-aligned columns three spaces apart, as
// WriteTable does, and remembers the column widths, so that rows written
// later (a watch) line up under the first ones; a wider cell widens its
// column from then on.
type Aligned struct {
	w      io.Writer
	widths []int
}

// NewAligned returns an Aligned writing to w.
func NewAligned(w io.Writer) *Aligned { return &Aligned{w: w} }

// Write writes the header (none when nil) and rows.
func (a *Aligned) Write(header []string, rows [][]string) error {
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	for _, r := range all {
		for i, c := range r {
			if i >= len(a.widths) {
				a.widths = append(a.widths, 0)
			}
			a.widths[i] = max(a.widths[i], text.StringWidthWithoutEscSequences(c))
		}
	}
	var b strings.Builder
	for _, r := range all {
		line := make([]byte, 0, 128)
		for i, c := range r {
			line = append(line, c...)
			if i < len(r)-1 {
				line = append(line, strings.Repeat(" ", a.widths[i]-text.StringWidthWithoutEscSequences(c)+3)...)
			}
		}
		b.WriteString(strings.TrimRight(string(line), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(a.w, b.String())
	return err
}

// WriteTable writes rows under header as a borderless, left-aligned table,
// in the manner of kubectl get.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	t := table.NewWriter()
	t.SetOutputMirror(nil)
	style := table.StyleLight
	style.Options = table.Options{SeparateColumns: false, DrawBorder: false}
	style.Box.PaddingLeft = ""
	style.Box.PaddingRight = "   "
	style.Format.Header = 0 // keep the header's case
	t.SetStyle(style)
	t.AppendHeader(toRow(header))
	for _, r := range rows {
		t.AppendRow(toRow(r))
	}
	_, err := io.WriteString(w, trimLines(t.Render())+"\n")
	return err
}

func toRow(cells []string) table.Row {
	row := make(table.Row, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	return row
}

// trimLines removes the trailing padding of each line.
func trimLines(s string) string {
	out := make([]byte, 0, len(s))
	lineStart := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			line := s[lineStart:i]
			end := len(line)
			for end > 0 && line[end-1] == ' ' {
				end--
			}
			out = append(out, line[:end]...)
			if i < len(s) {
				out = append(out, '\n')
			}
			lineStart = i + 1
		}
	}
	return string(out)
}

// EscapeJSON returns JSON text b with DEL and the C1 control characters
// (U+0080–U+009F, an 8-bit CSI to some terminals) written as \u escapes:
// the same strings to a JSON reader, inert on a terminal. Outside strings
// JSON holds none; encoding/json already escapes the C0 ones and replaces
// invalid UTF-8.
func EscapeJSON(b []byte) []byte {
	isCtl := func(r rune) bool { return r == 0x7f || r >= 0x80 && r <= 0x9f }
	if !bytes.ContainsFunc(b, isCtl) {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if isCtl(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.WriteRune(r)
		}
	}
	return out.Bytes()
}
