package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// scanOnly hides Top, so that results.LoadTop reads every trial.
type scanOnly struct{ s *Store }

func (r scanOnly) Experiment(ctx context.Context, name string) (*experiment.Record, error) {
	return r.s.Experiment(ctx, name)
}

func (r scanOnly) Trials(ctx context.Context, exp string) ([]trial.Trial, error) {
	return r.s.Trials(ctx, exp)
}

func rowNames(tab *results.Table, idx []int) []string {
	var names []string
	for _, i := range idx {
		names = append(names, tab.Rows[i].Trial.Name)
	}
	return names
}

// checkTop compares, for several n, results.LoadTop through the index with
// LoadTop by a full scan (the same rows, the same record) and with Load
// (the same first n of Ranked, the same Best and BestText). want says
// whether the experiment should have a usable index.
func checkTop(t *testing.T, s *Store, exp string, want bool) {
	t.Helper()
	ctx := t.Context()
	full, err := results.Load(ctx, s, exp)
	if err != nil {
		t.Fatal(err)
	}
	pick := func(tab *results.Table) []string {
		var out []string
		for _, i := range []int{tab.Best(), tab.BestText()} {
			if i >= 0 {
				out = append(out, tab.Rows[i].Trial.Name)
			} else {
				out = append(out, "-")
			}
		}
		return out
	}
	for _, n := range []int{1, 2, 3, 7, len(full.Rows), len(full.Rows) + 3} {
		if n < 1 {
			continue
		}
		_, _, ok, err := s.Top(ctx, exp, n)
		if err != nil || ok != want {
			t.Fatalf("Top(%d): ok %t, %v; want ok %t", n, ok, err, want)
		}
		fast, err := results.LoadTop(ctx, s, exp, n)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := results.LoadTop(ctx, scanOnly{s}, exp, n)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(slow.Experiment, fast.Experiment); diff != "" {
			t.Fatalf("LoadTop(%d) record (-scan +index):\n%s", n, diff)
		}
		rows := func(tab *results.Table) []results.Row { return tab.Rows }
		if diff := cmp.Diff(rows(slow), rows(fast)); diff != "" {
			t.Fatalf("LoadTop(%d) rows (-scan +index):\n%s", n, diff)
		}
		k := min(n, len(full.Rows))
		if got, want := rowNames(fast, fast.Ranked()[:k]), rowNames(full, full.Ranked()[:k]); !slices.Equal(got, want) {
			t.Fatalf("LoadTop(%d).Ranked = %v, Load's %v", n, got, want)
		}
		if got, want := pick(fast), pick(full); !slices.Equal(got, want) {
			t.Fatalf("LoadTop(%d) Best, BestText = %v, Load's %v", n, got, want)
		}
	}
	// BestTrial, the runner's rule, agrees.
	ptrs := make([]*trial.Trial, len(full.Rows))
	for i := range full.Rows {
		ptrs[i] = &full.Rows[i].Trial
	}
	bt := experiment.BestTrial(ptrs, full.Objective, full.Goal, full.Strategies)
	fast, err := results.LoadTop(ctx, s, exp, 1)
	if err != nil {
		t.Fatal(err)
	}
	b := fast.Best()
	if b < 0 {
		b = fast.BestText()
	}
	switch {
	case bt == nil && b >= 0, bt != nil && b < 0, bt != nil && fast.Rows[b].Trial.Name != bt.BestTrialName:
		t.Fatalf("best of LoadTop(1) = %d, BestTrial %+v", b, bt)
	}
}

