package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestStoreCheckAndRecover damages one experiment's status in a store two
// runs wrote: get experiments lists the other with a warning, store check
// names the damage and exits 1, store recover copies both experiments to a
// new file that checks clean, and the damaged file is left as it was.
func TestStoreCheckAndRecover(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"good", "bad"} {
		file := writeExperiment(t, dir, expParams{Name: name, Parallel: 1, Max: 2, MaxFailed: 1})
		if r := tune(t, dir, "run", "-q", file); r.code != 0 {
			t.Fatalf("run %s: exit %d: %s", name, r.code, r.stderr)
		}
	}
	if r := tune(t, dir, "store", "check"); r.code != 0 || !strings.Contains(r.stdout, "no damage found") {
		t.Fatalf("store check of a sound store: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(dir, ".tune", "tune.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("experiments")).Bucket([]byte("bad")).Put([]byte("status"), []byte(`{"phase":"Succ`))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	r := tune(t, dir, "get", "experiments", "-o", "json")
	var exps []jsonExperiment
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &exps) != nil || len(exps) != 1 || exps[0].Name != "good" {
		t.Errorf("get experiments with one damaged: exit %d, stdout %s; want the other listed", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, `warning`) || !strings.Contains(r.stderr, `experiment "bad": status`) {
		t.Errorf("get experiments: stderr %q; want a warning naming bad's status", r.stderr)
	}
	if r := tune(t, dir, "get", "trials", "bad"); r.code != 1 || !strings.Contains(r.stderr, "store .tune/tune.db: ") || !strings.Contains(r.stderr, "tune store check") || strings.Contains(r.stderr, "goroutine") {
		t.Errorf("get trials of the damaged experiment: exit %d, stderr %q; want 1 naming the file and tune store check", r.code, r.stderr)
	}

	r = tune(t, dir, "store", "check")
	if r.code != 1 || !strings.Contains(r.stdout, `damaged: store .tune/tune.db: `) || !strings.Contains(r.stdout, `experiment "bad": status`) {
		t.Errorf("store check: exit %d, stdout %q; want 1 naming bad's status", r.code, r.stdout)
	}
	r = tune(t, dir, "store", "recover", "--to", "new.db")
	if r.code != 0 || !strings.Contains(r.stdout, "copied 2 experiments, 4 trials") || !strings.Contains(r.stderr, `skipped: `) {
		t.Errorf("store recover: exit %d, stdout %q, stderr %q; want 2 experiments copied and the status listed", r.code, r.stdout, r.stderr)
	}
	if r := tune(t, dir, "store", "check", "--store", "new.db"); r.code != 0 {
		t.Errorf("store check of the recovered store: exit %d: %s", r.code, r.stdout)
	}
	r = tune(t, dir, "get", "experiments", "--store", "new.db", "-o", "json")
	exps = nil
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &exps) != nil || len(exps) != 2 || exps[0].Name != "bad" || exps[0].Status != "Stopped" || exps[0].Reason != "ExperimentStoreError" {
		t.Errorf("get experiments of the recovered store: %s %s; want bad Stopped/ExperimentStoreError and good", r.stdout, r.stderr)
	}
	if r := tune(t, dir, "store", "recover", "--to", "new.db"); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("store recover onto an existing file: exit %d: %s", r.code, r.stderr)
	}
	if r := tune(t, dir, "store", "recover"); r.code != 2 {
		t.Errorf("store recover without --to: exit %d, want 2", r.code)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("check or recover wrote the damaged store")
	}
}

// TestOddStorePaths: a FIFO, a dangling symlink and a 0-byte file as the
// store each give a clear message at once.
func TestOddStorePaths(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.db"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("nowhere/real.db", filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Before the fix, get on the FIFO never returned.
	if r := tune(t, dir, "get", "experiments", "--store", "fifo.db"); r.code != 1 || !strings.Contains(r.stderr, "not a regular file (a named pipe)") {
		t.Errorf("get on a FIFO: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := tune(t, dir, "get", "experiments", "--store", "link.db"); r.code != 1 || !strings.Contains(r.stderr, "dangling symlink to nowhere/real.db") {
		t.Errorf("get on a dangling symlink: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := tune(t, dir, "get", "experiments", "--store", "empty.db"); r.code != 0 || strings.Contains(r.stderr, "bad file descriptor") {
		t.Errorf("get on a 0-byte file: exit %d, stderr %q; want an empty listing", r.code, r.stderr)
	}
	if r := tune(t, dir, "best", "x", "--store", "empty.db"); r.code != 1 || !strings.Contains(r.stderr, "empty store") {
		t.Errorf("best on a 0-byte file: exit %d, stderr %q; want not found in an empty store", r.code, r.stderr)
	}
}

// TestSameExperimentThroughSymlink: a run through a symlink to the store of
// a running experiment is refused as busy, as through the same path.
func TestSameExperimentThroughSymlink(t *testing.T) {
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
	if err := os.Symlink(filepath.Join(dir, ".tune", "tune.db"), filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "run", "--store", "link.db", file); r.code != 1 || !strings.Contains(r.stderr, "busy") {
		t.Errorf("run through a symlink while running: exit %d, stderr %q; want 1, busy", r.code, r.stderr)
	}
	if r := tune(t, dir, "delete", "experiment", "slow", "--store", "link.db"); r.code != 1 || !strings.Contains(r.stderr, "busy") {
		t.Errorf("delete through a symlink while running: exit %d, stderr %q; want 1, busy", r.code, r.stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after SIGINT: %v, want exit 130\n%s", err, errOut.String())
	}
}
