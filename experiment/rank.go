package experiment

import (
	"fmt"
	"math"
	"slices"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// TrialName is the name of trial number seq (from 1) of the experiment
// named experiment: the experiment's name, a dash and seq in at least four
// digits (mnist-0001).
func TrialName(experiment string, seq int) string {
	return fmt.Sprintf("%s-%04d", experiment, seq)
}

// best returns [BestTrial] of s.trials, from the tally. The result is
// shared until the best trial changes: callers must not modify it.
func (s *state) best() *OptimalTrial {
	tl := &s.tally
	if tl.optimal == nil {
		i := tl.best
		if i < 0 {
			i = tl.lastText
		}
		if i < 0 {
			return nil
		}
		tl.optimal = optimalTrial(s.trials[i], s.strategies)
	}
	return tl.optimal
}

// BestTrial returns the Succeeded trial of trials with the best value of
// objective under goal (the earliest on ties) as Katib's currentOptimalTrial,
// with every metric's value chosen by strategies; nil when no trial
// succeeded. When no Succeeded trial reported objective as a number but
// some reported it as text ([metrics.Summary.Text], such as DARTS's
// Best-Genotype), the best is the last of those, as in Katib.
func BestTrial(trials []*trial.Trial, objective string, goal suggest.Goal, strategies map[string]metrics.Strategy) *OptimalTrial {
	var best *trial.Trial
	bestValue := math.NaN()
	for _, t := range trials {
		if v := rankValue(t, objective, strategies); goal.Better(v, bestValue) {
			best, bestValue = t, v
		}
	}
	if best == nil {
		for _, t := range trials {
			if textRanked(t, objective) {
				best = t
			}
		}
	}
	if best == nil {
		return nil
	}
	return optimalTrial(best, strategies)
}

// optimalTrial returns t as Katib's currentOptimalTrial.
func optimalTrial(t *trial.Trial, strategies map[string]metrics.Strategy) *OptimalTrial {
	return &OptimalTrial{BestTrialName: t.Name, ParameterAssignments: t.Parameters, Metrics: TrialMetrics(t, strategies), Texts: TrialTexts(t)}
}

// RankTrials sorts trials best first, by the rule of [BestTrial]: the
// Succeeded trials by their value of objective under goal, the earlier
// (in the order given) first on ties, then every other trial in the order
// given. When no Succeeded trial has a number for objective, those with
// text come first, the later first. Its first trial is BestTrial's when
// any trial succeeded.
func RankTrials(trials []trial.Trial, objective string, goal suggest.Goal, strategies map[string]metrics.Strategy) {
	numbers := slices.ContainsFunc(trials, func(t trial.Trial) bool { return !math.IsNaN(rankValue(&t, objective, strategies)) })
	textRank := make(map[string]int) // by name: minus the position, so later sorts first
	if !numbers {
		for i := range trials {
			if textRanked(&trials[i], objective) {
				textRank[trials[i].Name] = -i - 1
			}
		}
	}
	slices.SortStableFunc(trials, func(a, b trial.Trial) int {
		va, vb := rankValue(&a, objective, strategies), rankValue(&b, objective, strategies)
		switch {
		case goal.Better(va, vb):
			return -1
		case goal.Better(vb, va):
			return 1
		}
		ra, oka := textRank[a.Name]
		rb, okb := textRank[b.Name]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
}

// textRanked reports whether t Succeeded with objective reported as text
// and no number.
func textRanked(t *trial.Trial, objective string) bool {
	_, ok := ObjectiveText(t, objective)
	return ok
}

// ObjectiveText returns t's value of objective when t Succeeded and
// reported it only as text, such as DARTS's Best-Genotype; false
// otherwise. Such trials rank by the rule of [BestTrial].
func ObjectiveText(t *trial.Trial, objective string) (string, bool) {
	s := t.Metrics[objective]
	if t.State != trial.Succeeded || s.Count != 0 || s.Text == "" {
		return "", false
	}
	return s.Text, true
}

// rankValue is t's value of objective when t Succeeded and reported it;
// NaN, which ranks last, otherwise.
func rankValue(t *trial.Trial, objective string, strategies map[string]metrics.Strategy) float64 {
	if t.State != trial.Succeeded {
		return math.NaN()
	}
	if v, ok := t.Metrics[objective].Value(strategyFor(strategies, objective)); ok {
		return v
	}
	return math.NaN()
}

// TrialMetrics returns each metric's value of t chosen by its strategy
// (latest when none is configured).
func TrialMetrics(t *trial.Trial, strategies map[string]metrics.Strategy) map[string]float64 {
	out := make(map[string]float64, len(t.Metrics))
	for name, sum := range t.Metrics {
		if v, ok := sum.Value(strategyFor(strategies, name)); ok {
			out[name] = v
		}
	}
	return out
}

// TrialTexts returns the text value ([metrics.Summary.Text]) of each
// metric of t that was reported only as text; nil when none was.
func TrialTexts(t *trial.Trial) map[string]string {
	var out map[string]string
	for name, sum := range t.Metrics {
		if sum.Count == 0 && sum.Text != "" {
			if out == nil {
				out = make(map[string]string)
			}
			out[name] = sum.Text
		}
	}
	return out
}

func strategyFor(strategies map[string]metrics.Strategy, name string) metrics.Strategy {
	if st, ok := strategies[name]; ok {
		return st
	}
	return metrics.Latest
}

func copyTrial(t *trial.Trial) *trial.Trial {
	c := *t
	return &c
}
