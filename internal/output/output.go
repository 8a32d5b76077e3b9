// Package output renders command results as table, JSON or YAML, the same
// way for every command.
package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/jedib0t/go-pretty/v6/table"
	"sigs.k8s.io/yaml"
)

// Format is an output format name, as given to -o.
type Format string

// The formats every read command accepts.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Formats lists the accepted format names, for help and errors.
const Formats = "table|json|yaml"

// ParseFormat returns the Format named s, or an error naming the allowed ones.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Table, JSON, YAML:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown output format %q (allowed: %s)", s, Formats)
}

// Data writes v as indented JSON or as YAML; v's JSON tags name the fields
// in both. Map keys come out sorted, so output is deterministic.
func Data(w io.Writer, f Format, v any) error {
	switch f {
	case YAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	default:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		return nil
	}
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
