package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
)

// keySummary is the key of an experiment's summary: what listings show of
// its spec, kept apart so that they need not decode the spec and source.
const keySummary = "summary"

// ExperimentSummary is what a listing of experiments shows of one.
type ExperimentSummary struct {
	Name string
	// Algorithm is the spec's algorithm name and Objective its objective
	// (nil when it has none).
	Algorithm string
	Objective *experiment.ObjectiveSpec
	// Status is the experiment's current status.
	Status experiment.Status
}

// summaryValue is the stored summary.
type summaryValue struct {
	Algorithm string                    `json:"algorithm,omitempty"`
	Objective *experiment.ObjectiveSpec `json:"objective,omitempty"`
}

func summaryOf(e *experiment.Experiment) summaryValue {
	v := summaryValue{Objective: e.Spec.Objective}
	if a := e.Spec.Algorithm; a != nil {
		v.Algorithm = a.AlgorithmName
	}
	return v
}

// putSummary writes the summary of rec, whose record experiment bucket eb
// holds, sealed for the experiment's name.
func putSummary(eb *bolt.Bucket, rec *experiment.Record) error {
	v, err := encodeValue(summaryOf(&rec.Spec), []byte(rec.Name), []byte(keySummary))
	if err != nil {
		return fmt.Errorf("experiment %q: encode summary: %w", rec.Name, err)
	}
	if err := eb.Put([]byte(keySummary), v); err != nil {
		return fmt.Errorf("experiment %q: write summary: %w", rec.Name, err)
	}
	return nil
}

// ExperimentSummaries is [Store.Experiments] returning what listings show
// of each experiment: its status, algorithm and objective, read without
// decoding its spec and source (except for an experiment last written by a
// tune before schema 3, whose record is decoded). Damage is reported as by
// Experiments, the summary's included.
func (s *Store) ExperimentSummaries(ctx context.Context) ([]ExperimentSummary, error) {
	return readEach(s, ctx, readSummary)
}

// readSummary decodes the summary and status of the named experiment of
// bucket exps, or its record when it has no summary, turning a panic on a
// damaged page into an error.
func readSummary(name string, exps *bolt.Bucket) (sum *ExperimentSummary, err error) {
	defer catch(fmt.Sprintf("experiment %q", name), &err)
	b := exps.Bucket([]byte(name))
	if b == nil {
		return nil, damagef(fmt.Sprintf("experiment %q", name), "not a bucket")
	}
	data := b.Get([]byte(keySummary))
	if data == nil {
		rec, err := decodeRecord(name, b)
		if err != nil {
			return nil, err
		}
		v := summaryOf(&rec.Spec)
		return &ExperimentSummary{Name: name, Algorithm: v.Algorithm, Objective: v.Objective, Status: rec.Status}, nil
	}
	part := fmt.Sprintf("experiment %q: summary", name)
	var v summaryValue
	if err := decodeValue(func() string { return part }, data, &v, []byte(name), []byte(keySummary)); err != nil {
		return nil, err
	}
	sum = &ExperimentSummary{Name: name, Algorithm: v.Algorithm, Objective: v.Objective}
	if b.Get([]byte(keyRecord)) == nil {
		return nil, damagef(fmt.Sprintf("experiment %q: record", name), "missing")
	}
	part = fmt.Sprintf("experiment %q: status", name)
	st := b.Get([]byte(keyStatus))
	if st == nil {
		return nil, damagef(part, "missing")
	}
	if err := decodeValue(func() string { return part }, st, &sum.Status, []byte(keyStatus)); err != nil {
		return nil, err
	}
	if err := checkStatus(&sum.Status); err != nil {
		return nil, damagef(part, "%v", err)
	}
	return sum, nil
}

// checkSummary reports, wrapping ErrDamaged, a summary of experiment
// bucket eb that is damaged or disagrees with rec, its decoded record.
func checkSummary(name string, eb *bolt.Bucket, rec *experiment.Record) error {
	data := eb.Get([]byte(keySummary))
	if data == nil {
		return nil
	}
	part := fmt.Sprintf("experiment %q: summary", name)
	var v summaryValue
	if err := decodeValue(func() string { return part }, data, &v, []byte(name), []byte(keySummary)); err != nil {
		return err
	}
	want, err := encodeValue(summaryOf(&rec.Spec), []byte(name), []byte(keySummary))
	if err != nil {
		return fmt.Errorf("experiment %q: encode summary: %w", name, err)
	}
	if string(want) != string(data) {
		return damagef(part, "disagrees with the record (tune store recover rewrites it)")
	}
	return nil
}
