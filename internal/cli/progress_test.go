package cli_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// tuneTerminal runs tune in-process in dir, as tune does, with a standard
// error that says it is a terminal.
func tuneTerminal(t *testing.T, dir string, args ...string) result {
	t.Helper()
	env := append(cleanEnv(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	processState.Lock()
	defer processState.Unlock()
	restore, err := enterProcessState(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := restore(); err != nil {
			t.Fatal(err)
		}
	}()
	var out, errOut syncBuffer
	streams := cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: func(io.Writer) bool { return true }}
	code := cli.Main(context.Background(), args, streams)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// storedTrials reads experiment name's trials from dir's default store.
func storedTrials(t *testing.T, dir, name string) (*experiment.Record, []trial.Trial) {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, ".tune", "tune.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Experiment(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := s.Trials(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return rec, trials
}

var plainLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \[(\d+)/6\] (.*)$`)

// TestRunProgressPlainLines: off a terminal every progress line has a UTC
// timestamp and the [finished/maxTrialCount] counter, and no escape code;
// the counter and the best value each finished line gives are those of the
// trials the store says had finished, and every finished line has an ETA.
func TestRunProgressPlainLines(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "plain", Parallel: 2, Max: 6, MaxFailed: 3,
		Settings: "      - {name: random_state, value: \"3\"}"})
	before := time.Now().UTC().Truncate(time.Second)
	r := tune(t, dir, "run", file)
	after := time.Now().UTC()
	if r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "\x1b") {
		t.Errorf("escape codes off a terminal:\n%q", r.stderr)
	}
	trials := getTrials(t, dir, "plain")
	byName := map[string]jsonTrial{}
	for _, tr := range trials {
		byName[tr.Name] = tr
	}
	finished, started := 0, 0
	best := math.Inf(1)
	for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		m := plainLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line without timestamp and counter: %q", l)
			continue
		}
		ts, err := time.Parse(time.RFC3339, m[1])
		if err != nil || ts.Before(before) || ts.After(after) {
			t.Errorf("timestamp %s not during the run (%v to %v)", m[1], before, after)
		}
		count, _ := strconv.Atoi(m[2])
		f := strings.Fields(m[3])
		switch {
		case len(f) >= 3 && f[0] == "trial" && f[2] == "started":
			started++
			if count != finished {
				t.Errorf("%q: counter %d, but %d trials had finished", l, count, finished)
			}
		case len(f) >= 3 && f[0] == "trial":
			tr, ok := byName[f[1]]
			if !ok || f[2] != tr.Status+":" {
				t.Errorf("%q: the store has %s %s", l, tr.Name, tr.Status)
				continue
			}
			finished++
			loss := quadratic(t, tr.Parameters)
			best = min(best, loss)
			if count != finished {
				t.Errorf("%q: counter %d, want %d", l, count, finished)
			}
			want := fmt.Sprintf("with loss=%s; ETA ", strconv.FormatFloat(best, 'g', 6, 64))
			if !strings.Contains(l, want) {
				t.Errorf("%q: want the best so far and an ETA (%q)", l, want)
			}
			if finished == 6 && !strings.HasSuffix(l, "ETA 0s") {
				t.Errorf("last finished line %q: want ETA 0s", l)
			}
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if started != 6 || finished != 6 {
		t.Errorf("%d started and %d finished lines, want 6 each:\n%s", started, finished, r.stderr)
	}
}

// TestRunQuietPrintsOnlySummary: -q prints the summary and nothing else,
// on a terminal too.
func TestRunQuietPrintsOnlySummary(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "quiet", Parallel: 2, Max: 2, MaxFailed: 1})
	r := tuneTerminal(t, dir, "run", "-q", file)
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "experiment quiet Succeeded") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("tune run -q: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
}

// ansi matches the escape sequences the block is drawn with.
var ansi = regexp.MustCompile("\r|\x1b\\[[0-9]*[A-Za-z]")

// TestRunLiveBlock: on a terminal the status block is drawn and erased
// with escape codes, shows the running trials' latest values as the trial
// printed them, the counts, and is gone when tune ends; trial lines keep
// scrolling above it.
func TestRunLiveBlock(t *testing.T) {
	dir := t.TempDir()
	// Each trial prints its value, then works 3 s: more than the runner's
	// one-second flush, after which the block shows the value.
	file := shellExperiment(t, dir, "live", `echo "loss=$1"; sleep 3; echo "loss=$1"`, "trial", []string{"7", "9"}, false)
	r := tuneTerminal(t, dir, "run", file)
	if r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "\x1b[J") || !strings.Contains(r.stderr, "\x1b[") {
		t.Fatalf("no block drawn:\n%q", r.stderr)
	}
	// The block is erased at the end: after the last erase come only
	// trial lines.
	tail := r.stderr[strings.LastIndex(r.stderr, "\x1b[J")+3:]
	for _, l := range strings.Split(strings.TrimSuffix(tail, "\n"), "\n") {
		if l != "" && !regexp.MustCompile(`^\[\d/2\] trial `).MatchString(l) {
			t.Errorf("the block is left on the screen: output ends %q", tail)
			break
		}
	}
	plain := ansi.ReplaceAllString(r.stderr, "\n")
	var lines []string
	for _, l := range strings.Split(plain, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\[0/2\] 2 running, 0 succeeded, 0 early-stopped, 0 failed, 0 killed$`),
		regexp.MustCompile(`^best loss: none yet$`),
		regexp.MustCompile(`^elapsed \d+s, ETA unknown until a trial finishes$`),
		regexp.MustCompile(`^live-0001\s+loss=7\s+\d+s ago\s+x=7$`),
		regexp.MustCompile(`^live-0002\s+loss=9\s+\d+s ago\s+x=9$`),
		regexp.MustCompile(`^\[1/2\] trial live-000[12] Succeeded: loss=[79]`),
		regexp.MustCompile(`^\[2/2\] trial live-000[12] Succeeded: loss=[79]\. Best is live-0001 with loss=7$`),
	}
	for _, re := range want {
		if !slices.ContainsFunc(lines, re.MatchString) {
			t.Errorf("no line matches %s in:\n%s", re, strings.Join(lines, "\n"))
		}
	}
	if strings.Contains(r.stderr, "Z [") {
		t.Error("timestamps on a terminal")
	}
	if !strings.HasPrefix(r.stdout, "experiment live Succeeded (ExperimentMaxTrialsReached): 2 trials, 2 succeeded, 0 early-stopped") {
		t.Errorf("summary %q", r.stdout)
	}
}

