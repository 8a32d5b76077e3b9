package experiment

import (
	"testing"

	"github.com/tune-hpo/tune/metrics"
)

func TestFailureSummary(t *testing.T) {
	tb := `Traceback (most recent call last):
  File "/work/train.py", line 40, in <module>
    main()
  File "/work/train.py", line 12, in main
    raise ValueError("bad lr")
ValueError: bad lr`
	chained := `Traceback (most recent call last):
  File "t.py", line 2, in <module>
    int("x")
ValueError: invalid literal for int() with base 10: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "t.py", line 4, in <module>
    raise RuntimeError("config broken")
RuntimeError: config broken`
	tests := map[string]struct{ in, want string }{
		"traceback": {"exit code 1: " + tb, "exit code 1: ValueError: bad lr\n" + tb},
		"chained":   {"exit code 1: " + chained, "exit code 1: RuntimeError: config broken\n" + chained},
		"start cut off": {"exit code 1:   File \"t.py\", line 9, in f\n    x = 1/0\nZeroDivisionError: division by zero",
			"exit code 1: ZeroDivisionError: division by zero\n  File \"t.py\", line 9, in f\n    x = 1/0\nZeroDivisionError: division by zero"},
		"syntax error": {"exit code 1:   File \"t.py\", line 3\n    x = = 1\n        ^\nSyntaxError: invalid syntax",
			"exit code 1: SyntaxError: invalid syntax\n  File \"t.py\", line 3\n    x = = 1\n        ^\nSyntaxError: invalid syntax"},
		"multi-line exception keeps its first line": {"exit code 1: " + tb + "\nmore detail",
			"exit code 1: ValueError: bad lr\n" + tb + "\nmore detail"},
		"killed by a signal":       {"killed by signal SIGKILL (killed): " + tb, "killed by signal SIGKILL (killed): ValueError: bad lr\n" + tb},
		"no prefix":                {tb, "ValueError: bad lr\n" + tb},
		"not python":               {"exit code 3: diverged: x too large", "exit code 3: diverged: x too large"},
		"go panic":                 {"exit code 2: panic: boom\n\ngoroutine 1 [running]:\nmain.main()", "exit code 2: panic: boom\n\ngoroutine 1 [running]:\nmain.main()"},
		"frames without exception": {"exit code 1: Traceback (most recent call last):\n  File \"t.py\", line 1", "exit code 1: Traceback (most recent call last):\n  File \"t.py\", line 1"},
		"empty":                    {"", ""},
	}
	for name, tc := range tests {
		if got := failureSummary(tc.in); got != tc.want {
			t.Errorf("%s: failureSummary =\n%s\nwant\n%s", name, got, tc.want)
		}
	}
}

func TestMetricsUnavailableMessage(t *testing.T) {
	seen := func(lines ...string) *metrics.Unmatched {
		u := metrics.NewUnmatched([]string{"accuracy", "loss"})
		for _, l := range lines {
			u.Line([]byte(l))
		}
		return u
	}
	const base = `trial exited 0 but did not report the objective metric "accuracy"`
	tests := map[string]struct {
		u      *metrics.Unmatched
		custom bool
		want   string
	}{
		"other names": {seen("acc=0.91 loss=0.3", "val_acc=0.88"), false,
			base + "; the trial printed acc=0.91, val_acc=0.88; the objective is accuracy (names must match exactly: is acc the objective?)"},
		"no near name": {seen("lr=0.1 epoch=3"), false, base + "; the trial printed lr=0.1, epoch=3; the objective is accuracy"},
		"near name": {seen("Accuracy=0.91 epoch=3"), false,
			base + "; the trial printed Accuracy=0.91, epoch=3; the objective is accuracy (names must match exactly: is Accuracy the objective?)"},
		"keras": {seen("Epoch 3/3 - 1s - loss: 0.3 - accuracy: 0.97"), false,
			base + `; it printed "accuracy: 0.97", but metrics are read as name=value (print accuracy=0.97), or set spec.metricsCollectorSpec.source.filter.metricsFormat to a regular expression whose first group matches the name and second the value, such as '` + ColonMetricsFormat + `'`},
		"keras, custom format": {seen("accuracy: 0.97"), true,
			base + `; it printed "accuracy: 0.97", which spec.metricsCollectorSpec.source.filter.metricsFormat does not match`},
		"nothing":                {seen("training done"), false, base + "; it printed no name=value pair: print a line such as accuracy=0.5 to report it"},
		"nothing, custom format": {seen(), true, base + "; no line of its output matched spec.metricsCollectorSpec.source.filter.metricsFormat"},
		"output not read":        {nil, false, base},
	}
	for name, tc := range tests {
		if got := metricsUnavailableMessage("accuracy", tc.u, tc.custom); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, tc.want)
		}
	}
}
