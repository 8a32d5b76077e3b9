package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
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
	return s.saveTrial(ctx, exp, t, logs, st, false)
}

// ReplaceTrialLogs is [Store.SaveTrial], except that logs replace the
// trial's observation log instead of being appended to it, in the same
// transaction.
func (s *Store) ReplaceTrialLogs(ctx context.Context, exp string, t *trial.Trial, logs []metrics.Log, st *experiment.Status) error {
	return s.saveTrial(ctx, exp, t, logs, st, true)
}

func (s *Store) saveTrial(ctx context.Context, exp string, t *trial.Trial, logs []metrics.Log, st *experiment.Status, replace bool) error {
	if t == nil {
		return fmt.Errorf("experiment %q: save trial: nil trial", exp)
	}
	if t.Seq < 1 {
		return fmt.Errorf("trial %q: seq %d out of range (trials are numbered from 1)", t.Name, t.Seq)
	}
	tJSON, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("trial %q: encode: %w", t.Name, err)
	}
	logJSON := make([][]byte, len(logs))
	for i := range logs {
		if logJSON[i], err = json.Marshal(&logs[i]); err != nil {
			return fmt.Errorf("trial %q: encode log: %w", t.Name, err)
		}
	}
	var stJSON []byte
	if st != nil {
		if stJSON, err = json.Marshal(st); err != nil {
			return fmt.Errorf("experiment %q: encode status: %w", exp, err)
		}
	}
	key := seqKey(uint64(t.Seq))
	return s.update(ctx, func(tx *bolt.Tx) error {
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
		if err := tb.Put(key, tJSON); err != nil {
			return fmt.Errorf("trial %q: write: %w", t.Name, err)
		}
		if replace && lb.Bucket(key) != nil {
			if err := lb.DeleteBucket(key); err != nil {
				return fmt.Errorf("trial %q: replace logs: %w", t.Name, err)
			}
		}
		if len(logJSON) == 0 {
			return nil
		}
		b, err := lb.CreateBucketIfNotExists(key)
		if err != nil {
			return fmt.Errorf("trial %q: create logs: %w", t.Name, err)
		}
		for _, v := range logJSON {
			n, err := b.NextSequence()
			if err != nil {
				return fmt.Errorf("trial %q: append log: %w", t.Name, err)
			}
			if err := b.Put(seqKey(n), v); err != nil {
				return fmt.Errorf("trial %q: append log: %w", t.Name, err)
			}
		}
		return nil
	})
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
	return s.update(ctx, func(tx *bolt.Tx) error {
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
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) Trials(ctx context.Context, exp string) ([]trial.Trial, error) {
	trials := []trial.Trial{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		tb, _, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		return tb.ForEach(func(k, v []byte) error {
			trials = append(trials, trial.Trial{})
			if err := json.Unmarshal(v, &trials[len(trials)-1]); err != nil {
				return fmt.Errorf("experiment %q: trial %x: decode: %w", exp, k, err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return trials, nil
}

// Trial returns the trial of experiment exp with the given name. It returns
// an error wrapping [experiment.ErrNotFound] when there is no such
// experiment or trial.
func (s *Store) Trial(ctx context.Context, exp, name string) (*trial.Trial, error) {
	var t trial.Trial
	err := s.view(ctx, func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		tb, _, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		_, v, err := findTrial(tb, exp, name)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("trial %q: decode: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Logs returns the observation log of the named trial of experiment exp in
// the order the entries were saved; an empty slice when there are none. It
// returns an error wrapping [experiment.ErrNotFound] when there is no such
// experiment or trial.
func (s *Store) Logs(ctx context.Context, exp, trialName string) ([]metrics.Log, error) {
	logs := []metrics.Log{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
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
		return b.ForEach(func(k, v []byte) error {
			logs = append(logs, metrics.Log{})
			if err := json.Unmarshal(v, &logs[len(logs)-1]); err != nil {
				return fmt.Errorf("trial %q: log %x: decode: %w", trialName, k, err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return logs, nil
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
			if v := tb.Get(k); v != nil && trialName(v) == name {
				return k, v, nil
			}
		}
	}
	c := tb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil && trialName(v) == name {
			return k, v, nil
		}
	}
	return nil, nil, fmt.Errorf("experiment %q: trial %q: %w", exp, name, experiment.ErrNotFound)
}

// trialName returns the name in a trial's JSON, or "" when it has none.
func trialName(v []byte) string {
	var t struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(v, &t) != nil {
		return ""
	}
	return t.Name
}

// seqKey returns n as an 8-byte big-endian key, so that cursor order is
// numeric order.
func seqKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}
