package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultFilter is Katib's default metricsFormat: it matches name=value
// pairs such as "loss=0.23", "val-acc = 9.1e-1" or "a|b=-3". The first
// capture group is the name and the second the value.
const DefaultFilter = `([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`

// TextParser extracts metric logs from lines of text, the way Katib's
// StdOut and File metrics collectors do. It is safe for concurrent use.
type TextParser struct {
	formats     []*regexp.Regexp // nil entries stand for DefaultFilter
	onlyDefault bool             // every format is DefaultFilter
	names       []string
	nameBs      [][]byte
}

// NewTextParser returns a parser for the metrics named metricNames (the
// objective metric and any additional metrics); names found in a line that are
// not among them are ignored.
//
// Each of formats is a regular expression (RE2 syntax) whose first capture
// group matches a metric's name and whose second matches its value, like
// Katib's metricsFormat. A nil or empty formats means [DefaultFilter].
// It returns an error when a format does not compile or has fewer than two
// capture groups, and when metricNames is empty or holds an empty name.
func NewTextParser(formats []string, metricNames []string) (*TextParser, error) {
	if len(formats) == 0 {
		formats = []string{DefaultFilter}
	}
	p := &TextParser{formats: make([]*regexp.Regexp, 0, len(formats))}
	for i, f := range formats {
		if f == DefaultFilter {
			// Matched by hand by nextDefault: a metric line parses about
			// 5 times faster than with package regexp.
			p.formats = append(p.formats, nil)
			continue
		}
		re, err := regexp.Compile(f)
		if err != nil {
			return nil, fmt.Errorf("metrics format %d %q: %w", i, f, err)
		}
		if n := re.NumSubexp(); n < 2 {
			return nil, fmt.Errorf("metrics format %d %q: has %d capture groups, needs at least 2 (name, value)", i, f, n)
		}
		p.formats = append(p.formats, re)
	}
	p.onlyDefault = !slices.ContainsFunc(p.formats, func(re *regexp.Regexp) bool { return re != nil })
	if len(metricNames) == 0 {
		return nil, errors.New("no metric names given")
	}
	for i, name := range metricNames {
		if name == "" {
			return nil, fmt.Errorf("metric name %d is empty", i)
		}
		if slices.Contains(p.names, name) {
			continue
		}
		p.names = append(p.names, name)
		p.nameBs = append(p.nameBs, []byte(name))
	}
	return p, nil
}

