package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/trial"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A command name with spaces and parentheses, as a process may choose.
	data := "4242 (a) b (c) S 1 4240 4100 34816 4242 4194560 97 0 0 0 1 0 0 0 20 0 1 0 123456 2555904 200 18446744073709551615\n"
	got, err := parseProcStat([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{state: 'S', pgrp: 4240, session: 4100, startTime: 123456}
	if got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 x 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
}

// readPID waits for file to hold a pid and returns it.
func readPID(t *testing.T, file string) int {
	t.Helper()
	var pid int
	if !waitFor(10*time.Second, func() bool {
		data, err := os.ReadFile(file)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(string(data))
		return err == nil
	}) {
		t.Fatalf("no pid in %s", file)
	}
	return pid
}

// readRecordFile waits for the process record in dir to exist and returns
// it. The executor writes it once the trial's process has started, so a
// test that sees the process (a pid file it wrote) may still be early.
func readRecordFile(t *testing.T, dir string) processRecord {
	t.Helper()
	name := filepath.Join(dir, ProcessRecordName)
	var data []byte
	if !waitFor(10*time.Second, func() bool {
		var err error
		data, err = os.ReadFile(name)
		return err == nil
	}) {
		t.Fatalf("no process record %s", name)
	}
	var rec processRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRunProcessRecord(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	spec := helperSpec(t, container("training", helperCommand(t, "pid"), pidFile))
	spec.Owner = "/data/s1.db"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan trial.Result, 1)
	go func() {
		res, err := newExecutor(t, Options{}).Run(ctx, spec, nil, nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	pid := readPID(t, pidFile)
	rec := readRecordFile(t, spec.Dir)
	st, err := readProcStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	want := processRecord{PGID: pid, StartTime: st.startTime, Session: st.session, BootID: bootID(), Owner: spec.Owner}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if st.pgrp != pid {
		t.Errorf("trial process %d is in process group %d, not its own", pid, st.pgrp)
	}
	if want.BootID == "" || want.StartTime == 0 {
		t.Errorf("record %+v lacks the boot id or start time", want)
	}
	cancel()
	if res := <-done; res.State != trial.Killed {
		t.Errorf("result = %+v, want Killed", res)
	}
	// Only the record was written, and it is emptied, not removed: no
	// file is deleted per trial (see clearRecord).
	if names := dirNames(t, spec.Dir); !slices.Equal(names, []string{ProcessRecordName}) {
		t.Errorf("trial directory holds %v after the trial, want only %s", names, ProcessRecordName)
	}
	if recordHeld(t, spec.Dir) {
		t.Error("process record not emptied after the trial")
	}
}

// startGroup starts the helper in mode with args as the leader of a new
// process group, which is killed when the test ends.
func startGroup(t *testing.T, mode string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^TestHelperProcess$", "--", mode}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// liveGroup starts the helper in mode (see startGroup) writing a pid to a
// file, waits for that pid, and returns the group's process record with
// Owner owner, the group leader's pid and the pid written.
func liveGroup(t *testing.T, mode, owner string) (rec processRecord, leader, written int) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	cmd := startGroup(t, mode, pidFile)
	written = readPID(t, pidFile)
	r, err := newRecord(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	r.Owner = owner
	return *r, cmd.Process.Pid, written
}

func writeRecord(t *testing.T, dir string, rec processRecord) {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ProcessRecordName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	exited := func(t *testing.T) processRecord {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Skip("no true program:", err)
		}
		return processRecord{PGID: cmd.Process.Pid, StartTime: 1, BootID: bootID()}
	}
	tests := map[string]struct {
		// setup returns the record to write (PGID 0: none) and the pids
		// that must be running afterwards or gone.
		setup       func(t *testing.T) (rec processRecord, alive, gone []int)
		owner       string // the spec's Owner
		want        string // the sentence, with N for the group id
		wantRecord  bool   // whether the record is still there
		wantErrText string
	}{
		"no record": {
			setup: func(*testing.T) (processRecord, []int, []int) { return processRecord{}, nil, nil },
			want:  "no process record; the trial's process had not started or had already exited",
		},
		"group exited": {
			setup: func(t *testing.T) (processRecord, []int, []int) { return exited(t), nil, nil },
			want:  "process group N had already exited",
		},
		"pid reused by another process": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				rec, pid, _ := liveGroup(t, "pid", "")
				// The recorded process started before the one now holding its pid.
				rec.StartTime--
				return rec, []int{pid}, nil
			},
			want: "process group N had already exited",
		},
		"record from another boot": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				rec, pid, _ := liveGroup(t, "pid", "")
				rec.BootID = "another-boot"
				return rec, []int{pid}, nil
			},
			want: "process group N had already exited",
		},
		"live group is stopped": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				// The leader and its grandchild both ignore SIGTERM.
				rec, leader, grandchild := liveGroup(t, "spawn", "")
				return rec, nil, []int{leader, grandchild}
			},
			want: "process group N (2 processes) was still running and was stopped: its output went to the runner that died, so it cannot be re-attached",
		},
		"live group of the same owner is stopped": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				rec, leader, _ := liveGroup(t, "pid", "/data/s1.db")
				return rec, nil, []int{leader}
			},
			owner: "/data/s1.db",
			want:  "process group N (1 process) was still running and was stopped: its output went to the runner that died, so it cannot be re-attached",
		},
		"live group of an unknown owner is stopped": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				rec, leader, _ := liveGroup(t, "pid", "") // written by an older tune
				return rec, nil, []int{leader}
			},
			owner: "/data/s1.db",
			want:  "process group N (1 process) was still running and was stopped: its output went to the runner that died, so it cannot be re-attached",
		},
		"live group of another store is left alone": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				rec, leader, _ := liveGroup(t, "pid", "/data/s2.db")
				return rec, []int{leader}, nil
			},
			owner:      "/data/s1.db",
			want:       "the process record in DIR belongs to another store (/data/s2.db), so its process group N was left alone",
			wantRecord: true,
		},
		"unreadable record": {
			setup: func(t *testing.T) (processRecord, []int, []int) {
				return processRecord{PGID: 1}, nil, nil
			},
			wantRecord:  true,
			wantErrText: "recover trial exp-0001: process record ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rec, alive, gone := tc.setup(t)
			if rec.PGID != 0 {
				writeRecord(t, dir, rec)
			}
			e := newExecutor(t, Options{KillGrace: 100 * time.Millisecond})
			got, err := e.Recover(t.Context(), &trial.Spec{Name: "exp-0001", Dir: dir, Owner: tc.owner})
			if tc.wantErrText != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErrText) {
					t.Errorf("Recover = %q, %v, want error %q...", got, err, tc.wantErrText)
				}
			} else {
				if err != nil {
					t.Fatalf("Recover: %v", err)
				}
				want := strings.ReplaceAll(tc.want, "N", strconv.Itoa(rec.PGID))
				want = strings.ReplaceAll(want, "DIR", dir)
				if got != want {
					t.Errorf("Recover = %q, want %q", got, want)
				}
			}
			_, statErr := os.Stat(filepath.Join(dir, ProcessRecordName))
			if has := statErr == nil; has != tc.wantRecord {
				t.Errorf("record present afterwards: %v, want %v", has, tc.wantRecord)
			}
			for _, pid := range gone {
				if !waitFor(5*time.Second, func() bool { return processGone(pid) }) {
					t.Errorf("process %d still running after Recover", pid)
				}
			}
			for _, pid := range alive {
				if processGone(pid) {
					t.Errorf("Recover stopped process %d, which was not the trial's", pid)
				}
			}
		})
	}
}

