package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/trial/local"
)

// jsonTrial is the documented JSON shape of a trial.
type jsonTrial struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Reason     string             `json:"reason"`
	Message    string             `json:"message"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
	ExitCode   *int               `json:"exitCode"`
	Dir        string             `json:"dir"`
}

type jsonExperiment struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func getTrials(t *testing.T, dir, name string, flags ...string) []jsonTrial {
	t.Helper()
	r := tune(t, dir, append([]string{"get", "trials", name, "-o", "json"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("tune get trials: exit %d: %s", r.code, r.stderr)
	}
	var trials []jsonTrial
	if err := json.Unmarshal([]byte(r.stdout), &trials); err != nil {
		t.Fatalf("tune get trials -o json: %v\n%s", err, r.stdout)
	}
	return trials
}

func getExperiment(t *testing.T, dir, name string) jsonExperiment {
	t.Helper()
	r := tune(t, dir, "get", "experiments", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tune get experiments: exit %d: %s", r.code, r.stderr)
	}
	var exps []jsonExperiment
	if err := json.Unmarshal([]byte(r.stdout), &exps); err != nil {
		t.Fatalf("tune get experiments -o json: %v\n%s", err, r.stdout)
	}
	for _, e := range exps {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("experiment %s not listed: %s", name, r.stdout)
	return jsonExperiment{}
}

// experimentYAML writes an experiment running trialprog into dir.
type expParams struct {
	Name, Algorithm, Settings, Goal, Extra string
	Parallel, Max, MaxFailed               int
	Parameters                             string
	// TrialParams names extra parameters declared as trial parameters of
	// the same name (for use in Extra).
	TrialParams string
	// JobSpec holds extra fields of the Job's spec, e.g. "backoffLimit: 2",
	// one per line.
	JobSpec string
	// ResumePolicy is spec.resumePolicy; empty: not given (Never).
	ResumePolicy string
}

const quadraticParams = `
    - name: x
      parameterType: double
      feasibleSpace: {min: "-2", max: "4"}
    - name: "y"
      parameterType: double
      feasibleSpace: {min: "-5", max: "1"}`

func writeExperiment(t *testing.T, dir string, p expParams) string {
	t.Helper()
	if p.Parameters == "" {
		p.Parameters = quadraticParams
	}
	if p.Algorithm == "" {
		p.Algorithm = "random"
	}
	goal := ""
	if p.Goal != "" {
		goal = "\n    goal: " + p.Goal
	}
	settings := ""
	if p.Settings != "" {
		settings = "\n    algorithmSettings:\n" + p.Settings
	}
	trialParams := ""
	if p.TrialParams != "" {
		trialParams = fmt.Sprintf("\n      - name: %s\n        reference: %s", p.TrialParams, p.TrialParams)
	}
	if p.ResumePolicy != "" {
		settings += "\n  resumePolicy: " + p.ResumePolicy
	}
	jobSpec := ""
	for _, l := range strings.Split(strings.TrimSpace(p.JobSpec), "\n") {
		if l != "" {
			jobSpec += "\n        " + l
		}
	}
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  objective:
    type: minimize%s
    objectiveMetricName: loss
    additionalMetricNames: [accuracy]
  algorithm:
    algorithmName: %s%s
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: %d
  parameters:%s
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - name: x
        reference: x
      - name: "y"
        reference: "y"%s
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:%s
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: ignored-locally
                command: [%q]
                args: ["--x=${trialParameters.x}", "--y", "${trialParameters.y}"%s]
`, p.Name, goal, p.Algorithm, settings, p.Parallel, p.Max, p.MaxFailed, p.Parameters, trialParams, jobSpec, trialBin, p.Extra)
	path := filepath.Join(dir, p.Name+".yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func quadratic(t *testing.T, params map[string]string) float64 {
	t.Helper()
	x, err1 := strconv.ParseFloat(params["x"], 64)
	y, err2 := strconv.ParseFloat(params["y"], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parameters %v are not numbers", params)
	}
	return (x-1)*(x-1) + (y+2)*(y+2)
}

func TestRunRandomEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "quad", Parallel: 3, Max: 7, MaxFailed: 3,
		Settings: "      - {name: random_state, value: \"7\"}"})
	r := tune(t, dir, "run", file)
	if r.code != 0 {
		t.Fatalf("tune run: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "experiment quad Succeeded (ExperimentMaxTrialsReached)") || !strings.Contains(r.stdout, "best quad-") {
		t.Errorf("summary line = %q, want the Succeeded summary naming the best trial", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tune", "tune.db")); err != nil {
		t.Errorf("default store: %v", err)
	}
	trials := getTrials(t, dir, "quad")
	if len(trials) != 7 {
		t.Fatalf("got %d trials, want 7", len(trials))
	}
	prev := math.Inf(-1)
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			t.Errorf("%s: status %s (%s), want Succeeded", tr.Name, tr.Status, tr.Message)
		}
		want := quadratic(t, tr.Parameters)
		// trialprog prints loss+2, loss+1, loss: the min strategy keeps loss.
		if got := tr.Metrics["loss"]; math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s: loss = %v, want %v for %v", tr.Name, got, want, tr.Parameters)
		}
		// accuracy is an additional metric: the minimize default strategy is min.
		if got, want := tr.Metrics["accuracy"], 1/(1+want); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: accuracy = %v, want %v", tr.Name, got, want)
		}
		if tr.Metrics["loss"] < prev {
			t.Errorf("trials not sorted best first: %v after %v", tr.Metrics["loss"], prev)
		}
		prev = tr.Metrics["loss"]
		for _, f := range []string{"stdout.log", "stderr.log"} {
			b, err := os.ReadFile(filepath.Join(tr.Dir, f))
			if err != nil || len(b) == 0 {
				t.Errorf("%s: log %s: %v (%d bytes)", tr.Name, f, err, len(b))
			}
		}
	}
	best := tune(t, dir, "best", "quad", "-o", "json")
	var b jsonTrial
	if err := json.Unmarshal([]byte(best.stdout), &b); err != nil || b.Name != trials[0].Name {
		t.Errorf("tune best -o json = %q (%v), want trial %s", best.stdout, err, trials[0].Name)
	}
	if e := getExperiment(t, dir, "quad"); e.Status != "Succeeded" {
		t.Errorf("experiment status = %s, want Succeeded", e.Status)
	}
	for _, format := range []string{"table", "yaml"} {
		if r := tune(t, dir, "get", "trials", "quad", "-o", format); r.code != 0 || !strings.Contains(r.stdout, trials[0].Name) {
			t.Errorf("get trials -o %s: exit %d, %q", format, r.code, r.stdout)
		}
	}

	// Same seed, same trials: a second experiment with the same random_state
	// draws the same assignments in the same order.
	other := writeExperiment(t, dir, expParams{Name: "quad-again", Parallel: 2, Max: 7, MaxFailed: 3,
		Settings: "      - {name: random_state, value: \"7\"}"})
	if r := tune(t, dir, "run", "-q", other); r.code != 0 {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	if got, want := paramsByName(getTrials(t, dir, "quad-again"), "quad-again"), paramsByName(trials, "quad"); !equalStrings(got, want) {
		t.Errorf("same random_state gave different trials:\n got %v\nwant %v", got, want)
	}

	// The experiment is finished: running the file again does nothing,
	// says why, and changes nothing.
	if r := tune(t, dir, "run", file); r.code != 0 || !strings.Contains(r.stderr, "nothing to do") || !strings.Contains(r.stderr, "maxTrialCount") {
		t.Errorf("re-run: exit %d, stderr %q; want 0 and 'nothing to do' naming maxTrialCount", r.code, r.stderr)
	}
	if got := paramsByName(getTrials(t, dir, "quad"), "quad"); !equalStrings(got, paramsByName(trials, "quad")) {
		t.Errorf("re-run of a finished experiment changed its trials")
	}
}

