package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/cli"
)

// TestPBTValidateAndRunAgree: pbt, which tune validate and tune run used
// to refuse alike as not implemented, is now accepted by both: the file
// validates, and runs its two trials of generation 0.
func TestPBTValidateAndRunAgree(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "pop", Algorithm: "pbt", Parallel: 1, Max: 2, MaxFailed: 1,
		Settings: "      - {name: suggestion_trial_dir, value: ckpt}\n      - {name: n_population, value: \"8\"}\n      - {name: truncation_threshold, value: \"0.2\"}"})
	if v := tune(t, dir, "validate", file); v.code != 0 || v.stderr != "" {
		t.Errorf("tune validate: exit %d, stderr %q; want 0 and nothing", v.code, v.stderr)
	}
	if r := tune(t, dir, "run", "-q", file); r.code != 0 || !strings.Contains(r.stdout, "2 trials, 2 succeeded") {
		t.Errorf("tune run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestVersion: tune version names the module, the Go toolchain that built
// the running binary and the platform, as text and as JSON.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	r := tune(t, dir, "version", "-o", "json")
	var v struct {
		Module, Version, GoVersion, Platform string
		Modified                             bool
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("tune version -o json: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if v.Module != "github.com/tune-hpo/tune" || v.GoVersion != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH || v.Version == "" {
		t.Errorf("tune version -o json = %+v", v)
	}
	r = tune(t, dir, "version")
	for _, want := range []string{"tune " + v.Version + "\n", "module: github.com/tune-hpo/tune\n", "go: " + runtime.Version() + " " + v.Platform + "\n", "commit: "} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("tune version: exit %d, output %q lacks %q", r.code, r.stdout, want)
		}
	}
	if r := tune(t, dir, "version", "-o", "xml"); r.code != 2 || !strings.Contains(r.stderr, "-o") {
		t.Errorf("tune version -o xml: exit %d, %q; want 2 naming -o", r.code, r.stderr)
	}
}

// trialsOf returns the trials of experiment name as tune get trials -o
// json prints them.
func trialsOf(t *testing.T, dir, name string) []jsonTrial {
	t.Helper()
	r := tune(t, dir, "get", "trials", name, "-o", "json")
	var trials []jsonTrial
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &trials) != nil {
		t.Fatalf("tune get trials %s: exit %d, %q, %q", name, r.code, r.stdout, r.stderr)
	}
	return trials
}

