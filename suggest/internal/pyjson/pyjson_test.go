package pyjson

import (
	"strings"
	"testing"
)

// TestWriteString: the expected strings are what CPython 3's
// json.dumps(s) prints for each s.
func TestWriteString(t *testing.T) {
	for s, want := range map[string]string{
		"max_pooling_3x3": `"max_pooling_3x3"`,
		`a"b\c`:           `"a\"b\\c"`,
		"\n\r\t\b\f":      `"\n\r\t\b\f"`,
		"\x00\x1f":        `"\u0000\u001f"`,
		"~\x7f":           `"~\u007f"`,
		"é€":              `"\u00e9\u20ac"`,
		"😀":               `"\ud83d\ude00"`,
		"\xff":            `"\ufffd"`,
	} {
		var b strings.Builder
		WriteString(&b, s)
		if b.String() != want {
			t.Errorf("WriteString(%q) = %s, want %s", s, b.String(), want)
		}
	}
}
