package cli_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunnerGoneAfterSIGKILL: while tune run works, readers show the
// experiment Running; once the runner is SIGKILLed (no chance to record
// its end) get experiments says the runner is gone and how to go on
// (table and JSON), and tune best warns; tune resume then ends it.
func TestRunnerGoneAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	// Trial x=1 works until killed the first time it runs ($0 marks it).
	slept := filepath.Join(dir, "slept")
	file := shellExperiment(t, dir, "gone", `echo "loss=$1"; if [ "$1" = 1 ] && [ ! -e "$0" ]; then : > "$0"; exec sleep 1000; fi`, slept, []string{"1", "2"}, false)
	runner, done, errOut := startTune(t, dir, "run", file)
	_, pgid := runningTrial(t, dir, "gone", "gone-0001")
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	// Running is recorded when the process starts, maybe before its shell
	// writes the mark: killed before that, it would leave no mark, and the
	// trial resume starts again would sleep for 1000 s (seen on a loaded
	// machine).
	if !waitUntil(30*time.Second, func() bool { _, err := os.Stat(slept); return err == nil }) {
		t.Fatal("trial x=1 never wrote its mark")
	}

	type jsonExp struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		RunnerGone bool   `json:"runnerGone"`
	}
	read := func() jsonExp {
		t.Helper()
		r := tune(t, dir, "get", "experiments", "-o", "json")
		var exps []jsonExp
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &exps) != nil || len(exps) != 1 {
			t.Fatalf("get experiments -o json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return exps[0]
	}
	if e := read(); e.Status != "Running" || e.RunnerGone {
		t.Errorf("while the runner works: %+v, want Running, runner not gone", e)
	}
	if r := tune(t, dir, "get", "experiments"); !regexp.MustCompile(`(?m)^gone\s+Running\s+grid`).MatchString(r.stdout) {
		t.Errorf("table while the runner works:\n%s", r.stdout)
	}

	if err := runner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if e := read(); e.Status != "Running" || !e.RunnerGone {
		t.Errorf("after SIGKILL: %+v, want Running with runnerGone (runner stderr:\n%s)", e, errOut.String())
	}
	r := tune(t, dir, "get", "experiments")
	if !regexp.MustCompile(`(?m)^gone\s+Running \(runner gone: tune resume gone\)\s+grid\s`).MatchString(r.stdout) {
		t.Errorf("table after SIGKILL:\n%s", r.stdout)
	}
	r = tune(t, dir, "best", "gone")
	// (It may have no succeeded trial to show: the runner died before
	// recording any.)
	if !strings.Contains(r.stderr, "experiment gone is Running but no tune process runs it") || !strings.Contains(r.stderr, "tune resume gone") {
		t.Errorf("tune best after SIGKILL: exit %d, stderr %q", r.code, r.stderr)
	}

	// The lost trial's process still runs; resume replaces the trial and
	// the experiment ends with a runner, so nothing is gone any more.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if r := tune(t, dir, "resume", "-q", "gone"); r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	if e := read(); e.Status != "Succeeded" || e.RunnerGone {
		t.Errorf("after resume: %+v, want Succeeded", e)
	}
	if r := tune(t, dir, "best", "gone"); strings.Contains(r.stderr, "no tune process runs it") {
		t.Errorf("tune best warns after resume: %q", r.stderr)
	}
}

// TestSIGHUPStopsRun: a closed terminal (SIGHUP) stops tune run as an
// interrupt does: exit 130, running trials Killed, the experiment Stopped
// and not taken for a dead runner.
func TestSIGHUPStopsRun(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "hup", Parallel: 2, Max: 4, MaxFailed: 3, Extra: `, "--sleep=60s"`})
	cmd := tuneProcess(t, dir, "run", file)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if !waitUntil(30*time.Second, func() bool {
		r := tune(t, dir, "get", "trials", "hup", "-o", "json")
		var trials []jsonTrial
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &trials) == nil && len(trials) == 2 && trials[0].Status == "Running" && trials[1].Status == "Running"
	}) {
		t.Fatal("the trials never both ran")
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after SIGHUP: %v, want exit 130\n%s", err, errOut.String())
	}
	for _, tr := range getTrials(t, dir, "hup") {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s, want Killed", tr.Name, tr.Status)
		}
	}
	if e := getExperiment(t, dir, "hup"); e.Status != "Stopped" {
		t.Errorf("experiment status %s, want Stopped", e.Status)
	}
	if r := tune(t, dir, "get", "experiments"); !regexp.MustCompile(`(?m)^hup\s+Stopped\s`).MatchString(r.stdout) {
		t.Errorf("get experiments:\n%s", r.stdout)
	}
}