// paramsByName returns each trial's assignment keyed by its sequence suffix.
func paramsByName(trials []jsonTrial, exp string) []string {
	out := make([]string, len(trials)+1)
	for _, tr := range trials {
		n, _ := strconv.Atoi(strings.TrimPrefix(tr.Name, exp+"-"))
		if n < len(out) {
			out[n] = tr.Parameters["x"] + "," + tr.Parameters["y"]
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "|") == strings.Join(b, "|")
}

func TestRunGridExhaustsBeforeMaxTrialCount(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "grid", Algorithm: "grid", Parallel: 4, Max: 100, MaxFailed: 3, Parameters: `
    - name: x
      parameterType: double
      feasibleSpace: {min: "0", max: "1", step: "0.5"}
    - name: "y"
      parameterType: int
      feasibleSpace: {min: "-3", max: "-1"}`})
	r := tune(t, dir, "run", file)
	if r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s", r.code, r.stderr)
	}
	trials := getTrials(t, dir, "grid")
	seen := map[string]bool{}
	for _, tr := range trials {
		key := tr.Parameters["x"] + "," + tr.Parameters["y"]
		if seen[key] {
			t.Errorf("grid point %s tried twice", key)
		}
		seen[key] = true
	}
	if len(trials) != 9 || len(seen) != 9 {
		t.Errorf("got %d trials (%d distinct), want the 9 grid points", len(trials), len(seen))
	}
	if e := getExperiment(t, dir, "grid"); e.Status != "Succeeded" || e.Reason != "ExperimentSuggestionEndReached" {
		t.Errorf("experiment = %+v, want Succeeded/ExperimentSuggestionEndReached", e)
	}
	if best := trials[0]; best.Parameters["x"] != "1" || best.Parameters["y"] != "-2" {
		t.Errorf("best grid point = %v, want x=1 y=-2", best.Parameters)
	}
}

func TestRunFailurePath(t *testing.T) {
	dir := t.TempDir()
	// x > -1.9 fails with exit code 3: nearly every trial fails.
	file := writeExperiment(t, dir, expParams{Name: "failing", Parallel: 1, Max: 10, MaxFailed: 2,
		Settings: "      - {name: random_state, value: \"1\"}", Extra: `, "--fail-above=-1.9"`})
	r := tune(t, dir, "run", file)
	if r.code != 1 {
		t.Fatalf("tune run: exit %d, want 1 (experiment Failed)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "experiment failing Failed (ExperimentMaxFailedTrialsReached)") {
		t.Errorf("summary = %q", r.stdout)
	}
	trials := getTrials(t, dir, "failing")
	failed := 0
	for _, tr := range trials {
		if tr.Status != "Failed" {
			continue
		}
		failed++
		if tr.ExitCode == nil || *tr.ExitCode != 3 {
			t.Errorf("%s: exit code %v, want 3", tr.Name, tr.ExitCode)
		}
		if !strings.Contains(tr.Message, "exit code 3") || !strings.Contains(tr.Message, "diverged: x too large") {
			t.Errorf("%s: message %q lacks the exit code and the stderr tail", tr.Name, tr.Message)
		}
	}
	if failed != 2 {
		t.Errorf("%d failed trials, want exactly maxFailedTrialCount=2 (parallel 1)", failed)
	}
}

func TestRunMetricsUnavailable(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "silent", Parallel: 2, Max: 2, MaxFailed: 2, Extra: `, "--no-metrics"`})
	r := tune(t, dir, "run", file)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (two metrics-unavailable trials reach maxFailedTrialCount)\n%s", r.code, r.stderr)
	}
	for _, tr := range getTrials(t, dir, "silent") {
		if tr.Status != "MetricsUnavailable" || !strings.Contains(tr.Message, `"loss"`) {
			t.Errorf("%s: %s %q, want MetricsUnavailable naming loss", tr.Name, tr.Status, tr.Message)
		}
	}
	if !strings.Contains(r.stdout, "no trial reported loss") {
		t.Errorf("summary = %q", r.stdout)
	}
}

