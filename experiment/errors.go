package experiment

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is matched (with [errors.Is]) by every error that reports a
// problem with an experiment file's content: YAML syntax, unknown fields,
// wrong types and validation failures. I/O errors do not match it.
var ErrInvalid = errors.New("invalid experiment")

// FieldError is one problem with an experiment. Line and Column are 1-based
// positions in File; they are 0 when unknown (for example when the
// experiment was built in Go rather than parsed). Path names the field in
// Katib's JSON notation, such as spec.parameters[1].feasibleSpace.min; it is
// empty for problems that concern the whole document.
type FieldError struct {
	File         string
	Line, Column int
	Path         string
	Msg          string
}

// Error formats e as FILE:LINE:COLUMN: PATH: MSG, leaving out unknown parts.
// Without a file name the position reads "line LINE:COLUMN".
func (e *FieldError) Error() string {
	var b strings.Builder
	pos := e.File
	if e.Line > 0 {
		if pos == "" {
			pos = "line "
		} else {
			pos += ":"
		}
		pos += fmt.Sprint(e.Line)
		if e.Column > 0 {
			pos += fmt.Sprintf(":%d", e.Column)
		}
	}
	if pos != "" {
		b.WriteString(pos)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// InvalidError lists every problem found in one experiment. It matches
// [ErrInvalid] with [errors.Is], and [errors.As] finds each [*FieldError]
// through Unwrap.
type InvalidError struct {
	// File is the experiment file's name, when known.
	File string
	// Errs holds the problems, in file order where lines are known.
	Errs []*FieldError
}

// Error returns the problems one per line.
func (e *InvalidError) Error() string {
	if len(e.Errs) == 0 {
		if e.File != "" {
			return e.File + ": " + ErrInvalid.Error()
		}
		return ErrInvalid.Error()
	}
	lines := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the individual problems.
func (e *InvalidError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, fe := range e.Errs {
		out[i] = fe
	}
	return out
}

// sortErrs orders errs by position, keeping errors without a line last and
// in their original order.
func sortErrs(errs []*FieldError) {
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		switch {
		case a.Line == 0 && b.Line == 0:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}
