package metrics_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/metrics"
)

func TestJSONParser(t *testing.T) {
	p, err := metrics.NewJSONParser([]string{"accuracy", "loss"})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2021, 12, 2, 14, 27, 50, 0, time.UTC)
	for name, tc := range map[string]struct {
		line    string
		want    []metrics.Log
		invalid []string
		err     string
	}{
		"Katib strings": {
			line: `{"accuracy": "0.98", "loss": "0.05", "foo": "bar", "timestamp": "2021-12-02T14:27:50Z"}`,
			want: []metrics.Log{{Metric: "accuracy", Value: 0.98, Step: -1, Time: ts}, {Metric: "loss", Value: 0.05, Step: -1, Time: ts}},
		},
		"numbers, which Katib drops": {
			line: `{"loss": 1.5e-3, "accuracy": 1}`,
			want: []metrics.Log{{Metric: "accuracy", Value: 1, Step: -1, Time: now}, {Metric: "loss", Value: 0.0015, Step: -1, Time: now}},
		},
		"+0000 offset and step": {
			line: `{"loss": "0.5", "step": 12, "timestamp": "2021-12-02T15:27:50.000+0100"}`,
			want: []metrics.Log{{Metric: "loss", Value: 0.5, Step: 12, Time: ts}},
		},
		"unix seconds with a fraction, epoch as step": {
			line: `{"loss": "0.5", "epoch": 3, "timestamp": 1638455270.5}`,
			want: []metrics.Log{{Metric: "loss", Value: 0.5, Step: 3, Time: ts.Add(500 * time.Millisecond)}},
		},
		"unparseable timestamp: now": {
			line: `{"loss": "0.5", "timestamp": "yesterday"}`,
			want: []metrics.Log{{Metric: "loss", Value: 0.5, Step: -1, Time: now}},
		},
		"not numbers": {
			line:    `{"loss": "nan", "accuracy": true}`,
			invalid: []string{"accuracy=true", `loss="nan"`},
		},
		"null, object, garbage, inf": {
			line:    `{"loss": null, "accuracy": {"v": 1}}`,
			invalid: []string{`accuracy={"v": 1}`, "loss=null"},
		},
		"string garbage": {
			line:    `{"loss": "0.5abc", "accuracy": "1e999"}`,
			invalid: []string{`accuracy="1e999"`, `loss="0.5abc"`},
		},
		"underflow": {
			line:    `{"loss": 1e-400, "accuracy": "-1e-400"}`,
			invalid: []string{`accuracy="-1e-400"`, "loss=1e-400"},
		},
		"blank": {line: "   "},
		"not JSON": {
			line: `loss=0.5`,
			err:  "not a JSON object",
		},
		"an array": {
			line: `[1, 2]`,
			err:  "not a JSON object",
		},
		"null line": {
			line: `null`,
			err:  "not a JSON object",
		},
		"pipeline metrics document": {
			line: `{"metrics": [{"name": "accuracy", "numberValue": 0.9, "format": "PERCENTAGE"}, {"name": "f1", "numberValue": 0.7}]}`,
			want: []metrics.Log{{Metric: "accuracy", Value: 0.9, Step: -1, Time: now}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			logs, invalid, err := p.ParseLine([]byte(tc.line), now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || logs != nil {
					t.Fatalf("ParseLine = %v, %v; want error %q and no logs", logs, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, logs); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.invalid, invalid); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePipelineMetrics(t *testing.T) {
	doc := `{"metrics": [
	  {"name": "accuracy", "numberValue": "0.931", "format": "PERCENTAGE"},
	  {"name": "loss", "numberValue": 0.21, "format": "RAW"},
	  {"name": "loss", "numberValue": "NaN"},
	  {"name": "other", "numberValue": 1}
	]}`
	logs, invalid, err := metrics.ParsePipelineMetrics([]byte(doc), []string{"accuracy", "loss"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Log{{Metric: "accuracy", Value: 0.931, Step: -1, Time: now}, {Metric: "loss", Value: 0.21, Step: -1, Time: now}}
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`loss="NaN"`}, invalid); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"metrics": 3}`, `{"metrics": [1]}`, `null`, `{}`, `{"metrics": null}`, `accuracy=0.9`, ``} {
		if logs, _, err := metrics.ParsePipelineMetrics([]byte(bad), []string{"loss"}, now); err == nil {
			t.Errorf("%q accepted, logs %v", bad, logs)
		}
	}
	logs, invalid, err = metrics.ParsePipelineMetrics([]byte(`{"metrics": [{"name": "loss"}, {"name": "loss", "numberValue": null}]}`), []string{"loss"}, now)
	if err != nil || logs != nil {
		t.Fatalf("missing values: logs %v, error %v", logs, err)
	}
	if diff := cmp.Diff([]string{"loss=", "loss=null"}, invalid); diff != "" {
		t.Errorf("missing values: invalid (-want +got):\n%s", diff)
	}
	if logs, invalid, err := metrics.ParsePipelineMetrics([]byte(`{"metrics": []}`), []string{"loss"}, now); err != nil || logs != nil || invalid != nil {
		t.Errorf("empty list: %v, %v, %v; want nothing", logs, invalid, err)
	}
}

func TestNewJSONParserErrors(t *testing.T) {
	if _, err := metrics.NewJSONParser(nil); err == nil {
		t.Error("no names accepted")
	}
	if _, err := metrics.NewJSONParser([]string{"a", ""}); err == nil {
		t.Error("empty name accepted")
	}
}

func FuzzJSONParseLine(f *testing.F) {
	for _, s := range []string{`{"loss": "0.5", "timestamp": 1.5, "step": 3}`, `{"metrics": [{"name": "loss", "numberValue": 1}]}`, `{"loss": 1e308}`, `[`, `{"loss": "-0x1p-2"}`} {
		f.Add([]byte(s))
	}
	p, err := metrics.NewJSONParser([]string{"loss", "accuracy"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		logs, _, err := p.ParseLine(line, now)
		if err != nil && logs != nil {
			t.Fatalf("logs %v with error %v", logs, err)
		}
		for _, l := range logs {
			if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) || (l.Metric != "loss" && l.Metric != "accuracy") || l.Step < -1 {
				t.Fatalf("bad log %+v from %q", l, line)
			}
		}
	})
}

func FuzzParsePipelineMetrics(f *testing.F) {
	for _, s := range []string{
		`{"metrics": [{"name": "accuracy", "numberValue": 0.9, "format": "PERCENTAGE"}]}`,
		`{"metrics": [{"name": "loss", "numberValue": "0.21", "format": "RAW"}, {"name": "loss", "numberValue": "NaN"}]}`,
		`{"metrics": [{"name": "loss"}, {"name": "loss", "numberValue": null}, {"name": "loss", "numberValue": {"a": 1}}]}`,
		`{"metrics": [{"name": "loss", "numberValue": 1e999}]}`,
		`{"metrics": null}`,
		`{"metrics": [1]}`,
	} {
		f.Add([]byte(s))
	}
	names := []string{"loss", "accuracy"}
	f.Fuzz(func(t *testing.T, doc []byte) {
		logs, invalid, err := metrics.ParsePipelineMetrics(doc, names, now)
		if err != nil && (logs != nil || invalid != nil) {
			t.Fatalf("logs %v, invalid %v with error %v", logs, invalid, err)
		}
		for _, l := range logs {
			if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) || !slices.Contains(names, l.Metric) || l.Step != -1 || !l.Time.Equal(now) {
				t.Fatalf("bad log %+v from %q", l, doc)
			}
		}
		for _, s := range invalid {
			if name, _, ok := strings.Cut(s, "="); !ok || !slices.Contains(names, name) {
				t.Fatalf("invalid entry %q does not name a metric of interest", s)
			}
		}
	})
}