func TestRunGoalReachedStopsRunningTrials(t *testing.T) {
	dir := t.TempDir()
	// Three grid points at the optimum; the first reports loss 0 at once,
	// meeting the goal while the other two still sleep.
	file := writeExperiment(t, dir, expParams{Name: "goal", Algorithm: "grid", Goal: "0.5", Parallel: 3, Max: 3, MaxFailed: 3, Parameters: `
    - name: x
      parameterType: discrete
      feasibleSpace: {list: ["1"]}
    - name: "y"
      parameterType: discrete
      feasibleSpace: {list: ["-2"]}
    - name: sleep
      parameterType: categorical
      feasibleSpace: {list: ["1ms", "300s", "400s"]}`, Extra: `, "--sleep=${trialParameters.sleep}"`, TrialParams: "sleep"})
	start := time.Now()
	r := tune(t, dir, "run", file)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Trials left running would take 300 s or more.
	if d := time.Since(start); d > 150*time.Second {
		t.Errorf("run took %v: running trials were not stopped at the goal", d)
	}
	if e := getExperiment(t, dir, "goal"); e.Reason != "ExperimentGoalReached" {
		t.Errorf("reason = %s, want ExperimentGoalReached", e.Reason)
	}
	states := map[string]int{}
	for _, tr := range getTrials(t, dir, "goal") {
		states[tr.Status]++
	}
	if states["Succeeded"] != 1 || states["Killed"] != 2 {
		t.Errorf("trial states = %v, want 1 Succeeded and 2 Killed", states)
	}
}

func TestRunValuesNeverReachAShell(t *testing.T) {
	dir := t.TempDir()
	hostile := []string{"$(touch pwned)", "`touch pwned2`; rm -rf /tmp/nothing", "a b\"c'd\n${trialParameters.x}|$HOME"}
	quoted := make([]string, len(hostile))
	for i, h := range hostile {
		q, _ := json.Marshal(h)
		quoted[i] = string(q)
	}
	file := writeExperiment(t, dir, expParams{Name: "shell", Algorithm: "grid", Parallel: 3, Max: 10, MaxFailed: 3, Parameters: `
    - name: x
      parameterType: discrete
      feasibleSpace: {list: ["1"]}
    - name: "y"
      parameterType: discrete
      feasibleSpace: {list: ["-2"]}
    - name: label
      parameterType: categorical
      feasibleSpace: {list: [` + strings.Join(quoted, ", ") + `]}`, Extra: `, "--argv-file=argv.json", "--label=${trialParameters.label}"`})
	b, _ := os.ReadFile(file)
	b = bytes.Replace(b, []byte("    trialParameters:\n"), []byte("    trialParameters:\n      - name: label\n        reference: label\n"), 1)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "run", file); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := map[string]bool{}
	for _, tr := range getTrials(t, dir, "shell") {
		raw, err := os.ReadFile(filepath.Join(tr.Dir, "argv.json"))
		if err != nil {
			t.Fatalf("%s: %v", tr.Name, err)
		}
		var argv []string
		if err := json.Unmarshal(raw, &argv); err != nil {
			t.Fatal(err)
		}
		last := argv[len(argv)-1]
		if want := "--label=" + tr.Parameters["label"]; last != want {
			t.Errorf("%s: argv ends with %q, want %q", tr.Name, last, want)
		}
		got[strings.TrimPrefix(last, "--label=")] = true
	}
	for _, h := range hostile {
		if !got[h] {
			t.Errorf("value %q did not arrive intact", h)
		}
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists: a value went through a shell", f)
		}
	}
}

func TestInvalidExperimentWritesNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"broken yaml": {
			yaml: "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: x\n spec: [\n",
			want: []string{"bad.yaml:4:", "invalid YAML"},
		},
		"unknown algorithm": {
			yaml: "algorithm: bogus",
			want: []string{"bad.yaml", "spec.algorithm.algorithmName", "bogus", "random"},
		},
		"min above max": {
			yaml: "min above max",
			want: []string{"bad.yaml", "spec.parameters[0]", "min"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var content string
			switch tc.yaml {
			case "algorithm: bogus":
				b, _ := os.ReadFile(writeExperiment(t, dir, expParams{Name: "bad", Algorithm: "bogus", Parallel: 1, Max: 1, MaxFailed: 1}))
				content = string(b)
			case "min above max":
				b, _ := os.ReadFile(writeExperiment(t, dir, expParams{Name: "bad", Parallel: 1, Max: 1, MaxFailed: 1, Parameters: `
    - name: x
      parameterType: double
      feasibleSpace: {min: "5", max: "4"}
    - name: "y"
      parameterType: double
      feasibleSpace: {min: "-5", max: "1"}`}))
				content = string(b)
			default:
				content = tc.yaml
			}
			file := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, verb := range []string{"validate", "run"} {
				r := tune(t, dir, verb, file)
				if r.code != 2 {
					t.Errorf("tune %s: exit %d, want 2\n%s", verb, r.code, r.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("tune %s: stderr %q lacks %q", verb, r.stderr, w)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, ".tune")); !os.IsNotExist(err) {
				t.Errorf("an invalid experiment created .tune: %v", err)
			}
		})
	}
}

func TestValidateKatibExamples(t *testing.T) {
	files, _ := filepath.Glob("../../experiment/testdata/katib/*.yaml")
	if len(files) == 0 {
		t.Fatal("no Katib examples found in experiment/testdata/katib")
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		r := tune(t, t.TempDir(), "validate", abs)
		if r.code != 0 || !strings.Contains(r.stdout, "parallelTrialCount") {
			t.Errorf("tune validate %s: exit %d\n%s", filepath.Base(f), r.code, r.stderr)
		}
	}
}

func TestInterruptKillsTrialsAndKeepsStore(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process-group checks use /proc")
	}
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "slow", Parallel: 2, Max: 4, MaxFailed: 3, Extra: `, "--sleep=60s"`})
	cmd := tuneProcess(t, dir, "run", file)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until both trials run, then read the store from another process
	// while the run holds it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := tune(t, dir, "get", "trials", "slow", "-o", "json")
		var trials []jsonTrial
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &trials) == nil && len(trials) == 2 && trials[0].Status == "Running" && trials[1].Status == "Running" {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("trials never both ran: %s %s", r.stdout, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after SIGINT: %v, want exit 130\n%s", err, errOut.String())
	}
	for _, tr := range getTrials(t, dir, "slow") {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s, want Killed", tr.Name, tr.Status)
		}
	}
	if e := getExperiment(t, dir, "slow"); e.Status != "Stopped" {
		t.Errorf("experiment status %s, want Stopped", e.Status)
	}
	// No trial process survives: none of /proc's command lines run trialprog.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(trialBin)) {
			t.Errorf("a trial process survived: %s", bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

// Valid Katib files that need what the local runner does not have yet are
// refused before anything is written, with the field that needs it.
// (Katib's Argo Workflow example runs locally: a Workflow outside the
// local subset is refused in TestValidateRefusesOutsideTheLocalSubset.)
func TestRunRefusesUnsupportedBeforeWriting(t *testing.T) {
	for file, want := range map[string]string{
		"custom-metrics-collector.yaml": "spec.metricsCollectorSpec.collector.kind Custom",
	} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			abs, _ := filepath.Abs(filepath.Join("../../experiment/testdata/katib", file))
			r := tune(t, dir, "run", abs)
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
			}
			if _, err := os.Stat(filepath.Join(dir, ".tune")); !os.IsNotExist(err) {
				t.Errorf("a refused experiment created .tune: %v", err)
			}
		})
	}
}

// The grid quickstart, run as a newcomer would from the repository root
// (its trials run `go run ./examples/mlp`), with the store in a temp dir.
func TestQuickstartGridExample(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 small networks")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(t.TempDir(), "tune.db")
	// XDG_CONFIG_HOME out of the repository: the trials' go command writes
	// its telemetry there.
	r := tuneEnv(t, root, append(cleanEnv(), "XDG_CONFIG_HOME="+t.TempDir()), "run", "--store", storePath, "examples/quickstart/grid.yaml")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "experiment quickstart-grid Succeeded (ExperimentSuggestionEndReached): 12 trials, 12 succeeded") {
		t.Errorf("summary = %q", r.stdout)
	}
	trials := getTrials(t, root, "quickstart-grid", "--store", storePath)
	if len(trials) != 12 {
		t.Fatalf("%d trials, want the 12 grid points", len(trials))
	}
	for _, tr := range trials {
		acc, ok := tr.Metrics["accuracy"]
		if tr.Status != "Succeeded" || !ok || acc <= 0 || acc > 1 {
			t.Errorf("%s: %s accuracy=%v", tr.Name, tr.Status, acc)
		}
	}
	if best := trials[0].Metrics["accuracy"]; best < 0.9 {
		t.Errorf("best accuracy %v: the network did not learn", best)
	}
}

