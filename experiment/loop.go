package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// maxStartlessRounds is how many rounds in a row of trials that all fail
// before they start (RenderError) end an experiment with no budget.
const maxStartlessRounds = 10

// loop is the scheduling loop: Katib's ReconcileTrials arithmetic plus its
// completion rules, in order.
func (s *state) loop(ctx, storeCtx context.Context, reason, msg string) (*Status, error) {
	r := s.r
	if s.status.Started.IsZero() {
		s.status.Started = r.now()
	}
	s.status.Completed = time.Time{}
	if err := s.setPhase(storeCtx, Running, reason, msg); err != nil {
		return nil, err
	}
	flush := r.FlushInterval
	if flush <= 0 {
		flush = time.Second
	}
	ticker := time.NewTicker(flush)
	defer ticker.Stop()
	// Bounded; the trials have ended by then.
	defer func() { _ = s.collectors.Close() }()
	startless := 0 // rounds in a row whose new trials all failed before starting

	for {
		if ctx.Err() != nil {
			if s.detaching(ctx) {
				return s.detach(storeCtx)
			}
			return s.finish(storeCtx, Stopped, ReasonInterrupted, "interrupted: running trials were stopped", nil)
		}
		if phase, reason, msg, done := s.completion(); done {
			return s.finish(storeCtx, phase, reason, msg, nil)
		}
		created := len(s.trials)
		if err := s.launch(ctx, storeCtx); err != nil {
			phase, reason := Failed, ReasonSuggestionFailed
			switch {
			case errors.As(err, new(*storeError)):
				reason = ReasonStoreError
			case errors.As(err, new(*infraError)):
				phase, reason = Stopped, ReasonInfrastructureError
			}
			return s.finish(storeCtx, phase, reason, err.Error(), err)
		}
		// The trials that ended went with the launched ones; when none
		// was launched they are written now.
		if err := s.commit(storeCtx, nil, false); err != nil {
			return s.finish(storeCtx, Failed, ReasonStoreError, err.Error(), err)
		}
		if len(s.active) == 0 && len(s.trials) > created {
			// The new trials all failed before they could start (see
			// failEarly): the completion rules decide whether to go on.
			// Without a budget to end it, a suggester whose every
			// assignment fails would add failed trials for ever: give up
			// after maxStartlessRounds such rounds in a row.
			startless++
			if spec := s.exp.Spec; spec.MaxFailedTrialCount == nil && spec.MaxTrialCount == nil && startless >= maxStartlessRounds {
				last := s.lastHeld()
				err := fmt.Errorf("the last %d rounds of trials all failed before they could start (%s %s: %s), and no maxTrialCount or maxFailedTrialCount would end the experiment", startless, last.Name, last.Reason, last.Message)
				return s.finish(storeCtx, Failed, ReasonSuggestionFailed, err.Error(), err)
			}
			continue
		}
		startless = 0
		if len(s.active) == 0 {
			// Nothing running and nothing could be launched: only an
			// exhausted search space gets here, and completion ends it.
			if phase, reason, msg, done := s.completion(); done {
				return s.finish(storeCtx, phase, reason, msg, nil)
			}
			err := errors.New("suggester returned no trials")
			return s.finish(storeCtx, Failed, ReasonSuggestionFailed, err.Error(), err)
		}
		select {
		case <-ctx.Done():
		case res := <-s.results:
			batch := s.moreResults(res)
			if ctx.Err() != nil && s.detaching(ctx) {
				// Trials left running (or ended) since ctx was done.
				return s.detach(storeCtx, batch...)
			}
			if err := s.complete(storeCtx, batch...); errors.As(err, new(*infraError)) {
				return s.finish(storeCtx, Stopped, ReasonInfrastructureError, err.Error(), err)
			} else if err != nil {
				return s.finish(storeCtx, Failed, ReasonStoreError, err.Error(), err)
			}
		case <-ticker.C:
			if err := s.flushAll(storeCtx); err != nil {
				return s.finish(storeCtx, Failed, ReasonStoreError, err.Error(), err)
			}
		}
	}
}

