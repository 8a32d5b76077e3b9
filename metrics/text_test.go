package metrics_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
)

// katibFileFormat is the metricsFormat of Katib's file metrics collector
// example.
const katibFileFormat = `{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}`

var now = time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*60*60))

func mlog(name string, v float64) metrics.Log {
	return metrics.Log{Metric: name, Value: v, Step: -1, Time: now.UTC()}
}

func logAt(name string, v float64, t time.Time) metrics.Log {
	return metrics.Log{Metric: name, Value: v, Step: -1, Time: t}
}

func TestParseLine(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		formats     []string
		names       []string
		line        string
		want        []metrics.Log
		wantInvalid []string
	}{
		"several pairs in order": {
			names: []string{"accuracy", "loss"},
			line:  "epoch 1: loss=0.23 accuracy=0.91",
			want:  []metrics.Log{mlog("loss", 0.23), mlog("accuracy", 0.91)},
		},
		"spaces around equals": {
			names: []string{"loss"},
			line:  "loss = 0.5, loss\t=\t0.25",
			want:  []metrics.Log{mlog("loss", 0.5), mlog("loss", 0.25)},
		},
		"exponents": {
			names: []string{"lr", "loss", "big"},
			line:  "lr=1e-3 loss=2.5E+2 big=1e300",
			want:  []metrics.Log{mlog("lr", 1e-3), mlog("loss", 250), mlog("big", 1e300)},
		},
		"negative and signed values": {
			names: []string{"reward", "gain", "frac"},
			line:  "reward=-12.5 gain=+3 frac=-.5",
			want:  []metrics.Log{mlog("reward", -12.5), mlog("gain", 3), mlog("frac", -0.5)},
		},
		"names with dash and bar": {
			names: []string{"val-loss", "a|b"},
			line:  "val-loss=0.1 a|b=2",
			want:  []metrics.Log{mlog("val-loss", 0.1), mlog("a|b", 2)},
		},
		"metrics not of interest ignored": {
			names: []string{"accuracy"},
			line:  "loss=0.2 val_accuracy=0.8 accuracy=0.9 train-accuracy=0.95",
			want:  []metrics.Log{mlog("accuracy", 0.9)},
		},
		"name only mentioned": {
			names: []string{"loss"},
			line:  "computing loss over 3 batches",
		},
		"no metric names": {
			names: []string{"loss"},
			line:  "epoch=3 step=100",
		},
		"empty line": {
			names: []string{"loss"},
			line:  "",
		},
		"rfc3339 timestamp": {
			names: []string{"loss"},
			line:  "2024-05-01T12:00:00Z loss=0.5",
			want:  []metrics.Log{logAt("loss", 0.5, ts)},
		},
		"timestamp with fraction and offset is converted to utc": {
			names: []string{"loss"},
			line:  "  2024-05-01T14:00:00.25+02:00\tloss=0.5",
			want:  []metrics.Log{logAt("loss", 0.5, ts.Add(250*time.Millisecond))},
		},
		"timestamp not first": {
			names: []string{"loss"},
			line:  "at 2024-05-01T12:00:00Z loss=0.5",
			want:  []metrics.Log{mlog("loss", 0.5)},
		},
		"malformed timestamp": {
			names: []string{"loss"},
			line:  "2024-05-01T25:00:00Z loss=0.5",
			want:  []metrics.Log{mlog("loss", 0.5)},
		},
		"empty value is invalid": {
			names:       []string{"loss", "accuracy"},
			line:        "loss=nan accuracy=0.5 loss=",
			want:        []metrics.Log{mlog("accuracy", 0.5)},
			wantInvalid: []string{"loss=nan", "loss="},
		},
		"sign alone is invalid": {
			names:       []string{"loss"},
			line:        "loss=- loss=+",
			wantInvalid: []string{"loss=-", "loss=+"},
		},
		"overflow is invalid": {
			names:       []string{"loss"},
			line:        "loss=1e999 loss=-1e999",
			wantInvalid: []string{"loss=1e999", "loss=-1e999"},
		},
		"underflow is invalid": {
			// ParseFloat gives 0 without ErrRange; a value rounded to 0
			// is as wrong as one rounded to infinity.
			names:       []string{"loss"},
			line:        "loss=1e-999 loss=-1e-400 loss=0.0000e-400 loss=1e-320 loss=-0.0",
			want:        []metrics.Log{mlog("loss", 0), mlog("loss", 1e-320), mlog("loss", math.Copysign(0, -1))},
			wantInvalid: []string{"loss=1e-999", "loss=-1e-400"},
		},
		"nan and inf with a permissive format": {
			formats:     []string{`(\w+)=(\S+)`},
			names:       []string{"loss"},
			line:        "loss=NaN loss=inf loss=-Infinity loss=1.2.3 loss=0.5",
			want:        []metrics.Log{mlog("loss", 0.5)},
			wantInvalid: []string{"loss=NaN", "loss=inf", "loss=-Infinity", "loss=1.2.3"},
		},
		"text values with a custom format": {
			// Katib keeps a value that is not a number as text: its DARTS
			// trial reports the architecture found this way. Numbers in
			// notations that are not finite decimals stay invalid.
			formats:     []string{`([\w-]+)=(Genotype.*)`, `(\w+)=(\S+)`},
			names:       []string{"Best-Genotype", "loss"},
			line:        "Best-Genotype=Genotype(normal=[[('max_pooling_3x3',0)]],normal_concat=range(2,3)) loss=abc loss=½ loss=nan",
			want:        []metrics.Log{textLog("Best-Genotype", "Genotype(normal=[[('max_pooling_3x3',0)]],normal_concat=range(2,3)) loss=abc loss=½ loss=nan"), textLog("loss", "abc"), textLog("loss", "½")},
			wantInvalid: []string{"loss=nan"},
		},
		"text values with the default format": {
			names:       []string{"loss"},
			line:        "loss=abc",
			wantInvalid: []string{"loss=abc"},
		},
		"katib file format": {
			formats: []string{katibFileFormat},
			names:   []string{"accuracy", "loss"},
			line:    "{metricName: accuracy, metricValue: 0.98}",
			want:    []metrics.Log{mlog("accuracy", 0.98)},
		},
		"katib file format with timestamp and negative": {
			formats: []string{katibFileFormat},
			names:   []string{"accuracy", "loss"},
			line:    "2024-05-01T12:00:00Z {metricName: loss, metricValue: -3.5} {metricName: other, metricValue: 1}",
			want:    []metrics.Log{logAt("loss", -3.5, ts)},
		},
		"katib file format ignores name=value": {
			formats: []string{katibFileFormat},
			names:   []string{"accuracy"},
			line:    "accuracy=0.5",
		},
		"several formats in format order": {
			formats: []string{katibFileFormat, metrics.DefaultFilter},
			names:   []string{"accuracy", "loss"},
			line:    "loss=0.1 {metricName: accuracy, metricValue: 0.98}",
			want:    []metrics.Log{mlog("accuracy", 0.98), mlog("loss", 0.1)},
		},
		"duplicate names": {
			names: []string{"loss", "loss"},
			line:  "loss=1",
			want:  []metrics.Log{mlog("loss", 1)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := metrics.NewTextParser(tc.formats, tc.names)
			if err != nil {
				t.Fatalf("NewTextParser: %v", err)
			}
			got, invalid := p.ParseLine([]byte(tc.line), now)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseLine(%q) logs (-want +got):\n%s", tc.line, diff)
			}
			if diff := cmp.Diff(tc.wantInvalid, invalid, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseLine(%q) invalid (-want +got):\n%s", tc.line, diff)
			}
			for _, l := range got {
				if l.Time.Location() != time.UTC {
					t.Errorf("log %v: time not in UTC", l)
				}
			}
		})
	}
}