// TestProgressBlockMatchesStore replays a real run's stored trials into
// the status block, four finished and two running, at a fixed clock: its
// counts, best value and ETA are those computed here from the store.
func TestProgressBlockMatchesStore(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "replay", Parallel: 2, Max: 6, MaxFailed: 3,
		Settings: "      - {name: random_state, value: \"5\"}", Extra: `, "--sleep=50ms"`})
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s", r.code, r.stderr)
	}
	rec, trials := storedTrials(t, dir, "replay")
	if len(trials) != 6 {
		t.Fatalf("%d trials stored, want 6", len(trials))
	}
	slices.SortFunc(trials, func(a, b trial.Trial) int { return a.Finished.Compare(b.Finished) })
	done, running := trials[:4], trials[4:]
	var events []experiment.Event
	for i := range trials {
		started := trials[i]
		started.State, started.Metrics, started.Finished = trial.Running, nil, time.Time{}
		events = append(events, experiment.Event{Kind: experiment.TrialStarted, Trial: &started})
	}
	var sofar []*trial.Trial
	bestLoss, bestName := math.Inf(1), ""
	var durations time.Duration
	for i := range done {
		sofar = append(sofar, &done[i])
		best := experiment.BestTrial(sofar, "loss", rec.Spec.Goal(), rec.Spec.Strategies())
		events = append(events, experiment.Event{Kind: experiment.TrialFinished, Trial: &done[i], Best: best})
		if loss := quadratic(t, done[i].Parameters); loss < bestLoss {
			bestLoss, bestName = loss, done[i].Name
		}
		durations += done[i].Finished.Sub(done[i].Started)
	}
	// One running trial has reported a value.
	progressTrial := running[0]
	progressTrial.State = trial.Running
	reported := done[3].Finished
	events = append(events, experiment.Event{Kind: experiment.TrialProgress, Trial: &progressTrial, Reported: reported})

	now := done[3].Finished.Add(1500 * time.Millisecond)
	start := trials[0].Started.Add(-time.Second)
	lines := cli.ProgressBlock(io.Discard, &rec.Spec, events, start, now)
	text := strings.Join(lines, "\n")

	if want := "[4/6] 2 running, 4 succeeded, 0 early-stopped, 0 failed, 0 killed"; lines[0] != want {
		t.Errorf("counts line %q, want %q", lines[0], want)
	}
	if want := fmt.Sprintf("best loss=%s in %s (", strconv.FormatFloat(bestLoss, 'g', 6, 64), bestName); !strings.HasPrefix(lines[1], want) {
		t.Errorf("best line %q, want it to start %q", lines[1], want)
	}
	// ETA: two trials to go at the mean duration, less what the two
	// running ones have done (at most the mean each), on two slots.
	mean := durations / 4
	work := 2 * mean
	for _, r := range running {
		work -= min(now.Sub(r.Started), mean)
	}
	eta := (max(work, 0) / 2).Round(time.Second)
	if want := fmt.Sprintf("elapsed %s, ETA %s", now.Sub(start).Round(time.Second), eta); lines[2] != want {
		t.Errorf("time line %q, want %q", lines[2], want)
	}
	value := strconv.FormatFloat(experiment.TrialMetrics(&running[0], rec.Spec.Strategies())["loss"], 'g', 6, 64)
	row := regexp.MustCompile(regexp.QuoteMeta(running[0].Name) + `\s+loss=` + regexp.QuoteMeta(value) + ` accuracy=\S+\s+2s ago`)
	if !row.MatchString(text) {
		t.Errorf("no row for %s with loss=%s reported 2s ago:\n%s", running[0].Name, value, text)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(running[1].Name) + `\s+-\s+none in \d+s`).MatchString(text) {
		t.Errorf("no row for %s without values:\n%s", running[1].Name, text)
	}
}

