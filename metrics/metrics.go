package metrics

import (
	"fmt"
	"math"
	"time"
)

// Strategy chooses which of a metric's reported values is the trial's value,
// with Katib's names.
type Strategy string

// The strategies Katib defines.
const (
	Min    Strategy = "min"
	Max    Strategy = "max"
	Latest Strategy = "latest"
)

// Log is one reported value of one metric: an entry of a trial's
// observation log.
type Log struct {
	// Metric is the metric's name.
	Metric string `json:"metric"`
	// Value is the reported number. It is never NaN or ±Inf: values that do
	// not parse as finite numbers are dropped by the parsers. It is 0 when
	// Text is set.
	Value float64 `json:"value"`
	// Text is the value as reported when it is text, not a number (a
	// custom metricsFormat matched it; Katib keeps such values, as its
	// DARTS trial's Best-Genotype=Genotype(...)); empty for a number.
	Text string `json:"text,omitempty"`
	// Step is the training step or epoch when the source says so; -1 when
	// unknown.
	Step int64 `json:"step"`
	// Time is when the value was reported (or read, for sources that carry
	// no time), in UTC.
	Time time.Time `json:"time"`
}

// Summary is the running summary of one metric's values in a trial.
// The zero value is an empty summary.
type Summary struct {
	// Min, Max and Latest are the smallest, largest and last reported values.
	// They are meaningless when Count is 0.
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Latest float64 `json:"latest"`
	// Count is the number of numbers reported.
	Count int `json:"count"`
	// Text is the latest value reported as text (see [Log.Text]), empty
	// when none was. Text values count neither in Count nor in Min, Max
	// and Latest; a strategy chooses among numbers only.
	Text string `json:"text,omitempty"`
}

// Reported reports whether any value, number or text, was reported.
func (s Summary) Reported() bool { return s.Count > 0 || s.Text != "" }

// Add records v as the latest value. NaN and ±Inf are ignored: they are not
// values a strategy can choose (the parsers never produce them).
func (s *Summary) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Latest = v
	s.Count++
}

// Value returns the summary's value under strategy st, and false when no
// value was reported.
func (s Summary) Value(st Strategy) (float64, bool) {
	if s.Count == 0 {
		return math.NaN(), false
	}
	switch st {
	case Min:
		return s.Min, true
	case Max:
		return s.Max, true
	default:
		return s.Latest, true
	}
}

// ParseStrategy returns the Strategy named s, or an error listing the
// allowed names.
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(s) {
	case Min, Max, Latest:
		return Strategy(s), nil
	}
	return "", fmt.Errorf("unknown metric strategy %q (allowed: min, max, latest)", s)
}
