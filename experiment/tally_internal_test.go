package experiment

import (
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// TestTallyMatchesRecount drives a state through random trial changes
// (created, started, ended in every state with tied, text and missing
// objective values, ended trials rolled back, as a failed store write
// does; stored ones released; the newest forgotten, as a failed launch
// does) and checks after each that the tally's counts, best trial and
// history equal those recomputed from every trial as it stands, and that
// the state holds no ended trial but the best and the text-ranked ones.
func TestTallyMatchesRecount(t *testing.T) {
	finals := []trial.State{trial.Succeeded, trial.Succeeded, trial.Succeeded, trial.Failed, trial.Killed, trial.MetricsUnavailable, trial.EarlyStopped}
	for _, lengthOnly := range []bool{false, true} {
		for _, goal := range []suggest.Goal{suggest.Minimize, suggest.Maximize} {
			for seed := range uint64(20) {
				recount(t, finals, lengthOnly, goal, seed)
			}
		}
	}
}

func recount(t *testing.T, finals []trial.State, lengthOnly bool, goal suggest.Goal, seed uint64) {
	{
		{
			rng := rand.New(rand.NewPCG(seed, 7))
			s := &state{objective: "loss", goal: goal, strategies: map[string]metrics.Strategy{"loss": metrics.Min}, lengthOnly: lengthOnly}
			s.retally()
			var full []*trial.Trial // each trial as it stands, metrics kept
			kept := map[int]bool{}  // ended trials release keeps
			for step := range 300 {
				switch {
				case len(s.trials) > 0 && s.trials[len(s.trials)-1] != nil && s.trials[len(s.trials)-1].State == trial.Pending && rng.IntN(8) == 0:
					s.dropNewest(1)
					full = full[:len(full)-1]
				case len(s.trials) == 0 || rng.IntN(3) == 0:
					tr := &trial.Trial{Name: TrialName("e", len(s.trials)+1), Seq: len(s.trials) + 1, State: trial.Pending, Parameters: map[string]string{"x": strconv.Itoa(step)}}
					s.trials = append(s.trials, tr)
					s.account(tr)
					c := *tr
					full = append(full, &c)
				default:
					tr := s.trials[rng.IntN(len(s.trials))]
					if tr == nil {
						continue // released: ended and stored
					}
					committed := *tr
					switch {
					case tr.State == trial.Pending:
						tr.State = trial.Running
					case tr.State == trial.Running:
						tr.State = finals[rng.IntN(len(finals))]
						if tr.State == trial.Killed && rng.IntN(2) == 0 {
							tr.Reason = TrialReasonInterrupted // abandoned
						}
						tr.Metrics = map[string]metrics.Summary{}
						switch rng.IntN(4) {
						case 0: // no objective
						case 1:
							tr.Metrics["loss"] = metrics.Summary{Text: "genotype"}
						default: // few distinct values: ties
							var sum metrics.Summary
							sum.Add(float64(rng.IntN(4)))
							sum.Add(float64(rng.IntN(4)))
							tr.Metrics["loss"] = sum
						}
					default:
						continue
					}
					s.account(tr)
					if rng.IntN(5) == 0 {
						*tr = committed // the write failed
						s.account(tr)
					}
					*full[tr.Seq-1] = *tr
					if i := tr.Seq - 1; tr.State.Final() && (i == s.tally.best || s.tally.seen[i].text) {
						kept[i] = true // ranked at its release: kept for good
					}
					s.release(tr)
				}
				checkTally(t, s, full, kept, seed, step)
			}
		}
	}
}

func checkTally(t *testing.T, s *state, full []*trial.Trial, kept map[int]bool, seed uint64, step int) {
	t.Helper()
	want := BestTrial(full, s.objective, s.goal, s.strategies)
	got := s.best()
	if (want == nil) != (got == nil) || (want != nil && (want.BestTrialName != got.BestTrialName || !maps.Equal(want.Metrics, got.Metrics))) {
		t.Fatalf("seed %d step %d: best = %v, recount gives %v", seed, step, got, want)
	}
	var finished, failed int
	byState := map[trial.State]int{}
	for _, tr := range full {
		if tr.State.Final() && !Abandoned(tr) {
			finished++
		}
		if tr.State == trial.Failed || tr.State == trial.MetricsUnavailable {
			failed++
		}
		byState[tr.State]++
	}
	if f, fl := s.counts(); f != finished || fl != failed {
		t.Fatalf("seed %d step %d: counts = %d, %d; recount gives %d, %d", seed, step, f, fl, finished, failed)
	}
	for st, n := range byState {
		if s.tally.byState[st] != n {
			t.Fatalf("seed %d step %d: %s = %d, recount gives %d", seed, step, st, s.tally.byState[st], n)
		}
	}
	h := s.history()
	if len(h) != len(s.trials) {
		t.Fatalf("seed %d step %d: history has %d observations for %d trials", seed, step, len(h), len(s.trials))
	}
	for i, tr := range full {
		o := s.observation(tr)
		same := o.Name == h[i].Name && o.Status == h[i].Status && (o.Value == h[i].Value || math.IsNaN(o.Value) && math.IsNaN(h[i].Value))
		if !same {
			t.Fatalf("seed %d step %d: history[%d] = %+v, want %+v", seed, step, i, h[i], o)
		}
		switch {
		case s.lengthOnly && (h[i].Name != "" || h[i].Assignment != nil):
			t.Fatalf("seed %d step %d: history[%d] = %+v; a length-only suggester's holds no name or assignment", seed, step, i, h[i])
		case !s.lengthOnly && (h[i].Name != tr.Name || !maps.Equal(h[i].Assignment, tr.Parameters)):
			t.Fatalf("seed %d step %d: history[%d] = %+v, want trial %s's name and assignment %v", seed, step, i, h[i], tr.Name, tr.Parameters)
		}
		// Once ended, only the trials that were the best or text-ranked
		// when released are held (release runs after every ending here).
		held := s.trials[i] != nil
		keep := !tr.State.Final() || kept[i]
		if held != keep {
			t.Fatalf("seed %d step %d: trial %s (%s) held: %v, want %v", seed, step, tr.Name, tr.State, held, keep)
		}
	}
	if len(s.tally.seen) != len(s.trials) {
		t.Fatalf("seed %d step %d: tally holds %d trials, the state %d", seed, step, len(s.tally.seen), len(s.trials))
	}
}
