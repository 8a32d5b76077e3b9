package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// describeJSON is the documented JSON shape of tune describe.
type describeJSON struct {
	Experiment string `json:"experiment"`
	Name       string `json:"name"`
	Seq        int    `json:"seq"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	ExitCode   *int   `json:"exitCode"`
	Parameters []struct {
		Name   string   `json:"name"`
		Type   string   `json:"type"`
		Value  string   `json:"value"`
		Number *float64 `json:"number"`
	} `json:"parameters"`
	Metrics []struct {
		Name      string   `json:"name"`
		Objective bool     `json:"objective"`
		Strategy  string   `json:"strategy"`
		Value     *float64 `json:"value"`
		Min       *float64 `json:"min"`
		Max       *float64 `json:"max"`
		Latest    *float64 `json:"latest"`
		Count     int      `json:"count"`
	} `json:"metrics"`
	History []struct {
		Type string    `json:"type"`
		Time time.Time `json:"time"`
	} `json:"history"`
	Command []string `json:"command"`
	Dir     string   `json:"dir"`
	Logs    []struct {
		Stream  string   `json:"stream"`
		Path    string   `json:"path"`
		Tail    []string `json:"tail"`
		Omitted bool     `json:"omitted"`
		Capped  bool     `json:"capped"`
		Error   string   `json:"error"`
	} `json:"logs"`
	Curves map[string]struct {
		First, Best, Last float64
		Steps             int
	} `json:"curves"`
	Observations []struct {
		Metric string  `json:"metric"`
		Value  float64 `json:"value"`
		Step   int64   `json:"step"`
	} `json:"observations"`
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// runQuad runs a random experiment of trialprog with extra arguments and
// returns its trials.
func runQuad(t *testing.T, dir string, p expParams) []jsonTrial {
	t.Helper()
	if p.Parallel == 0 {
		p.Parallel = 2
	}
	if p.MaxFailed == 0 {
		p.MaxFailed = p.Max
	}
	file := writeExperiment(t, dir, p)
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run %s: exit %d\n%s", p.Name, r.code, r.stderr)
	}
	return getTrials(t, dir, p.Name)
}

func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	// 25 epochs: more stdout lines than describe shows.
	trials := runQuad(t, dir, expParams{Name: "desc", Max: 3, Extra: `, "--epochs=25"`,
		Settings: "      - {name: random_state, value: \"5\"}"})
	var tr jsonTrial
	for _, x := range trials {
		if x.Name == "desc-0002" {
			tr = x
		}
	}
	r := tune(t, dir, "describe", "desc", "2", "-o", "json")
	if r.code != 0 {
		t.Fatalf("describe: exit %d: %s", r.code, r.stderr)
	}
	var d describeJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("describe -o json: %v\n%s", err, r.stdout)
	}
	if d.Name != "desc-0002" || d.Seq != 2 || d.Experiment != "desc" || d.Status != "Succeeded" || d.ExitCode == nil || *d.ExitCode != 0 {
		t.Errorf("describe = %s %d %s %s exit %v, want desc-0002 #2 Succeeded exit 0", d.Name, d.Seq, d.Experiment, d.Status, d.ExitCode)
	}
	// Parameters in the spec's order, typed, as stored.
	if len(d.Parameters) != 2 || d.Parameters[0].Name != "x" || d.Parameters[1].Name != "y" {
		t.Fatalf("parameters = %+v, want x then y", d.Parameters)
	}
	for _, p := range d.Parameters {
		if p.Value != tr.Parameters[p.Name] || p.Type != "double" || p.Number == nil || fmt.Sprint(*p.Number) != fmt.Sprint(mustFloat(t, p.Value)) {
			t.Errorf("parameter %+v, want the stored %s=%s as a double", p, p.Name, tr.Parameters[p.Name])
		}
	}
	// trialprog prints loss+24, loss+23, ..., loss and accuracy 1/(1+loss)
	// every epoch: loss's strategy (min) picks loss, accuracy's (min) too.
	loss := quadratic(t, tr.Parameters)
	if len(d.Metrics) != 2 {
		t.Fatalf("metrics = %+v, want loss and accuracy", d.Metrics)
	}
	l, a := d.Metrics[0], d.Metrics[1]
	if l.Name != "loss" || !l.Objective || l.Strategy != "min" || l.Value == nil || !near(*l.Value, loss) ||
		!near(*l.Min, loss) || !near(*l.Max, loss+24) || !near(*l.Latest, loss) || l.Count != 25 {
		t.Errorf("loss = %+v (value %v, max %v), want min strategy, value %v, max %v, 25 values", l, deref(l.Value), deref(l.Max), loss, loss+24)
	}
	if a.Name != "accuracy" || a.Objective || a.Strategy != "min" || a.Value == nil || !near(*a.Value, 1/(1+loss)) || a.Count != 25 {
		t.Errorf("accuracy = %+v, want %v from 25 values", a, 1/(1+loss))
	}
	// The observation log: every value, in order.
	var losses []float64
	for _, o := range d.Observations {
		if o.Metric == "loss" {
			losses = append(losses, o.Value)
		}
	}
	if len(losses) != 25 || len(d.Observations) != 50 {
		t.Fatalf("observations: %d, of which %d loss, want 50 and 25", len(d.Observations), len(losses))
	}
	for e, v := range losses {
		if !near(v, loss+float64(24-e)) {
			t.Errorf("observation %d of loss = %v, want %v", e, v, loss+float64(24-e))
		}
	}
	if c := d.Curves["loss"]; !near(c.First, loss+24) || !near(c.Best, loss) || !near(c.Last, loss) || c.Steps != 25 {
		t.Errorf("loss curve = %+v, want %v → %v over 25 steps", c, loss+24, loss)
	}
	// History: created, started, finished, as stored.
	if len(d.History) != 3 || d.History[0].Type != "Created" || d.History[1].Type != "Started" || d.History[2].Type != "Succeeded" ||
		d.History[2].Time.Before(d.History[1].Time) {
		t.Errorf("history = %+v", d.History)
	}
	// The command line is the template's argv with the parameters.
	want := []string{trialBin, "--x=" + tr.Parameters["x"], "--y", tr.Parameters["y"], "--epochs=25"}
	if !slices.Equal(d.Command, want) {
		t.Errorf("command = %q, want %q", d.Command, want)
	}
	// Logs: the last 20 of the 25 stdout lines, stderr whole.
	if d.Dir != tr.Dir || len(d.Logs) != 2 {
		t.Fatalf("dir %s, logs %+v", d.Dir, d.Logs)
	}
	stdout, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(stdout), "\n"), "\n")
	if len(lines) != 25 || !strings.HasPrefix(lines[5], "epoch 6: ") {
		t.Fatalf("stdout.log has %d lines: %q", len(lines), stdout)
	}
	if out := d.Logs[0]; out.Stream != "stdout" || !slices.Equal(out.Tail, lines[5:]) || !out.Omitted || out.Capped {
		t.Errorf("stdout tail = %+v, want the last 20 lines %q, earlier ones omitted", out, lines[5:])
	}
	if e := d.Logs[1]; e.Stream != "stderr" || !slices.Equal(e.Tail, []string{"done with desc-0002"}) || e.Omitted {
		t.Errorf("stderr tail = %+v, want the whole stderr", e)
	}

	// The full name reads the same trial; the table shows the same.
	if byName := tune(t, dir, "describe", "desc", "desc-0002", "-o", "json"); byName.stdout != r.stdout {
		t.Errorf("describe by name differs from describe by number:\n%s", byName.stdout)
	}
	table := tune(t, dir, "describe", "desc", "2")
	for _, s := range []string{"Name:", "desc-0002", "Status:", "Succeeded", "loss (objective)", lines[5], lines[24], "done with desc-0002",
		"Command:", trialBin + " --x=" + tr.Parameters["x"]} {
		if !strings.Contains(table.stdout, s) {
			t.Errorf("describe table lacks %q:\n%s", s, table.stdout)
		}
	}
	if strings.Contains(table.stdout, lines[4]) {
		t.Errorf("describe table shows more than the last 20 lines:\n%s", table.stdout)
	}

	// Mistakes.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"describe", "desc", "9"}, 1, `experiment desc has no trial "9"`},
		{[]string{"describe", "desc", "desc-0009"}, 1, "tune get trials desc"},
		{[]string{"describe", "desc", "0"}, 2, "a trial number is 1 or more"},
		{[]string{"describe", "nosuch", "1"}, 1, `experiment "nosuch" not found`},
		{[]string{"describe", "desc"}, 2, "EXPERIMENT and TRIAL"},
		{[]string{"describe", "desc", "1", "-o", "xml"}, 2, "-o"},
	} {
		if r := tune(t, dir, c.args...); r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("tune %v: exit %d, %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
	// A trial whose logs were deleted still describes, saying so.
	if err := os.Remove(filepath.Join(tr.Dir, "stderr.log")); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "describe", "desc", "2"); r.code != 0 || !strings.Contains(r.stdout, "was deleted") {
		t.Errorf("describe without stderr.log: exit %d\n%s", r.code, r.stdout)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestLogs(t *testing.T) {
	dir := t.TempDir()
	trials := runQuad(t, dir, expParams{Name: "logs", Max: 2, Extra: `, "--epochs=7"`})
	tr := trials[0]
	for _, c := range []struct {
		args []string
		file string
	}{
		{[]string{"logs", "logs", tr.Name}, "stdout.log"},
		{[]string{"logs", "logs", strings.TrimPrefix(tr.Name, "logs-")}, "stdout.log"},
		{[]string{"logs", "logs", tr.Name, "--stderr"}, "stderr.log"},
		// Following a finished trial prints its log and ends.
		{[]string{"logs", "-f", "logs", tr.Name}, "stdout.log"},
	} {
		want, err := os.ReadFile(filepath.Join(tr.Dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if r := tune(t, dir, c.args...); r.code != 0 || r.stdout != string(want) {
			t.Errorf("tune %v: exit %d\n%q\nwant exactly %s:\n%q", c.args, r.code, r.stdout, c.file, want)
		}
	}
	if !strings.Contains(tune(t, dir, "logs", "logs", tr.Name).stdout, "epoch 7: loss=") {
		t.Error("the log lacks trialprog's last line")
	}
	// --tail N: exactly the file's last N lines.
	whole, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(whole), "\n")
	lines = lines[:len(lines)-1] // after the last newline: nothing
	for _, n := range []int{0, 2, 7, 100} {
		want := strings.Join(lines[max(len(lines)-n, 0):], "")
		if r := tune(t, dir, "logs", "logs", tr.Name, "--tail", fmt.Sprint(n)); r.code != 0 || r.stdout != want {
			t.Errorf("logs --tail %d: exit %d, %q, want %q", n, r.code, r.stdout, want)
		}
	}
	if r := tune(t, dir, "logs", "logs", tr.Name, "--tail", "-2"); r.code != 2 || !strings.Contains(r.stderr, "--tail") {
		t.Errorf("logs --tail -2: exit %d, %q", r.code, r.stderr)
	}

	// A log the runner capped ends with its note: printed, and explained.
	path := filepath.Join(tr.Dir, "stdout.log")
	capped := "epoch 1: loss=3\n[tune: log truncated at 16 bytes; the rest was parsed for metrics but not kept]\n"
	if err := os.WriteFile(path, []byte(capped), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "logs", "logs", tr.Name); r.code != 0 || r.stdout != capped || !strings.Contains(r.stderr, "kept only the start of this log") {
		t.Errorf("capped log: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// A deleted log: a clear error, with and without -f.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"logs", "logs", tr.Name}, {"logs", "-f", "logs", tr.Name}} {
		if r := tune(t, dir, args...); r.code != 1 || !strings.Contains(r.stderr, "was deleted") || !strings.Contains(r.stderr, path) {
			t.Errorf("tune %v on a deleted log: exit %d, %q", args, r.code, r.stderr)
		}
	}
	if r := tune(t, dir, "logs", "logs", "5"); r.code != 1 || !strings.Contains(r.stderr, `no trial "5"`) {
		t.Errorf("logs of a missing trial: exit %d, %q", r.code, r.stderr)
	}
}

func TestLogsFollowsRunningTrial(t *testing.T) {
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	file := writeExperiment(t, dir, expParams{Name: "follow", Parallel: 1, Max: 1, MaxFailed: 1,
		Extra: fmt.Sprintf(`, "--wait-for=%s"`, release)})
	// The runner is a process of its own: in-process runs take turns.
	run := tuneProcess(t, dir, "run", "-q", file)
	runOut := &syncBuffer{}
	run.Stdout, run.Stderr = runOut, runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// runDone is closed when the runner has ended, with its error in runErr.
	runDone := make(chan struct{})
	var runErr error
	go func() { runErr = run.Wait(); close(runDone) }()
	t.Cleanup(func() {
		// Let the trial end, then make sure the runner has.
		os.WriteFile(release, nil, 0o644)
		run.Process.Kill()
		select {
		case <-runDone:
		case <-time.After(time.Minute):
			t.Error("tune run did not end")
		}
	})

	// The trial is running, waiting for release, once its first line is
	// in its log.
	logPath := filepath.Join(dir, ".tune", "tune.db.trials", "follow", "follow-0001", "stdout.log")
	waitFor(t, "the trial's first line", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "waiting for")
	}, runDone)

	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, ".tune", "tune.db")
	follow := func(ctx context.Context, out *syncBuffer) <-chan int {
		done := make(chan int, 1)
		go func() {
			errOut := &syncBuffer{}
			code := cli.Main(ctx, []string{"--store", storePath, "--config", cfg, "logs", "-f", "follow", "1"}, cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut})
			if code != 0 && code != 130 {
				t.Logf("logs -f: exit %d: %s", code, errOut)
			}
			done <- code
		}()
		return done
	}
	out, cancelled := &syncBuffer{}, &syncBuffer{}
	done := follow(t.Context(), out)
	ctx, cancel := context.WithCancel(t.Context())
	cancelledDone := follow(ctx, cancelled)
	waitFor(t, "logs -f printing the running trial's first line", func() bool {
		return strings.Contains(out.String(), "waiting for") && strings.Contains(cancelled.String(), "waiting for")
	}, nil)
	// Interrupted while the trial runs: exit 130.
	cancel()
	select {
	case code := <-cancelledDone:
		if code != 130 {
			t.Errorf("logs -f cancelled: exit %d, want 130", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("logs -f did not stop when cancelled")
	}
	select {
	case code := <-done:
		t.Fatalf("logs -f ended (exit %d) while the trial still runs", code)
	default:
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("logs -f: exit %d", code)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("logs -f did not end after the trial finished")
	}
	select {
	case <-runDone:
		if runErr != nil {
			t.Fatalf("tune run: %v\n%s", runErr, runOut)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("tune run did not end")
	}
	want, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) || !strings.Contains(out.String(), "epoch 3: loss=") {
		t.Errorf("logs -f printed %q, want the whole log %q", out, want)
	}
	if tr := getTrials(t, dir, "follow"); len(tr) != 1 || tr[0].Status != "Succeeded" {
		t.Errorf("trials = %+v, want one Succeeded", tr)
	}
}

// waitFor waits until cond holds, failing the test after a minute or when
// stop receives first.
func waitFor(t *testing.T, what string, cond func() bool, stop <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-stop:
			t.Fatalf("waiting for %s: the process ended", what)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute", what)
		}
	}
}

// compareTrialsJSON is the documented JSON shape of tune compare on trials.
type compareTrialsJSON struct {
	Experiment string   `json:"experiment"`
	Differing  []string `json:"differingParameters"`
	Trials     []struct {
		Name       string             `json:"name"`
		Status     string             `json:"status"`
		Parameters map[string]string  `json:"parameters"`
		Metrics    map[string]float64 `json:"metrics"`
		Curves     map[string]struct {
			First, Best, Last float64
			Steps             int
		} `json:"curves"`
	} `json:"trials"`
}

func TestCompareTrials(t *testing.T) {
	dir := t.TempDir()
	trials := runQuad(t, dir, expParams{Name: "grid", Algorithm: "grid", Parallel: 3, Max: 100, Parameters: `
    - name: x
      parameterType: double
      feasibleSpace: {min: "0", max: "1", step: "0.5"}
    - name: "y"
      parameterType: int
      feasibleSpace: {min: "-3", max: "-2"}`})
	if len(trials) != 6 {
		t.Fatalf("%d trials, want the 6 grid points", len(trials))
	}
	byPoint := map[string]jsonTrial{}
	for _, tr := range trials {
		byPoint[tr.Parameters["x"]+","+tr.Parameters["y"]] = tr
	}
	seq := func(point string) string {
		tr, ok := byPoint[point]
		if !ok {
			t.Fatalf("no trial at %s: %v", point, byPoint)
		}
		return strings.TrimPrefix(tr.Name, "grid-")
	}
	for _, c := range []struct {
		points    []string
		differing []string
	}{
		{[]string{"0,-3", "0.5,-3"}, []string{"x"}},
		{[]string{"1,-3", "1,-2"}, []string{"y"}},
		{[]string{"0,-3", "0.5,-3", "1,-2"}, []string{"x", "y"}},
		{[]string{"0.5,-2", "0.5,-2"}, []string{}},
	} {
		args := []string{"compare", "grid"}
		for _, p := range c.points {
			args = append(args, seq(p))
		}
		r := tune(t, dir, append(args, "-o", "json")...)
		var v compareTrialsJSON
		if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil {
			t.Fatalf("tune %v: exit %d, %v: %s", args, r.code, err, r.stderr)
		}
		if !slices.Equal(v.Differing, c.differing) {
			t.Errorf("%v: differing = %v, want %v", c.points, v.Differing, c.differing)
		}
		for i, tr := range v.Trials {
			want := byPoint[c.points[i]]
			loss := quadratic(t, want.Parameters)
			cv := tr.Curves["loss"]
			// trialprog prints loss+2, loss+1, loss.
			if tr.Name != want.Name || !near(tr.Metrics["loss"], loss) || !near(cv.First, loss+2) || !near(cv.Best, loss) || !near(cv.Last, loss) || cv.Steps != 3 {
				t.Errorf("%v: trial %d = %+v, want %s with loss %v, curve %v→%v over 3 steps", c.points, i, tr, want.Name, loss, loss+2, loss)
			}
		}
		// The table marks exactly the differing parameters.
		table := tune(t, dir, args...)
		for _, p := range []string{"x", "y"} {
			marked := regexpMatch(`(?m)^\* `+p+` `, table.stdout)
			if marked != slices.Contains(c.differing, p) {
				t.Errorf("%v: parameter %s marked %v in\n%s", c.points, p, marked, table.stdout)
			}
		}
		if strings.Contains(table.stdout, "\x1b[") {
			t.Errorf("colour written to a pipe:\n%q", table.stdout)
		}
		// --color always highlights the differing rows, and only them.
		colored := tune(t, dir, append(args, "--color", "always")...)
		for _, line := range strings.Split(colored.stdout, "\n") {
			hasColor := strings.Contains(line, "\x1b[")
			if hasColor != strings.HasPrefix(stripANSI(line), "* ") {
				t.Errorf("%v: --color always: line %q coloured %v", c.points, line, hasColor)
			}
		}
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"compare", "grid", "1"}, 2, "name at least two"},
		{[]string{"compare", "grid"}, 2, "at least two"},
		{[]string{"compare", "grid", "1", "nosuch"}, 1, `"nosuch" is neither a trial of experiment grid nor an experiment`},
		{[]string{"compare", "nosuch", "other"}, 1, `no experiment named "nosuch", "other"`},
		{[]string{"compare", "grid", "1", "2", "--color", "sometimes"}, 2, "--color"},
		{[]string{"compare", "--experiments", "grid", "1"}, 1, `experiment "1" not found`},
	} {
		if r := tune(t, dir, c.args...); r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("tune %v: exit %d, %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
}

// compareExperimentsJSON is the documented JSON shape of tune compare on
// experiments.
type compareExperimentsJSON struct {
	Comparable  bool   `json:"comparable"`
	Note        string `json:"note"`
	Best        string `json:"best"`
	Experiments []struct {
		Name          string         `json:"name"`
		Algorithm     string         `json:"algorithm"`
		Trials        int            `json:"trials"`
		TrialsByState map[string]int `json:"trialsByState"`
		BestTrial     string         `json:"bestTrial"`
		BestValue     *float64       `json:"bestValue"`
		BestAfter     []struct {
			Percent int      `json:"percent"`
			Trials  int      `json:"trials"`
			Value   *float64 `json:"value"`
		} `json:"bestAfter"`
		NearBest *struct {
			Trial   string  `json:"trial"`
			Seconds float64 `json:"seconds"`
		} `json:"nearBest"`
		TotalTrialSeconds float64 `json:"totalTrialSeconds"`
	} `json:"experiments"`
}

func TestCompareExperiments(t *testing.T) {
	dir := t.TempDir()
	runQuad(t, dir, expParams{Name: "seven", Max: 7, Settings: "      - {name: random_state, value: \"7\"}"})
	// Trials with x > 2.5 fail: failed trials count as trials, not for best.
	runQuad(t, dir, expParams{Name: "twelve", Parallel: 3, Max: 12, Extra: `, "--fail-above=2.5"`,
		Settings: "      - {name: random_state, value: \"12\"}"})

	r := tune(t, dir, "compare", "seven", "twelve", "-o", "json")
	var v compareExperimentsJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil {
		t.Fatalf("compare: exit %d, %v: %s", r.code, err, r.stderr)
	}
	if !v.Comparable || len(v.Experiments) != 2 {
		t.Fatalf("compare = %+v", v)
	}
	st, err := store.Open(filepath.Join(dir, ".tune", "tune.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	overallBest, overallName := math.Inf(1), ""
	for i, name := range []string{"seven", "twelve"} {
		got := v.Experiments[i]
		rec, err := st.Experiment(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		trials, err := st.Trials(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(trials, func(a, b trial.Trial) int { return a.Seq - b.Seq })
		// Independently: the objective is loss, minimised, strategy min;
		// only Succeeded trials count.
		value := func(tr *trial.Trial) (float64, bool) {
			s, ok := tr.Metrics["loss"]
			return s.Min, ok && s.Count > 0 && tr.State == trial.Succeeded
		}
		states := map[string]int{}
		best, bestName := math.Inf(1), ""
		var total time.Duration
		for i := range trials {
			states[string(trials[i].State)]++
			total += trials[i].Finished.Sub(trials[i].Started)
			if x, ok := value(&trials[i]); ok && x < best {
				best, bestName = x, trials[i].Name
			}
		}
		if name == "twelve" && (states["Failed"] == 0 || states["Succeeded"] == 0) {
			t.Fatalf("twelve's trials by state = %v; the test needs failed and succeeded ones", states)
		}
		if got.Name != name || got.Algorithm != "random" || got.Trials != len(trials) || !mapsEqual(got.TrialsByState, states) {
			t.Errorf("%s: %s %s %d trials %v, want random, %d trials %v", name, got.Name, got.Algorithm, got.Trials, got.TrialsByState, len(trials), states)
		}
		if got.BestValue == nil || *got.BestValue != best || got.BestTrial != bestName {
			t.Errorf("%s: best %v (%s), want %v (%s)", name, deref(got.BestValue), got.BestTrial, best, bestName)
		}
		if best < overallBest {
			overallBest, overallName = best, name
		}
		for j, p := range []int{10, 25, 50, 100} {
			k := (p*len(trials) + 99) / 100
			want := math.Inf(1)
			for i := range trials[:k] {
				if x, ok := value(&trials[i]); ok {
					want = min(want, x)
				}
			}
			ba := got.BestAfter[j]
			switch {
			case ba.Percent != p || ba.Trials != k:
				t.Errorf("%s: best after %d%% = %+v, want after %d trials", name, p, ba, k)
			case math.IsInf(want, 1) && ba.Value != nil:
				t.Errorf("%s: best after %d%% = %v, want none", name, p, *ba.Value)
			case !math.IsInf(want, 1) && (ba.Value == nil || *ba.Value != want):
				t.Errorf("%s: best after %d%% = %v, want %v", name, p, deref(ba.Value), want)
			}
		}
		// The first trial to finish within 5 % of the best.
		var first *trial.Trial
		for i := range trials {
			if x, ok := value(&trials[i]); ok && x <= best+0.05*math.Abs(best) && (first == nil || trials[i].Finished.Before(first.Finished)) {
				first = &trials[i]
			}
		}
		wantSec := first.Finished.Sub(rec.Status.Started).Seconds()
		if got.NearBest == nil || got.NearBest.Trial != first.Name || math.Abs(got.NearBest.Seconds-wantSec) > 1e-6 {
			t.Errorf("%s: near best = %+v, want %s after %vs", name, got.NearBest, first.Name, wantSec)
		}
		if math.Abs(got.TotalTrialSeconds-total.Seconds()) > 1e-6 {
			t.Errorf("%s: total trial time %v, want %v", name, got.TotalTrialSeconds, total.Seconds())
		}
	}
	if v.Best != overallName {
		t.Errorf("best experiment = %q, want %q", v.Best, overallName)
	}

	// The table shows the same.
	table := tune(t, dir, "compare", "seven", "twelve")
	for _, s := range []string{"best after 10%", "best after 100%", "time to 95% of best", "total trial time", "  failed", formatG(overallBest) + " *"} {
		if !strings.Contains(table.stdout, s) {
			t.Errorf("compare table lacks %q:\n%s", s, table.stdout)
		}
	}

	// An experiment maximising: best values are not comparable, and the
	// table says so.
	file := writeExperiment(t, dir, expParams{Name: "upward", Parallel: 2, Max: 2, MaxFailed: 1})
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "type: minimize", "type: maximize", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("run upward: exit %d: %s", r.code, r.stderr)
	}
	r = tune(t, dir, "compare", "seven", "upward")
	if r.code != 0 || !strings.Contains(r.stdout, "objectives differ in direction") || strings.Contains(r.stdout, " *") {
		t.Errorf("compare of opposite directions: exit %d\n%s", r.code, r.stdout)
	}
	// Trials and experiments mixed: a usage error naming both.
	if r := tune(t, dir, "compare", "seven", "1", "twelve"); r.code != 2 || !strings.Contains(r.stderr, `"1": trials of seven; "twelve": experiments`) {
		t.Errorf("compare mixing trials and experiments: exit %d, %q", r.code, r.stderr)
	}
	// --experiments forces the reading; both readings of experiment names.
	if r := tune(t, dir, "compare", "--experiments", "seven", "upward", "-o", "yaml"); r.code != 0 || !strings.Contains(r.stdout, "comparable: false") {
		t.Errorf("compare --experiments -o yaml: exit %d\n%s", r.code, r.stdout)
	}
}

// An experiment without a succeeded trial compares without a best.
func TestCompareExperimentWithoutBest(t *testing.T) {
	dir := t.TempDir()
	runQuad(t, dir, expParams{Name: "fine", Max: 2})
	// x is never above 4: every trial fails.
	file := writeExperiment(t, dir, expParams{Name: "broken", Parallel: 1, Max: 2, MaxFailed: 2, Extra: `, "--fail-above=-3"`})
	if r := tune(t, dir, "run", "-q", file); r.code != 1 {
		t.Fatalf("run broken: exit %d, want 1: %s", r.code, r.stderr)
	}
	r := tune(t, dir, "compare", "fine", "broken", "-o", "json")
	var v compareExperimentsJSON
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil {
		t.Fatalf("compare: exit %d, %v: %s", r.code, err, r.stderr)
	}
	b := v.Experiments[1]
	if v.Best != "fine" || b.BestValue != nil || b.BestTrial != "" || b.NearBest != nil || b.TrialsByState["Failed"] != 2 {
		t.Errorf("compare = %+v, want fine best and broken without one", v)
	}
	for _, ba := range b.BestAfter {
		if ba.Value != nil {
			t.Errorf("broken: best after %d%% = %v, want none", ba.Percent, *ba.Value)
		}
	}
	table := tune(t, dir, "compare", "fine", "broken")
	if table.code != 0 || !regexpMatch(`(?m)^best after 100% +\S+ \(2\) +- \(2\)$`, table.stdout) || !regexpMatch(`(?m)^time to 95% of best +\S+ \(fine-000[12]\) +-$`, table.stdout) {
		t.Errorf("compare table:\n%s", table.stdout)
	}
}

func formatG(v float64) string { return fmt.Sprintf("%.6g", v) }

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// stripANSI removes SGR escape sequences.
func stripANSI(s string) string { return regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(s, "") }
