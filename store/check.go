package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// Report is what [Store.Check] found or [Store.Recover] copied.
type Report struct {
	// Experiments, Trials and Logs count the records read intact (Check)
	// or copied (Recover); Logs counts observation log entries.
	Experiments, Trials, Logs int
	// Damaged has one line per damaged part, naming it and what is wrong;
	// for Recover, what was not copied. Empty when nothing is damaged.
	Damaged []string
}

func (r *Report) damaged(err error) { r.Damaged = append(r.Damaged, err.Error()) }

// Check reads the whole store, read-only: every page through bbolt's own
// consistency check and every experiment, status, trial and log record
// through its checksum and decoder. The report lists each damaged part; a
// file cut short or with a damaged page is reported as far as it can be
// read. It returns an error (and no report) only when the store cannot be
// examined at all: it is missing, locked, not a tune store or ctx is done.
func (s *Store) Check(ctx context.Context) (*Report, error) {
	r := &Report{}
	err := s.tx(ctx, txTruncOK, "pages", func(tx *bolt.Tx) error {
		// The shared lock this transaction holds keeps writers out while
		// the pages are read.
		problems, err := checkPages(s.path)
		if err != nil {
			return fmt.Errorf("store %s: check pages: %w", s.path, err)
		}
		for _, p := range problems {
			r.damaged(fmt.Errorf("store %s: %w: %s", s.path, ErrDamaged, p))
		}
		if err := s.checkSchema(tx); err != nil {
			return err
		}
		s.scan(tx, r, nil)
		return nil
	})
	switch {
	case errors.Is(err, errEmpty):
		return r, nil
	case errors.Is(err, ErrDamaged):
		r.damaged(err)
		return r, nil
	case err != nil:
		return nil, err
	}
	return r, nil
}

// truncated reports whether the file is shorter than its meta page says.
func (s *Store) truncated() bool {
	_, err := s.preflight()
	return errors.Is(err, errTruncated)
}

// Recover copies every experiment, trial and observation log entry of the
// store that can be read into a new store at path to, read-only on this
// one: it never writes the source. An experiment whose record is damaged is
// skipped with its trials; one whose status is damaged is copied Stopped
// (ExperimentStoreError) with counts rebuilt from the trials copied; a
// damaged trial is skipped with its log; a damaged log entry is skipped.
// The report counts what was copied and lists what was not. It refuses a
// path to that exists, and fails when the source cannot be opened at all.
func (s *Store) Recover(ctx context.Context, to string) (*Report, error) {
	if _, err := os.Lstat(to); err == nil {
		return nil, fmt.Errorf("recover to %s: the file exists; name a new file", to)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recover to %s: %w", to, err)
	}
	dst, err := Open(to, nil)
	if err != nil {
		return nil, fmt.Errorf("recover to %s: %w", to, err)
	}
	defer dst.Close()
	dst.noSync = s.noSync
	r := &Report{}
	err = s.tx(ctx, txTruncOK, "experiments", func(tx *bolt.Tx) error {
		if err := s.checkSchema(tx); err != nil {
			return err
		}
		s.scan(tx, r, func(e *scanned) error {
			if err := dst.putExperiment(ctx, e); err != nil {
				return fmt.Errorf("recover to %s: %w", to, err)
			}
			return nil
		})
		return nil
	})
	switch {
	case errors.Is(err, errEmpty):
		return r, nil
	case err != nil:
		// Nothing was copied: leave no empty store behind.
		dst.Close()
		os.Remove(to)
		return nil, err
	}
	if s.truncated() {
		_, terr := s.preflight()
		r.Damaged = append([]string{terr.Error()}, r.Damaged...)
	}
	return r, nil
}

// scanned is what scan could read of one experiment.
type scanned struct {
	rec    *experiment.Record
	trials []trial.Trial
	logs   map[int][]metrics.Log // by trial seq; nil when only counted
	nLogs  int                   // the intact log entries read
}

// scan reads every experiment of tx, adding what is intact to r's counts
// and what is damaged to r.Damaged, and hands each experiment whose record
// is readable to copyFn (nil: just count). A panic on a damaged page fails
// only the part being read.
func (s *Store) scan(tx *bolt.Tx, r *Report, copyFn func(*scanned) error) {
	fail := func(err error) {
		if err == nil {
			return
		}
		r.damaged(fmt.Errorf("store %s: %w", s.path, err))
	}
	exps := tx.Bucket([]byte(bucketExperiments))
	var names [][]byte
	fail(catchErr("experiments", func() error {
		return exps.ForEach(func(k, v []byte) error {
			if v != nil {
				return damagef(fmt.Sprintf("experiments: key %q", k), "a value where an experiment bucket belongs")
			}
			names = append(names, append([]byte(nil), k...))
			return nil
		})
	}))
	for _, k := range names {
		name := string(k)
		var e *scanned
		fail(catchErr(fmt.Sprintf("experiment %q", name), func() (err error) {
			e, err = scanExperiment(name, exps.Bucket(k), copyFn != nil, fail)
			return err
		}))
		if e == nil {
			continue
		}
		if copyFn != nil {
			if err := copyFn(e); err != nil {
				r.Damaged = append(r.Damaged, err.Error())
				continue
			}
		}
		r.Experiments++
		r.Trials += len(e.trials)
		r.Logs += e.nLogs
	}
}

