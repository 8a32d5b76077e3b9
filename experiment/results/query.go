package results

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// KeyKind says where a Key's value comes from.
type KeyKind int

// The kinds of keys.
const (
	KeyName     KeyKind = iota // the trial's name, ordered by creation
	KeyStatus                  // the trial's state
	KeyReason                  // the trial's reason
	KeyCreated                 // when the trial was created
	KeyDuration                // Row.Duration
	KeyMetric                  // a metric's value chosen by its strategy
	KeyParam                   // a parameter's value
	KeyOutput                  // a value the algorithm added to the assignment (pbt's generation, parent)
)

// Key is a column of a Table that rows can be sorted and filtered by.
type Key struct {
	Kind KeyKind
	// Name is the metric's or parameter's name, or the built-in column's
	// (name, status, reason, created, duration).
	Name string
	// Param is the parameter's index in Table.Space (KeyParam only), or
	// the output's in Table.Outputs (KeyOutput).
	Param int
}

// Numeric reports whether the key's values compare as numbers (metrics,
// numeric parameters, duration, created) rather than as text.
func (t *Table) Numeric(k Key) bool {
	switch k.Kind {
	case KeyMetric, KeyDuration, KeyCreated:
		return true
	case KeyParam:
		return t.Space[k.Param].Type != suggest.Categorical
	case KeyOutput:
		_, err := strconv.ParseFloat(t.Outputs[k.Param].Sample, 64)
		return err == nil
	}
	return false
}

var builtinKeys = []string{"name", "status", "reason", "created", "duration"}

// KeyNames lists the names Key accepts: the built-in columns, then the
// metrics, then the parameters.
func (t *Table) KeyNames() []string {
	names := slices.Clone(builtinKeys)
	names = append(names, t.Metrics...)
	for _, p := range t.Space {
		names = append(names, p.Name)
	}
	for _, o := range t.Outputs {
		names = append(names, path.Base(o.Name))
	}
	return names
}

// Key returns the column named name: a metric, then a parameter, then a
// built-in column (name, status, reason, created, duration), matched
// exactly; "metrics.NAME" and "params.NAME" (or "parameters.NAME", the
// JSON field) choose a metric or a parameter whose name another column
// shares. A leading dot is ignored, so kubectl's JSON-path style
// (.metrics.loss) works too. The error lists the known names.
func (t *Table) Key(name string) (Key, error) {
	orig := name
	name = strings.TrimPrefix(name, ".")
	if m, ok := strings.CutPrefix(name, "metrics."); ok && slices.Contains(t.Metrics, m) {
		return Key{Kind: KeyMetric, Name: m}, nil
	}
	for _, prefix := range []string{"params.", "parameters."} {
		if p, ok := strings.CutPrefix(name, prefix); ok && t.Param(p) >= 0 {
			return Key{Kind: KeyParam, Name: p, Param: t.Param(p)}, nil
		}
	}
	if slices.Contains(t.Metrics, name) {
		return Key{Kind: KeyMetric, Name: name}, nil
	}
	if i := t.Param(name); i >= 0 {
		return Key{Kind: KeyParam, Name: name, Param: i}, nil
	}
	for i, o := range t.Outputs {
		if name == o.Name || name == path.Base(o.Name) {
			return Key{Kind: KeyOutput, Name: o.Name, Param: i}, nil
		}
	}
	switch name {
	case "name":
		return Key{Kind: KeyName, Name: name}, nil
	case "status":
		return Key{Kind: KeyStatus, Name: name}, nil
	case "reason":
		return Key{Kind: KeyReason, Name: name}, nil
	case "created":
		return Key{Kind: KeyCreated, Name: name}, nil
	case "duration":
		return Key{Kind: KeyDuration, Name: name}, nil
	}
	return Key{}, fmt.Errorf("unknown column %q (known: %s)", orig, strings.Join(t.KeyNames(), ", "))
}

