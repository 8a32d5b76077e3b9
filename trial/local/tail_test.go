package local

import (
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		lines, max int
		writes     []string
		want       string
	}{
		"empty":              {lines: 3, max: 100, want: ""},
		"fewer lines":        {lines: 3, max: 100, writes: []string{"a\nb\n"}, want: "a\nb"},
		"last lines":         {lines: 2, max: 100, writes: []string{"a\nb\nc\nd\n"}, want: "c\nd"},
		"split writes":       {lines: 2, max: 100, writes: []string{"a\nb", "\nc", "\nd"}, want: "c\nd"},
		"partial last line":  {lines: 2, max: 100, writes: []string{"a\nb\nc"}, want: "b\nc"},
		"byte bound":         {lines: 10, max: 5, writes: []string{"abcdefgh\nij\n"}, want: "h\nij"},
		"huge write":         {lines: 1, max: 4, writes: []string{strings.Repeat("x", 1000) + "yz\n"}, want: "xyz"},
		"trailing blanks":    {lines: 5, max: 100, writes: []string{"err\n\n\n"}, want: "err"},
		"cut multibyte rune": {lines: 5, max: 4, writes: []string{"é\nab"}, want: "\uFFFD\nab"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newTailBuffer(tc.lines, tc.max)
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if len(b.buf) > tc.max {
				t.Errorf("kept %d bytes, more than %d", len(b.buf), tc.max)
			}
		})
	}
}