// ParseLine returns the metric logs found in line, in the order of the
// formats and, for each format, in the order the values appear in the line.
// Only metrics named when the parser was made are returned.
//
// If the line's first whitespace-separated field is an RFC 3339 timestamp,
// it is every log's Time (in UTC); otherwise now, in UTC, is. Step is -1.
//
// A value a custom format (not [DefaultFilter]) matched that is text, not
// a number (see isText: "Genotype(...)", "abc"), yields a log with Text set
// and Value 0, as Katib keeps such values.
//
// Any other value that does not parse as a finite decimal number (an empty match,
// "nan", "inf", a number out of range (too large, or so small that it
// would round to 0, like 1e-400), a hex float such as "0x1p-2", digits
// with underscores) yields no log; it is listed in invalid as
// "name=raw", with the raw text from the start of the value up to the next
// whitespace (so "loss=nan" is reported as such, though the default format
// matches an empty value there), so that the caller can warn about it.
//
// ParseLine does not retain line. A line that contains none of the metric
// names is rejected without running the formats and without allocating.
func (p *TextParser) ParseLine(line []byte, now time.Time) (logs []Log, invalid []string) {
	if !p.mentionsMetric(line) {
		return nil, nil
	}
	var (
		ts    time.Time
		hasTS bool
	)
	add := func(nameB []byte, valueStart, valueEnd int, isDefault bool) {
		name, ok := p.interest(bytes.TrimSpace(nameB))
		if !ok {
			return
		}
		raw := bytes.TrimSpace(line[valueStart:valueEnd])
		if !isDefault && isText(raw) {
			if !hasTS {
				ts, hasTS = leadingTime(line, now), true
			}
			logs = append(logs, Log{Metric: name, Text: string(raw), Step: -1, Time: ts})
			return
		}
		v, ok := parseFinite(raw)
		if ok && isDefault && valueEnd < len(line) && continuesNumber(line[valueEnd]) {
			// The default format stops at the "x" of "0x1p-2" or the
			// "_" of "1_000": the number written is not the one matched.
			ok = false
		}
		if !ok {
			// Show the text the user wrote, not just what the format
			// matched: Katib's default format matches "" in "loss=nan".
			end := valueEnd
			for end < len(line) && !isSpaceByte(line[end]) {
				end++
			}
			invalid = append(invalid, name+"="+string(bytes.TrimSpace(line[valueStart:end])))
			return
		}
		if !hasTS {
			ts, hasTS = leadingTime(line, now), true
		}
		logs = append(logs, Log{Metric: name, Value: v, Step: -1, Time: ts})
	}
	for _, re := range p.formats {
		if re == nil {
			for m, rest := nextDefault(line, 0); m[0] >= 0; m, rest = nextDefault(line, rest) {
				add(line[m[0]:m[1]], m[2], m[3], true)
			}
			continue
		}
		for _, m := range re.FindAllSubmatchIndex(line, -1) {
			if m[2] < 0 || m[4] < 0 {
				continue // optional groups that did not take part
			}
			add(line[m[2]:m[3]], m[4], m[5], false)
		}
	}
	return logs, invalid
}

// nextDefault finds the first match of [DefaultFilter] in line at or after
// from, as regexp's leftmost-first matching would. It returns the bounds of
// the name and of the value, and where the match ends; m[0] is -1 when
// there is no match.
//
// A match starts where a run of name characters ([\w|-]) does, at or after
// from; greedy matching takes the whole run, and backtracking cannot help
// since a shorter name is followed by a name character, not by \s or '='.
// So the leftmost match is at the first such run followed by \s*=.
func nextDefault(line []byte, from int) (m [4]int, end int) {
	for i := from; i < len(line); {
		if !isNameByte(line[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(line) && isNameByte(line[j]) {
			j++
		}
		k := j
		for k < len(line) && isSpaceByte(line[k]) {
			k++
		}
		if k == len(line) || line[k] != '=' {
			i = j
			continue
		}
		k++
		for k < len(line) && isSpaceByte(line[k]) {
			k++
		}
		vs := k
		// [+-]?\d*(\.\d+)?([Ee][+-]?\d+)? — every part is optional, so
		// each is taken greedily when it is there.
		if k < len(line) && (line[k] == '+' || line[k] == '-') {
			k++
		}
		k = skipDigits(line, k)
		if k+1 < len(line) && line[k] == '.' && isDigit(line[k+1]) {
			k = skipDigits(line, k+1)
		}
		if k < len(line) && (line[k] == 'e' || line[k] == 'E') {
			d := k + 1
			if d < len(line) && (line[d] == '+' || line[d] == '-') {
				d++
			}
			if d < len(line) && isDigit(line[d]) {
				k = skipDigits(line, d)
			}
		}
		return [4]int{i, j, vs, k}, k
	}
	return [4]int{-1, -1, -1, -1}, len(line)
}

// isNameByte reports whether c is in the class [\w|-] of RE2, whose \w is
// ASCII only.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '_' || c == '|' || c == '-'
}

// isSpaceByte reports whether c is in RE2's \s: [\t\n\f\r ].
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipDigits returns the index of the first non-digit in line at or after i.
func skipDigits(line []byte, i int) int {
	for i < len(line) && isDigit(line[i]) {
		i++
	}
	return i
}

// mentionsMetric reports whether line contains one of the metric names
// and, when DefaultFilter is the only format, an "=" (without which the
// format cannot match): one vectorised byte search rejects most lines of
// a training log before the names are searched for one by one.
func (p *TextParser) mentionsMetric(line []byte) bool {
	if p.onlyDefault && bytes.IndexByte(line, '=') < 0 {
		return false
	}
	for _, n := range p.nameBs {
		if bytes.Contains(line, n) {
			return true
		}
	}
	return false
}

// interest returns the configured name equal to b, so that logs share the
// parser's strings instead of allocating their own.
func (p *TextParser) interest(b []byte) (string, bool) {
	for _, n := range p.names {
		if string(b) == n {
			return n, true
		}
	}
	return "", false
}

// continuesNumber reports whether c, right after a number, shows that the
// number was written in a form the default format does not match: a hex
// float (0x1p-2) or digits with underscores (1_000).
func continuesNumber(c byte) bool {
	return c == 'x' || c == 'X' || c == '_'
}

// isText reports whether b, a value a custom format matched, is text
// rather than a number: printable UTF-8 that does not begin like a number
// (with a digit, a sign or a point), is not made only of the characters
// of a decimal number (digits, signs, points, e and E: "e00" is an
// exponent without its mantissa) and is not one of the spellings of NaN
// and infinity strconv.ParseFloat reads. So "Genotype(…)" and "abc" are
// text, while "0x1p-2", "1_000", "1.2.3", "e00" and "nan" are numbers
// that are invalid.
func isText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) || bytes.ContainsFunc(b, unicode.IsControl) {
		return false
	}
	if c := b[0]; isDigit(c) || c == '+' || c == '-' || c == '.' {
		return false
	}
	if !bytes.ContainsFunc(b, func(r rune) bool { return !isNumberRune(r) }) {
		return false // "e00", "E+5": a number's exponent without its mantissa
	}
	_, err := strconv.ParseFloat(string(b), 64)
	return err != nil
}