// Every model-based algorithm runs an experiment end to end through the
// command line, with parallel trials, and ends near the quadratic's minimum.
func TestRunEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"bayesianoptimization", "tpe", "multivariate-tpe", "cmaes", "sobol"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := writeExperiment(t, dir, expParams{Name: "alg", Algorithm: alg, Parallel: 2, Max: 24, MaxFailed: 3,
				Settings: "      - {name: random_state, value: \"3\"}"})
			if r := tune(t, dir, "run", "-q", file); r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			trials := getTrials(t, dir, "alg")
			seen := map[string]bool{}
			for _, tr := range trials {
				key := tr.Parameters["x"] + "," + tr.Parameters["y"]
				if seen[key] {
					t.Errorf("%s repeats %s", tr.Name, key)
				}
				seen[key] = true
				if math.Abs(tr.Metrics["loss"]-quadratic(t, tr.Parameters)) > 1e-9 {
					t.Errorf("%s: loss %v for %v", tr.Name, tr.Metrics["loss"], tr.Parameters)
				}
			}
			if len(trials) != 24 {
				t.Errorf("%d trials, want 24", len(trials))
			}
			// The quadratic's minimum is 0; random search over this box
			// has a median best of about 0.3 after 24 trials.
			if best := trials[0].Metrics["loss"]; alg == "bayesianoptimization" && best > 0.05 {
				t.Errorf("best loss %v after 24 trials", best)
			}
		})
	}
}

// TestFileCollectorOriginalPath runs Katib-style trials that write their
// metrics to /var/log/katib/metrics.log, unmodified: each trial's file
// lands in its own directory (where tune reads it), and nothing is written
// on the host's /var/log. Skipped where Linux does not let tune make the
// path appear inside the trial.
func TestFileCollectorOriginalPath(t *testing.T) {
	// In-process runs name the test binary as their mount helper.
	helper, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := local.New(local.Options{MountHelper: helper})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := probe.MountsSupported(); !ok {
		t.Skip(why)
	}
	if _, err := os.Stat("/var/log/katib"); err == nil {
		t.Skip("/var/log/katib exists on this machine: the test could not tell the trial's from the host's")
	}
	dir := t.TempDir()
	y := `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: katib-file
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: grid
  parallelTrialCount: 2
  maxTrialCount: 2
  parameters:
    - {name: x, parameterType: categorical, feasibleSpace: {list: ["0.5", "0.25"]}}
  metricsCollectorSpec:
    source:
      fileSystemPath: {path: /var/log/katib/metrics.log, kind: File, format: TEXT}
    collector:
      kind: File
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
                # A test workload; tune itself never runs a shell.
                command: [/bin/sh, -c, 'echo "loss=$0" > /var/log/katib/metrics.log', "${trialParameters.x}"]
`
	file := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tune(t, dir, "run", file)
	if r.code != 0 || !strings.Contains(r.stdout, "2 succeeded") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("warnings: %s", r.stderr)
	}
	for _, name := range []string{"katib-file-0001", "katib-file-0002"} {
		b, err := os.ReadFile(filepath.Join(dir, ".tune", "tune.db.trials", "katib-file", name, "var", "log", "katib", "metrics.log"))
		if err != nil || !strings.HasPrefix(string(b), "loss=") {
			t.Errorf("%s's metrics file: %q, %v", name, b, err)
		}
	}
	if _, err := os.Stat("/var/log/katib"); !os.IsNotExist(err) {
		t.Errorf("the host's /var/log/katib was created: %v", err)
	}
}