// TestObjectiveNeverReportedSaysWhatWasPrinted: a trial that prints its
// metrics Keras-style ("loss: 0.25") and other names as name=value ends
// MetricsUnavailable with a message naming what it printed and the
// metricsFormat to set; setting that format makes the same trial report
// the values it printed.
func TestObjectiveNeverReportedSaysWhatWasPrinted(t *testing.T) {
	dir := t.TempDir()
	const line = `epoch 3/3 - val_loss=0.4 - loss: 0.25 - accuracy: 0.9`
	file := writeExperiment(t, dir, expParams{Name: "keras", Parallel: 1, Max: 1, MaxFailed: 1,
		Extra: `, "--no-metrics", "--stdout", "` + line + `"`})
	r := tune(t, dir, "run", file)
	if r.code != 1 {
		t.Fatalf("tune run: exit %d, want 1 (the only trial failed)\n%s", r.code, r.stderr)
	}
	trials := trialsOf(t, dir, "keras")
	if len(trials) != 1 || trials[0].Status != "MetricsUnavailable" {
		t.Fatalf("trials = %+v, want one MetricsUnavailable", trials)
	}
	msg := trials[0].Message
	for _, want := range []string{
		`did not report the objective metric "loss"`,
		"the trial printed val_loss=0.4; the objective is loss",
		`it printed "loss: 0.25", but metrics are read as name=value (print loss=0.25)`,
		"spec.metricsCollectorSpec.source.filter.metricsFormat",
		experiment.ColonMetricsFormat,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !strings.Contains(r.stderr, "trial keras-") || !strings.Contains(r.stderr, "the trial printed val_loss=0.4") {
		t.Errorf("tune run's progress does not show the message:\n%s", r.stderr)
	}

	// The format the message suggests reads the line.
	file = writeExperiment(t, dir, expParams{Name: "keras2", Parallel: 1, Max: 1, MaxFailed: 1,
		Extra: `, "--no-metrics", "--stdout", "` + line + `"`})
	appendFile(t, file, "  metricsCollectorSpec:\n    source:\n      filter:\n        metricsFormat: ['"+experiment.ColonMetricsFormat+"']\n")
	if r := tune(t, dir, "run", file); r.code != 0 {
		t.Fatalf("tune run with the suggested format: exit %d\n%s", r.code, r.stderr)
	}
	trials = trialsOf(t, dir, "keras2")
	if len(trials) != 1 || trials[0].Status != "Succeeded" || trials[0].Metrics["loss"] != 0.25 || trials[0].Metrics["accuracy"] != 0.9 {
		t.Errorf("with the suggested format: trials = %+v, want Succeeded with loss 0.25, accuracy 0.9", trials)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestTracebackSummary: a trial that dies of a Python exception is
// reported, in tune run's progress and in its stored message, by the
// exception line, with the whole traceback kept below it.
func TestTracebackSummary(t *testing.T) {
	dir := t.TempDir()
	const tb = `Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    raise ValueError(\"bad lr\")\nValueError: bad lr`
	file := writeExperiment(t, dir, expParams{Name: "py", Parallel: 1, Max: 1, MaxFailed: 1,
		Extra: `, "--exit", "1", "--stderr", "` + tb + `"`})
	r := tune(t, dir, "run", file)
	if r.code != 1 {
		t.Fatalf("tune run: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Failed: exit code 1: ValueError: bad lr …") {
		t.Errorf("progress does not name the exception:\n%s", r.stderr)
	}
	trials := trialsOf(t, dir, "py")
	if len(trials) != 1 {
		t.Fatalf("trials = %+v", trials)
	}
	msg := trials[0].Message
	first, rest, _ := strings.Cut(msg, "\n")
	if first != "exit code 1: ValueError: bad lr" {
		t.Errorf("message's first line = %q, want the exception", first)
	}
	for _, want := range []string{"done with py-", "Traceback (most recent call last):", `  File "train.py", line 3, in <module>`, `    raise ValueError("bad lr")`, "ValueError: bad lr"} {
		if !strings.Contains(rest, want) {
			t.Errorf("message %q lost %q of the stderr tail", msg, want)
		}
	}
}

// TestUnknownCommandSuggests: a misspelt command or subcommand is a usage
// error (exit 2) naming the commands and the nearest one; a name near
// none gets no suggestion; the completion scripts are still there.
func TestUnknownCommandSuggests(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rn", "x.yaml"}, `tune: tune: unknown command "rn" (commands: bench, best, `},
		{[]string{"rn", "x.yaml"}, `, run, store, `},
		{[]string{"rn", "x.yaml"}, `); did you mean "run"?` + "\n"},
		{[]string{"valdate"}, `did you mean "validate"?`},
		{[]string{"get", "trail", "x"}, `tune: tune get: unknown command "trail" (commands: experiments, trials); did you mean "trials"?` + "\n"},
		{[]string{"store", "chek"}, `tune: tune store: unknown command "chek" (commands: check, recover); did you mean "check"?` + "\n"},
		{[]string{"delete", "experimnt", "x"}, `did you mean "experiment"?`},
		{[]string{"run", "--max-observation", "5", "x.yaml"}, "tune: unknown flag: --max-observation; did you mean --max-observations?\n"},
		{[]string{"get", "trials", "x", "--stor", "a.db"}, "did you mean --store?"},
	} {
		r := tune(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tune %q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := tune(t, dir, "frobnicate"); r.code != 2 || strings.Contains(r.stderr, "did you mean") {
		t.Errorf("tune frobnicate: exit %d, stderr %q; want 2 without a suggestion", r.code, r.stderr)
	}
	if r := tune(t, dir, "completion", "bash"); r.code != 0 || !strings.Contains(r.stdout, "bash completion") {
		t.Errorf("tune completion bash: exit %d, %q", r.code, r.stderr)
	}
	if r := tune(t, dir); r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("tune without arguments: exit %d, stdout %q; want the help", r.code, r.stdout)
	}
}

// TestMainIgnoresProcessArgs checks that Main reads only the arguments it
// is given: with none (nil), it must not fall back to the test binary's own
// command line, as cobra does for nil.
func TestMainIgnoresProcessArgs(t *testing.T) {
	// cobra drops the test binary's -test.* flags on its own; a flag of
	// the test's own (go test -args -update-screenshots) reached it.
	saved := os.Args
	os.Args = append(slices.Clip(os.Args), "--not-a-tune-flag")
	defer func() { os.Args = saved }()
	var outNil, errNil, outEmpty, errEmpty bytes.Buffer
	codeNil := cli.Main(t.Context(), nil, cli.IOStreams{In: strings.NewReader(""), Out: &outNil, ErrOut: &errNil})
	codeEmpty := cli.Main(t.Context(), []string{}, cli.IOStreams{In: strings.NewReader(""), Out: &outEmpty, ErrOut: &errEmpty})
	if codeNil != codeEmpty || outNil.String() != outEmpty.String() || errNil.String() != errEmpty.String() {
		t.Errorf("Main(nil) = %d, %q, %q; Main([]) = %d, %q, %q", codeNil, outNil.String(), errNil.String(), codeEmpty, outEmpty.String(), errEmpty.String())
	}
}
