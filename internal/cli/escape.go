package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tune-hpo/tune/internal/output"
)

// escapeControl returns s with everything a terminal could act on written
// as a visible Go-style escape: C0 control characters (\n kept as is when
// keepNewline), DEL, C1 control characters (U+0080–U+009F) and bytes that
// are not UTF-8 (a lone 0x9b is an 8-bit CSI to some terminals). Other
// text, backslashes included, is unchanged. Every human-readable line tune
// prints goes through it; JSON and YAML outputs escape on their own.
func escapeControl(s string, keepNewline bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && !(c == '\n' && keepNewline) || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewline:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeRows returns rows with every cell escaped for a terminal.
func escapeRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = escapeControl(c, false)
		}
	}
	return out
}

// writeData writes v in data format f (output.Data, or output's
// custom-columns rows when rowsOnly) to w. jsonpath and custom-columns
// print the values' text as it is, so their output is escaped for a
// terminal, tabs and newlines kept (a template's separators); JSON and
// YAML escape on their own.
func writeData(w io.Writer, f output.Format, v any, rowsOnly bool) error {
	if f.Kind() != output.JSONPath && f.Kind() != output.CustomColumns {
		return output.Data(w, f, v)
	}
	var b strings.Builder
	var err error
	if rowsOnly {
		err = output.CustomColumnRows(&b, f, v)
	} else {
		err = output.Data(&b, f, v)
	}
	if err != nil {
		return err
	}
	parts := strings.Split(b.String(), "\t")
	for i, p := range parts {
		parts[i] = escapeControl(p, true)
	}
	_, err = io.WriteString(w, strings.Join(parts, "\t"))
	return err
}

// documentFormats are the -o formats of a command that prints one
// document rather than a list.
const documentFormats = "table|json|yaml|jsonpath=TEMPLATE|custom-columns=SPEC"

// documentFormat parses -o for a command that prints one document: a table
// or a data format; wide, csv and name are list formats.
func documentFormat(s string) (output.Format, error) {
	f, err := output.ParseFormat(s)
	if err != nil {
		return "", usageErrorf("-o: %v", err)
	}
	switch f.Kind() {
	case output.Wide, output.CSV, output.Name:
		return "", usageErrorf("-o %s: this command prints one document, not a list (allowed: %s)", f.Kind(), documentFormats)
	}
	return f, nil
}
