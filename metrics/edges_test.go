package metrics_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
)

// TestTextNumberAtEndOfLine covers numbers cut short by the end of the
// line ("loss=5.", "loss=1e", "loss=1e-"): the default format takes the
// longest number it matches, exactly as Katib's regexp does, and reading
// never goes past the end of the line.
func TestTextNumberAtEndOfLine(t *testing.T) {
	p, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(metrics.DefaultFilter)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		line string
		want float64
	}{
		{"loss=5.", 5},
		{"loss=5.2", 5.2},
		{"loss=1e", 1},
		{"loss=1E", 1},
		{"loss=1e-", 1},
		{"loss=1e+", 1},
		{"loss=1e7", 1e7},
		{"loss=2.5e", 2.5},
		{"loss=-.5", -0.5},
		{"loss=.5e-1", 0.05},
		{"loss = 3.", 3},
	} {
		t.Run(tc.line, func(t *testing.T) {
			// Sub-slices of a larger buffer: a read one byte past the end
			// would see the next byte instead of panicking.
			buf := []byte(tc.line + "99")
			line := buf[:len(tc.line):len(tc.line)]
			logs, invalid := p.ParseLine(line, now)
			want := []metrics.Log{{Metric: "loss", Value: tc.want, Step: -1, Time: now}}
			if diff := cmp.Diff(want, logs); diff != "" || len(invalid) > 0 {
				t.Errorf("ParseLine(%q) logs (-want +got):\n%s invalid %q", tc.line, diff, invalid)
			}
			m := re.FindSubmatch(line)
			if m == nil || fmt.Sprint(tc.want) != fmt.Sprint(mustFloat(t, string(m[2]))) {
				t.Errorf("Katib's regexp reads %q from %q, want %v", m, tc.line, tc.want)
			}
		})
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}

