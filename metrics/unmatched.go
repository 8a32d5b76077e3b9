package metrics

import (
	"bytes"
	"slices"
	"sync"
)

// Bounds of what an [Unmatched] keeps.
const (
	maxUnmatchedPairs = 6  // distinct other names
	maxUnmatchedColon = 3  // distinct metric names written "name: value"
	maxUnmatchedValue = 24 // bytes of a value's text
)

// Unmatched remembers, within fixed bounds, what a trial printed that
// looks like a metric value but that the parser did not take, so that a
// trial that never reports its objective can be told why: name=value
// pairs whose names are not among the metrics (acc=0.91 when the objective
// is accuracy), and metrics written "name: value" (Keras' "loss: 0.3 -
// accuracy: 0.9", or JSON's "accuracy": 0.9), which Katib's default
// metricsFormat does not match. It is safe for concurrent use.
type Unmatched struct {
	names  [][]byte
	mu     sync.Mutex
	pairs  []namedValue // first-seen order, latest value
	colons []namedValue // first-seen order, latest value as printed
}

type namedValue struct{ name, value string }

// NewUnmatched returns an Unmatched for a trial whose metrics are
// metricNames.
func NewUnmatched(metricNames []string) *Unmatched {
	u := &Unmatched{}
	for _, n := range metricNames {
		if n != "" {
			u.names = append(u.names, []byte(n))
		}
	}
	return u
}

// Line notes what line holds: at most 6 other names, each with the latest
// value printed, and at most 3 metrics written with a colon. A value
// counts only when it is a finite decimal number; a value's text is cut to
// 24 bytes. Line does not retain line.
func (u *Unmatched) Line(line []byte) {
	hasEq := bytes.IndexByte(line, '=') >= 0
	hasColon := bytes.IndexByte(line, ':') >= 0
	if !hasEq && !hasColon {
		return
	}
	if hasEq {
		for m, rest := nextDefault(line, 0); m[0] >= 0; m, rest = nextDefault(line, rest) {
			name := line[m[0]:m[1]]
			if u.isMetric(name) {
				continue
			}
			if _, ok := parseFinite(line[m[2]:m[3]]); !ok {
				continue
			}
			u.note(&u.pairs, maxUnmatchedPairs, name, line[m[2]:m[3]])
		}
	}
	if hasColon {
		for _, n := range u.names {
			if v, ok := colonValue(line, n); ok {
				u.note(&u.colons, maxUnmatchedColon, n, v)
			}
		}
	}
}

func (u *Unmatched) isMetric(name []byte) bool {
	return slices.ContainsFunc(u.names, func(n []byte) bool { return bytes.Equal(n, name) })
}

// note records name with value in list, updating the value of a name
// already there and adding a new name only below max.
func (u *Unmatched) note(list *[]namedValue, max int, name, value []byte) {
	if len(value) > maxUnmatchedValue {
		value = value[:maxUnmatchedValue]
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := range *list {
		if (*list)[i].name == string(name) {
			if (*list)[i].value != string(value) {
				(*list)[i].value = string(value)
			}
			return
		}
	}
	if len(*list) < max {
		*list = append(*list, namedValue{string(name), string(value)})
	}
}

// colonValue finds metric name written as "name: value" in line (the name
// not part of a longer name, optionally quoted, as in JSON) and returns
// the last such value.
func colonValue(line, name []byte) ([]byte, bool) {
	var found []byte
	for from := 0; ; {
		i := bytes.Index(line[from:], name)
		if i < 0 {
			break
		}
		start := from + i
		end := start + len(name)
		from = end
		if start > 0 && isNameByte(line[start-1]) {
			continue
		}
		k := end
		if k < len(line) && (line[k] == '"' || line[k] == '\'') && start > 0 && line[start-1] == line[k] {
			k++
		}
		for k < len(line) && isSpaceByte(line[k]) {
			k++
		}
		if k == len(line) || line[k] != ':' {
			continue
		}
		k++
		for k < len(line) && isSpaceByte(line[k]) {
			k++
		}
		vs := k
		for k < len(line) && !isSpaceByte(line[k]) && line[k] != ',' && line[k] != '}' && line[k] != ';' {
			k++
		}
		if _, ok := parseFinite(line[vs:k]); ok {
			found = line[vs:k]
		}
	}
	return found, found != nil
}

// Pairs returns the name=value pairs seen whose names are not metrics, as
// "name=value", in the order the names were first seen.
func (u *Unmatched) Pairs() []string {
	return u.list(u.pairs, "=")
}

// Colons returns the metrics seen written "name: value", as "name: value",
// in the order the names were first seen (within a line, in the order of
// the metric names).
func (u *Unmatched) Colons() []string {
	return u.list(u.colons, ": ")
}

func (u *Unmatched) list(l []namedValue, sep string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, len(l))
	for i, nv := range l {
		out[i] = nv.name + sep + nv.value
	}
	return out
}
