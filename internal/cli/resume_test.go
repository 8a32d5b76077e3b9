package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestResumeFromFileAndByName raises a finished experiment's budget through
// its file and through tune resume, and refuses a file whose search space
// changed.
func TestResumeFromFileAndByName(t *testing.T) {
	dir := t.TempDir()
	p := expParams{Name: "grow", Parallel: 2, Max: 3, MaxFailed: 3, Settings: "      - {name: random_state, value: \"11\"}", ResumePolicy: "LongRunning"}
	file := writeExperiment(t, dir, p)
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	first := getTrials(t, dir, "grow")

	// A larger maxTrialCount in the file continues the same experiment.
	p.Max = 5
	writeExperiment(t, dir, p)
	r := tune(t, dir, "run", "-q", file)
	if r.code != 0 {
		t.Fatalf("run with maxTrialCount 5: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "5 trials, 5 succeeded") {
		t.Errorf("summary after raising the budget: %q", r.stdout)
	}
	grown := getTrials(t, dir, "grow")
	byName := map[string]jsonTrial{}
	for _, tr := range grown {
		byName[tr.Name] = tr
	}
	for _, tr := range first {
		if got := byName[tr.Name]; fmt.Sprint(got.Parameters, got.Metrics) != fmt.Sprint(tr.Parameters, tr.Metrics) {
			t.Errorf("finished trial %s changed on resume: %v → %v", tr.Name, tr, got)
		}
	}

	// The same random_state in a fresh experiment draws the same five
	// points: resuming continued the sequence.
	fresh := p
	fresh.Name = "fresh"
	if r := tune(t, dir, "run", "-q", writeExperiment(t, dir, fresh)); r.code != 0 {
		t.Fatalf("fresh run: exit %d: %s", r.code, r.stderr)
	}
	if got, want := paramsByName(grown, "grow"), paramsByName(getTrials(t, dir, "fresh"), "fresh"); !equalStrings(got, want) {
		t.Errorf("resumed random search is not the uninterrupted sequence:\n got %v\nwant %v", got, want)
	}

	// tune resume raises it again without the file.
	if r := tune(t, dir, "resume", "-q", "grow", "--max-trial-count", "6"); r.code != 0 || !strings.Contains(r.stdout, "6 trials") {
		t.Fatalf("tune resume --max-trial-count 6: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	// Anything else changed is refused with the difference, exit 2.
	p.Max = 8
	p.Parameters = strings.Replace(quadraticParams, `max: "4"`, `max: "9"`, 1)
	writeExperiment(t, dir, p)
	r = tune(t, dir, "run", file)
	if r.code != 2 || !strings.Contains(r.stderr, `"4"`) || !strings.Contains(r.stderr, `"9"`) || !strings.Contains(r.stderr, "metadata.name") {
		t.Errorf("changed search space: exit %d, stderr %q; want 2 with the diff and the hint", r.code, r.stderr)
	}
	if n := len(getTrials(t, dir, "grow")); n != 6 {
		t.Errorf("refused resume left %d trials, want 6", n)
	}
	if r := tune(t, dir, "resume", "absent"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("tune resume of an unknown experiment: exit %d, %q", r.code, r.stderr)
	}
}

// TestSameExperimentTwice starts a slow experiment, then checks that a second
// run of it and its deletion are refused naming the running process, while
// another experiment in the same store runs.
func TestSameExperimentTwice(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "slow", Parallel: 1, Max: 2, MaxFailed: 1, Extra: `, "--sleep=60s"`})
	cmd := tuneProcess(t, dir, "run", file)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitForTrials(t, dir, "slow", 1, "Running")

	want := fmt.Sprintf("process %d", cmd.Process.Pid)
	if r := tune(t, dir, "run", file); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("second run of the same experiment: exit %d, stderr %q; want 1 naming %s", r.code, r.stderr, want)
	}
	if r := tune(t, dir, "delete", "experiment", "slow"); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("delete of a running experiment: exit %d, stderr %q; want 1 naming %s", r.code, r.stderr, want)
	}
	other := writeExperiment(t, dir, expParams{Name: "other", Parallel: 2, Max: 3, MaxFailed: 1})
	if r := tune(t, dir, "run", "-q", other); r.code != 0 {
		t.Errorf("another experiment in the same store: exit %d: %s", r.code, r.stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after SIGINT: %v, want exit 130\n%s", err, errOut.String())
	}
}

// waitForTrials polls tune get trials until n trials of exp are in state.
func waitForTrials(t *testing.T, dir, exp string, n int, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := tune(t, dir, "get", "trials", exp, "-o", "json")
		var trials []jsonTrial
		count := 0
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &trials) == nil {
			for _, tr := range trials {
				if tr.Status == state {
					count++
				}
			}
		}
		if count >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d trials of %s never reached %s: %s %s", n, exp, state, r.stdout, r.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
