package kube

import (
	"bytes"
	"strings"
	"testing"
)

// TestLogResume reads a log in two streams, as after a dropped connection:
// the second starts at the second of the last line and repeats lines
// already copied, which must reach stdout once.
func TestLogResume(t *testing.T) {
	for name, tc := range map[string]struct {
		first, second string
		want          string
	}{
		"timestamps": {
			first: "2026-01-01T00:00:01.100000000Z epoch 1: loss=3\n" +
				"2026-01-01T00:00:01.500000000Z epoch 2: loss=2\n" +
				"2026-01-01T00:00:01.500000000Z lr=0.1\n" +
				"2026-01-01T00:00:01.900000000Z epoch 3: lo", // cut in the middle of a line
			second: "2026-01-01T00:00:01.100000000Z epoch 1: loss=3\n" +
				"2026-01-01T00:00:01.500000000Z epoch 2: loss=2\n" +
				"2026-01-01T00:00:01.500000000Z lr=0.1\n" +
				"2026-01-01T00:00:01.900000000Z epoch 3: loss=1\n" +
				"2026-01-01T00:00:02.000000000Z done\n",
			want: "epoch 1: loss=3\nepoch 2: loss=2\nlr=0.1\nepoch 3: loss=1\ndone\n",
		},
		"same instant": {
			first:  "2026-01-01T00:00:01Z a\n2026-01-01T00:00:01Z b\n",
			second: "2026-01-01T00:00:01Z a\n2026-01-01T00:00:01Z b\n2026-01-01T00:00:01Z c\n",
			want:   "a\nb\nc\n",
		},
		"no timestamps": {
			first:  "a\nb\n",
			second: "a\nb\nc\n",
			want:   "a\nb\nc\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			l := &lineWriter{w: &out}
			var pos logPosition
			l.copyNewLines(strings.NewReader(tc.first), &pos, false)
			if tc.first != "" && pos.since() == nil && strings.Contains(tc.first, "Z ") {
				t.Error("no position to resume from after a stream with timestamps")
			}
			l.copyNewLines(strings.NewReader(tc.second), &pos, true)
			if got := out.String(); got != tc.want {
				t.Errorf("copied %q, want %q", got, tc.want)
			}
		})
	}
}
