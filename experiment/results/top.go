package results

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// Ranker is a [Reader] that keeps each experiment's trials ranked, so that
// [LoadTop] reads only the trials it keeps (store.Store is one).
type Ranker interface {
	Reader
	// Top returns the named experiment and, in creation order, its first
	// n trials in the order of [Table.Ranked] and, when no trial counts
	// ([Table.RankValue]), the one [Table.BestText] picks; n < 1 means
	// every trial. ok is false when it keeps no ranking of the
	// experiment.
	Top(ctx context.Context, name string, n int) (rec *experiment.Record, trials []trial.Trial, ok bool, err error)
}

// LoadTop is [Load] keeping only the rows that rank the experiment: the
// first n of [Table.Ranked] and, when no row counts ([Table.RankValue]),
// the one [Table.BestText] picks, in creation order; n < 1 keeps every row.
// On its table, Best, BestText and the first n of Ranked pick the trials
// they pick on Load's. From a [Ranker] that ranks the experiment only those
// trials are read; from any other Reader, every trial. Errors are Load's.
func LoadTop(ctx context.Context, r Reader, name string, n int) (*Table, error) {
	if n < 1 {
		return Load(ctx, r, name)
	}
	if rk, ok := r.(Ranker); ok {
		rec, trials, ok, err := rk.Top(ctx, name, n)
		switch {
		case errors.Is(err, experiment.ErrNotFound):
			return nil, err // as Load's
		case err != nil:
			return nil, fmt.Errorf("experiment %s: read trials: %w", name, err)
		case ok:
			return New(rec, trials), nil
		}
	}
	t, err := Load(ctx, r, name)
	if err != nil {
		return nil, err
	}
	idx := t.Ranked()
	idx = idx[:min(n, len(idx))]
	if t.Best() < 0 {
		if b := t.BestText(); b >= 0 && !slices.Contains(idx, b) {
			idx = append(idx, b)
		}
	}
	slices.Sort(idx)
	rows := make([]Row, len(idx))
	for i, j := range idx {
		rows[i] = t.Rows[j]
	}
	t.Rows = rows
	return t, nil
}
