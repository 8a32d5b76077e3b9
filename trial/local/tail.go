package local

import (
	"bytes"
	"strings"
)

// tailMaxBytes bounds the stderr tail kept for a failure message.
const tailMaxBytes = 8 << 10

// tailBuffer is an io.Writer that keeps the last lines of what is written to
// it: at most lines lines and at most max bytes. It is not safe for
// concurrent use.
type tailBuffer struct {
	lines int
	max   int
	buf   []byte
}

func newTailBuffer(lines, max int) *tailBuffer {
	return &tailBuffer{lines: lines, max: max}
}

// Write keeps the tail of p and never fails.
func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	t.trimLines()
	return n, nil
}

// trimLines drops whole lines from the front until at most t.lines remain; a
// final line without a newline counts as a line.
func (t *tailBuffer) trimLines() {
	end := len(t.buf)
	if end > 0 && t.buf[end-1] == '\n' {
		end--
	}
	count := 0
	for i := bytes.LastIndexByte(t.buf[:end], '\n'); i >= 0; i = bytes.LastIndexByte(t.buf[:i], '\n') {
		count++
		if count == t.lines {
			t.buf = append(t.buf[:0], t.buf[i+1:]...)
			return
		}
	}
}

// String returns the kept lines without trailing blank space, with any byte
// sequence cut in the middle of a character replaced.
func (t *tailBuffer) String() string {
	s := strings.TrimRight(string(t.buf), " \t\r\n")
	return strings.ToValidUTF8(s, "\uFFFD")
}
