package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/trial/local"
)

// shellExperiment writes experiment name, whose trials run the shell
// script with $0 set to arg0 and $1 to the parameter x (one of xs), into
// dir. file, when true, makes it read metrics with a File collector.
func shellExperiment(t *testing.T, dir, name, script, arg0 string, xs []string, file bool) string {
	t.Helper()
	collector := ""
	if file {
		collector = `
  metricsCollectorSpec:
    source:
      fileSystemPath: {path: /var/log/katib/metrics.log, kind: File, format: TEXT}
    collector:
      kind: File`
	}
	list, _ := json.Marshal(xs)
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: grid
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: %d
  parameters:
    - {name: x, parameterType: categorical, feasibleSpace: {list: %s}}%s
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
                command: [/bin/sh, -c, %q, %q, "${trialParameters.x}"]
`, name, len(xs), len(xs), len(xs), list, collector, script, arg0)
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTune starts tune with args in dir; the test's end kills it. The
// channel is closed once it has exited.
func startTune(t *testing.T, dir string, args ...string) (*exec.Cmd, chan struct{}, *bytes.Buffer) {
	t.Helper()
	cmd := tuneProcess(t, dir, args...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done, &errOut
}

// processAlive reports whether pid runs (a zombie counts as gone).
func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: kill said it runs
	}
	i := bytes.LastIndexByte(b, ')')
	return !(i >= 0 && i+2 < len(b) && b[i+2] == 'Z')
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// runningTrial waits for trial name of exp (in the store flags select) to
// run with a live process recorded in its directory, and returns the
// directory and the process group.
func runningTrial(t *testing.T, dir, exp, name string, flags ...string) (string, int) {
	t.Helper()
	var trialDir string
	var pgid int
	if !waitUntil(30*time.Second, func() bool {
		// The runner may not have created the experiment yet.
		r := tune(t, dir, append([]string{"get", "trials", exp, "-o", "json"}, flags...)...)
		var trials []jsonTrial
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &trials) != nil {
			return false
		}
		for _, tr := range trials {
			if tr.Name != name || tr.Status != "Running" {
				continue
			}
			trialDir = tr.Dir
			b, err := os.ReadFile(filepath.Join(tr.Dir, local.ProcessRecordName))
			var rec struct{ PGID int }
			if err == nil && json.Unmarshal(b, &rec) == nil && processAlive(rec.PGID) {
				pgid = rec.PGID
				return true
			}
		}
		return false
	}) {
		t.Fatalf("trial %s of %s %v never ran with a live process recorded (dir %q)", name, exp, flags, trialDir)
	}
	return trialDir, pgid
}

// TestDeleteThenRerun: after tune delete, a run of an experiment of the
// same name whose trials write no metrics file ends them
// MetricsUnavailable: nothing of the deleted run's files is read. Without
// --keep-files the trial directories are gone; with it they are renamed.
func TestDeleteThenRerun(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-files=%v", keep), func(t *testing.T) {
			dir := t.TempDir()
			file := shellExperiment(t, dir, "fc", `echo "loss=$1" > "$TUNE_METRICS_PATH"`, "trial", []string{"0.5", "0.25"}, true)
			if r := tune(t, dir, "run", "-q", file); r.code != 0 {
				t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			first := getTrials(t, dir, "fc")
			for _, tr := range first {
				if tr.Status != "Succeeded" {
					t.Fatalf("first run: trial %s %s (%s)", tr.Name, tr.Status, tr.Message)
				}
			}
			args := []string{"delete", "experiment", "fc"}
			if keep {
				args = append(args, "--keep-files")
			}
			r := tune(t, dir, args...)
			if r.code != 0 || !strings.Contains(r.stderr, "experiment fc deleted") {
				t.Fatalf("delete: exit %d\n%s", r.code, r.stderr)
			}
			expDir := filepath.Join(dir, ".tune", "tune.db.trials", "fc")
			if _, err := os.Stat(expDir); !os.IsNotExist(err) {
				t.Errorf("%s after delete: %v, want it gone", expDir, err)
			}
			for _, tr := range first {
				if _, err := os.Stat(tr.Dir); !os.IsNotExist(err) {
					t.Errorf("trial directory %s after delete: %v, want it gone", tr.Dir, err)
				}
			}
			kept, _ := filepath.Glob(expDir + ".deleted-*")
			if keep {
				if len(kept) != 1 || !strings.Contains(r.stderr, "trial files kept in "+kept[0]) {
					t.Fatalf("kept %v; stderr %q", kept, r.stderr)
				}
				b, err := os.ReadFile(filepath.Join(kept[0], "fc-0001", "var", "log", "katib", "metrics.log"))
				if err != nil || !strings.HasPrefix(string(b), "loss=") {
					t.Errorf("kept metrics file: %q, %v", b, err)
				}
			} else if len(kept) != 0 {
				t.Errorf("kept %v without --keep-files", kept)
			}

			file = shellExperiment(t, dir, "fc", `echo "no metrics for $1"`, "trial", []string{"0.5", "0.25"}, true)
			r = tune(t, dir, "run", "-q", file)
			for _, tr := range getTrials(t, dir, "fc") {
				if tr.Status != "MetricsUnavailable" || len(tr.Metrics) != 0 {
					t.Errorf("re-run: trial %s %s with %v, want MetricsUnavailable with no metrics (exit %d, %s)", tr.Name, tr.Status, tr.Metrics, r.code, r.stderr)
				}
			}
		})
	}
}

// TestTwoStoresOneDirectory: two stores in one directory running an
// experiment of the same name get distinct trial directories, and
// resuming one after its runner was killed leaves the other's running
// trial alone.
func TestTwoStoresOneDirectory(t *testing.T) {
	dir := t.TempDir()
	fast := filepath.Join(dir, "fast")
	// Trials run until the file fast exists, then end at once.
	file := shellExperiment(t, dir, "twin", `echo "loss=$1"; [ -e "$0" ] || exec sleep 1000`, fast, []string{"1"}, false)

	r1, done1, _ := startTune(t, dir, "--store", "s1.db", "run", "-q", file)
	dir1, pg1 := runningTrial(t, dir, "twin", "twin-0001", "--store", "s1.db")
	t.Cleanup(func() { _ = syscall.Kill(-pg1, syscall.SIGKILL) })
	if err := r1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done1
	if !waitUntil(10*time.Second, func() bool { return !processAlive(pg1) }) {
		t.Fatalf("s1's trial process %d outlived its runner", pg1)
	}

	r2, done2, errOut2 := startTune(t, dir, "--store", "s2.db", "run", "-q", file)
	dir2, pg2 := runningTrial(t, dir, "twin", "twin-0001", "--store", "s2.db")
	t.Cleanup(func() { _ = syscall.Kill(-pg2, syscall.SIGKILL) })
	if dir1 == dir2 {
		t.Errorf("both stores' trial twin-0001 run in %s", dir1)
	}
	// The trial's shell checks for fast once, then becomes sleep: wait for
	// that, or a loaded machine may let it see the file written below.
	if !waitUntil(30*time.Second, func() bool {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pg2))
		return err == nil && strings.TrimSpace(string(comm)) == "sleep"
	}) {
		t.Fatalf("s2's trial process %d never became sleep", pg2)
	}

	if err := os.WriteFile(fast, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "--store", "s1.db", "run", "-q", file); r.code != 0 {
		t.Fatalf("resume of s1: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !processAlive(pg2) {
		t.Errorf("resuming s1 stopped s2's trial process %d", pg2)
	}
	for _, tr := range getTrials(t, dir, "twin", "--store", "s2.db") {
		if tr.Status != "Running" {
			t.Errorf("s2's trial %s is %s (%s) while its runner runs", tr.Name, tr.Status, tr.Message)
		}
	}
	if err := r2.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done2:
	case <-time.After(30 * time.Second):
		t.Fatalf("s2's runner did not stop after SIGINT:\n%s", errOut2)
	}
}

// TestDeleteStopsLeftoverProcess: a trial process left running by a killed
// runner, which ignores SIGTERM, is stopped by tune delete, and the trial
// directories are removed.
func TestDeleteStopsLeftoverProcess(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	file := shellExperiment(t, dir, "left", `trap "" TERM; sleep 1000 & echo $! > "$0"; echo "loss=$1"; wait`, pidFile, []string{"1"}, false)
	runner, done, _ := startTune(t, dir, "run", "-q", file)
	trialDir, pgid := runningTrial(t, dir, "left", "left-0001")
	var grandchild int
	if !waitUntil(30*time.Second, func() bool {
		b, err := os.ReadFile(pidFile)
		grandchild, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && grandchild > 0
	}) {
		t.Fatal("the trial never wrote its child's pid")
	}
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	if err := runner.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if !waitUntil(10*time.Second, func() bool { return !processAlive(pgid) }) {
		t.Fatalf("trial process %d outlived its runner", pgid)
	}
	if !processAlive(grandchild) {
		t.Fatalf("the trial's child %d died with the runner: the test no longer shows what delete must do", grandchild)
	}

	r := tune(t, dir, "delete", "experiment", "left", "--kill-grace", "100ms")
	if r.code != 0 || !strings.Contains(r.stderr, "was still running and was stopped") {
		t.Fatalf("delete: exit %d\n%s", r.code, r.stderr)
	}
	if !waitUntil(10*time.Second, func() bool { return !processAlive(grandchild) }) {
		t.Errorf("the trial's child %d, which ignores SIGTERM, survived delete", grandchild)
	}
	if _, err := os.Stat(trialDir); !os.IsNotExist(err) {
		t.Errorf("trial directory %s after delete: %v, want it gone", trialDir, err)
	}
	if r := tune(t, dir, "delete", "experiment", "left"); r.code != 1 || !strings.Contains(r.stderr, `experiment "left" not found in the store`) {
		t.Errorf("second delete: exit %d, stderr %q; want 1, not found", r.code, r.stderr)
	}
}
