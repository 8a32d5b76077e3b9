package metrics

import (
	"bytes"
	"fmt"
	"os"
)

// DefaultMaxLine is the longest line a [LineWriter] delivers whole when
// NewLineWriter is given no limit: 64 KiB.
const DefaultMaxLine = 64 << 10

// LineWriter is an io.Writer that splits the bytes written to it into lines
// and calls a function for each complete line, with the "\n" and a "\r"
// before it removed.
//
// Its memory is bounded whatever the input: a line longer than the limit is
// delivered cut to the limit's length, and the rest of that line is
// discarded as it arrives rather than buffered. A LineWriter buffers at most
// one partial line, of at most the limit plus one byte.
//
// A LineWriter is meant for one writing goroutine: Write and Close must not
// be called concurrently.
type LineWriter struct {
	max       int
	fn        func(line []byte)
	buf       []byte // the current partial line, at most max+1 bytes
	truncated bool   // bytes of the current line were discarded
	closed    bool
}

// NewLineWriter returns a LineWriter that calls fn for each line, cut to at
// most maxLine bytes; maxLine <= 0 means [DefaultMaxLine].
//
// fn is called from Write and Close, on the writer's goroutine. The slice it
// receives is only valid during the call: fn must neither retain nor modify
// it, and must copy what it wants to keep.
func NewLineWriter(maxLine int, fn func(line []byte)) *LineWriter {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &LineWriter{max: maxLine, fn: fn}
}

// Write delivers the lines that p completes and buffers the unterminated
// rest. It always consumes all of p: it returns len(p) and a nil error,
// except after Close, when it returns an error wrapping os.ErrClosed.
func (w *LineWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write to line writer: %w", os.ErrClosed)
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.keep(p)
			break
		}
		if len(w.buf) == 0 && !w.truncated {
			// Fast path: the whole line is in p, deliver it in place.
			w.deliver(p[:i], false)
		} else {
			w.keep(p[:i])
			w.deliver(w.buf, w.truncated)
			w.buf, w.truncated = w.buf[:0], false
		}
		p = p[i+1:]
	}
	return n, nil
}

// Close delivers the final line if the input did not end with a newline.
// Later calls to Close do nothing and return nil; later calls to Write fail.
func (w *LineWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if len(w.buf) > 0 || w.truncated {
		w.deliver(w.buf, w.truncated)
	}
	w.buf, w.truncated = nil, false
	return nil
}

// keep appends to the partial line as much of b as the limit allows (the
// limit plus one byte, so that a "\r" ending a line of exactly max bytes can
// still be recognised) and notes whether anything was discarded.
func (w *LineWriter) keep(b []byte) {
	room := w.max + 1 - len(w.buf)
	if len(b) > room {
		b, w.truncated = b[:room], true
	}
	if len(b) == 0 {
		return
	}
	if need := len(w.buf) + len(b); need > cap(w.buf) {
		// Grow by hand so the capacity never exceeds max+1.
		c := max(2*cap(w.buf), need, 512)
		c = min(c, w.max+1)
		nb := make([]byte, len(w.buf), c)
		copy(nb, w.buf)
		w.buf = nb
	}
	w.buf = append(w.buf, b...)
}

// deliver calls fn with line, without its trailing "\r" and cut to max
// bytes. When truncated, the line was longer than what is kept and its
// first max bytes are content.
func (w *LineWriter) deliver(line []byte, truncated bool) {
	if !truncated && len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > w.max {
		line = line[:w.max]
	}
	w.fn(line)
}