// TestJSONNegativeNumbersAndSteps covers negative JSON numbers (as numbers
// and as strings), a step of 0 (a valid step, not "unknown"), and negative
// or fractional steps, which are ignored in favour of "epoch" or -1.
func TestJSONNegativeNumbersAndSteps(t *testing.T) {
	p, err := metrics.NewJSONParser([]string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		line      string
		value     float64
		step      int64
		noLogs    bool
		wantInval []string
	}{
		{line: `{"loss": -0.5}`, value: -0.5, step: -1},
		{line: `{"loss": -3e-2}`, value: -0.03, step: -1},
		{line: `{"loss": "-7"}`, value: -7, step: -1},
		{line: `{"loss": 0}`, value: 0, step: -1},
		{line: `{"loss": 1, "step": 0}`, value: 1, step: 0},
		{line: `{"loss": 1, "epoch": 0}`, value: 1, step: 0},
		{line: `{"loss": 1, "step": 4, "epoch": 9}`, value: 1, step: 4},
		{line: `{"loss": 1, "step": -3}`, value: 1, step: -1},
		{line: `{"loss": 1, "step": -3, "epoch": 2}`, value: 1, step: 2},
		{line: `{"loss": 1, "step": 1.5}`, value: 1, step: -1},
		{line: `{"loss": 1, "step": "2"}`, value: 1, step: -1},
		{line: `{"loss": -}`, noLogs: true},
		{line: `{"loss": "-"}`, noLogs: true, wantInval: []string{`loss="-"`}},
		{line: `{"loss": -Infinity}`, noLogs: true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			logs, invalid, err := p.ParseLine([]byte(tc.line), now)
			if tc.noLogs {
				if len(logs) > 0 {
					t.Errorf("logs %v, want none", logs)
				}
				if tc.wantInval != nil {
					if diff := cmp.Diff(tc.wantInval, invalid); diff != "" {
						t.Errorf("invalid (-want +got):\n%s", diff)
					}
				}
				if err == nil && len(invalid) == 0 {
					t.Errorf("neither an error nor an invalid value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []metrics.Log{{Metric: "loss", Value: tc.value, Step: tc.step, Time: now}}
			if diff := cmp.Diff(want, logs, cmpopts.EquateApprox(0, 1e-12)); diff != "" || len(invalid) > 0 {
				t.Errorf("logs (-want +got):\n%s invalid %q", diff, invalid)
			}
		})
	}
}

// TestJSONTimestampRange: a numeric timestamp is Unix seconds up to 1e15
// in magnitude, both limits included; beyond it, the time is now.
func TestJSONTimestampRange(t *testing.T) {
	p, err := metrics.NewJSONParser([]string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		ts   string
		want time.Time
	}{
		{"1e15", time.Unix(1e15, 0).UTC()},
		{"-1e15", time.Unix(-1e15, 0).UTC()},
		{"1.0000000000000002e15", now},
		{"-1.0000000000000002e15", now},
	} {
		logs, _, err := p.ParseLine([]byte(`{"loss": 1, "timestamp": `+tc.ts+`}`), now)
		if err != nil || len(logs) != 1 {
			t.Fatalf("timestamp %s: logs %v, error %v", tc.ts, logs, err)
		}
		if !logs[0].Time.Equal(tc.want) {
			t.Errorf("timestamp %s: time %v, want %v", tc.ts, logs[0].Time, tc.want)
		}
	}
}

// TestDefaultFilterAgreesWithRegexp: the hand-written matcher of the
// default format reads exactly what Katib's regular expression reads, on
// names made of every boundary character of [\w|-] and next to them.
func TestDefaultFilterAgreesWithRegexp(t *testing.T) {
	names := []string{"A", "Z", "a", "z", "x0", "x9", "m_n", "a|b", "a-b", "AZ", "az", "09", "loss"}
	fast, err := metrics.NewTextParser(nil, names)
	if err != nil {
		t.Fatal(err)
	}
	// The same language, but not the same string: parsed by package regexp.
	slow, err := metrics.NewTextParser([]string{"(?:)" + metrics.DefaultFilter}, names)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lines := []string{
		"A=1 Z=2 a=3 z=4",
		"x0=5 x9=6 m_n=7 a|b=8 a-b=9",
		"AZ=1.5e3 az = -2 09=+.5",
		"@A=1 [Z=2 `a=3 {z=4 /x0=5 :x9=6",
		"A@=1 Z[=2 a`=3 z{=4 x/=5 x:=6",
		"loss=1e loss=5. loss=- loss= loss",
		"=1 A== Z=.e5 a=1e+ z=1e-3",
	}
	for _, line := range lines {
		gotLogs, gotInvalid := fast.ParseLine([]byte(line), now)
		wantLogs, wantInvalid := slow.ParseLine([]byte(line), now)
		if diff := cmp.Diff(wantLogs, gotLogs); diff != "" {
			t.Errorf("%q: logs (-regexp +default):\n%s", line, diff)
		}
		if diff := cmp.Diff(wantInvalid, gotInvalid); diff != "" {
			t.Errorf("%q: invalid (-regexp +default):\n%s", line, diff)
		}
	}
	// And the boundary names are read at all.
	logs, _ := fast.ParseLine([]byte(lines[0]), now)
	if len(logs) != 4 {
		t.Errorf("%q: %d logs, want 4: %v", lines[0], len(logs), logs)
	}
}

// TestTextLeadingTimestampShortest: the shortest RFC 3339 timestamp
// ("2006-01-02T15:04:05Z", 20 bytes) at the start of a line is the time
// of its values; a line starting with "=" is still parsed.
func TestTextLeadingTimestampShortest(t *testing.T) {
	p, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		line string
		want time.Time
	}{
		{"2021-12-02T14:27:50Z loss=1", time.Date(2021, 12, 2, 14, 27, 50, 0, time.UTC)},
		{"2021-12-02T14:27:5Z loss=1", now},
		{"=2021-12-02T14:27:50Z loss=1", now},
	} {
		logs, _ := p.ParseLine([]byte(tc.line), now)
		if len(logs) != 1 || !logs[0].Time.Equal(tc.want) {
			t.Errorf("%q: logs %v, want one at %v", tc.line, logs, tc.want)
		}
	}
}
