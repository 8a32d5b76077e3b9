package cli

import (
	"fmt"
	"io"
	"sync"
)

// guardOutput returns streams whose Out and ErrOut report their first
// failed write (a pipe whose reader has gone: tune run | head) once on
// ErrOut, so that a long-running command can go on and say why its output
// stopped. Writes keep returning the underlying error.
func guardOutput(streams IOStreams) IOStreams {
	if _, ok := streams.Out.(*guardedWriter); ok {
		return streams
	}
	errOut := &guardedWriter{w: streams.ErrOut, name: "standard error"}
	errOut.note = errOut.w // says it if it still works
	streams.ErrOut = errOut
	streams.Out = &guardedWriter{w: streams.Out, name: "standard output", note: errOut}
	return streams
}

// guardedWriter is an io.Writer that notes its first failure on note.
type guardedWriter struct {
	w    io.Writer
	name string
	note io.Writer
	once sync.Once
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err != nil {
		g.once.Do(func() {
			fmt.Fprintf(g.note, "tune: warning: cannot write to %s (%v); its output is lost from here on, the experiment goes on\n", g.name, err)
		})
	}
	return n, err
}
