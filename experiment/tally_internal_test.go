package experiment

import (
	"maps"
	"math"
	"math/rand/v2"
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
// history equal those recomputed from every trial as it stands.
func TestTallyMatchesRecount(t *testing.T) {
	finals := []trial.State{trial.Succeeded, trial.Succeeded, trial.Succeeded, trial.Failed, trial.Killed, trial.MetricsUnavailable, trial.EarlyStopped}
	for _, goal := range []suggest.Goal{suggest.Minimize, suggest.Maximize} {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, 7))
			s := &state{objective: "loss", goal: goal, strategies: map[string]metrics.Strategy{"loss": metrics.Min}}
			s.retally()
			var full []*trial.Trial // each trial as it stands, metrics kept
			for step := range 300 {
				switch {
				case len(s.trials) > 0 && s.trials[len(s.trials)-1].State == trial.Pending && rng.IntN(8) == 0:
					s.dropNewest(1)
					full = full[:len(full)-1]
				case len(s.trials) == 0 || rng.IntN(3) == 0:
					tr := &trial.Trial{Name: TrialName("e", len(s.trials)+1), Seq: len(s.trials) + 1, State: trial.Pending, Parameters: map[string]string{"x": "1"}}
					s.trials = append(s.trials, tr)
					s.account(tr)
					c := *tr
					full = append(full, &c)
				default:
					tr := s.trials[rng.IntN(len(s.trials))]
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
					s.release(tr)
				}
				checkTally(t, s, full, seed, step)
			}
		}
	}
}

func checkTally(t *testing.T, s *state, full []*trial.Trial, seed uint64, step int) {
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
	}
	if len(s.tally.seen) != len(s.trials) {
		t.Fatalf("seed %d step %d: tally holds %d trials, the state %d", seed, step, len(s.tally.seen), len(s.trials))
	}
}
