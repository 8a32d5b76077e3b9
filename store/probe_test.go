//go:build unix

package store

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestLockHolderProcess is the lock holder of TestExperimentLockedAcrossProcesses,
// run by re-executing the test binary: it takes the lock, says so, and
// holds it until its standard input closes. It is skipped in a normal run.
func TestLockHolderProcess(t *testing.T) {
	path := os.Getenv("TUNE_LOCK_HOLDER_PATH")
	if path == "" {
		t.Skip("helper process for TestExperimentLockedAcrossProcesses")
	}
	flockOnly = os.Getenv("TUNE_LOCK_HOLDER_FLOCK") == "1"
	s, err := Open(path, &Options{ReadOnly: true})
	if err == nil {
		var l *ExperimentLock
		if l, err = s.LockExperiment("mnist"); err == nil {
			fmt.Println("locked")
			_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
			err = l.Release()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// setFlockOnly sets flockOnly for the test, where the platform has it.
func setFlockOnly(t *testing.T, v bool) {
	t.Helper()
	old := flockOnly
	flockOnly = v
	t.Cleanup(func() { flockOnly = old })
}

// TestExperimentLockedAcrossProcesses: the probe sees a lock another
// process holds (the OFD lock and the flock fallback), sees none once it
// is released or its holder is SIGKILLed, leaves the holder's lock
// exclusive, and works on a store opened read-only.
func TestExperimentLockedAcrossProcesses(t *testing.T) {
	modes := []struct {
		name  string
		flock bool
	}{{"ofd", false}, {"flock", true}}
	if runtime.GOOS != "linux" {
		modes = modes[1:] // flock is the only lock there
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			setFlockOnly(t, mode.flock)
			s := openWith(t, "mnist", "cifar")
			path := s.Path()
			s.Close()
			ro, err := Open(path, &Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			probe := func(name string) bool {
				t.Helper()
				locked, err := ro.ExperimentLocked(name)
				if err != nil {
					t.Fatalf("ExperimentLocked(%s): %v", name, err)
				}
				return locked
			}
			if probe("mnist") {
				t.Fatal("mnist locked before anyone took its lock")
			}

			start := func() (*exec.Cmd, io.WriteCloser) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
				env := append(os.Environ(), "TUNE_LOCK_HOLDER_PATH="+path)
				if mode.flock {
					env = append(env, "TUNE_LOCK_HOLDER_FLOCK=1")
				}
				cmd.Env = env
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				var stderr strings.Builder
				cmd.Stderr = &stderr
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
				if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
					t.Fatalf("holder did not lock: %q, %v; stderr:\n%s", line, err, stderr.String())
				}
				return cmd, stdin
			}

			// Held by another process, then released by it.
			cmd, stdin := start()
			if !probe("mnist") {
				t.Error("mnist not locked while another process holds its lock")
			}
			if probe("cifar") {
				t.Error("cifar locked: the probe confuses experiments")
			}
			// Probing twice more changes nothing, and the holder's lock is
			// still exclusive: this process cannot take it.
			if !probe("mnist") {
				t.Error("second probe: not locked")
			}
			rw, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if l, err := rw.LockExperiment("mnist"); err == nil {
				l.Release()
				t.Error("LockExperiment succeeded while the holder holds the lock")
			}
			rw.Close()
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("holder: %v", err)
			}
			if probe("mnist") {
				t.Error("mnist still locked after its holder released it")
			}

			// Held, then the holder is SIGKILLed: the kernel drops the lock.
			cmd, _ = start()
			if !probe("mnist") {
				t.Error("mnist not locked while the second holder runs")
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if probe("mnist") {
				t.Error("mnist locked after its holder was killed")
			}
		})
	}
}

// TestExperimentLockedInProcess: a lock this process holds counts, the
// probe does not disturb it, and names LockExperiment refuses are refused.
func TestExperimentLockedInProcess(t *testing.T) {
	s := openTest(t, nil)
	l, err := s.LockExperiment("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if locked, err := s.ExperimentLocked("mnist"); err != nil || !locked {
		t.Errorf("ExperimentLocked while held = %v, %v; want true", locked, err)
	}
	if _, err := s.LockExperiment("mnist"); err == nil {
		t.Error("the lock is no longer exclusive after a probe")
	}
	l.Release()
	if locked, err := s.ExperimentLocked("mnist"); err != nil || locked {
		t.Errorf("ExperimentLocked after release = %v, %v; want false", locked, err)
	}
	for _, name := range []string{"", "..", "a/b"} {
		if _, err := s.ExperimentLocked(name); err == nil {
			t.Errorf("ExperimentLocked(%q) succeeded", name)
		}
	}
}

// BenchmarkExperimentLocked measures one probe of a lock another open
// file description holds, as tune get experiments makes per experiment.
func BenchmarkExperimentLocked(b *testing.B) {
	s := openWith(b, "mnist")
	l, err := s.LockExperiment("mnist")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Release()
	for b.Loop() {
		if locked, err := s.ExperimentLocked("mnist"); err != nil || !locked {
			b.Fatal(locked, err)
		}
	}
}