// moreResults returns res and the other results the running trials have
// sent already, to be recorded in one store transaction.
func (s *state) moreResults(res trialResult) []trialResult {
	batch := []trialResult{res}
	for {
		select {
		case r := <-s.results:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

// counts returns the number of trials in each group the completion rules
// use: finished (final, not abandoned) and failed.
func (s *state) counts() (finished, failed int) {
	return s.tally.finished, s.tally.failed
}

// completion applies Katib's rules in order: goal reached, too many failures,
// budget spent (or grid exhausted).
func (s *state) completion() (Phase, string, string, bool) {
	spec := s.exp.Spec
	if best := s.best(); best != nil && spec.Objective.Goal != nil {
		v, ok := best.Metrics[s.objective] // not when text
		g := *spec.Objective.Goal
		if ok && ((s.goal == suggest.Maximize && v >= g) || (s.goal == suggest.Minimize && v <= g)) {
			return Succeeded, ReasonGoalReached, fmt.Sprintf("objective %s reached the goal %v in trial %s (%s=%v)", s.objective, g, best.BestTrialName, s.objective, v), true
		}
	}
	finished, failed := s.counts()
	if spec.MaxFailedTrialCount != nil && failed > 0 && failed >= int(*spec.MaxFailedTrialCount) {
		return Failed, ReasonMaxFailedReached, fmt.Sprintf("%d trials failed, maxFailedTrialCount is %d", failed, *spec.MaxFailedTrialCount), true
	}
	if spec.MaxTrialCount != nil && finished >= int(*spec.MaxTrialCount) {
		return Succeeded, ReasonMaxTrialsReached, fmt.Sprintf("%d trials finished, maxTrialCount is %d", finished, *spec.MaxTrialCount), true
	}
	if s.exhausted && len(s.active) == 0 {
		return Succeeded, ReasonSuggestionEnd, fmt.Sprintf("search space exhausted after %d trials", len(s.trials)), true
	}
	return "", "", "", false
}

// MaxSuggestionBatch is the most assignments the runner asks its suggester
// for at once. Katib's formula can ask for up to parallelTrialCount (any
// int32), and suggesters take memory in proportion to the request and,
// for Bayesian optimisation, time growing faster than it (1.2 s for 100,
// over 90 s for 1000); the rest of a larger batch is asked for at the next
// scheduling step (a trial finishing, or the next flush).
const MaxSuggestionBatch = 100

// launch asks for and starts as many trials as Katib's formula allows,
// min(parallel, max − finished) − active, at most MaxSuggestionBatch.
func (s *state) launch(ctx, storeCtx context.Context) error {
	if s.exhausted {
		return nil
	}
	spec := s.exp.Spec
	want := int(*spec.ParallelTrialCount)
	if spec.MaxTrialCount != nil {
		finished, _ := s.counts()
		want = min(want, int(*spec.MaxTrialCount)-finished)
	}
	want = min(want-len(s.active), MaxSuggestionBatch)
	if want <= 0 {
		return nil
	}
	req := s.request
	req.History, req.N = s.history(), want
	assignments, err := s.r.Suggester.Suggest(ctx, req)
	wait := errors.Is(err, suggest.ErrWait)
	switch {
	case errors.Is(err, suggest.ErrExhausted):
		s.exhausted = true
		return nil
	case ctx.Err() != nil:
		return nil // interrupted while suggesting; the loop stops
	case err != nil && !wait:
		return fmt.Errorf("suggest: %w", err)
	}
	if len(assignments) < want && !wait {
		// A suggester returns fewer than asked only when it has no more
		// (or, with ErrWait, none until a running trial finishes: the
		// loop asks again after the next one).
		s.exhausted = true
	}
	return s.startAll(ctx, storeCtx, assignments)
}

// lastHeld returns the newest trial s holds. The newest trials of a round
// whose every trial failed before it started are held: only trials that
// ran are released.
func (s *state) lastHeld() *trial.Trial {
	for i := len(s.trials) - 1; i >= 0; i-- {
		if s.trials[i] != nil {
			return s.trials[i]
		}
	}
	return &trial.Trial{}
}

// history returns the suggester's history: one observation per trial, in
// creation order. It is the tally's own slice, which suggesters only read.
func (s *state) history() []suggest.Observation {
	return s.tally.history
}

// storeError marks an error of a store write, so that the experiment ends
// with ReasonStoreError whichever step made the write.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }

func (e *storeError) Unwrap() error { return e.err }

// flushAll writes the metric values running trials reported since the last
// flush, so readers see progress and a crash loses at most one interval,
// then reports each running trial's values in a TrialProgress event.
func (s *state) flushAll(storeCtx context.Context) error {
	var writes []TrialWrite
	var changed []*activeTrial
	for _, seq := range slices.Sorted(maps.Keys(s.active)) {
		at := s.active[seq]
		s.drainWarnings(at)
		logs, replace := at.recorder.Drain()
		for _, l := range logs {
			if l.Time.After(at.reported) {
				at.reported = l.Time
			}
		}
		s.observe(at)
		reason, message, condition := at.takeCondition()
		if condition {
			at.t.Reason, at.t.Message = reason, message
			changed = append(changed, at)
		}
		if len(logs) == 0 && !replace && !condition {
			continue
		}
		at.t.Metrics = at.recorder.Summaries()
		writes = append(writes, s.trialWrite(at, logs, replace))
	}
	if err := s.commit(storeCtx, writes, false); err != nil {
		return err
	}
	for _, at := range changed {
		s.r.emit(Event{Kind: TrialStatus, Trial: copyTrial(at.t)})
	}
	s.reportProgress()
	return nil
}

// reportProgress emits a TrialProgress event for each running trial, in
// creation order.
func (s *state) reportProgress() {
	if s.r.OnEvent == nil {
		return
	}
	for _, seq := range slices.Sorted(maps.Keys(s.active)) {
		at := s.active[seq]
		if at.t.State.Final() {
			continue
		}
		t := copyTrial(at.t)
		t.Metrics = at.recorder.Summaries()
		s.r.emit(Event{Kind: TrialProgress, Trial: t, Reported: at.reported})
	}
}

// finish stops whatever still runs, waits for it, records the final status
// and reports it. cause, when non-nil, is returned as Run's error.
//
// A store write that fails on the way (a trial's end, the final status)
// turns the end into Failed with ReasonStoreError, whatever phase was
// asked for: the status returned and reported never claims more than the
// store holds. When even that status cannot be written, the returned one
// says so in its message.
func (s *state) finish(storeCtx context.Context, phase Phase, reason, msg string, cause error) (*Status, error) {
	stopReason := fmt.Errorf("experiment %s: %s", phase, msg)
	for _, at := range s.active {
		at.cancel(stopReason)
	}
	var errs []error
	if cause != nil {
		errs = append(errs, cause)
	}
	record := func(err error) {
		if err == nil || errors.As(err, new(*infraError)) {
			return
		}
		if reason != ReasonStoreError {
			phase, reason, msg = Failed, ReasonStoreError, err.Error()
		}
		if cause == nil {
			errs = append(errs, err)
		}
	}
	// The trials that ended before, then each one as it ends.
	record(s.commit(storeCtx, nil, false))
	for len(s.active) > 0 {
		res := <-s.results
		if res.err == nil && res.result.State == trial.Killed {
			res.result.Reason = TrialReasonInterrupted
			res.result.Message = "stopped: " + stopReason.Error()
		}
		if err := s.complete(storeCtx, res); err != nil {
			record(err)
		} else {
			record(s.commit(storeCtx, nil, false))
		}
	}
	s.status.Completed = s.r.now()
	if err := s.setPhase(storeCtx, phase, reason, msg); err != nil {
		errs = append(errs, err)
		if reason != ReasonStoreError {
			// Once more, as the failure it is: a lock held for a while
			// or a transient error may let this one through.
			s.status.Conditions = s.status.Conditions[:len(s.status.Conditions)-1]
			phase, reason, msg = Failed, ReasonStoreError, err.Error()
			err = s.setPhase(storeCtx, phase, reason, msg)
		}
		if err != nil {
			s.status.Message = msg + " (this final status could not be written either: the store still holds the previous one)"
		}
	}
	st := s.status
	s.r.emit(Event{Kind: ExperimentFinished, Status: &st, Best: s.best()})
	return &st, errors.Join(errs...)
}

// detaching reports whether ctx was cancelled to leave the running trials
// to their executor ([trial.ErrDetached]), which can pick them up again
// ([trial.Attacher]).
func (s *state) detaching(ctx context.Context) bool {
	_, ok := s.r.Executor.(trial.Attacher)
	return ok && errors.Is(context.Cause(ctx), trial.ErrDetached)
}

// detach ends the run without stopping its trials, taking first the
// results the loop received already: each running trial's
// executor returns it Running (its workload left alone), its metrics so
// far are stored and it stays Running in the store; a trial that ended
// meanwhile is recorded as usual. The experiment stays Running, with
// reason ExperimentDetached, for tune resume (or tune run FILE) to pick
// up and re-attach.
func (s *state) detach(storeCtx context.Context, received ...trialResult) (*Status, error) {
	var errs []error
	left := map[int]bool{}
	for len(left) < len(s.active) {
		var res trialResult
		if len(received) > 0 {
			res, received = received[0], received[1:]
		} else {
			res = <-s.results
		}
		if res.err == nil && res.result.State == trial.Running {
			left[res.seq] = true
			continue
		}
		if err := s.complete(storeCtx, res); err != nil {
			errs = append(errs, err)
		}
	}
	// flushAll also writes the trials that ended.
	if err := s.flushAll(storeCtx); err != nil {
		errs = append(errs, err)
	}
	for seq, at := range s.active {
		at.cancel(nil)
		delete(s.active, seq)
	}
	msg := fmt.Sprintf("tune detached: %d running trials were left running; tune resume (or tune run FILE) re-attaches to them", len(left))
	if err := s.setPhase(storeCtx, Running, ReasonDetached, msg); err != nil {
		errs = append(errs, err)
	}
	st := s.status
	s.r.emit(Event{Kind: ExperimentFinished, Status: &st, Best: s.best()})
	return &st, errors.Join(errs...)
}

func (s *state) setPhase(storeCtx context.Context, phase Phase, reason, msg string) error {
	s.status.Phase, s.status.Reason, s.status.Message = phase, reason, msg
	s.status.Conditions = append(s.status.Conditions, Condition{Phase: phase, Reason: reason, Message: msg, Time: s.r.now()})
	return s.saveStatus(storeCtx)
}

// saveStatus recomputes the counts and the optimal trial and stores them.
func (s *state) saveStatus(storeCtx context.Context) error {
	if err := s.r.Store.UpdateStatus(storeCtx, s.name, *s.refreshStatus()); err != nil {
		return fmt.Errorf("save status of %s: %w", s.name, err)
	}
	return nil
}

// refreshStatus recomputes the counts and the optimal trial from the trials
// and returns a copy of the status, to be stored with a trial's change.
func (s *state) refreshStatus() *Status {
	st := &s.status
	n := s.tally.byState
	st.Trials, st.TrialsPending, st.TrialsRunning = len(s.trials), n[trial.Pending], n[trial.Running]
	st.TrialsSucceeded, st.TrialsFailed, st.TrialsKilled = n[trial.Succeeded], n[trial.Failed], n[trial.Killed]
	st.TrialsMetricsUnav, st.TrialsEarlyStopped = n[trial.MetricsUnavailable], n[trial.EarlyStopped]
	st.CurrentOptimalTrial = s.best()
	c := *st
	c.Conditions = slices.Clone(st.Conditions)
	return &c
}
