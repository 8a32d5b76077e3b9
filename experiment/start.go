package experiment

import (
	"context"
	"errors"
	"fmt"
)

// Origin says where the record given to [Runner.Start] comes from, and so
// how a stored experiment of the same name is treated.
type Origin int

const (
	// FromFile: the record is an experiment file's. A stored experiment of
	// that name is resumed only if the file differs from it in no more than
	// the budget ([CheckResume]); it then takes the file's spec and source.
	// Without one, the experiment is created.
	FromFile Origin = iota
	// FromStore: the record is the stored one, possibly with a new budget
	// (tune resume). The experiment must exist.
	FromStore
)

// Start runs rec to completion: it creates the experiment when the Store
// has none named rec.Name and origin is FromFile, and otherwise resumes
// the stored one with rec's spec, as [Runner.Resume] does, after an
// [ExperimentResumed] event. A new budget Katib would refuse ([CheckRestart])
// is an error wrapping [ErrNotRestartable], and nothing is written. The caller holds the experiment's lock in the
// Store, so that the stored state Start reads is the state it resumes.
//
// For a finished experiment whose budget leaves nothing to run, Start
// returns the stored status with an error wrapping [ErrFinished], and
// writes nothing. A missing experiment with origin FromStore is an error
// wrapping [ErrNotFound]. Otherwise results are as for [Runner.Run].
func (r *Runner) Start(ctx context.Context, rec *Record, origin Origin) (*Status, error) {
	old, err := r.Store.Experiment(ctx, rec.Name)
	switch {
	case errors.Is(err, ErrNotFound) && origin == FromFile:
		return r.Run(ctx, rec)
	case err != nil:
		return nil, err
	}
	if origin == FromFile {
		if err := CheckResume(old, &rec.Spec); err != nil {
			return nil, err
		}
	}
	resumed := *old
	resumed.Spec = rec.Spec
	if origin == FromFile {
		resumed.Source, resumed.SourcePath = rec.Source, rec.SourcePath
	}
	trials, err := r.Store.Trials(ctx, rec.Name)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: read trials: %w", rec.Name, err)
	}
	finished := 0
	for i := range trials {
		if trials[i].State.Final() && !Abandoned(&trials[i]) {
			finished++
		}
	}
	if err := CheckRestart(old, &rec.Spec, finished); err != nil {
		return nil, err
	}
	prior := old.Status
	r.emit(Event{Kind: ExperimentResumed, Status: &prior, Trials: len(trials)})
	status, err := r.Resume(ctx, &resumed, trials)
	if errors.Is(err, ErrFinished) {
		return &prior, err
	}
	return status, err
}