// TestRecoverEmptyRecord: an empty record, which only a machine crash
// before the record was synced leaves, means nothing runs; it is removed.
func TestRecoverEmptyRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ProcessRecordName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := newExecutor(t, Options{}).Recover(t.Context(), &trial.Spec{Name: "exp-0001", Dir: dir})
	if err != nil || !strings.HasPrefix(got, "no process record") {
		t.Errorf("Recover = %q, %v; want no process record", got, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("trial directory holds %v after Recover", names)
	}
}

// TestRunnerKilled kills the runner with SIGKILL while a trial runs whose
// process has started a grandchild that ignores SIGTERM and its parent's
// death: the trial's process dies with the runner (PR_SET_PDEATHSIG), the
// grandchild lives on, and Recover stops it.
func TestRunnerKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "grandchild")
	runnerCmd, runnerDone := startRunner(t, nil, dir, pidFile)
	grandchild := readPID(t, pidFile)
	t.Cleanup(func() { _ = syscall.Kill(grandchild, syscall.SIGKILL) })
	rec := readRecordFile(t, dir)
	child := rec.PGID
	t.Cleanup(func() { _ = syscall.Kill(-child, syscall.SIGKILL) })
	if processGone(child) || processGone(grandchild) {
		t.Fatal("trial processes not running before the runner is killed")
	}
	if st, err := readProcStat(grandchild); err != nil || st.pgrp != child {
		t.Fatalf("grandchild's process group: %+v, %v; want %d", st, err, child)
	}

	if err := runnerCmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-runnerDone
	if !waitFor(10*time.Second, func() bool { return processGone(child) }) {
		t.Fatalf("trial process %d still running after its runner was killed", child)
	}
	if processGone(grandchild) {
		t.Fatalf("grandchild %d gone before Recover: the test no longer shows what Recover is for", grandchild)
	}

	e := newExecutor(t, Options{KillGrace: 100 * time.Millisecond})
	got, err := e.Recover(t.Context(), &trial.Spec{Name: "exp-0001", Dir: dir})
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	want := "process group " + strconv.Itoa(child) + " (1 process) was still running and was stopped: its output went to the runner that died, so it cannot be re-attached"
	if got != want {
		t.Errorf("Recover = %q, want %q", got, want)
	}
	if !waitFor(5*time.Second, func() bool { return processGone(grandchild) }) {
		t.Errorf("grandchild %d still running after Recover", grandchild)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("trial directory holds %v after Recover", names)
	}
	// A second Recover finds nothing.
	got, err = e.Recover(t.Context(), &trial.Spec{Name: "exp-0001", Dir: dir})
	if err != nil || !strings.HasPrefix(got, "no process record") {
		t.Errorf("second Recover = %q, %v", got, err)
	}
}

