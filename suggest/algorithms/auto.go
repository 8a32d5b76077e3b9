package algorithms

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/suggest"
)

// Auto is the algorithmName with which tune chooses, per experiment, one
// of its own algorithms ([Choose]); tune's addition, unknown to Katib.
const Auto = "auto"

// defaultParallelTrialCount is the parallelTrialCount [Choose] assumes
// when none is given: Katib's default, which experiment.Default fills in.
const defaultParallelTrialCount = 3

// Choice is the algorithm that runs for an experiment, and why.
type Choice struct {
	// Algorithm is the name of the algorithm that runs.
	Algorithm string
	// Reason is, for [Auto], one lowercase line: the rule that chose
	// Algorithm and the measured figure behind it; empty otherwise.
	Reason string
}

// Choose returns the algorithm that [Auto] runs for e. An experiment
// keeps the algorithm auto chose when it was created: when e.Chosen names
// one of auto's choices ([Choices]), Choose returns it, whatever the
// budget now is, so that every trial of an experiment comes from one
// algorithm. Otherwise it reads only e.MaxTrialCount and
// e.ParallelTrialCount (nil: Katib's default of 3), so the same spec
// always gives the same choice. The rules, in order, each with the figure
// that decided it (docs/suggest.md, "algorithmName: auto", has the tables;
// regret is the median over 10 seeds of tune bench suggest's 13 test
// functions):
//
//  1. sobol when maxTrialCount is given and parallelTrialCount is at
//     least maxTrialCount. Every trial is then proposed before any result
//     exists, so no algorithm can learn and each one's proposals are its
//     initial design. With 50 trials proposed at once, sobol has the best
//     average rank of seven algorithms (2.88; cmaes 3.08,
//     bayesianoptimization 4.38, random and both TPEs 4.92) and a lower
//     regret than bayesianoptimization on 9 functions of 13. cmaes's lower
//     regret on 8 functions comes from drawing every trial near the centre
//     of the space, where those functions have their minimum; on Branin,
//     whose minima are off-centre, its regret is 5 times sobol's (2.17
//     against 0.425).
//  2. bayesianoptimization otherwise. At parallelism 1 it has the best
//     average rank of tune's six algorithms over 13 functions and 20 seeds
//     (1.08 at budgets 50 and 100; next multivariate-tpe 3.00 at 50, tpe
//     3.00 at 100) and the lowest median regret in 24 of 26 rows, all but
//     levy16, whose minimum is at the centre where cmaes starts; at
//     parallelism 4 the lowest in every row at budget 100
//     (docs/suggest-bench.md, 2026-12-05). No rule picks another algorithm
//     for a kind of space: where one beat it, the same kind of space with
//     its minimum elsewhere reverses the order (levy16 against
//     levy16shift: cmaes 19.5 against 40.5 at budget 50 on the first, 65.5
//     against 42.6 on the second).
//
// TestChoose holds the rules as a table.
func Choose(e Experiment) Choice {
	if slices.Contains(Choices(), e.Chosen) {
		return Choice{Algorithm: e.Chosen, Reason: "chosen when the experiment was created, and kept so that all its trials come from one algorithm (docs/suggest.md#algorithmname-auto)"}
	}
	par := defaultParallelTrialCount
	if e.ParallelTrialCount != nil {
		par = *e.ParallelTrialCount
	}
	if m := e.MaxTrialCount; m != nil && par >= *m {
		return Choice{Algorithm: "sobol", Reason: fmt.Sprintf(
			"every trial is proposed before any result (parallelTrialCount %d ≥ maxTrialCount %d); "+
				"sobol's design then had the best average rank of 7 algorithms on 13 test functions (docs/suggest.md#algorithmname-auto)", par, *m)}
	}
	budget := "no maxTrialCount"
	if m := e.MaxTrialCount; m != nil {
		budget = fmt.Sprintf("parallelTrialCount %d < maxTrialCount %d", par, *m)
	}
	return Choice{Algorithm: "bayesianoptimization", Reason: "trials can learn from earlier results (" + budget + "); " +
		"bayesianoptimization had the best average rank on 13 test functions (docs/suggest.md#algorithmname-auto)"}
}

// Choices returns the algorithms [Choose] may choose, sorted.
func Choices() []string {
	return []string{"bayesianoptimization", "sobol"}
}

// NewFor returns the algorithm that algorithmName name runs for e,
// configured by e.Settings (the last value of each name), and which one it
// is. For every name but [Auto] that is name itself, built by [New], with
// an empty Reason. For Auto it is [Choose]'s choice with Choose's Reason,
// given auto's one setting, random_state; any other setting is an error
// naming it. Errors are New's.
func NewFor(name string, e Experiment) (suggest.Suggester, Choice, error) {
	set := make(map[string]string, len(e.Settings))
	for _, st := range e.Settings {
		set[st.Name] = st.Value
	}
	if name != Auto {
		s, err := New(name, set)
		return s, Choice{Algorithm: name}, err
	}
	c := Choose(e)
	s, err := newAuto(c.Algorithm, set)
	return s, c, err
}

// newAutoUnknown is [Algorithm.New] of [Auto]: it builds what auto runs
// for an experiment of which nothing is known, [Choose] of an empty
// [Experiment]. [NewFor] chooses from the experiment.
func newAutoUnknown(settings map[string]string) (suggest.Suggester, error) {
	return newAuto(Choose(Experiment{}).Algorithm, settings)
}

// newAuto builds algorithm chosen with auto's settings: random_state,
// passed on; any other name is a [*suggest.SettingError].
func newAuto(chosen string, settings map[string]string) (suggest.Suggester, error) {
	var errs []error
	pass := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if name == suggest.SettingRandomState {
			pass[name] = settings[name]
			continue
		}
		errs = append(errs, &suggest.SettingError{Name: name, Err: fmt.Errorf(
			"auto: unknown setting %q (allowed: %s): auto chooses the algorithm and passes on only %s; to set %s, name the algorithm instead of auto%s",
			name, suggest.SettingRandomState, suggest.SettingRandomState, name, didyoumean.Hint(name, []string{suggest.SettingRandomState}))})
	}
	if _, _, err := suggest.SeedOnly(Auto, pass); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = append(errs, j.Unwrap()...)
		} else {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s, err := New(chosen, pass)
	if err != nil {
		return nil, fmt.Errorf("auto: %s: %w", chosen, err)
	}
	return s, nil
}

// autoRules applies the rules of the algorithm auto chooses for e, so that
// auto is refused wherever its choice would be.
func autoRules(e Experiment, settings map[string]string) []Problem {
	if a, ok := Lookup(Choose(e).Algorithm); ok && a.Rules != nil {
		return a.Rules(e, settings)
	}
	return nil
}
