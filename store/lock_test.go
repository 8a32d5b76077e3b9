//go:build unix

package store

import (
	"errors"
	"fmt"
	"github.com/tune-hpo/tune/experiment"
	"os"
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
