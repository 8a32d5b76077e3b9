//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// putRaw overwrites one value of the store at path, below the buckets
// named in keys (the last is the key).
func putRaw(t *testing.T, path string, val []byte, keys ...string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(keys[0]))
		for _, k := range keys[1 : len(keys)-1] {
			b = b.Bucket([]byte(k))
		}
		return b.Put([]byte(keys[len(keys)-1]), val)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmptyFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tune.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(ReadOnly) of a 0-byte file: %v", err)
	}
	if exps, err := s.Experiments(ctx); err != nil || len(exps) != 0 {
		t.Errorf("Experiments of a 0-byte file = %v, %v; want none", exps, err)
	}
	_, err = s.Experiment(ctx, "e")
	if !errors.Is(err, experiment.ErrNotFound) || !strings.Contains(err.Error(), "empty store") || !strings.Contains(err.Error(), path) {
		t.Errorf("Experiment of a 0-byte file: error = %v, want not found in an empty store, naming the file", err)
	}
	if _, err := s.Trials(ctx, "e"); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("Trials of a 0-byte file: error = %v, want not found", err)
	}
	// A write initialises it.
	w, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open of a 0-byte file: %v", err)
	}
	if err := w.CreateExperiment(ctx, sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Experiment(ctx, "e"); err != nil {
		t.Errorf("after a write: %v", err)
	}
}

// TestKilledBeforeFirstCommit: bbolt wrote its meta pages, tune's first
// transaction never committed. Readers see an empty store, the next write
// initialises it, also through a Store opened before.
func TestKilledBeforeFirstCommit(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tune.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(ReadOnly): %v", err)
	}
	if exps, err := r.Experiments(ctx); err != nil || len(exps) != 0 {
		t.Errorf("Experiments = %v, %v; want none", exps, err)
	}
	if rep, err := r.Check(ctx); err != nil || len(rep.Damaged) > 0 {
		t.Errorf("Check = %+v, %v; want a clean empty store", rep, err)
	}
	// A write through a handle that never initialised the file.
	w := &Store{path: path, realPath: path, timeout: time.Second}
	if err := w.CreateExperiment(ctx, sampleRecord("e")); err != nil {
		t.Fatalf("CreateExperiment: %v", err)
	}
	if exps, err := r.Experiments(ctx); err != nil || len(exps) != 1 {
		t.Errorf("after a write: Experiments = %d, %v; want 1", len(exps), err)
	}
}

func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sub := filepath.Join(dir, "dir.db")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{fifo: "a named pipe", sub: "a directory"} {
		for _, ro := range []bool{true, false} {
			// Before the fix, opening the FIFO never returned: the test
			// would hang until go test's -timeout.
			_, err := Open(path, &Options{ReadOnly: ro})
			if err == nil || !strings.Contains(err.Error(), "not a regular file ("+kind+")") || !strings.Contains(err.Error(), path) {
				t.Errorf("Open(%s, ReadOnly: %t): error = %v, want not a regular file (%s)", path, ro, err, kind)
			}
		}
	}
	// Replaced by a FIFO after Open.
	s := openTest(t, nil)
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(s.Path(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Experiments(t.Context()); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("Experiments after the file became a FIFO: error = %v", err)
	}
}

func TestDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "tune.db")
	target := filepath.Join(dir, "gone", "real.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{true, false} {
		_, err := Open(link, &Options{ReadOnly: ro})
		want := "dangling symlink to " + target
		if !errors.Is(err, ErrNoStore) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), link) {
			t.Errorf("Open(ReadOnly: %t): error = %v, want ErrNoStore saying %q", ro, err, want)
		}
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("Open created the symlink's target")
	}
}

