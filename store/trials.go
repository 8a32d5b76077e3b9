package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// SaveTrial creates or replaces trial t of experiment exp, keyed by t.Seq
// (which must be at least 1), appends logs to the trial's observation log
// and, when st is not nil, replaces the experiment's status, all in one
// transaction: a reader or a crash never sees a trial's new state without
// the status counts that include it. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) SaveTrial(ctx context.Context, exp string, t *trial.Trial, logs []metrics.Log, st *experiment.Status) error {
	return s.SaveTrials(ctx, exp, []experiment.TrialWrite{{Trial: t, Logs: logs}}, st)
}

// ReplaceTrialLogs is [Store.SaveTrial], except that logs replace the
// trial's observation log instead of being appended to it, in the same
// transaction.
func (s *Store) ReplaceTrialLogs(ctx context.Context, exp string, t *trial.Trial, logs []metrics.Log, st *experiment.Status) error {
	return s.SaveTrials(ctx, exp, []experiment.TrialWrite{{Trial: t, Logs: logs, ReplaceLogs: true}}, st)
}

// SaveTrials is [Store.SaveTrial] for several trials at once: it applies
// writes in order, then writes st when it is not nil, all in one
// transaction, so that the runner pays one file open and one sync for
// every trial that changed in one step of its loop. Nothing is written
// when any write is invalid (a nil trial, a Seq below 1).
func (s *Store) SaveTrials(ctx context.Context, exp string, writes []experiment.TrialWrite, st *experiment.Status) error {
	enc := make([]encodedTrial, len(writes))
	for i, w := range writes {
		if err := enc[i].encode(exp, w); err != nil {
			return err
		}
	}
	var stJSON []byte
	if st != nil {
		var err error
		if stJSON, err = encodeValue(st, []byte(keyStatus)); err != nil {
			return fmt.Errorf("experiment %q: encode status: %w", exp, err)
		}
	}
	part := fmt.Sprintf("experiment %q: status", exp)
	if len(writes) > 0 {
		part = fmt.Sprintf("experiment %q: trial %q", exp, writes[0].Trial.Name)
		if len(writes) > 1 {
			part += fmt.Sprintf(" and %d more", len(writes)-1)
		}
	}
	return s.update(ctx, part, func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		if stJSON != nil {
			if err := eb.Put([]byte(keyStatus), stJSON); err != nil {
				return fmt.Errorf("experiment %q: write status: %w", exp, err)
			}
		}
		tb, lb, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		for i := range enc {
			if err := enc[i].put(tb, lb); err != nil {
				return err
			}
			if err := indexTrial(exp, eb, enc[i].t); err != nil {
				return err
			}
		}
		return nil
	})
}

// encodedTrial is one write of SaveTrials, encoded before its transaction.
type encodedTrial struct {
	t       *trial.Trial
	name    string
	key     []byte
	trial   []byte
	logs    [][]byte
	replace bool
}

func (e *encodedTrial) encode(exp string, w experiment.TrialWrite) error {
	t := w.Trial
	if t == nil {
		return fmt.Errorf("experiment %q: save trial: nil trial", exp)
	}
	if t.Seq < 1 {
		return fmt.Errorf("trial %q: seq %d out of range (trials are numbered from 1)", t.Name, t.Seq)
	}
	e.t, e.name, e.key, e.replace = t, t.Name, seqKey(uint64(t.Seq)), w.ReplaceLogs
	var err error
	if e.trial, err = encodeValue(t, e.key); err != nil {
		return fmt.Errorf("trial %q: encode: %w", t.Name, err)
	}
	e.logs = make([][]byte, len(w.Logs))
	for i := range w.Logs {
		if e.logs[i], err = json.Marshal(&w.Logs[i]); err != nil {
			return fmt.Errorf("trial %q: encode log: %w", t.Name, err)
		}
	}
	return nil
}

// put writes e into the trials bucket tb and the logs bucket lb.
func (e *encodedTrial) put(tb, lb *bolt.Bucket) error {
	if err := tb.Put(e.key, e.trial); err != nil {
		return fmt.Errorf("trial %q: write: %w", e.name, err)
	}
	if e.replace && lb.Bucket(e.key) != nil {
		if err := lb.DeleteBucket(e.key); err != nil {
			return fmt.Errorf("trial %q: replace logs: %w", e.name, err)
		}
	}
	if len(e.logs) == 0 {
		return nil
	}
	b, err := lb.CreateBucketIfNotExists(e.key)
	if err != nil {
		return fmt.Errorf("trial %q: create logs: %w", e.name, err)
	}
	for _, v := range e.logs {
		n, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("trial %q: append log: %w", e.name, err)
		}
		if err := b.Put(seqKey(n), seal(v, e.key, seqKey(n))); err != nil {
			return fmt.Errorf("trial %q: append log: %w", e.name, err)
		}
	}
	return nil
}