// randomTrial returns trial seq in a random state with a random value of
// loss drawn from a few values (ties, 0 and -0, negatives), as text, or
// none.
func randomTrial(r *rand.Rand, exp string, seq int, textOnly bool) *trial.Trial {
	tr := sampleTrial(exp, seq)
	states := []trial.State{trial.Succeeded, trial.Succeeded, trial.Succeeded, trial.Failed, trial.Running, trial.Pending, trial.EarlyStopped, trial.Killed, trial.MetricsUnavailable}
	tr.State = states[r.IntN(len(states))]
	values := []float64{-2, -0.5, 0, 0.25, 1, 1, 3, 1e300, -1e-300}
	pickV := func() float64 {
		if r.IntN(8) == 0 {
			return negZero
		}
		return values[r.IntN(len(values))]
	}
	tr.Metrics = map[string]metrics.Summary{"accuracy": {Min: 0.5, Max: 0.9, Latest: 0.7, Count: 3}}
	switch c := r.IntN(6); {
	case textOnly || c == 0:
		if r.IntN(3) > 0 {
			tr.Metrics["loss"] = metrics.Summary{Text: fmt.Sprintf("Genotype(%d)", r.IntN(5))}
		}
	case c == 1:
		// no loss reported
	default:
		a, b, c := pickV(), pickV(), pickV()
		tr.Metrics["loss"] = metrics.Summary{Min: min(a, b, c), Max: max(a, b, c), Latest: b, Count: 3}
	}
	return tr
}

var negZero = func() float64 { z := 0.0; return -z }()

// randomRecord returns sampleRecord(name) with a random goal and strategy
// for loss.
func randomRecord(r *rand.Rand, name string) *experiment.Record {
	rec := sampleRecord(name)
	obj := rec.Spec.Spec.Objective
	obj.Type = []string{"minimize", "maximize"}[r.IntN(2)]
	switch r.IntN(4) {
	case 0:
		obj.MetricStrategies = nil
	default:
		obj.MetricStrategies = []experiment.MetricStrategy{{Name: "loss", Value: []string{"min", "max", "latest"}[r.IntN(3)]}}
	}
	return rec
}

// dropIndex removes experiment exp's ranking index, as a tune before
// schema 3 left it.
func dropIndex(t *testing.T, path, exp string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketExperiments)).Bucket([]byte(exp)).DeleteBucket([]byte(bucketRank))
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTopMatchesFullScan: on randomised experiments (both goals, each
// strategy, ties, -0, text objectives, trials in every state, trials
// rewritten, logs replaced, the spec changed, the index dropped as an older
// tune leaves it) the rows LoadTop reads through the index are the rows a
// full scan gives, and rank as Load's do; Check finds the index sound.
func TestTopMatchesFullScan(t *testing.T) {
	ctx := t.Context()
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			s := openTest(t, nil)
			s.noSync = true
			rec := randomRecord(r, "e")
			if err := s.CreateExperiment(ctx, rec); err != nil {
				t.Fatal(err)
			}
			checkTop(t, s, "e", true)
			textOnly := seed%5 == 0
			n := 1 + r.IntN(25)
			for seq := 1; seq <= n; seq++ {
				if err := s.SaveTrial(ctx, "e", randomTrial(r, "e", seq, textOnly), nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			checkTop(t, s, "e", true)
			for round := range 12 {
				seq := 1 + r.IntN(n)
				tr := randomTrial(r, "e", seq, textOnly)
				logs := []metrics.Log{{Metric: "loss", Value: 1, Step: 1, Time: t0}}
				switch round % 4 {
				case 0:
					if err := s.ReplaceTrialLogs(ctx, "e", tr, logs, nil); err != nil {
						t.Fatal(err)
					}
				case 1:
					rec = randomRecord(r, "e")
					if err := s.UpdateExperiment(ctx, rec); err != nil {
						t.Fatal(err)
					}
				case 2:
					dropIndex(t, s.Path(), "e")
					checkTop(t, s, "e", false)
					if err := s.SaveTrial(ctx, "e", tr, logs, nil); err != nil {
						t.Fatal(err)
					}
				default:
					if err := s.SaveTrial(ctx, "e", tr, logs, nil); err != nil {
						t.Fatal(err)
					}
				}
				checkTop(t, s, "e", true)
			}
			if rep, err := s.Check(ctx); err != nil || len(rep.Damaged) > 0 {
				t.Fatalf("Check = %+v, %v", rep, err)
			}
		})
	}
}

