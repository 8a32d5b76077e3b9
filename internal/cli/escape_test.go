package cli

import "testing"

func TestEscapeControl(t *testing.T) {
	for _, tc := range []struct {
		in          string
		keepNewline bool
		want        string
	}{
		{"plain text, ünïcödé, a\\b", false, "plain text, ünïcödé, a\\b"},
		{"\x1b[31mred\x1b[0m", false, `\x1b[31mred\x1b[0m`},
		{"bell\a tab\t cr\r del\x7f nul\x00", false, `bell\x07 tab\t cr\r del\x7f nul\x00`},
		{"csi\u009b2J c1\u0085", false, `csi\u009b2J c1\u0085`},
		{"bad \xff\x9b utf-8", false, `bad \xff\x9b utf-8`},
		{"two\nlines", false, `two\nlines`},
		{"two\nlines\x1b", true, "two\nlines\\x1b"},
	} {
		if got := escapeControl(tc.in, tc.keepNewline); got != tc.want {
			t.Errorf("escapeControl(%q, %v) = %q, want %q", tc.in, tc.keepNewline, got, tc.want)
		}
	}
}