// ClearTrialLogs empties the observation log of the trial numbered seq of
// experiment exp, as a runner that re-reads a trial's whole output (on
// resume, following a workload that outlived the previous runner) does
// before recording it again. A trial without logs is not an error; it
// returns an error wrapping [experiment.ErrNotFound] when there is no such
// experiment.
func (s *Store) ClearTrialLogs(ctx context.Context, exp string, seq int) error {
	if seq < 1 {
		return fmt.Errorf("experiment %q: clear logs: seq %d out of range (trials are numbered from 1)", exp, seq)
	}
	return s.update(ctx, fmt.Sprintf("experiment %q: trial %d: logs", exp, seq), func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		_, lb, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		key := seqKey(uint64(seq))
		if lb.Bucket(key) == nil {
			return nil
		}
		if err := lb.DeleteBucket(key); err != nil {
			return fmt.Errorf("experiment %q: trial %d: clear logs: %w", exp, seq, err)
		}
		return nil
	})
}

// Trials returns the trials of experiment exp in creation (Seq) order; an
// empty slice when it has none. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment, and one
// wrapping [ErrDamaged] naming the trial when a trial record cannot be read.
func (s *Store) Trials(ctx context.Context, exp string) ([]trial.Trial, error) {
	trials := []trial.Trial{}
	err := s.view(ctx, fmt.Sprintf("experiment %q: trials", exp), func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		tb, _, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		var order keyOrder
		part := partf("experiment %q: trials", exp)
		return tb.ForEach(func(k, v []byte) error {
			if err := order.next(part, k); err != nil {
				return err
			}
			t, err := decodeTrial(exp, k, v)
			if err != nil {
				return err
			}
			trials = append(trials, *t)
			return nil
		})
	})
	if err != nil {
		return nil, emptyNotFound(err, exp)
	}
	return trials, nil
}

// Trial returns the trial of experiment exp with the given name. It returns
// an error wrapping [experiment.ErrNotFound] when there is no such
// experiment or trial, and one wrapping [ErrDamaged] when its record cannot
// be read.
func (s *Store) Trial(ctx context.Context, exp, name string) (*trial.Trial, error) {
	var t *trial.Trial
	err := s.view(ctx, fmt.Sprintf("experiment %q: trial %q", exp, name), func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		tb, _, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		k, v, err := findTrial(tb, exp, name)
		if err != nil {
			return err
		}
		t, err = decodeTrial(exp, k, v)
		return err
	})
	if err != nil {
		return nil, emptyNotFound(err, exp)
	}
	return t, nil
}

// Logs returns the observation log of the named trial of experiment exp in
// the order the entries were saved; an empty slice when there are none. It
// returns an error wrapping [experiment.ErrNotFound] when there is no such
// experiment or trial, and one wrapping [ErrDamaged] naming the trial when
// an entry cannot be read.
func (s *Store) Logs(ctx context.Context, exp, trialName string) ([]metrics.Log, error) {
	logs := []metrics.Log{}
	err := s.view(ctx, fmt.Sprintf("experiment %q: trial %q: logs", exp, trialName), func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		tb, lb, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		key, _, err := findTrial(tb, exp, trialName)
		if err != nil {
			return err
		}
		b := lb.Bucket(key)
		if b == nil {
			return nil
		}
		var order keyOrder
		part := partf("experiment %q: trial %q: logs", exp, trialName)
		return b.ForEach(func(k, v []byte) error {
			if err := order.next(part, k); err != nil {
				return err
			}
			l, err := decodeLog(exp, trialName, key, k, v)
			if err != nil {
				return err
			}
			logs = append(logs, l)
			return nil
		})
	})
	if err != nil {
		return nil, emptyNotFound(err, exp)
	}
	return logs, nil
}

// emptyNotFound turns errEmpty into a not-found error for experiment exp.
func emptyNotFound(err error, exp string) error {
	if errors.Is(err, errEmpty) {
		return fmt.Errorf("%w: experiment %q: %w", err, exp, experiment.ErrNotFound)
	}
	return err
}