func TestParseLineDoesNotRetainLine(t *testing.T) {
	p, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("loss=0.5 loss=x")
	logs, invalid := p.ParseLine(line, now)
	for i := range line {
		line[i] = '9'
	}
	if diff := cmp.Diff([]metrics.Log{mlog("loss", 0.5)}, logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"loss=x"}, invalid); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}
}

func TestNewTextParserErrors(t *testing.T) {
	tests := map[string]struct {
		formats []string
		names   []string
		want    string // substring of the error
	}{
		"bad regex": {
			formats: []string{metrics.DefaultFilter, `(\w+)=(\d+`},
			names:   []string{"loss"},
			want:    `metrics format 1 "(\\w+)=(\\d+": error parsing regexp`,
		},
		"one group": {
			formats: []string{`loss=(\d+)`},
			names:   []string{"loss"},
			want:    `metrics format 0 "loss=(\\d+)": has 1 capture groups, needs at least 2`,
		},
		"no names": {
			want: "no metric names",
		},
		"empty name": {
			names: []string{"loss", ""},
			want:  "metric name 1 is empty",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := metrics.NewTextParser(tc.formats, tc.names)
			if err == nil {
				t.Fatalf("NewTextParser = %v, want an error", p)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseLineNonMetricLineDoesNotAllocate(t *testing.T) {
	p, err := metrics.NewTextParser(nil, []string{"loss", "accuracy"})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("Epoch 3/10 - 1250/1250 [==============================] - 12s 9ms/step")
	if n := testing.AllocsPerRun(100, func() { p.ParseLine(line, now) }); n != 0 {
		t.Errorf("ParseLine on a line without metrics: %v allocations, want 0", n)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"epoch 1: loss=0.23 accuracy=0.91",
		"2024-05-01T12:00:00Z loss=-1.5e-3",
		"{metricName: accuracy, metricValue: 0.98}",
		"val-loss = +.5E+2 a|b=3",
		"loss=nan loss=1e999 loss=",
		"loss=0x1p-2 accuracy=1_000",
		"loss=NaN loss=+Inf loss=-Inf loss=1e999 loss=garbage",
		"loss=1.5.3 accuracy=.5e loss=0.25s accuracy=91%",
		"loss=\x00 accuracy=\xff\xfe loss=½",
		"2024-05-01T12:00:00.123456789+14:00\tloss==1",
		"",
	} {
		f.Add([]byte(s))
	}
	names := []string{"loss", "accuracy", "val-loss", "a|b"}
	var parsers []*metrics.TextParser
	for _, formats := range [][]string{nil, {katibFileFormat}, {`(\S+)=(\S*)`}} {
		p, err := metrics.NewTextParser(formats, names)
		if err != nil {
			f.Fatal(err)
		}
		parsers = append(parsers, p)
	}
	// The same format through package regexp: it must find what the
	// hand-written matcher for DefaultFilter finds, except where that
	// matcher refuses a number glued to "x" or "_" (0x1p-2, 1_000).
	viaRegexp, err := metrics.NewTextParser([]string{"(?:" + metrics.DefaultFilter + ")"}, names)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		if !bytes.ContainsAny(line, "xX_") {
			fastLogs, fastInvalid := parsers[0].ParseLine(line, now)
			reLogs, reInvalid := viaRegexp.ParseLine(line, now)
			if diff := cmp.Diff(reLogs, fastLogs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%q: logs (-regexp +default):\n%s", line, diff)
			}
			if diff := cmp.Diff(reInvalid, fastInvalid, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%q: invalid (-regexp +default):\n%s", line, diff)
			}
		}
		for _, p := range parsers {
			logs, invalid := p.ParseLine(line, now)
			for _, l := range logs {
				if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
					t.Errorf("log %v: value not finite", l)
				}
				if !slices.Contains(names, l.Metric) {
					t.Errorf("log %v: metric not of interest", l)
				}
				if l.Step != -1 {
					t.Errorf("log %v: step %d, want -1", l, l.Step)
				}
				if l.Time.Location() != time.UTC {
					t.Errorf("log %v: time not in UTC", l)
				}
			}
			for _, s := range invalid {
				name, _, ok := strings.Cut(s, "=")
				if !ok || !slices.Contains(names, name) {
					t.Errorf("invalid entry %q does not start with a metric of interest", s)
				}
			}
			if !bytes.Equal(line, orig) {
				t.Fatalf("ParseLine modified its input")
			}
		}
	})
}

func BenchmarkParseLine(b *testing.B) {
	p, err := metrics.NewTextParser(nil, []string{"loss", "accuracy", "val-loss"})
	if err != nil {
		b.Fatal(err)
	}
	lines := map[string][]byte{
		"metric":    []byte("2024-05-01T12:00:00Z epoch 7: loss=0.2314 accuracy=0.9132 val-loss=0.3051"),
		"nonmetric": []byte("Epoch 3/10 - 1250/1250 [==============================] - 12s 9ms/step"),
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				p.ParseLine(line, now)
			}
		})
	}
	b.Run("metric-regexp", func(b *testing.B) {
		// A format other than DefaultFilter goes through package regexp.
		p, err := metrics.NewTextParser([]string{`([\w|-]+)\s*=\s*(\S+)`}, []string{"loss", "accuracy", "val-loss"})
		if err != nil {
			b.Fatal(err)
		}
		line := lines["metric"]
		b.ReportAllocs()
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			p.ParseLine(line, now)
		}
	})
}

func textLog(name, text string) metrics.Log {
	return metrics.Log{Metric: name, Text: text, Step: -1, Time: now.UTC()}
}
