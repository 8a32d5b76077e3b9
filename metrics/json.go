package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// JSONParser extracts metric logs from the JSON format of Katib's File
// collector (fileSystemPath.format: JSON): one JSON object per line, each
// metric a key, such as
//
//	{"accuracy": "0.98", "loss": "0.05", "timestamp": "2021-12-02T14:27:50Z"}
//
// Katib reads only string values and silently drops numbers
// (kubeflow/katib#2162); tune reads both. The optional "timestamp" key is
// the values' time: an RFC 3339 string (a "+0000"-style offset, which
// Katib's own time.Parse rejects, is accepted too) or a Unix time in
// seconds as a number (Katib turns the fraction into nanoseconds digit by
// digit, so its 1.5 is 1 s + 5 ns; tune's is 1.5 s). When it is missing
// or does not parse, the time is now (Katib records the zero time). An
// optional "step" key (or else "epoch"), a non-negative integer, is the
// values' step: a tune extension Katib ignores; without one, Step is -1.
//
// Katib fails the whole file on a line that is not JSON; here such a line
// is an error of its own, and the caller decides whether to skip it.
//
// A line that is a Kubeflow Pipelines metrics document ({"metrics":
// [...]}, see [ParsePipelineMetrics]) is read as one.
//
// It is safe for concurrent use.
type JSONParser struct {
	names []string
}

// NewJSONParser returns a parser for the metrics named metricNames; other
// keys are ignored. It returns an error when metricNames is empty or holds
// an empty name.
func NewJSONParser(metricNames []string) (*JSONParser, error) {
	if len(metricNames) == 0 {
		return nil, errors.New("no metric names given")
	}
	p := &JSONParser{}
	for i, name := range metricNames {
		if name == "" {
			return nil, fmt.Errorf("metric name %d is empty", i)
		}
		if !slices.Contains(p.names, name) {
			p.names = append(p.names, name)
		}
	}
	return p, nil
}

// ParseLine returns the logs of the named metrics in line, in the order
// the parser's names were given, and the values that are not finite
// numbers (strings that do not parse, "nan", numbers out of range such as
// 1e999 or 1e-400, booleans, null, objects) as
// "name=raw" in invalid. A blank line yields nothing; a line that is not a
// JSON object is an error saying why, with nothing returned.
func (p *JSONParser) ParseLine(line []byte, now time.Time) (logs []Log, invalid []string, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, nil, errors.New("not a JSON object: null")
	}
	if raw, ok := obj["metrics"]; ok && len(obj) == 1 && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		return ParsePipelineMetrics(line, p.names, now)
	}
	ts := now.UTC()
	if raw, ok := obj["timestamp"]; ok {
		if t, ok := parseJSONTime(raw); ok {
			ts = t
		}
	}
	step := int64(-1)
	for _, key := range []string{"step", "epoch"} {
		if raw, ok := obj[key]; ok {
			if n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err == nil && n >= 0 {
				step = n
				break
			}
		}
	}
	for _, name := range p.names {
		raw, ok := obj[name]
		if !ok {
			continue
		}
		v, ok := jsonNumber(raw)
		if !ok {
			invalid = append(invalid, name+"="+string(raw))
			continue
		}
		logs = append(logs, Log{Metric: name, Value: v, Step: step, Time: ts})
	}
	return logs, invalid, nil
}

// jsonNumber returns the finite number raw holds, as a JSON number or a
// string holding a decimal number.
func jsonNumber(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		return parseFinite([]byte(strings.TrimSpace(s)))
	}
	if len(raw) == 0 || !(raw[0] == '-' || isDigit(raw[0])) {
		return 0, false // true, false, null, objects, arrays
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || underflowed(raw, v) {
		return 0, false
	}
	return v, true
}

// parseJSONTime reads a "timestamp" value: an RFC 3339 string, or Unix
// seconds as a number.
func parseJSONTime(raw json.RawMessage) (time.Time, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	sec, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e15 {
		return time.Time{}, false
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), true
}

// ParsePipelineMetrics reads a Kubeflow Pipelines v1 metrics document, the
// /mlpipeline-metrics.json a KFP component writes:
//
//	{"metrics": [{"name": "accuracy", "numberValue": 0.9, "format": "PERCENTAGE"}]}
//
// It returns a log per entry named in names (numberValue a JSON number or
// a numeric string; KFP's format only changes how its UI shows the value,
// so a PERCENTAGE of 0.9 is recorded as 0.9), in the document's order, and
// entries whose numberValue is missing or not a finite number as
// "name=raw" in invalid (a missing one as "name="). Step is -1 and Time is
// now, in UTC: the document carries neither. A document that is not of
// this shape, or has no "metrics" list (null, {}), is an error; an empty
// list is not.
func ParsePipelineMetrics(doc []byte, names []string, now time.Time) (logs []Log, invalid []string, err error) {
	var d struct {
		Metrics *[]struct {
			Name        string          `json:"name"`
			NumberValue json.RawMessage `json:"numberValue"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, nil, fmt.Errorf("not a Kubeflow Pipelines metrics document: %w", err)
	}
	if d.Metrics == nil {
		return nil, nil, errors.New(`not a Kubeflow Pipelines metrics document: no "metrics" list`)
	}
	ts := now.UTC()
	for _, m := range *d.Metrics {
		if !slices.Contains(names, m.Name) {
			continue
		}
		v, ok := jsonNumber(m.NumberValue)
		if !ok {
			invalid = append(invalid, m.Name+"="+string(m.NumberValue))
			continue
		}
		logs = append(logs, Log{Metric: m.Name, Value: v, Step: -1, Time: ts})
	}
	return logs, invalid, nil
}