// TestIndexDamage: Check reports an index that disagrees with the trials,
// Top fails on an entry it reads that is wrong, and Recover writes a
// sound index.
func TestIndexDamage(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	for seq := 1; seq <= 5; seq++ {
		tr := sampleTrial("e", seq)
		tr.State = trial.Succeeded
		tr.Metrics = map[string]metrics.Summary{"loss": {Min: float64(seq), Max: float64(seq), Latest: float64(seq), Count: 1}}
		if err := s.SaveTrial(ctx, "e", tr, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An entry ranking trial 5 first, as if its loss were -1.
	o := orderOf(&sampleRecord("e").Spec)
	tr := sampleTrial("e", 5)
	tr.State = trial.Succeeded
	tr.Metrics = map[string]metrics.Summary{"loss": {Min: -1, Max: -1, Latest: -1, Count: 1}}
	putRaw(t, s.Path(), []byte{}, "experiments", "e", bucketRank, bucketBest, string(o.key(tr)))
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Damaged) != 1 || !strings.Contains(rep.Damaged[0], `experiment "e": rank index`) || !strings.Contains(rep.Damaged[0], `trial "e-0005" under`) {
		t.Fatalf("Check = %+v, %v; want the index entry reported", rep, err)
	}
	if _, _, _, err := s.Top(ctx, "e", 1); !errors.Is(err, ErrDamaged) {
		t.Errorf("Top through a wrong entry: error = %v, want one wrapping ErrDamaged", err)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	if _, err := s.Recover(ctx, to); err != nil {
		t.Fatal(err)
	}
	c, err := Open(to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Check(ctx); err != nil || len(rep.Damaged) > 0 {
		t.Fatalf("Check of the recovered copy = %+v, %v", rep, err)
	}
	checkTop(t, c, "e", true)
	_, top, _, err := c.Top(ctx, "e", 1)
	if err != nil || len(top) != 1 || top[0].Name != "e-0001" {
		t.Errorf("Top(1) of the copy = %v, %v; want e-0001", top, err)
	}
}

// TestIndexOfOlderStore: an experiment of a store written before schema 3
// has no index: it is read by a full scan and checks sound, and its next
// trial write builds the index.
func TestIndexOfOlderStore(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	for seq := 1; seq <= 3; seq++ {
		tr := sampleTrial("e", seq)
		tr.State = trial.Succeeded
		v := float64(4 - seq)
		tr.Metrics = map[string]metrics.Summary{"loss": {Min: v, Max: v, Latest: v, Count: 1}}
		if err := s.SaveTrial(ctx, "e", tr, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	dropIndex(t, s.Path(), "e")
	setSchema(t, s.Path(), "meta", "2")
	checkTop(t, s, "e", false)
	if rep, err := s.Check(ctx); err != nil || len(rep.Damaged) > 0 {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	if err := s.UpdateStatus(ctx, "e", experiment.Status{Phase: experiment.Running}); err != nil {
		t.Fatal(err)
	}
	checkTop(t, s, "e", false) // a status write leaves it as it is
	tr := sampleTrial("e", 4)
	if err := s.SaveTrial(ctx, "e", tr, nil, nil); err != nil {
		t.Fatal(err)
	}
	checkTop(t, s, "e", true)
	_, top, _, err := s.Top(ctx, "e", 1)
	if err != nil || len(top) != 1 || top[0].Name != "e-0003" {
		t.Errorf("Top(1) = %v, %v; want e-0003", top, err)
	}
}

// TestTopNotFound: Top of a missing experiment, and of an empty file,
// wraps experiment.ErrNotFound.
func TestTopNotFound(t *testing.T) {
	s := openWith(t, "e")
	if _, _, _, err := s.Top(t.Context(), "nope", 1); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("Top(nope): error = %v, want ErrNotFound", err)
	}
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.Top(t.Context(), "e", 1); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("Top of an empty file: error = %v, want ErrNotFound", err)
	}
}
