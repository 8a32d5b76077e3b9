package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// contents is everything readable in a store, for comparisons.
type contents struct {
	Exps   []experiment.Record
	Trials map[string][]trial.Trial
	Logs   map[string][]metrics.Log // by trial name
}

// fillDamageStore writes a store with three experiments, their trials and
// logs (one trial with 300 entries, spanning pages), and returns its path
// and the path of a copy taken before its last write.
func fillDamageStore(t *testing.T) (path, before string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "pristine.db")
	before = filepath.Join(t.TempDir(), "before.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, exp := range []string{"alpha", "beta", "gamma"} {
		if err := s.CreateExperiment(ctx, sampleRecord(exp)); err != nil {
			t.Fatal(err)
		}
		for seq := 1; seq <= 4; seq++ {
			n := 20
			if exp == "alpha" && seq == 1 {
				n = 300
			}
			logs := make([]metrics.Log, n)
			for i := range logs {
				logs[i] = metrics.Log{Metric: "loss", Value: float64(i) / 7, Step: int64(i), Time: t0.Add(time.Duration(i) * time.Second)}
			}
			tr := sampleTrial(exp, seq)
			tr.State = trial.Succeeded
			st := experiment.Status{Phase: experiment.Running, Trials: seq, TrialsSucceeded: seq, Created: t0}
			if exp == "gamma" && seq == 4 {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(before, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SaveTrial(ctx, exp, tr, logs, &st); err != nil {
				t.Fatal(err)
			}
		}
	}
	return path, before
}

// readAll reads everything through the store API; errs collects each
// operation's error.
func readAll(ctx context.Context, s *Store, names []string, trialNames map[string][]string) (c contents, errs []error) {
	c.Trials = map[string][]trial.Trial{}
	c.Logs = map[string][]metrics.Log{}
	exps, err := s.Experiments(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	c.Exps = exps
	for _, name := range names {
		if _, err := s.Experiment(ctx, name); err != nil {
			errs = append(errs, err)
		}
		trials, err := s.Trials(ctx, name)
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Trials[name] = trials
		}
		for i, tn := range trialNames[name] {
			if i == 0 {
				if _, err := s.Trial(ctx, name, tn); err != nil {
					errs = append(errs, err)
				}
			}
			logs, err := s.Logs(ctx, name, tn)
			if err != nil {
				errs = append(errs, err)
			} else {
				c.Logs[tn] = logs
			}
		}
	}
	return c, errs
}

// damageVariant is one damaged copy of the pristine store.
type damageVariant struct {
	name   string
	damage func([]byte) []byte
}

// damageCorpus returns damaged copies of a store of size bytes with pages
// of ps bytes: truncations, byte flips at many offsets (page headers and
// contents), zeroed pages and damaged meta pages.
func damageCorpus(size, ps int) []damageVariant {
	var vs []damageVariant
	pages := size / ps
	for _, n := range []int{ps, 2 * ps, 2*ps + 100, 3 * ps, size / 2, size - ps, size - ps + 100, size - 1} {
		vs = append(vs, damageVariant{fmt.Sprintf("truncated to %d", n), func(b []byte) []byte { return b[:n] }})
	}
	flip := func(off int, mask byte) damageVariant {
		return damageVariant{fmt.Sprintf("flip %#x at %d", mask, off), func(b []byte) []byte { b[off] ^= mask; return b }}
	}
	for p := range pages {
		base := p * ps
		// Page id, flags, count, overflow, then the contents.
		for _, off := range []int{10, 16 + (1031*p+37)%(ps-16)} {
			vs = append(vs, flip(base+off, 0x10))
		}
		vs = append(vs, damageVariant{fmt.Sprintf("page %d zeroed", p), func(b []byte) []byte {
			clear(b[base : base+ps])
			return b
		}})
	}
	for off := 3; off < size; off += size / 30 {
		vs = append(vs, flip(off, 0x01))
	}
	vs = append(vs,
		damageVariant{"meta 0 zeroed", func(b []byte) []byte { clear(b[:ps]); return b }},
		damageVariant{"meta 1 zeroed", func(b []byte) []byte { clear(b[ps : 2*ps]); return b }},
		damageVariant{"both metas zeroed", func(b []byte) []byte { clear(b[:2*ps]); return b }},
		damageVariant{"meta 0 root flipped", func(b []byte) []byte { b[16+16] ^= 0x40; return b }},
		damageVariant{"meta 1 pgid flipped", func(b []byte) []byte { b[ps+16+40] ^= 0x40; return b }},
	)
	return vs
}

// TestDamagedStore runs every read, a few writes, Check and Recover on a
// corpus of damaged copies of a store. None may panic or fault (either
// would end the test binary); every error must name the file; a read that
// succeeds returns what was stored or Check reports damage; Check flags
// every copy a read failed on; Recover copies only intact records, into a
// store that checks clean.
func TestDamagedStore(t *testing.T) {
	ctx := t.Context()
	pristine, before := fillDamageStore(t)
	ps := os.Getpagesize()
	orig, err := os.ReadFile(pristine)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Open(pristine, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"alpha", "beta", "gamma"}
	trialNames := map[string][]string{}
	for _, n := range names {
		for seq := 1; seq <= 4; seq++ {
			trialNames[n] = append(trialNames[n], fmt.Sprintf("%s-%04d", n, seq))
		}
	}
	want, errs := readAll(ctx, ref, names, trialNames)
	if len(errs) > 0 {
		t.Fatalf("pristine store: %v", errs)
	}
	// With its newer meta page damaged, bbolt reads a store as of the
	// transaction before: that state is as good.
	prev, err := Open(before, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	wantPrev, _ := readAll(ctx, prev, names, trialNames)
	stored := func(c contents, strict bool) bool {
		return subsetOf(c, want, strict) || subsetOf(c, wantPrev, strict)
	}
	if r, err := ref.Check(ctx); err != nil || len(r.Damaged) > 0 || r.Experiments != 3 || r.Trials != 12 || r.Logs != 300+11*20 {
		t.Fatalf("Check of the pristine store = %+v, %v", r, err)
	}

	dir := t.TempDir()
	corpus := damageCorpus(len(orig), ps)
	var failedReads, silent int
	for i, v := range corpus {
		if testing.Short() && i%4 != 0 {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("damaged-%03d.db", i))
		if err := os.WriteFile(path, v.damage(slices.Clone(orig)), 0o600); err != nil {
			t.Fatal(err)
		}
		named := func(op string, err error) {
			t.Helper()
			if err != nil && !strings.Contains(err.Error(), path) && !errors.Is(err, experiment.ErrNotFound) {
				t.Errorf("%s: %s: error does not name the file: %v", v.name, op, err)
			}
		}
		s, err := Open(path, &Options{ReadOnly: true, Timeout: time.Second})
		named("Open", err)
		var got contents
		var readErrs []error
		if err != nil {
			readErrs = []error{err}
		} else {
			got, readErrs = readAll(ctx, s, names, trialNames)
			for _, err := range readErrs {
				named("read", err)
			}
		}
		// A read that failed left its entry out; the rest must be as stored.
		changed := err == nil && !stored(got, true)

		s = &Store{path: path, realPath: path, timeout: time.Second, noSync: true}
		report, err := s.Check(ctx)
		named("Check", err)
		damaged := err != nil || len(report.Damaged) > 0
		if len(readErrs) > 0 {
			failedReads++
			if !damaged {
				t.Errorf("%s: reads failed (%v) but Check reports nothing", v.name, readErrs[0])
			}
		}
		if changed {
			silent++
			if !damaged {
				t.Errorf("%s: reads returned changed values and Check reports nothing", v.name)
			}
		}

		to := filepath.Join(dir, fmt.Sprintf("recovered-%03d.db", i))
		rr, err := s.Recover(ctx, to)
		named("Recover", err)
		if err == nil {
			rec, err := Open(to, &Options{ReadOnly: true})
			if err != nil {
				t.Fatalf("%s: open recovered: %v", v.name, err)
			}
			r2, err := rec.Check(ctx)
			if err != nil || len(r2.Damaged) > 0 {
				t.Errorf("%s: Check of the recovered store = %+v, %v", v.name, r2, err)
			}
			gotRec, errs := readAll(ctx, rec, names, trialNames)
			for _, err := range errs {
				if !errors.Is(err, experiment.ErrNotFound) {
					t.Errorf("%s: reading the recovered store: %v", v.name, err)
				}
			}
			if !stored(gotRec, false) {
				t.Errorf("%s: recovered values differ from the stored ones", v.name)
			}
			if len(readErrs) == 0 && !changed && (rr.Experiments != 3 || rr.Trials != 12 || rr.Logs != 300+11*20) {
				t.Errorf("%s: every read succeeded, yet Recover copied only %+v", v.name, rr)
			}
			if rr.Experiments != len(gotRec.Exps) {
				t.Errorf("%s: Recover reports %d experiments copied, the new store has %d", v.name, rr.Experiments, len(gotRec.Exps))
			}
		}

		// Writes fail cleanly or succeed.
		w := &Store{path: path, realPath: path, timeout: time.Second, noSync: true}
		tr := sampleTrial("alpha", 99)
		named("SaveTrial", w.SaveTrial(ctx, "alpha", tr, []metrics.Log{{Metric: "loss", Value: 1}}, nil))
		named("UpdateStatus", w.UpdateStatus(ctx, "beta", experiment.Status{Phase: experiment.Stopped}))
		named("DeleteExperiment", w.DeleteExperiment(ctx, "gamma"))
	}
	t.Logf("%d damaged copies: reads failed on %d, returned changed values on %d (each flagged by Check)", len(corpus), failedReads, silent)
}

// subsetOf reports whether every experiment, trial and log list in got is
// equal to the one of the same name in want. Unless strict, statuses
// Recover rebuilt are not compared and log lists may lack entries.
func subsetOf(got, want contents, strict bool) bool {
	for _, e := range got.Exps {
		i := slices.IndexFunc(want.Exps, func(w experiment.Record) bool { return w.Name == e.Name })
		if i < 0 {
			return false
		}
		w := want.Exps[i]
		if !strict && e.Status.Reason == experiment.ReasonStoreError {
			e.Status, w.Status = experiment.Status{}, experiment.Status{}
		}
		if !cmp.Equal(e, w) {
			return false
		}
	}
	for name, ts := range got.Trials {
		for _, tr := range ts {
			j := slices.IndexFunc(want.Trials[name], func(w trial.Trial) bool { return w.Name == tr.Name })
			if j < 0 || !cmp.Equal(tr, want.Trials[name][j]) {
				return false
			}
		}
	}
	for name, logs := range got.Logs {
		w := want.Logs[name]
		if strict && !cmp.Equal(logs, w) {
			return false
		}
		// Recover skips damaged entries: what is left is in order.
		k := 0
		for _, l := range logs {
			for k < len(w) && !cmp.Equal(l, w[k]) {
				k++
			}
			if k == len(w) {
				return false
			}
			k++
		}
	}
	return true
}
