package results_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// unranked is a Ranker that keeps no ranking, so LoadTop reads every trial.
type unranked struct{ memReader }

func (unranked) Top(context.Context, string, int) (*experiment.Record, []trial.Trial, bool, error) {
	return nil, nil, false, nil
}

func names(tab *results.Table) []string {
	var out []string
	for _, r := range tab.Rows {
		out = append(out, r.Trial.Name)
	}
	return out
}

// TestLoadTopByScan: from a Reader that keeps no ranking, LoadTop keeps the
// first n rows of Ranked in creation order, and the row BestText picks
// when no row counts.
func TestLoadTopByScan(t *testing.T) {
	ctx := t.Context()
	src := mixed(t)
	for _, r := range []results.Reader{src, unranked{src}} {
		for n, want := range map[int][]string{
			1:  {"mixed-0004"},
			2:  {"mixed-0001", "mixed-0004"},
			3:  {"mixed-0001", "mixed-0003", "mixed-0004"},
			4:  {"mixed-0001", "mixed-0002", "mixed-0003", "mixed-0004"},
			9:  {"mixed-0001", "mixed-0002", "mixed-0003", "mixed-0004", "mixed-0005"},
			0:  {"mixed-0001", "mixed-0002", "mixed-0003", "mixed-0004", "mixed-0005"},
			-1: {"mixed-0001", "mixed-0002", "mixed-0003", "mixed-0004", "mixed-0005"},
		} {
			tab, err := results.LoadTop(ctx, r, "mixed", n)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(tab); !slices.Equal(got, want) {
				t.Errorf("LoadTop(%d) = %v, want %v", n, got, want)
			}
		}
	}
	// No trial counts: trials 2 and 4 have the objective as text only.
	text := src
	text.trials = slices.Clone(src.trials)
	for i := range text.trials {
		tr := &text.trials[i]
		tr.Metrics = map[string]metrics.Summary{}
		if tr.Seq%2 == 0 {
			tr.State = trial.Succeeded
			tr.Metrics["accuracy"] = metrics.Summary{Text: "Genotype"}
		}
	}
	tab, err := results.LoadTop(ctx, text, "mixed", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tab); !slices.Equal(got, []string{"mixed-0001", "mixed-0004"}) || tab.BestText() != 1 {
		t.Errorf("LoadTop(1) without numbers = %v (BestText %d), want mixed-0001 and the text best mixed-0004", got, tab.BestText())
	}
	if _, err := results.LoadTop(ctx, src, "other", 1); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("LoadTop of a missing experiment: error = %v, want ErrNotFound", err)
	}
}