// decodeTrial decodes and checks the trial record v stored under key k of
// experiment exp's trials bucket. Errors wrap ErrDamaged and name the trial.
func decodeTrial(exp string, k, v []byte) (*trial.Trial, error) {
	if len(k) != 8 {
		return nil, damagef(fmt.Sprintf("experiment %q: trial record %x", exp, k), "key is %d bytes, not 8", len(k))
	}
	seq := binary.BigEndian.Uint64(k)
	part := partf("experiment %q: trial %d", exp, seq)
	if v == nil {
		return nil, damagef(part(), "a bucket where a record belongs")
	}
	var t trial.Trial
	if err := decodeValue(part, v, &t, k); err != nil {
		return nil, err
	}
	switch {
	case t.Name == "":
		return nil, damagef(part(), "no name")
	case t.Seq < 1 || uint64(t.Seq) != seq:
		return nil, damagef(part(), "record %q says seq %d", t.Name, t.Seq)
	case t.State == "":
		return nil, damagef(part(), "trial %q has no state", t.Name)
	}
	return &t, nil
}

// decodeLog decodes and checks the observation log entry v stored under key
// k of the named trial, whose key is tk. Errors wrap ErrDamaged and name the
// trial.
func decodeLog(exp, trialName string, tk, k, v []byte) (metrics.Log, error) {
	var l metrics.Log
	if len(k) != 8 {
		return l, damagef(fmt.Sprintf("experiment %q: trial %q: log entry %x", exp, trialName, k), "key is %d bytes, not 8", len(k))
	}
	part := func() string {
		return fmt.Sprintf("experiment %q: trial %q: log entry %d", exp, trialName, binary.BigEndian.Uint64(k))
	}
	if v == nil {
		return l, damagef(part(), "a bucket where an entry belongs")
	}
	if err := decodeValue(part, v, &l, tk, k); err != nil {
		return l, err
	}
	if l.Metric == "" {
		return l, damagef(part(), "no metric name")
	}
	return l, nil
}

// trialBuckets returns the trials and logs buckets of experiment bucket eb.
func trialBuckets(exp string, eb *bolt.Bucket) (trials, logs *bolt.Bucket, err error) {
	trials, logs = eb.Bucket([]byte(bucketTrials)), eb.Bucket([]byte(bucketLogs))
	if trials == nil || logs == nil {
		return nil, nil, fmt.Errorf("experiment %q: corrupt: missing trials or logs bucket", exp)
	}
	return trials, logs, nil
}

// findTrial returns the key and value of the named trial in trials bucket tb.
// Names are "<experiment>-<seq>", so the key the name's suffix gives is tried
// first; the bucket is scanned when that misses. The slices are valid for the
// life of the transaction.
func findTrial(tb *bolt.Bucket, exp, name string) (key, val []byte, err error) {
	if i := strings.LastIndexByte(name, '-'); i >= 0 {
		if seq, err := strconv.ParseUint(name[i+1:], 10, 64); err == nil && seq > 0 {
			k := seqKey(seq)
			if v := tb.Get(k); v != nil {
				if _, err := decodeTrial(exp, k, v); err != nil {
					return nil, nil, err
				}
				if trialName(k, v) == name {
					return k, v, nil
				}
			}
		}
	}
	c := tb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil && trialName(k, v) == name {
			return k, v, nil
		}
	}
	return nil, nil, fmt.Errorf("experiment %q: trial %q: %w", exp, name, experiment.ErrNotFound)
}

// trialName returns the name in a trial's record, or "" when it has none or
// cannot be read.
func trialName(k, v []byte) string {
	var t struct {
		Name string `json:"name"`
	}
	if decodeValue(func() string { return "" }, v, &t, k) != nil {
		return ""
	}
	return t.Name
}

// seqKey returns n as an 8-byte big-endian key, so that cursor order is
// numeric order.
func seqKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// keyOrder checks that the keys a cursor returns increase, as they do in a
// sound bucket; a damaged page can hand out a key of another place.
type keyOrder struct{ last []byte }

// next returns an error wrapping ErrDamaged naming part when k does not
// come after every key before it.
func (o *keyOrder) next(part func() string, k []byte) error {
	if o.last != nil && bytes.Compare(k, o.last) <= 0 {
		return damagef(part(), "key %x out of order after %x", k, o.last)
	}
	o.last = append(o.last[:0], k...)
	return nil
}