// cell is one row's value of a key: a number for numeric keys, text for
// the others; ok is false when the row has no value (a metric never
// reported, a duration of a trial that never started).
type cell struct {
	num  float64
	text string
	ok   bool
}

func (t *Table) cell(r *Row, k Key, now time.Time) cell {
	switch k.Kind {
	case KeyName:
		return cell{num: float64(r.Trial.Seq), text: r.Trial.Name, ok: true}
	case KeyStatus:
		return cell{text: string(r.Trial.State), ok: true}
	case KeyReason:
		return cell{text: r.Trial.Reason, ok: true}
	case KeyCreated:
		return cell{num: float64(r.Trial.Created.UnixNano()), ok: !r.Trial.Created.IsZero()}
	case KeyDuration:
		return cell{num: r.Duration(now).Seconds(), ok: !r.Trial.Started.IsZero()}
	case KeyMetric:
		v, ok := r.Metrics[k.Name]
		return cell{num: v, ok: ok && !math.IsNaN(v)}
	case KeyParam:
		v := r.Params[k.Param]
		if t.Numeric(k) {
			return cell{num: v.Num, text: v.Text, ok: v.Numeric}
		}
		return cell{text: v.Text, ok: true}
	case KeyOutput:
		v, ok := r.Trial.Parameters[k.Name]
		if t.Numeric(k) {
			f, err := strconv.ParseFloat(v, 64)
			return cell{num: f, text: v, ok: ok && err == nil}
		}
		return cell{text: v, ok: ok}
	}
	return cell{}
}

// Ranked returns the indices of the rows best first, by
// experiment.RankTrials' rule: the rows that count ([Table.RankValue]) by
// their objective value in the goal's direction, the earliest first on
// ties, then the others in creation order.
func (t *Table) Ranked() []int {
	idx := make([]int, len(t.Rows))
	vals := make([]float64, len(t.Rows))
	for i := range t.Rows {
		idx[i] = i
		vals[i] = math.NaN()
		if v, ok := t.RankValue(&t.Rows[i]); ok {
			vals[i] = v
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case t.Goal.Better(vals[a], vals[b]):
			return -1
		case t.Goal.Better(vals[b], vals[a]):
			return 1
		}
		return 0
	})
	return idx
}

// Sort orders idx (indices of rows) by k, ascending or, with desc,
// descending; rows without a value come last either way, and equal rows
// keep their order. Names order by creation (quad-9 before quad-10),
// text case-sensitively, durations as of now.
func (t *Table) Sort(idx []int, k Key, desc bool, now time.Time) {
	numeric := t.Numeric(k) || k.Kind == KeyName
	cells := make(map[int]cell, len(idx))
	for _, i := range idx {
		cells[i] = t.cell(&t.Rows[i], k, now)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ca, cb := cells[a], cells[b]
		switch {
		case !ca.ok || !cb.ok:
			if ca.ok == cb.ok {
				return 0
			}
			if ca.ok {
				return -1
			}
			return 1
		}
		var c int
		if numeric {
			c = cmp.Compare(ca.num, cb.num)
		} else {
			c = strings.Compare(ca.text, cb.text)
		}
		if desc {
			return -c
		}
		return c
	})
}

// Filter is a parsed filter expression: terms that must all hold.
type Filter []Term

// Term is one comparison of a filter: Key Op Value.
type Term struct {
	Key   Key
	Op    string
	Value string
	num   float64
}

// FilterOps are the operators of a filter term, longest first.
var FilterOps = []string{"!=", "<=", ">=", "==", "=", "<", ">"}

// ParseFilter parses expr, terms separated by commas, each COLUMN OP VALUE
// with OP one of = (or ==), !=, <, <=, >, >=. COLUMN is a name Key
// accepts. Numeric columns compare numerically, VALUE being a number
// (duration also takes a Go duration such as 90s or 2m, created an RFC
// 3339 time or a date 2006-01-02); the others compare as text, status
// case-insensitively. An empty expr matches every row. The error names
// the bad term, and the known columns when the column is unknown.
func (t *Table) ParseFilter(expr string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	for _, raw := range strings.Split(expr, ",") {
		term, err := t.parseTerm(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", strings.TrimSpace(raw), err)
		}
		f = append(f, term)
	}
	return f, nil
}