// A Workflow trial's runner died while two steps ran: Recover stops the
// live step's group and reports both steps.
func TestRecoverWorkflowSteps(t *testing.T) {
	t.Parallel()
	e, err := New(Options{KillGrace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	live, leader, _ := liveGroup(t, "pid", "")
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Skip("no true program:", err)
	}
	for name, rec := range map[string]processRecord{
		"exp-0001.train":   live,
		"exp-0001.prepare": {PGID: exited.Process.Pid, StartTime: 1, BootID: bootID()},
	} {
		d := filepath.Join(dir, "steps", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		writeRecord(t, d, rec)
	}
	msg, err := e.Recover(t.Context(), &trial.Spec{Name: "exp-0001", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("step exp-0001.prepare: process group %d had already exited; step exp-0001.train: process group %d (1 process) was still running and was stopped: its output went to the runner that died, so it cannot be re-attached", exited.Process.Pid, live.PGID)
	if msg != want {
		t.Errorf("Recover = %q\nwant      %q", msg, want)
	}
	if !waitFor(5*time.Second, func() bool { return processGone(leader) }) {
		t.Errorf("step process %d still runs", leader)
	}
	for _, name := range []string{"exp-0001.train", "exp-0001.prepare"} {
		if _, err := os.Stat(filepath.Join(dir, "steps", name, ProcessRecordName)); err == nil {
			t.Errorf("record of %s left", name)
		}
	}
}