// TestDamagedStatusFailsOnlyItsExperiment: one experiment's status record
// is garbage; the others are listed, the bad one reported.
func TestDamagedStatusFailsOnlyItsExperiment(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "a", "b", "c")
	putRaw(t, s.Path(), []byte(`{"phase":`), "experiments", "b", "status")
	exps, err := s.Experiments(ctx)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `experiment "b": status`) || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("Experiments: error = %v, want ErrDamaged naming experiment b's status and the file", err)
	}
	var names []string
	for _, e := range exps {
		names = append(names, e.Name)
	}
	if fmt.Sprint(names) != "[a c]" {
		t.Errorf("Experiments listed %v, want [a c]", names)
	}
	if _, err := s.Experiment(ctx, "a"); err != nil {
		t.Errorf("Experiment(a): %v", err)
	}
	if _, err := s.Experiment(ctx, "b"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Experiment(b): error = %v, want ErrDamaged", err)
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Damaged) != 1 || !strings.Contains(rep.Damaged[0], `experiment "b": status`) {
		t.Errorf("Check = %+v, %v; want one damaged part: b's status", rep, err)
	}
}

// TestDamagedRecordsAreErrors: a trial or log record that does not decode,
// fails its checksum or sits under the wrong key is an error naming the
// experiment and trial, never a zero value.
func TestDamagedRecordsAreErrors(t *testing.T) {
	ctx := t.Context()
	setup := func(t *testing.T) *Store {
		s := openWith(t, "e")
		for seq := 1; seq <= 2; seq++ {
			if err := s.SaveTrial(ctx, "e", sampleTrial("e", seq), []metrics.Log{{Metric: "loss", Value: 1, Step: 1, Time: t0}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	trialKey := string(seqKey(2))
	good, err := encodeValue(sampleTrial("e", 2), seqKey(2))
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(strings.Replace(string(good), `"e-0002"`, `"e-0003"`, 1))
	moved, err := encodeValue(sampleTrial("e", 2), seqKey(1))
	if err != nil {
		t.Fatal(err)
	}
	for name, val := range map[string][]byte{
		"garbage":   []byte("\x00\x01garbage"),
		"truncated": good[:len(good)/2],
		"flipped":   flipped,
		"moved":     moved,
		"empty":     []byte("{}"),
	} {
		t.Run("trial "+name, func(t *testing.T) {
			s := setup(t)
			putRaw(t, s.Path(), val, "experiments", "e", "trials", trialKey)
			if _, err := s.Trials(ctx, "e"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `experiment "e": trial 2`) {
				t.Errorf("Trials: error = %v, want ErrDamaged naming trial 2", err)
			}
			if _, err := s.Trial(ctx, "e", "e-0002"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), s.Path()) {
				t.Errorf("Trial: error = %v, want ErrDamaged naming the file", err)
			}
			if _, err := s.Trial(ctx, "e", "e-0001"); err != nil {
				t.Errorf("Trial of the intact trial: %v", err)
			}
		})
	}
	t.Run("log", func(t *testing.T) {
		s := setup(t)
		putRaw(t, s.Path(), []byte(`{"metric":"loss","value":`), "experiments", "e", "logs", trialKey, string(seqKey(1)))
		if _, err := s.Logs(ctx, "e", "e-0002"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `trial "e-0002": log entry 1`) {
			t.Errorf("Logs: error = %v, want ErrDamaged naming the trial and entry", err)
		}
		if _, err := s.Logs(ctx, "e", "e-0001"); err != nil {
			t.Errorf("Logs of the intact trial: %v", err)
		}
	})
	t.Run("log moved to another trial", func(t *testing.T) {
		s := setup(t)
		data, _ := encodeValue(metrics.Log{Metric: "loss", Value: 7}, seqKey(1), seqKey(1))
		putRaw(t, s.Path(), data, "experiments", "e", "logs", trialKey, string(seqKey(1)))
		if _, err := s.Logs(ctx, "e", "e-0002"); !errors.Is(err, ErrDamaged) {
			t.Errorf("Logs: error = %v, want ErrDamaged (checksum over the keys)", err)
		}
	})
}

// TestSchema1Records: records written by a schema 1 tune (plain JSON, no
// checksum) are read; the first write marks the store schema 3.
func TestSchema1Records(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "e")
	tr := sampleTrial("e", 1)
	tr.State = trial.Succeeded
	plain := func(v any) []byte {
		data, err := encodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return data[:len(data)-checksumLen]
	}
	putRaw(t, s.Path(), plain(tr), "experiments", "e", "trials", string(seqKey(1)))
	putRaw(t, s.Path(), []byte("1"), "meta", "schema")
	got, err := s.Trial(ctx, "e", "e-0001")
	if err != nil || got.State != trial.Succeeded {
		t.Fatalf("Trial of a schema 1 record = %+v, %v", got, err)
	}
	if err := s.UpdateStatus(ctx, "e", experiment.Status{Phase: experiment.Running}); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema"))); v != "3" {
			t.Errorf("schema after a write = %q, want 3", v)
		}
		return nil
	})
}