func (t *Table) parseTerm(s string) (Term, error) {
	at, op := -1, ""
	for i := 0; i < len(s) && at < 0; i++ {
		for _, o := range FilterOps {
			if strings.HasPrefix(s[i:], o) {
				at, op = i, o
				break
			}
		}
	}
	if at < 0 {
		return Term{}, fmt.Errorf("want COLUMN OP VALUE with OP one of %s", strings.Join(FilterOps, " "))
	}
	name, value := strings.TrimSpace(s[:at]), strings.TrimSpace(s[at+len(op):])
	if name == "" {
		return Term{}, fmt.Errorf("missing column before %s", op)
	}
	k, err := t.Key(name)
	if err != nil {
		return Term{}, err
	}
	if op == "==" {
		op = "="
	}
	term := Term{Key: k, Op: op, Value: value}
	if !t.Numeric(k) {
		if k.Kind == KeyStatus {
			st, ok := parseState(value)
			if !ok {
				return Term{}, fmt.Errorf("unknown status %q (known: %s)", value, strings.Join(StateNames(), ", "))
			}
			term.Value = string(st)
		}
		return term, nil
	}
	switch k.Kind {
	case KeyDuration:
		if d, err := time.ParseDuration(value); err == nil {
			term.num = d.Seconds()
			return term, nil
		}
	case KeyCreated:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
			if tm, err := time.Parse(layout, value); err == nil {
				term.num = float64(tm.UnixNano())
				return term, nil
			}
		}
		return Term{}, fmt.Errorf("created compares with an RFC 3339 time or a date 2006-01-02, not %q", value)
	}
	n, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(n) {
		what := "number"
		if k.Kind == KeyDuration {
			what = "number of seconds or a duration such as 90s"
		}
		return Term{}, fmt.Errorf("%s is numeric: want a %s, not %q", name, what, value)
	}
	term.num = n
	return term, nil
}

// Match reports whether row r satisfies every term; a row without a value
// for a term's column (a metric it never reported) satisfies no
// comparison, != included.
func (t *Table) Match(f Filter, r *Row, now time.Time) bool {
	for _, term := range f {
		c := t.cell(r, term.Key, now)
		if !c.ok {
			return false
		}
		var d int
		switch {
		case t.Numeric(term.Key):
			d = cmp.Compare(c.num, term.num)
		case term.Key.Kind == KeyStatus:
			d = strings.Compare(strings.ToLower(c.text), strings.ToLower(term.Value))
		default:
			d = strings.Compare(c.text, term.Value)
		}
		ok := false
		switch term.Op {
		case "=":
			ok = d == 0
		case "!=":
			ok = d != 0
		case "<":
			ok = d < 0
		case "<=":
			ok = d <= 0
		case ">":
			ok = d > 0
		case ">=":
			ok = d >= 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// States are the trial states, in the order a trial goes through them.
var States = []trial.State{trial.Pending, trial.Running, trial.Succeeded, trial.Failed, trial.Killed, trial.MetricsUnavailable, trial.EarlyStopped}

// StateNames returns the names of States.
func StateNames() []string {
	names := make([]string, len(States))
	for i, s := range States {
		names[i] = string(s)
	}
	return names
}

// ParseStates parses a comma-separated list of trial states, matched
// case-insensitively; the error names the unknown one and the known ones.
func ParseStates(list string) ([]trial.State, error) {
	var out []trial.State
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		st, ok := parseState(s)
		if !ok {
			return nil, fmt.Errorf("unknown trial status %q (known: %s)", s, strings.Join(StateNames(), ", "))
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

func parseState(s string) (trial.State, bool) {
	for _, st := range States {
		if strings.EqualFold(string(st), s) {
			return st, true
		}
	}
	return "", false
}
