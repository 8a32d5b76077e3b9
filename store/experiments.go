package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tune-hpo/tune/experiment"
)

// CreateExperiment stores rec as a new experiment, with its status and no
// trials. It returns an error wrapping [experiment.ErrExists] when the name
// is taken.
func (s *Store) CreateExperiment(ctx context.Context, rec *experiment.Record) error {
	if rec == nil || rec.Name == "" {
		return errors.New("create experiment: empty name")
	}
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
		name := []byte(rec.Name)
		if exps.Get(name) != nil || exps.Bucket(name) != nil {
			return fmt.Errorf("experiment %q: %w", rec.Name, experiment.ErrExists)
		}
		b, err := exps.CreateBucket(name)
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
		for _, nested := range []string{bucketTrials, bucketLogs} {
			if _, err := b.CreateBucket([]byte(nested)); err != nil {
				return fmt.Errorf("experiment %q: create %s: %w", rec.Name, nested, err)
			}
		}
		_, err = createIndex(rec.Name, b, orderOf(&rec.Spec))
		return err
	})
}

// Experiment returns the named experiment with its current status. It
// returns an error wrapping [experiment.ErrNotFound] when there is none.
func (s *Store) Experiment(ctx context.Context, name string) (*experiment.Record, error) {
	var rec *experiment.Record
	err := s.view(ctx, fmt.Sprintf("experiment %q", name), func(tx *bolt.Tx) error {
		b, err := experimentBucket(tx, name)
		if err != nil {
			return err
		}
		rec, err = decodeRecord(name, b)
		return err
	})
	if errors.Is(err, errEmpty) {
		return nil, fmt.Errorf("%w: experiment %q: %w", err, name, experiment.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Experiments returns every experiment with its current status, sorted by
// name (byte-wise); an empty slice when there are none or the file holds no
// tune data yet.
//
// An experiment whose record or status cannot be read fails alone: the
// others are returned together with an error wrapping [ErrDamaged] that
// joins one error per damaged experiment, each naming it. Any other error
// comes with a nil slice.
func (s *Store) Experiments(ctx context.Context) ([]experiment.Record, error) {
	return readEach(s, ctx, readExperiment)
}

// readEach returns what read gives of each experiment, in name order. An
// experiment read fails with an error wrapping ErrDamaged is left out, and
// the others are returned with those errors joined; any other error comes
// with a nil slice.
func readEach[T any](s *Store, ctx context.Context, read func(name string, exps *bolt.Bucket) (*T, error)) ([]T, error) {
	out := []T{}
	var damaged []error
	err := s.view(ctx, "experiments", func(tx *bolt.Tx) error {
		exps := tx.Bucket([]byte(bucketExperiments))
		c := exps.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				continue // not a bucket
			}
			x, err := read(string(k), exps)
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					return err
				}
				damaged = append(damaged, fmt.Errorf("store %s: %w", s.path, err))
				continue
			}
			out = append(out, *x)
		}
		return nil
	})
	switch {
	case errors.Is(err, errEmpty):
		return out, nil
	case err != nil:
		return nil, err
	}
	return out, errors.Join(damaged...)
}

// readExperiment decodes the named experiment of bucket exps, turning a
// panic on a damaged page into an error.
func readExperiment(name string, exps *bolt.Bucket) (rec *experiment.Record, err error) {
	defer catch(fmt.Sprintf("experiment %q", name), &err)
	b := exps.Bucket([]byte(name))
	if b == nil {
		return nil, damagef(fmt.Sprintf("experiment %q", name), "not a bucket")
	}
	return decodeRecord(name, b)
}

// UpdateStatus replaces the status of the named experiment, leaving its
// record and trials alone. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) UpdateStatus(ctx context.Context, name string, st experiment.Status) error {
	stJSON, err := encodeValue(st, []byte(keyStatus))
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", name, err)
	}
	return s.update(ctx, fmt.Sprintf("experiment %q: status", name), func(tx *bolt.Tx) error {
		b, err := experimentBucket(tx, name)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(keyStatus), stJSON); err != nil {
			return fmt.Errorf("experiment %q: write status: %w", name, err)
		}
		return nil
	})
}

