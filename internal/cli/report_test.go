package cli_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/push"
)

// reportServer starts a push server with one registered trial, on the
// runner's default address (a Unix socket), and returns the environment
// that trial's processes get and what its sink and warn receive.
func reportServer(t *testing.T, names ...string) (env []string, got func() ([]metrics.Log, []string), done func()) {
	t.Helper()
	s, err := push.Listen("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "unix:/") {
		t.Fatalf("push server URL %q, want the default Unix socket", s.URL())
	}
	t.Cleanup(func() { s.Close() })
	var (
		mu    sync.Mutex
		logs  []metrics.Log
		warns []string
	)
	token, done := s.Register("exp-0001", names,
		func(l metrics.Log) { mu.Lock(); logs = append(logs, l); mu.Unlock() },
		func(w string) { mu.Lock(); warns = append(warns, w); mu.Unlock() })
	env = append(cleanEnv(), push.EnvURL+"="+s.URL(), push.EnvToken+"="+token)
	return env, func() ([]metrics.Log, []string) {
		mu.Lock()
		defer mu.Unlock()
		return append([]metrics.Log(nil), logs...), append([]string(nil), warns...)
	}, done
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	env, got, done := reportServer(t, "accuracy", "loss")
	if r := tuneEnv(t, dir, env, "report", "--step", "3", "accuracy=0.91", "loss=0.27"); r.code != 0 {
		t.Fatalf("tune report: exit %d: %s", r.code, r.stderr)
	}
	if r := tuneEnv(t, dir, env, "report", "accuracy=1e-3"); r.code != 0 {
		t.Fatalf("tune report: exit %d: %s", r.code, r.stderr)
	}
	logs, warns := got()
	want := []metrics.Log{
		{Metric: "accuracy", Value: 0.91, Step: 3},
		{Metric: "loss", Value: 0.27, Step: 3},
		{Metric: "accuracy", Value: 0.001, Step: -1},
	}
	if d := cmp.Diff(want, logs, cmpopts.IgnoreFields(metrics.Log{}, "Time")); d != "" {
		t.Errorf("sink (-want +got):\n%s", d)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}

	// The server's refusals come back as the command's error, exit 1.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"f1=0.5"}, `metric "f1" is not one of the experiment's metrics (accuracy, loss)`},
		{[]string{"accuracy=0.5", "loss=nan"}, `metric "loss": value "NaN" is not a finite number`},
		{[]string{"loss=1e999"}, "not a finite number"},
	} {
		r := tuneEnv(t, dir, env, append([]string{"report"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tune report %q: exit %d, stderr %q; want 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if logs, warns := got(); len(logs) != 3 || len(warns) != 3 {
		t.Errorf("after refused reports: %d values, %d warnings; want 3 and 3", len(logs), len(warns))
	}

	done()
	r := tuneEnv(t, dir, env, "report", "accuracy=0.99")
	if r.code != 1 || !strings.Contains(r.stderr, "exp-0001 has finished") {
		t.Errorf("tune report after the trial finished: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestReportUsage(t *testing.T) {
	dir := t.TempDir()
	env, got, _ := reportServer(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"accuracy"}, `"accuracy": want NAME=VALUE`},
		{[]string{"accuracy=0.5", "=3"}, `"=3": want NAME=VALUE`},
		{[]string{"loss=abc"}, `"loss=abc": value "abc" is not a number`},
		{[]string{"--step", "-5", "loss=1"}, "--step -5"},
		{[]string{"--step", "x", "loss=1"}, "step"},
		{nil, "expected NAME=VALUE"},
	} {
		r := tuneEnv(t, dir, env, append([]string{"report"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tune report %q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if logs, _ := got(); len(logs) != 0 {
		t.Errorf("usage errors sent values: %v", logs)
	}
}

func TestReportOutsideTrial(t *testing.T) {
	r := tune(t, t.TempDir(), "report", "accuracy=0.9")
	want := "tune report must run inside a trial of an experiment whose metricsCollectorSpec.collector.kind is Push"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, push.EnvURL) {
		t.Errorf("tune report without %s: exit %d, stderr %q; want 1 and %q", push.EnvURL, r.code, r.stderr, want)
	}
}