// TestRunCountsEarlyStopped: trials the median stopping rule stops are
// counted as early-stopped in the run's summary and in get experiments
// (table and JSON), as many as the store holds.
func TestRunCountsEarlyStopped(t *testing.T) {
	dir := t.TempDir()
	// Grid order: three quick trials set the median (about 2); the worse
	// ones would report for 8 s but are stopped at step 2.
	script := `i=0; while [ $i -lt 8 ]; do echo "loss=$1"; i=$((i+1)); if [ $1 -ge 10 ]; then sleep 1; fi; done`
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: stop
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings: [{name: min_trials_required, value: "3"}, {name: start_step, value: "2"}]
  parallelTrialCount: 1
  maxTrialCount: 5
  parameters:
    - {name: x, parameterType: categorical, feasibleSpace: {list: ["1", "2", "3", "10", "20"]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                command: [/bin/sh, -c, %q, trial, "${trialParameters.x}"]
`, script)
	file := filepath.Join(dir, "stop.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tune(t, dir, "run", file)
	if r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s", r.code, r.stderr)
	}
	counts := map[string]int{}
	for _, tr := range getTrials(t, dir, "stop") {
		counts[tr.Status]++
	}
	if counts["EarlyStopped"] == 0 {
		t.Fatalf("no trial was stopped early: %v\n%s", counts, r.stderr)
	}
	want := fmt.Sprintf("5 trials, %d succeeded, %d early-stopped, 0 failed, 0 killed", counts["Succeeded"], counts["EarlyStopped"])
	if !strings.Contains(r.stdout, want) {
		t.Errorf("summary %q, want %q", r.stdout, want)
	}
	g := tune(t, dir, "get", "experiments", "-o", "json")
	if !strings.Contains(g.stdout, fmt.Sprintf(`"trialsEarlyStopped": %d`, counts["EarlyStopped"])) {
		t.Errorf("get experiments -o json: no trialsEarlyStopped %d:\n%s", counts["EarlyStopped"], g.stdout)
	}
	g = tune(t, dir, "get", "experiments")
	row := regexp.MustCompile(fmt.Sprintf(`(?m)^stop\s+Succeeded\s+grid\s+5\s+%d\s+%d\s+0\s`, counts["Succeeded"], counts["EarlyStopped"]))
	if !strings.Contains(g.stdout, "EARLY-STOPPED") || !row.MatchString(g.stdout) {
		t.Errorf("get experiments table lacks the early-stopped count %d:\n%s", counts["EarlyStopped"], g.stdout)
	}
}

// TestProgressTrialStatus: a condition the executor reports for a running
// trial (here Unschedulable, then cleared) is printed when it comes, as a
// timestamped line without a terminal and above the block on one, and the
// block's row shows it with its age.
func TestProgressTrialStatus(t *testing.T) {
	exp, err := experiment.Parse([]byte(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: st}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 2
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{name: x, reference: x}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers: [{name: main, image: train, args: ["${trialParameters.x}"]}]
`), "st.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	started := trial.Trial{Name: "st-0001", Seq: 1, State: trial.Running, Started: now.Add(-time.Minute), Parameters: map[string]string{"x": "0.5"}}
	waiting := started
	waiting.Reason, waiting.Message = "Unschedulable", "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."
	placed := started
	events := []experiment.Event{
		{Kind: experiment.TrialStarted, Trial: &started},
		{Kind: experiment.TrialStatus, Trial: &waiting},
	}
	out := cli.ProgressLines(exp, events, now)
	want := "2026-12-02T11:00:00Z [0/2] trial st-0001 started with x=0.5\n" +
		"2026-12-02T11:00:00Z [0/2] trial st-0001 Unschedulable: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.\n"
	if out != want {
		t.Errorf("plain lines:\n%s\nwant:\n%s", out, want)
	}
	out = cli.ProgressLines(exp, append(events, experiment.Event{Kind: experiment.TrialStatus, Trial: &placed}), now)
	if !strings.HasSuffix(out, "[0/2] trial st-0001 no longer Unschedulable\n") {
		t.Errorf("plain lines after the clearing:\n%s", out)
	}

	var live strings.Builder
	lines := cli.ProgressBlock(&live, exp, events, now.Add(-time.Minute), now.Add(42*time.Second))
	if !strings.Contains(live.String(), "[0/2] trial st-0001 Unschedulable: 0/4 nodes are available") {
		t.Errorf("live output has no status line:\n%q", live.String())
	}
	if !regexp.MustCompile(`st-0001\s+-\s+Unschedulable for 0s\s+x=0.5`).MatchString(strings.Join(lines, "\n")) {
		t.Errorf("block has no row with the status:\n%s", strings.Join(lines, "\n"))
	}
}