// UpdateExperiment replaces the record (spec, submitted source) and the
// status of an existing experiment in one transaction, leaving its trials
// alone (their ranking index is rebuilt when the spec ranks them by another
// objective, goal or strategy); resuming with a raised budget uses it. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) UpdateExperiment(ctx context.Context, rec *experiment.Record) error {
	if rec == nil {
		return errors.New("update experiment: nil record")
	}
	recJSON, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("experiment %q: encode record: %w", rec.Name, err)
	}
	stJSON, err := encodeValue(rec.Status, []byte(keyStatus))
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", rec.Name, err)
	}
	return s.update(ctx, fmt.Sprintf("experiment %q", rec.Name), func(tx *bolt.Tx) error {
		b, err := experimentBucket(tx, rec.Name)
		if err != nil {
			return err
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
		return reindex(rec.Name, b, &rec.Spec)
	})
}

// DeleteExperiment removes the named experiment with its trials and
// observation logs. It returns an error wrapping [experiment.ErrNotFound]
// when there is no such experiment. The space is reused by later writes;
// the file does not shrink.
func (s *Store) DeleteExperiment(ctx context.Context, name string) error {
	return s.update(ctx, fmt.Sprintf("experiment %q", name), func(tx *bolt.Tx) error {
		if _, err := experimentBucket(tx, name); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketExperiments)).DeleteBucket([]byte(name)); err != nil {
			if errors.Is(err, berrors.ErrBucketNotFound) {
				// experimentBucket found it a moment ago.
				return damagef(fmt.Sprintf("experiment %q", name), "delete: %v", err)
			}
			return fmt.Errorf("experiment %q: delete: %w", name, err)
		}
		return nil
	})
}

// experimentBucket returns the bucket of the named experiment, or an error
// wrapping experiment.ErrNotFound.
func experimentBucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	var b *bolt.Bucket
	if name != "" {
		b = tx.Bucket([]byte(bucketExperiments)).Bucket([]byte(name))
	}
	if b == nil {
		return nil, fmt.Errorf("experiment %q: %w", name, experiment.ErrNotFound)
	}
	return b, nil
}

// encodeRecord returns rec as a checksummed record without its status,
// which is kept under its own key. Going through a map keeps any field
// added to Record later.
func encodeRecord(rec *experiment.Record) ([]byte, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	delete(fields, keyStatus)
	return encodeValue(fields, []byte(keyRecord))
}

// decodeRecord reads and checks the record and status of experiment bucket
// b. Errors wrap ErrDamaged and name the experiment and the record.
func decodeRecord(name string, b *bolt.Bucket) (*experiment.Record, error) {
	part := fmt.Sprintf("experiment %q: record", name)
	recJSON := b.Get([]byte(keyRecord))
	if recJSON == nil {
		return nil, damagef(part, "missing")
	}
	var rec experiment.Record
	if err := decodeValue(func() string { return part }, recJSON, &rec, []byte(keyRecord)); err != nil {
		return nil, err
	}
	if rec.Name != name {
		return nil, damagef(part, "holds experiment %q", rec.Name)
	}
	part = fmt.Sprintf("experiment %q: status", name)
	stJSON := b.Get([]byte(keyStatus))
	if stJSON == nil {
		return nil, damagef(part, "missing")
	}
	if err := decodeValue(func() string { return part }, stJSON, &rec.Status, []byte(keyStatus)); err != nil {
		return nil, err
	}
	if err := checkStatus(&rec.Status); err != nil {
		return nil, damagef(part, "%v", err)
	}
	return &rec, nil
}

// checkStatus reports what is impossible in a decoded status.
func checkStatus(st *experiment.Status) error {
	if st.Phase == "" {
		return errors.New("no phase")
	}
	for _, n := range []int{st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded, st.TrialsFailed, st.TrialsKilled, st.TrialsMetricsUnav, st.TrialsEarlyStopped} {
		if n < 0 {
			return fmt.Errorf("negative trial count %d", n)
		}
	}
	return nil
}
