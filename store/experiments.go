package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

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
	stJSON, err := json.Marshal(rec.Status)
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", rec.Name, err)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
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
		if err := b.Put([]byte(keyStatus), stJSON); err != nil {
			return fmt.Errorf("experiment %q: write status: %w", rec.Name, err)
		}
		for _, nested := range []string{bucketTrials, bucketLogs} {
			if _, err := b.CreateBucket([]byte(nested)); err != nil {
				return fmt.Errorf("experiment %q: create %s: %w", rec.Name, nested, err)
			}
		}
		return nil
	})
}

// Experiment returns the named experiment with its current status. It
// returns an error wrapping [experiment.ErrNotFound] when there is none.
func (s *Store) Experiment(ctx context.Context, name string) (*experiment.Record, error) {
	var rec *experiment.Record
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, err := experimentBucket(tx, name)
		if err != nil {
			return err
		}
		rec, err = decodeRecord(name, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Experiments returns every experiment with its current status, sorted by
// name (byte-wise). It returns an empty slice when there are none.
func (s *Store) Experiments(ctx context.Context) ([]experiment.Record, error) {
	recs := []experiment.Record{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketExperiments)).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				continue // not a bucket
			}
			rec, err := decodeRecord(string(k), tx.Bucket([]byte(bucketExperiments)).Bucket(k))
			if err != nil {
				return err
			}
			recs = append(recs, *rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// UpdateStatus replaces the status of the named experiment, leaving its
// record and trials alone. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) UpdateStatus(ctx context.Context, name string, st experiment.Status) error {
	stJSON, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", name, err)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
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
// alone; resuming with a raised budget uses it. It returns an error wrapping
// [experiment.ErrNotFound] when there is no such experiment.
func (s *Store) UpdateExperiment(ctx context.Context, rec *experiment.Record) error {
	if rec == nil {
		return errors.New("update experiment: nil record")
	}
	recJSON, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("experiment %q: encode record: %w", rec.Name, err)
	}
	stJSON, err := json.Marshal(rec.Status)
	if err != nil {
		return fmt.Errorf("experiment %q: encode status: %w", rec.Name, err)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := experimentBucket(tx, rec.Name)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(keyRecord), recJSON); err != nil {
			return fmt.Errorf("experiment %q: write record: %w", rec.Name, err)
		}
		if err := b.Put([]byte(keyStatus), stJSON); err != nil {
			return fmt.Errorf("experiment %q: write status: %w", rec.Name, err)
		}
		return nil
	})
}

// DeleteExperiment removes the named experiment with its trials and
// observation logs. It returns an error wrapping [experiment.ErrNotFound]
// when there is no such experiment. The space is reused by later writes;
// the file does not shrink.
func (s *Store) DeleteExperiment(ctx context.Context, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := experimentBucket(tx, name); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketExperiments)).DeleteBucket([]byte(name)); err != nil {
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

// encodeRecord returns rec as JSON without its status, which is kept under
// its own key. Going through a map keeps any field added to Record later.
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
	return json.Marshal(fields)
}

// decodeRecord reads the record and status of experiment bucket b.
func decodeRecord(name string, b *bolt.Bucket) (*experiment.Record, error) {
	recJSON := b.Get([]byte(keyRecord))
	if recJSON == nil {
		return nil, fmt.Errorf("experiment %q: corrupt: no record", name)
	}
	var rec experiment.Record
	if err := json.Unmarshal(recJSON, &rec); err != nil {
		return nil, fmt.Errorf("experiment %q: decode record: %w", name, err)
	}
	if stJSON := b.Get([]byte(keyStatus)); stJSON != nil {
		if err := json.Unmarshal(stJSON, &rec.Status); err != nil {
			return nil, fmt.Errorf("experiment %q: decode status: %w", name, err)
		}
	}
	return &rec, nil
}
