package experiment

import (
	"math"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// tally keeps what every scheduling step asks of the trials (counts by
// state, the completion rules' counts, the best trial, the suggester's
// history) up to date as trials change, so that a step costs the same
// after 100,000 trials as after ten. The runner calls [state.account]
// after each change of a trial (a rollback included), [state.retally] on
// trials it has not seen (loaded on resume) and [state.dropNewest] when
// the newest trials are forgotten. A stored trial's metrics are released
// ([state.release]): the tally keeps what it needs of them.
type tally struct {
	// seen is what each trial (by index in state.trials) counted as when
	// last accounted.
	seen    []counted
	byState map[trial.State]int
	// finished and failed are as [state.counts] reports them.
	finished, failed int
	// history is the suggester's history, one observation per trial.
	history []suggest.Observation
	// best is the index of the Succeeded trial with the best number for
	// the objective (the earliest on ties), -1 when none; lastText the
	// index of the last one that reported it only as text, -1 when none.
	best, lastText int
	bestValue      float64
	// optimal is best() as last built; nil when it must be rebuilt.
	optimal *OptimalTrial
}

// counted is what one trial contributed to a tally.
type counted struct {
	state              trial.State
	finished, failed   bool
	number, text, seen bool
	value              float64 // the objective's value when number
}

// retally rebuilds s's tally from s.trials, all held: before any is
// released.
func (s *state) retally() {
	s.tally = tally{byState: map[trial.State]int{}, best: -1, lastText: -1, bestValue: math.NaN()}
	for i, t := range s.trials {
		s.accountAt(i, t)
	}
}

// account brings s's tally up to date with trial t, one of s.trials,
// after it was created or changed.
func (s *state) account(t *trial.Trial) {
	i := s.index(t)
	if i < 0 {
		return // not held: nothing to count
	}
	s.accountAt(i, t)
}

// accountAt is account for t at index i of s.trials.
func (s *state) accountAt(i int, t *trial.Trial) {
	tl := &s.tally
	for len(tl.seen) <= i {
		tl.seen = append(tl.seen, counted{})
		tl.history = append(tl.history, suggest.Observation{})
	}
	old := tl.seen[i]
	if old.seen {
		tl.byState[old.state]--
		tl.finished -= b2i(old.finished)
		tl.failed -= b2i(old.failed)
	}
	c := counted{
		seen:     true,
		state:    t.State,
		finished: t.State.Final() && !Abandoned(t),
		failed:   t.State == trial.Failed || t.State == trial.MetricsUnavailable,
	}
	tl.byState[c.state]++
	tl.finished += b2i(c.finished)
	tl.failed += b2i(c.failed)
	tl.history[i] = s.observation(t)

	c.value = rankValue(t, s.objective, s.strategies)
	c.number = !math.IsNaN(c.value)
	c.text = !c.number && textRanked(t, s.objective)
	tl.seen[i] = c
	switch {
	case (old.number && !c.number) || (old.text && !c.text):
		// A trial leaves the ranking (only a rollback does that; a
		// Succeeded trial does not change otherwise): rank them all again.
		s.rankAll()
	default:
		s.rank(i)
	}
}

// rankAll finds the tally's best and last text-ranked trials again.
func (s *state) rankAll() {
	tl := &s.tally
	tl.best, tl.lastText, tl.bestValue, tl.optimal = -1, -1, math.NaN(), nil
	for j := range tl.seen {
		s.rank(j)
	}
}

// dropNewest forgets the newest n trials, which the store never held:
// readied or failed before they started, so never ranked.
func (s *state) dropNewest(n int) {
	tl := &s.tally
	keep := len(s.trials) - n
	for _, c := range tl.seen[keep:] {
		tl.byState[c.state]--
		tl.finished -= b2i(c.finished)
		tl.failed -= b2i(c.failed)
	}
	s.trials, tl.seen, tl.history = s.trials[:keep], tl.seen[:keep], tl.history[:keep]
}

// release drops trial t, ended and stored, from s.trials (its entry
// becomes nil), unless it ranks as the best trial now (then kept for good,
// since a rollback can make it the best again) or reported the objective
// as text. What the runner still needs of it is in the tally: its counts,
// its rank value and its observation, which holds its name and assignment
// unless the suggester looks only at the history's length.
func (s *state) release(t *trial.Trial) {
	i := s.index(t)
	if i < 0 || i == s.tally.best || s.tally.seen[i].text || !t.State.Final() {
		return
	}
	s.trials[i] = nil
}

// releaseEnded releases every ended trial of s.trials, as the trials a
// resumed experiment starts with.
func (s *state) releaseEnded() {
	for _, t := range s.trials {
		if t != nil && t.State.Final() {
			s.release(t)
		}
	}
}

// rank makes the trial at index i the tally's best (or last text-ranked)
// trial when it ranks before the current one.
func (s *state) rank(i int) {
	tl := &s.tally
	c := tl.seen[i]
	switch {
	case c.number:
		v := c.value
		if s.goal.Better(v, tl.bestValue) || (v == tl.bestValue && i < tl.best) {
			tl.best, tl.bestValue, tl.optimal = i, v, nil
		}
	case c.text:
		if i > tl.lastText {
			tl.lastText = i
			if tl.best < 0 {
				tl.optimal = nil
			}
		}
	}
}

// index returns the index of t in s.trials, -1 when it is not there.
func (s *state) index(t *trial.Trial) int {
	if i := t.Seq - 1; i >= 0 && i < len(s.trials) && s.trials[i] == t {
		return i
	}
	for i, u := range s.trials {
		if u == t {
			return i
		}
	}
	return -1
}

// observation is trial t as its suggester sees it; without its name and
// assignment when the suggester looks only at the history's length.
func (s *state) observation(t *trial.Trial) suggest.Observation {
	o := suggest.Observation{Status: suggest.Pending, Value: math.NaN()}
	if !s.lengthOnly {
		o.Name, o.Assignment = t.Name, t.Parameters
	}
	switch {
	case t.State == trial.Succeeded || t.State == trial.EarlyStopped:
		// An early-stopped trial's value is what it reached: worse
		// than most, which is what the algorithm should learn.
		v, ok := t.Metrics[s.objective].Value(s.strategies[s.objective])
		if !ok {
			o.Status = suggest.Failed
			break
		}
		o.Status, o.Value = suggest.Completed, v
	case Abandoned(t):
		o.Status = suggest.Abandoned
	case t.State.Final():
		o.Status = suggest.Failed
	}
	return o
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
