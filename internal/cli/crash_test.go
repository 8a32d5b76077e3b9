package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// crashKills is how many times TestCrashResume kills tune run: 10 in the
// normal test run, TUNE_CRASH_KILLS for the long form (50 in the notes).
func crashKills(t *testing.T) int {
	if s := os.Getenv("TUNE_CRASH_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TUNE_CRASH_KILLS=%q: want a positive integer", s)
		}
		return n
	}
	return 10
}

// crashParams is the crash test's search space: x and y for the objective,
// ms for how long each trial sleeps, so kills land at every stage of a
// trial's life.
const crashParams = quadraticParams + `
    - name: ms
      parameterType: int
      feasibleSpace: {min: "20", max: "400"}`

// TestCrashResume is the crash harness: it SIGKILLs tune run at random
// moments (while it suggests, starts trials, writes metrics, completes
// trials), resumes the experiment with tune run, and repeats until the
// experiment finishes. After every kill it checks the store: it opens, every
// trial seen finished is still there unchanged with its metrics, no two
// trials share an assignment (random search never repeats one), the status
// counts match the trials, and no trial process survives the runner. At
// the end the experiment Succeeded with exactly maxTrialCount counted
// trials.
func TestCrashResume(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the orphan check reads /proc")
	}
	kills := crashKills(t)
	// Enough trials that every kill lands before the experiment ends.
	maxTrials := 4 * kills
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{
		Name: "crash", Parallel: 3, Max: maxTrials, MaxFailed: maxTrials,
		Settings:    "      - {name: random_state, value: \"42\"}",
		Parameters:  crashParams,
		TrialParams: "ms",
		Extra:       `, "--sleep=${trialParameters.ms}ms", "--epochs=4"`,
	})
	rng := rand.New(rand.NewPCG(1, 2))
	finished := map[string]string{} // trial name → JSON of the finished trial
	var lost, attempts int
	for killed := 0; ; attempts++ {
		if attempts > kills+40 {
			t.Fatalf("experiment not finished after %d attempts", attempts)
		}
		cmd := tuneProcess(t, dir, "run", "-q", "--gpus", "none", file)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if killed < kills {
			// Most kills land within a trial's lifetime; some during start-up.
			delay := time.Duration(rng.IntN(600)) * time.Millisecond
			select {
			case err = <-done:
			case <-time.After(delay):
				cmd.Process.Signal(syscall.SIGKILL)
				err = <-done
				killed++
			}
		} else {
			err = <-done
		}
		ee, isExit := errors.AsType[*exec.ExitError](err)
		exitedNormally := err == nil || (isExit && ee.ExitCode() >= 0)
		if exitedNormally && err != nil {
			t.Fatalf("tune run exited %d:\n%s", ee.ExitCode(), errOut.String())
		}
		lost = checkCrashStore(t, dir, finished)
		if exitedNormally {
			if killed < kills {
				t.Fatalf("the experiment finished after %d of %d kills; give it more trials", killed, kills)
			}
			break
		}
	}
	s, err := store.Open(filepath.Join(dir, ".tune", "tune.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Experiment(t.Context(), "crash")
	if err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials(t.Context(), "crash")
	counted := 0
	for i := range trials {
		if trials[i].State.Final() && !experiment.Abandoned(&trials[i]) {
			counted++
		}
	}
	if rec.Status.Phase != experiment.Succeeded || counted != maxTrials {
		t.Errorf("final: %s (%s), %d counted trials; want Succeeded with exactly %d", rec.Status.Phase, rec.Status.Message, counted, maxTrials)
	}
	t.Logf("%d kills over %d runs; %d trials in all, %d lost to kills and replaced", kills, attempts+1, len(trials), lost)
}

// checkCrashStore checks the store after a run ended (killed or not) and
// records the finished trials in finished. It returns how many trials were
// lost to kills so far.
func checkCrashStore(t *testing.T, dir string, finished map[string]string) int {
	t.Helper()
	// No trial process outlives its runner.
	deadline := time.Now().Add(5 * time.Second)
	for survivor := trialProcess(); survivor != ""; survivor = trialProcess() {
		if time.Now().After(deadline) {
			t.Fatalf("a trial process survived the runner: %s", survivor)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := store.Open(filepath.Join(dir, ".tune", "tune.db"), &store.Options{ReadOnly: true})
	if errors.Is(err, store.ErrNoStore) {
		return 0 // killed before the store was created
	}
	if err != nil {
		t.Fatalf("store does not open after a kill: %v", err)
	}
	defer s.Close()
	rec, err := s.Experiment(t.Context(), "crash")
	if errors.Is(err, experiment.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("experiment unreadable after a kill: %v", err)
	}
	trials, err := s.Trials(t.Context(), "crash")
	if err != nil {
		t.Fatalf("trials unreadable after a kill: %v", err)
	}
	counts := map[trial.State]int{}
	seen := map[string]string{}
	lost := 0
	for i := range trials {
		tr := &trials[i]
		counts[tr.State]++
		if tr.Reason == experiment.TrialReasonLost {
			lost++
		}
		if other, dup := seen[tr.Parameters.Key()]; dup {
			t.Errorf("%s repeats the assignment of %s: %v", tr.Name, other, tr.Parameters)
		}
		seen[tr.Parameters.Key()] = tr.Name
		if tr.State == trial.Succeeded {
			if _, ok := tr.Metrics["loss"]; !ok {
				t.Errorf("succeeded trial %s has no loss", tr.Name)
			}
		}
		data, _ := json.Marshal(tr)
		if !tr.State.Final() {
			if _, was := finished[tr.Name]; was {
				t.Errorf("trial %s was finished and is %s again", tr.Name, tr.State)
			}
			continue
		}
		if before, was := finished[tr.Name]; was && before != string(data) {
			t.Errorf("finished trial %s changed:\nbefore %s\nafter  %s", tr.Name, before, data)
		}
		finished[tr.Name] = string(data)
	}
	for name := range finished {
		if _, ok := seen[name]; !ok && !containsTrial(trials, name) {
			t.Errorf("finished trial %s disappeared", name)
		}
	}
	st := rec.Status
	if st.Trials != len(trials) || st.TrialsRunning != counts[trial.Running] || st.TrialsSucceeded != counts[trial.Succeeded] ||
		st.TrialsKilled != counts[trial.Killed] || st.TrialsFailed != counts[trial.Failed] {
		t.Errorf("status counts %d trials, %d running, %d succeeded, %d killed, %d failed; the store holds %d trials %v",
			st.Trials, st.TrialsRunning, st.TrialsSucceeded, st.TrialsKilled, st.TrialsFailed, len(trials), counts)
	}
	return lost
}

func containsTrial(trials []trial.Trial, name string) bool {
	for _, tr := range trials {
		if tr.Name == name {
			return true
		}
	}
	return false
}

// trialProcess returns the command line of a running trialprog process, or
// "" when there is none.
func trialProcess() string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if bytes.HasPrefix(b, []byte(trialBin+"\x00")) {
			return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	return ""
}