// recordDamage marks errors about a record's contents, as opposed to a
// page bbolt could not read.
type recordDamage struct{ error }

func (e recordDamage) Unwrap() error { return e.error }

func isRecordDamage(err error) bool {
	var rd recordDamage
	return errors.As(err, &rd)
}

// catchErr runs fn, turning a panic into an error naming part.
func catchErr(part string, fn func() error) (err error) {
	defer catch(part, &err)
	return fn()
}

// scanExperiment reads what it can of experiment bucket eb, reporting each
// damaged part to fail; the intact log entries are kept when keepLogs is
// set, only counted otherwise. It returns nil when the record is
// unreadable.
func scanExperiment(name string, eb *bolt.Bucket, keepLogs bool, fail func(error)) (*scanned, error) {
	part := fmt.Sprintf("experiment %q: record", name)
	var rec experiment.Record
	v := eb.Get([]byte(keyRecord))
	if v == nil {
		return nil, damagef(part, "missing")
	}
	if err := decodeValue(func() string { return part }, v, &rec, []byte(keyRecord)); err != nil {
		return nil, recordDamage{err}
	}
	if rec.Name != name {
		return nil, recordDamage{damagef(part, "holds experiment %q", rec.Name)}
	}
	e := &scanned{rec: &rec}
	if keepLogs {
		e.logs = map[int][]metrics.Log{}
	}
	part = fmt.Sprintf("experiment %q: status", name)
	statusOK := false
	if v := eb.Get([]byte(keyStatus)); v == nil {
		fail(damagef(part, "missing"))
	} else if err := decodeValue(func() string { return part }, v, &rec.Status, []byte(keyStatus)); err != nil {
		fail(recordDamage{err})
	} else if err := checkStatus(&rec.Status); err != nil {
		fail(recordDamage{damagef(part, "%v", err)})
	} else {
		statusOK = true
	}
	tb, lb := eb.Bucket([]byte(bucketTrials)), eb.Bucket([]byte(bucketLogs))
	if tb == nil {
		fail(damagef(fmt.Sprintf("experiment %q", name), "no trials bucket"))
	} else {
		fail(catchErr(fmt.Sprintf("experiment %q: trials", name), func() error {
			var order keyOrder
			part := partf("experiment %q: trials", name)
			return tb.ForEach(func(k, v []byte) error {
				if err := order.next(part, k); err != nil {
					fail(recordDamage{err})
					return nil
				}
				t, err := decodeTrial(name, k, v)
				if err != nil {
					fail(recordDamage{err})
					return nil
				}
				e.trials = append(e.trials, *t)
				return nil
			})
		}))
	}
	if lb == nil {
		fail(damagef(fmt.Sprintf("experiment %q", name), "no logs bucket"))
	} else {
		for _, t := range e.trials {
			b := lb.Bucket(seqKey(uint64(t.Seq)))
			if b == nil {
				continue
			}
			fail(catchErr(fmt.Sprintf("experiment %q: trial %q: logs", name, t.Name), func() error {
				var order keyOrder
				part := partf("experiment %q: trial %q: logs", name, t.Name)
				return b.ForEach(func(k, v []byte) error {
					if err := order.next(part, k); err != nil {
						fail(recordDamage{err})
						return nil
					}
					l, err := decodeLog(name, t.Name, seqKey(uint64(t.Seq)), k, v)
					if err != nil {
						fail(recordDamage{err})
						return nil
					}
					e.nLogs++
					if keepLogs {
						e.logs[t.Seq] = append(e.logs[t.Seq], l)
					}
					return nil
				})
			}))
		}
	}
	if err := checkSummary(name, eb, &rec); err != nil {
		fail(recordDamage{err})
	}
	if tb != nil && lb != nil {
		fail(catchErr(fmt.Sprintf("experiment %q: rank index", name), func() error {
			if err := checkIndex(name, eb, &rec.Spec, e.trials); err != nil {
				return recordDamage{err}
			}
			return nil
		}))
	}
	if !statusOK {
		rec.Status = rebuiltStatus(&rec.Status, e.trials)
	}
	return e, nil
}