// TestManyLogsAndTrialsKeepOrder: keys are big-endian, so entries past 255
// (and trials past 255) stay in the order they were saved.
func TestManyLogsAndTrialsKeepOrder(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, nil)
	s.noSync = true
	if err := s.CreateExperiment(ctx, sampleRecord("e")); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var logs []metrics.Log
	for i := range n {
		logs = append(logs, metrics.Log{Metric: "loss", Value: float64(i), Step: int64(i), Time: t0})
	}
	// In three saves, so the sequence keys span saves.
	for _, batch := range [][]metrics.Log{logs[:100], logs[100:257], logs[257:]} {
		if err := s.SaveTrial(ctx, "e", sampleTrial("e", 1), batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Logs(ctx, "e", "e-0001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("Logs returned %d entries, want %d", len(got), n)
	}
	for i, l := range got {
		if l.Step != int64(i) {
			t.Fatalf("Logs entry %d has step %d: out of order", i, l.Step)
		}
	}
	for seq := 2; seq <= 260; seq++ {
		if err := s.SaveTrial(ctx, "e", sampleTrial("e", seq), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	trials, err := s.Trials(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range trials {
		if tr.Seq != i+1 {
			t.Fatalf("Trials[%d] is seq %d: out of order", i, tr.Seq)
		}
	}
	if tr, err := s.Trial(ctx, "e", "e-0258"); err != nil || tr.Seq != 258 {
		t.Errorf("Trial(e-0258) = %+v, %v", tr, err)
	}
}

// TestCheckSoundStoreAfterChurn: a store that went through every kind of
// write (updates, cleared logs, deleted experiments, pages freed and
// reused) checks clean, so Check's page walk reports only real damage.
func TestCheckSoundStoreAfterChurn(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, nil)
	s.noSync = true
	for round := range 3 {
		for _, name := range []string{"a", "b", "c"} {
			exp := fmt.Sprintf("%s%d", name, round)
			if err := s.CreateExperiment(ctx, sampleRecord(exp)); err != nil {
				t.Fatal(err)
			}
			for seq := 1; seq <= 30; seq++ {
				logs := make([]metrics.Log, 40)
				for i := range logs {
					logs[i] = metrics.Log{Metric: "loss", Value: float64(i), Step: int64(i), Time: t0}
				}
				if err := s.SaveTrial(ctx, exp, sampleTrial(exp, seq), logs, &experiment.Status{Phase: experiment.Running, Trials: seq}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.ClearTrialLogs(ctx, exp, 3); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteExperiment(ctx, fmt.Sprintf("b%d", round)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.Check(ctx)
	if err != nil || len(r.Damaged) > 0 {
		t.Fatalf("Check of a sound store = %+v, %v", r, err)
	}
	if r.Experiments != 6 || r.Trials != 180 || r.Logs != 6*29*40 {
		t.Errorf("Check counted %d experiments, %d trials, %d log entries; want 6, 180, %d", r.Experiments, r.Trials, r.Logs, 6*29*40)
	}
}
