// Package pyjson writes values as Python's json.dumps writes them, for the
// strings Katib's suggestion services render with it (DARTS's settings and
// search space, ENAS's nn_config).
package pyjson

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// WriteString writes s as json.dumps writes a str with its default
// ensure_ascii: double-quoted; \" \\ \n \r \t \b \f escaped; every other
// character outside space to tilde (DEL included) as \uXXXX in lowercase
// hex, a surrogate pair beyond the basic plane. An invalid UTF-8 byte is
// written as \ufffd.
func WriteString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
