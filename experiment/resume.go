package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/trial"
)

// ErrFinished is returned by [Runner.Resume] for an experiment that has
// already ended and whose budget, as given, leaves nothing more to do.
var ErrFinished = errors.New("already finished")

// ErrSpecChanged is returned by [CheckResume] when a file differs from the
// stored experiment in more than its budget.
var ErrSpecChanged = errors.New("spec differs from the stored experiment")

// ErrNotRestartable is returned by [CheckRestart] and [Runner.Start] for a
// budget change Katib's webhook refuses.
var ErrNotRestartable = errors.New("cannot be restarted")

// CheckRestart reports whether the stored experiment old, of which
// finished trials count against maxTrialCount, may take the budget of e (a
// valid, defaulted experiment whose spec differs from old's at most in its
// budget), as Katib's webhook decides when an Experiment is edited. An
// unchanged budget is always accepted (nothing is edited). A changed one is
// refused, with an error wrapping ErrNotRestartable that names the field:
//   - spec.resumePolicy: old completed (Succeeded, or Failed because
//     maxFailedTrialCount was reached) other than by reaching maxTrialCount
//     with resumePolicy LongRunning or FromVolume; the goal reached, a grid
//     exhausted, too many failures and resumePolicy Never all end an
//     experiment for good;
//   - spec.maxTrialCount: e's maxTrialCount is not above finished.
//
// An experiment tune stopped (interrupted, or Failed for an infrastructure
// error) has not completed in Katib's sense and may take any budget above
// finished.
func CheckRestart(old *Record, e *Experiment, finished int) error {
	a, b := old.Spec.Spec, e.Spec
	if eqCount(a.MaxTrialCount, b.MaxTrialCount) && eqCount(a.ParallelTrialCount, b.ParallelTrialCount) && eqCount(a.MaxFailedTrialCount, b.MaxFailedTrialCount) {
		return nil
	}
	st := old.Status
	completed := st.Phase == Succeeded || (st.Phase == Failed && st.Reason == ReasonMaxFailedReached)
	policy := orDefault(a.ResumePolicy, DefaultResumePolicy)
	if completed && (st.Phase != Succeeded || st.Reason != ReasonMaxTrialsReached || (policy != "LongRunning" && policy != "FromVolume")) {
		return fmt.Errorf("experiment %q %w: spec.resumePolicy: %s: the experiment is %s (%s); Katib restarts a completed experiment only when it succeeded by reaching maxTrialCount and spec.resumePolicy is LongRunning or FromVolume; "+
			"change metadata.name to start a new experiment", old.Name, ErrNotRestartable, policy, st.Phase, st.Reason)
	}
	if m := b.MaxTrialCount; m != nil && int(*m) <= finished {
		return fmt.Errorf("experiment %q %w: spec.maxTrialCount: %d must be greater than the %d trials that finished (Katib: must be greater than status.trials count)", old.Name, ErrNotRestartable, *m, finished)
	}
	return nil
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// eqCount reports whether two optional counts are equal.
func eqCount(a, b *int32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// CheckResume reports whether e, a valid and defaulted experiment, may
// resume the stored experiment old: the specs may differ only in the budget
// fields Katib lets a running experiment change (maxTrialCount,
// parallelTrialCount, maxFailedTrialCount). Otherwise the error wraps
// ErrSpecChanged and shows the difference (- stored, + file).
func CheckResume(old *Record, e *Experiment) error {
	a, err := comparable(&old.Spec.Spec)
	if err != nil {
		return err
	}
	b, err := comparable(&e.Spec)
	if err != nil {
		return err
	}
	if diff := cmp.Diff(a, b); diff != "" {
		return fmt.Errorf("experiment %q: %w in more than maxTrialCount, parallelTrialCount and maxFailedTrialCount; "+
			"change metadata.name to start a new experiment (- stored, + file):\n%s", old.Name, ErrSpecChanged, strings.TrimRight(diff, "\n"))
	}
	return nil
}

// comparable returns spec without its budget fields as generic JSON values,
// whose differences cmp prints by field path.
func comparable(spec *Spec) (map[string]any, error) {
	c := *spec
	c.MaxTrialCount, c.ParallelTrialCount, c.MaxFailedTrialCount = nil, nil, nil
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("compare specs: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("compare specs: %w", err)
	}
	return out, nil
}

// Resume continues the stored experiment rec (its spec possibly with a new
// budget, its status as stored) whose trials so far are trials, in creation
// order. Trials the store still shows as pending or running were left
// behind by a runner that died. When the Executor is a [trial.Attacher]
// (its workloads outlive the runner), each is followed again through
// Attach, and becomes lost only if its workload no longer exists.
// Otherwise each is handed to the Executor's [trial.Recoverer], when it has
// one, to stop what is left of it. A lost trial is marked Killed with
// reason TrialReasonLost, and another trial is run in its place. Finished trials are never run again, and no more than
// maxTrialCount trials finish in all.
//
// A finished experiment (Succeeded or Failed) resumes when its budget now
// allows more trials (the caller applies Katib's restart rules first:
// [CheckRestart]); otherwise
// Resume returns an error wrapping ErrFinished and writes nothing. The
// caller checks the new spec against the stored one with [CheckResume]
// and holds the experiment's lock. Results are as for [Runner.Run].
func (r *Runner) Resume(ctx context.Context, rec *Record, trials []trial.Trial) (*Status, error) {
	st, err := r.prepare(&rec.Spec, rec.Name)
	if err != nil {
		return nil, err
	}
	st.status = rec.Status
	if st.status.Algorithm == "" {
		st.status.Algorithm = r.Algorithm
	}
	st.trials = make([]*trial.Trial, len(trials))
	var lost []*trial.Trial
	for i := range trials {
		t := trials[i]
		st.trials[i] = &t
		if !t.State.Final() {
			lost = append(lost, &t)
		}
	}
	st.retally()
	st.releaseEnded()
	if len(lost) == 0 && (rec.Status.Phase == Succeeded || rec.Status.Phase == Failed) {
		if _, reason, msg, done := st.completion(); done {
			hint := "raise spec.maxTrialCount to run more trials"
			if p := rec.Spec.Spec.ResumePolicy; reason != ReasonMaxTrialsReached || (p != "LongRunning" && p != "FromVolume") {
				hint = fmt.Sprintf("it cannot be restarted (resumePolicy %s): Katib restarts only an experiment that reached maxTrialCount with resumePolicy LongRunning or FromVolume", orDefault(p, DefaultResumePolicy))
			}
			return nil, fmt.Errorf("experiment %q: %w (%s: %s); %s", rec.Name, ErrFinished, reason, msg, hint)
		}
	}
	storeCtx := context.WithoutCancel(ctx)
	attacher, canAttach := r.Executor.(trial.Attacher)
	var attach []*trial.Trial
	for _, t := range lost {
		if canAttach {
			// The workload may have outlived the runner (a Kubernetes
			// object): follow it rather than start another.
			attach = append(attach, t)
			continue
		}
		if err := st.recoverTrial(ctx, storeCtx, t); err != nil {
			return nil, err
		}
	}
	// The record is rewritten for the new budget; the status keeps its
	// history and gets a condition saying the experiment resumed.
	saved := *rec
	saved.Status = *st.refreshStatus()
	if err := r.Store.UpdateExperiment(storeCtx, &saved); err != nil {
		return nil, fmt.Errorf("resume experiment %s: %w", rec.Name, err)
	}
	finished, _ := st.counts()
	msg := fmt.Sprintf("experiment resumed with %d trials finished", finished)
	switch {
	case len(attach) > 0:
		msg += fmt.Sprintf("; following the %d trials the previous runner left running", len(attach))
	case len(lost) > 0:
		msg += fmt.Sprintf("; %d trials left running by the previous runner were stopped and will be replaced", len(lost))
	}
	for _, t := range attach {
		spec, err := st.trialSpec(t)
		if err != nil {
			return nil, fmt.Errorf("resume trial %s: %w", t.Name, err)
		}
		// Attach reads the workload's output again from its start: what
		// the previous runner recorded of it would be recorded twice.
		if err := r.Store.ClearTrialLogs(storeCtx, rec.Name, t.Seq); err != nil {
			return nil, fmt.Errorf("resume trial %s: %w", t.Name, &storeError{err})
		}
		st.follow(ctx, t, spec, attacher.Attach)
	}
	return st.loop(ctx, storeCtx, ReasonResumed, msg)
}

// recoverTrial deals with trial t, left unfinished by a runner that died,
// and records it as lost.
func (s *state) recoverTrial(ctx, storeCtx context.Context, t *trial.Trial) error {
	found := "the executor cannot look for what is left of it"
	if rec, ok := s.r.Executor.(trial.Recoverer); ok {
		spec, err := s.trialSpec(t)
		if err != nil {
			return fmt.Errorf("recover trial %s: %w", t.Name, err)
		}
		found, err = rec.Recover(ctx, spec)
		if err != nil {
			return fmt.Errorf("recover trial %s: %w", t.Name, err)
		}
	}
	t.State, t.Reason, t.Finished = trial.Killed, TrialReasonLost, s.r.now()
	t.Message = "the runner stopped before the trial finished; " + found + "; another trial runs in its place"
	s.account(t)
	if err := s.r.Store.SaveTrials(storeCtx, s.name, []TrialWrite{{Trial: t}}, s.refreshStatus()); err != nil {
		return fmt.Errorf("save trial %s: %w", t.Name, err)
	}
	s.r.emit(Event{Kind: TrialFinished, Trial: copyTrial(t)})
	return nil
}
