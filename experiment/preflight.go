package experiment

import (
	"context"
	"fmt"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// SampleAssignment returns an assignment of every parameter of e's space
// to a feasible value (the lower bound, or the first of a list), for
// rendering a sample trial when no suggestion is needed.
func (e *Experiment) SampleAssignment() suggest.Assignment {
	space := e.Space()
	a := make(suggest.Assignment, len(space))
	for _, p := range space {
		switch p.Type {
		case suggest.Int:
			a[p.Name] = suggest.FormatInt(int64(p.Min))
		case suggest.Double:
			a[p.Name] = suggest.FormatFloat(p.Min)
		default:
			if len(p.Values) > 0 {
				a[p.Name] = p.Values[0]
			}
		}
	}
	for _, o := range e.Outputs() {
		a[o.Name] = o.Sample
	}
	return a
}

// Preflight asks the Executor, when it is a [trial.Preflighter], whether it
// will be allowed to run e's trials, with the sample trial [Runner.Check]
// renders. It returns the executor's warnings and its error as they are
// (an error wraps [trial.ErrNotPermitted] when a trial would be refused).
// It writes nothing; call it after Check and before Start.
func (r *Runner) Preflight(ctx context.Context, e *Experiment) ([]string, error) {
	p, ok := r.Executor.(trial.Preflighter)
	if !ok {
		return nil, nil
	}
	spec, err := e.TrialSpec(e.Metadata.Name+"-0000", e.SampleAssignment(), "")
	if err != nil {
		return nil, fmt.Errorf("spec.trialTemplate: %w", err)
	}
	spec.Owner = r.Owner
	return p.Preflight(ctx, spec)
}
