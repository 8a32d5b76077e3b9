package cli

import (
	"context"
	"fmt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
)

// activePhase reports whether phase says a runner is at work on the
// experiment: only a live runner leaves Created or Running.
func activePhase(phase experiment.Phase) bool {
	return phase == experiment.Created || phase == experiment.Running
}

// runnerGone reports whether rec's stored phase says a runner is at work
// while no process holds the experiment's lock: the runner died without
// recording its end (SIGKILL, a crash, a machine that went down). When the
// lock is free, rec's status is read again, so that a runner that finished
// between the two reads is not taken for gone, and the lock probed once
// more, so that one that started in between is not either; rec then holds
// the status read last.
func runnerGone(ctx context.Context, st *store.Store, rec *experiment.Record) (bool, error) {
	if !activePhase(rec.Status.Phase) {
		return false, nil
	}
	if locked, err := st.ExperimentLocked(rec.Name); err != nil || locked {
		return false, err
	}
	fresh, err := st.Experiment(ctx, rec.Name)
	if err != nil {
		return false, fmt.Errorf("read experiment %s again: %w", rec.Name, err)
	}
	rec.Status = fresh.Status
	if !activePhase(rec.Status.Phase) {
		return false, nil
	}
	locked, err := st.ExperimentLocked(rec.Name)
	return !locked && err == nil, err
}

// phaseView is how read commands show an experiment's phase: the stored
// one, or, when its runner is gone, what to do about it.
func phaseView(name string, phase experiment.Phase, gone bool) string {
	if gone {
		return fmt.Sprintf("%s (runner gone: tune resume %s)", phase, name)
	}
	return string(phase)
}

// warnRunnerGone says on o's error stream that rec's runner is gone, when
// it is.
func (o *getOptions) warnRunnerGone(ctx context.Context, st *store.Store, rec *experiment.Record) {
	gone, err := runnerGone(ctx, st, rec)
	if err != nil {
		fmt.Fprintln(o.f.io.ErrOut, escapeControl("tune: warning: "+err.Error(), true))
	}
	if gone {
		fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("tune: warning: experiment %s is %s but no tune process runs it (its runner died without recording its end): tune resume %s goes on with it", rec.Name, rec.Status.Phase, rec.Name), true))
	}
}
