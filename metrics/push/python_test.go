package push_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/push"
)

// examplesDir holds the Python helper and the example trial.
var examplesDir = filepath.Join("..", "..", "examples", "push")

// python runs a Python program in examplesDir against a registered trial
// and returns its combined output and error.
func python(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	exe := testutil.Python3(t)
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Dir = examplesDir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPythonHelper checks examples/push/tune_report.py against a real
// server, on its default Unix socket and on TCP: values arrive with their
// step, and refusals raise with the server's message.
func TestPythonHelper(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:0"} {
		t.Run("address "+addr, func(t *testing.T) {
			s, err := push.Listen(addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			testPythonHelper(t, s)
		})
	}
}

func testPythonHelper(t *testing.T, s *push.Server) {
	var c collector
	tok, _ := s.Register("exp-0001", []string{"accuracy", "loss"}, c.sink, c.warn)
	env := []string{push.EnvURL + "=" + s.URL(), push.EnvToken + "=" + tok}
	out, err := python(t, env, "-c", "from tune_report import report; report(accuracy=0.9, loss=0.1, step=3); report(accuracy='0.5')")
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	logs, warns := c.snapshot()
	want := []metrics.Log{{Metric: "accuracy", Value: 0.9, Step: 3}, {Metric: "loss", Value: 0.1, Step: 3}, {Metric: "accuracy", Value: 0.5, Step: -1}}
	if len(logs) != len(want) {
		t.Fatalf("sink got %v, want %v", logs, want)
	}
	for i, l := range logs {
		if l.Metric != want[i].Metric || l.Value != want[i].Value || l.Step != want[i].Step || l.Time.IsZero() {
			t.Errorf("value %d: %+v, want %+v with a time", i, l, want[i])
		}
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}

	for script, wantMsg := range map[string]string{
		"report(accuracy=float('nan'))": `metric "accuracy": value "nan" is not a finite number`,
		"report(f1=0.3)":                `metric "f1" is not one of the experiment's metrics (accuracy, loss)`,
	} {
		out, err := python(t, env, "-c", "from tune_report import report; "+script)
		if err == nil || !strings.Contains(out, "RuntimeError: tune refused the report") || !strings.Contains(out, wantMsg) {
			t.Errorf("%s: err %v, output %q; want RuntimeError with %q", script, err, out, wantMsg)
		}
	}
	if logs, _ := c.snapshot(); len(logs) != 3 {
		t.Errorf("refused reports recorded values: %v", logs[3:])
	}

	out, err = python(t, []string{push.EnvURL + "=", push.EnvToken + "="}, "-c", "from tune_report import report; report(accuracy=1)")
	if err == nil || !strings.Contains(out, "TUNE_REPORT_URL and TUNE_REPORT_TOKEN are not set") {
		t.Errorf("without the environment: err %v, output %q", err, out)
	}
}

// TestPythonExample runs examples/push/train.py as a trial would.
func TestPythonExample(t *testing.T) {
	s, err := push.Listen("", nil) // the runner's default, a Unix socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var c collector
	tok, done := s.Register("push-random-0001", []string{"accuracy", "loss"}, c.sink, c.warn)
	out, err := python(t, []string{push.EnvURL + "=" + s.URL(), push.EnvToken + "=" + tok}, "train.py", "--lr=0.05", "--epochs=4")
	if err != nil {
		t.Fatalf("train.py: %v\n%s", err, out)
	}
	done()
	logs, warns := c.snapshot()
	if len(logs) != 8 || len(warns) != 0 {
		t.Fatalf("train.py --epochs=4 reported %d values and %d warnings, want 8 and 0: %v %q", len(logs), len(warns), logs, warns)
	}
	prev := 0.0
	for i, l := range logs {
		if l.Step != int64(i/2+1) {
			t.Errorf("value %d: step %d, want %d", i, l.Step, i/2+1)
		}
		if l.Metric == "accuracy" {
			if l.Value <= prev || l.Value > 1 {
				t.Errorf("accuracy %v at step %d after %v: want rising, at most 1", l.Value, l.Step, prev)
			}
			prev = l.Value
		}
	}
}