// rebuiltStatus is the status Recover gives an experiment whose status
// record is damaged: Stopped, counts from the trials copied.
func rebuiltStatus(old *experiment.Status, trials []trial.Trial) experiment.Status {
	st := experiment.Status{
		Phase:   experiment.Stopped,
		Reason:  experiment.ReasonStoreError,
		Message: "the status record was damaged; rebuilt from the trials by tune store recover",
		Created: old.Created,
	}
	st.SetCounts(len(trials), func(i int) trial.State { return trials[i].State })
	return st
}

// putExperiment writes a scanned experiment as a new one, in one
// transaction.
func (s *Store) putExperiment(ctx context.Context, e *scanned) error {
	rec := e.rec
	recJSON, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("experiment %q: encode record: %w", rec.Name, err)
	}
	stJSON, err := encodeValue(rec.Status, []byte(keyStatus))
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", rec.Name, err)
	}
	return s.update(ctx, fmt.Sprintf("experiment %q", rec.Name), func(tx *bolt.Tx) error {
		exps := tx.Bucket([]byte(bucketExperiments))
		b, err := exps.CreateBucket([]byte(rec.Name))
		if err != nil {
			return fmt.Errorf("experiment %q: create: %w", rec.Name, err)
		}
		if err := b.Put([]byte(keyRecord), recJSON); err != nil {
			return fmt.Errorf("experiment %q: write record: %w", rec.Name, err)
		}
		if err := putSummary(b, rec); err != nil {
			return err
		}
		if err := b.Put([]byte(keyStatus), stJSON); err != nil {
			return fmt.Errorf("experiment %q: write status: %w", rec.Name, err)
		}
		tb, err := b.CreateBucket([]byte(bucketTrials))
		if err != nil {
			return fmt.Errorf("experiment %q: create trials: %w", rec.Name, err)
		}
		lb, err := b.CreateBucket([]byte(bucketLogs))
		if err != nil {
			return fmt.Errorf("experiment %q: create logs: %w", rec.Name, err)
		}
		for i := range e.trials {
			t := &e.trials[i]
			key := seqKey(uint64(t.Seq))
			v, err := encodeValue(t, key)
			if err != nil {
				return fmt.Errorf("trial %q: encode: %w", t.Name, err)
			}
			if err := tb.Put(key, v); err != nil {
				return fmt.Errorf("trial %q: write: %w", t.Name, err)
			}
			logs := e.logs[t.Seq]
			if len(logs) == 0 {
				continue
			}
			b, err := lb.CreateBucket(key)
			if err != nil {
				return fmt.Errorf("trial %q: create logs: %w", t.Name, err)
			}
			for j := range logs {
				data, err := json.Marshal(&logs[j])
				if err != nil {
					return fmt.Errorf("trial %q: encode log: %w", t.Name, err)
				}
				n, err := b.NextSequence()
				if err != nil {
					return fmt.Errorf("trial %q: append log: %w", t.Name, err)
				}
				if err := b.Put(seqKey(n), seal(data, key, seqKey(n))); err != nil {
					return fmt.Errorf("trial %q: append log: %w", t.Name, err)
				}
			}
		}
		return buildIndex(rec.Name, b, &rec.Spec)
	})
}

// openDamaged returns a read-only Store of the file at path without the
// schema check [Open] makes, so that a store too damaged to open can still
// be checked or recovered.
func openDamaged(path string, opts *Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty path")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	s := &Store{path: path, timeout: o.Timeout, readOnly: true}
	state, err := s.preflight()
	switch {
	case err != nil && !errors.Is(err, ErrDamaged):
		return nil, err
	case state == fileMissing:
		return nil, fmt.Errorf("store %s: %w", path, ErrNoStore)
	}
	s.realPath = realPath(path)
	return s, nil
}

// CheckFile runs [Store.Check] on the store file at path, opened read-only
// even when it is too damaged for [Open]. A nil opts means the defaults;
// ReadOnly is implied.
func CheckFile(ctx context.Context, path string, opts *Options) (*Report, error) {
	s, err := openDamaged(path, opts)
	if err != nil {
		return nil, err
	}
	return s.Check(ctx)
}

// RecoverFile runs [Store.Recover] from the store file at path, opened
// read-only even when it is too damaged for [Open], to the new file to. A
// nil opts means the defaults; ReadOnly is implied.
func RecoverFile(ctx context.Context, path, to string, opts *Options) (*Report, error) {
	s, err := openDamaged(path, opts)
	if err != nil {
		return nil, err
	}
	return s.Recover(ctx, to)
}
