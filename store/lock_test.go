//go:build unix

package store

import (
	"errors"
	"fmt"
	"github.com/tune-hpo/tune/experiment"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockExperiment(t *testing.T) {
	s := openTest(t, nil)
	first, err := s.LockExperiment("mnist")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open file descriptions, so a second open in
	// the same process conflicts just as another process would.
	_, err = s.LockExperiment("mnist")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock: error = %v, want ErrBusy", err)
	}
	if want := fmt.Sprintf("process %d", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("busy error %q does not name the holder (%s)", err, want)
	}
	other, err := s.LockExperiment("cifar")
	if err != nil {
		t.Fatalf("lock of another experiment: %v", err)
	}
	defer other.Release()
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	again, err := s.LockExperiment("mnist")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Release()
}

func TestLockExperimentRejectsPaths(t *testing.T) {
	s := openTest(t, nil)
	for _, name := range []string{"", "..", "a/b", `a\b`} {
		if l, err := s.LockExperiment(name); err == nil {
			l.Release()
			t.Errorf("LockExperiment(%q) succeeded", name)
		}
	}
}

func TestUpdateExperiment(t *testing.T) {
	s := openTest(t, nil)
	rec := sampleRecord("mnist")
	if err := s.CreateExperiment(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	rec.Spec.Spec.MaxTrialCount = ptr(int32(40))
	rec.Source = []byte("changed")
	rec.Status.Phase = "Running"
	if err := s.UpdateExperiment(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Experiment(t.Context(), "mnist")
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Spec.MaxTrialCount != 40 || string(got.Source) != "changed" || got.Status.Phase != "Running" {
		t.Errorf("after UpdateExperiment: max %d, source %q, phase %s", *got.Spec.Spec.MaxTrialCount, got.Source, got.Status.Phase)
	}
	rec.Name = "absent"
	if err := s.UpdateExperiment(t.Context(), rec); err == nil {
		t.Error("UpdateExperiment of an absent experiment succeeded")
	}
}

func TestSaveTrialWithStatus(t *testing.T) {
	s := openTest(t, nil)
	if err := s.CreateExperiment(t.Context(), sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	tr := sampleTrial("e", 1)
	st := experiment.Status{Phase: experiment.Running, Trials: 1, TrialsRunning: 1}
	if err := s.SaveTrial(t.Context(), "e", tr, nil, &st); err != nil {
		t.Fatal(err)
	}
	got, err := s.Experiment(t.Context(), "e")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Trials != 1 || got.Status.TrialsRunning != 1 {
		t.Errorf("status after SaveTrial with status = %+v, want the counts written with the trial", got.Status)
	}
	// nil leaves the status alone.
	if err := s.SaveTrial(t.Context(), "e", tr, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Experiment(t.Context(), "e"); got.Status.Trials != 1 {
		t.Errorf("SaveTrial with a nil status changed the status: %+v", got.Status)
	}
}

// TestLockExperimentAliases checks that every path to one store file takes
// the same experiment lock: a symlink, a hard link and a path through "..".
func TestLockExperimentAliases(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "data", "tune.db")
	s, err := Open(real, nil)
	if err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(dir, "link.db")
	if err := os.Symlink(real, symlink); err != nil {
		t.Fatal(err)
	}
	hardlink := filepath.Join(dir, "hard.db")
	if err := os.Link(real, hardlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "other"), 0o700); err != nil {
		t.Fatal(err)
	}
	dotdot := filepath.Join(dir, "other") + "/../data/tune.db"
	held, err := s.LockExperiment("mnist")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{real, symlink, hardlink, dotdot} {
		alias, err := Open(p, nil)
		if err != nil {
			t.Fatalf("Open(%s): %v", p, err)
		}
		if l, err := alias.LockExperiment("mnist"); !errors.Is(err, ErrBusy) {
			l.Release()
			t.Errorf("LockExperiment through %s while held: error = %v, want ErrBusy", p, err)
		}
		// Another experiment of the same file is free.
		other, err := alias.LockExperiment("cifar")
		if err != nil {
			t.Errorf("LockExperiment(cifar) through %s: %v", p, err)
		}
		other.Release()
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	// Released, any alias may take it.
	alias, err := Open(hardlink, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := alias.LockExperiment("mnist")
	if err != nil {
		t.Fatalf("lock through the hard link after release: %v", err)
	}
	l.Release()
}

func TestRealPath(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "data", "tune.db")
	s, err := Open(real, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(real)
	if err != nil {
		t.Fatal(err)
	}
	if s.RealPath() != want {
		t.Errorf("RealPath() = %s, want %s", s.RealPath(), want)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink("data/tune.db", link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "data"))
	for _, p := range []string{link, "../data/tune.db", "tune.db"} {
		s, err := Open(p, &Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if s.RealPath() != want {
			t.Errorf("Open(%s).RealPath() = %s, want %s", p, s.RealPath(), want)
		}
		if s.Path() != p {
			t.Errorf("Open(%s).Path() = %s", p, s.Path())
		}
	}
}