// isNumberRune reports whether r can be part of a decimal number.
func isNumberRune(r rune) bool {
	return r < utf8.RuneSelf && (isDigit(byte(r)) || r == '.' || r == '+' || r == '-' || r == 'e' || r == 'E')
}

// parseFinite parses b as a decimal float64 and reports whether it is a
// finite number. Only decimal notation counts: strconv.ParseFloat would also
// take "0x1p-2", "1_000" (with a base prefix), "Inf" and "NaN".
func parseFinite(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if !isNumberRune(rune(c)) {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || underflowed(b, v) {
		return 0, false
	}
	return v, true
}

// Underflowed reports whether v, parsed by strconv.ParseFloat from the
// decimal number s, is zero though s is not (1e-400): ParseFloat rounds such
// a value to 0 without an error, where it reports ErrRange for one too
// large. Collectors treat either as out of range.
func Underflowed(s string, v float64) bool { return underflowed(s, v) }

func underflowed[T ~string | ~[]byte](b T, v float64) bool {
	if v != 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == 'e' || c == 'E':
			return false
		case c >= '1' && c <= '9':
			return true
		}
	}
	return false
}

// leadingTime returns the RFC 3339 timestamp that starts line (after any
// leading white space) in UTC, or now in UTC when there is none.
func leadingTime(line []byte, now time.Time) time.Time {
	field := bytes.TrimLeft(line, " \t\v\f\r\n")
	if i := bytes.IndexAny(field, " \t\v\f\r\n"); i >= 0 {
		field = field[:i]
	}
	// Cheap shape check ("2006-01-02T15:04:05Z" is the shortest form), so
	// that ordinary lines do not pay for a failed time.Parse.
	if len(field) < len("2006-01-02T15:04:05Z") || field[4] != '-' || field[7] != '-' || field[10] != 'T' {
		return now.UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, string(field))
	if err != nil {
		return now.UTC()
	}
	return t.UTC()
}
