package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// Bucket and key names of an experiment's ranking index; see the package
// documentation.
const (
	bucketRank   = "rank"
	keyRankOrder = "order"
	bucketBest   = "best"
	bucketSeqs   = "seqs"
	bucketText   = "text"
)

// rankKeyLen is the length of a key of the best bucket: a class byte (0:
// the trial counts, 1: it does not), its objective value as 8 bytes that
// sort in the goal's direction (zero when it does not count), its seq.
const rankKeyLen = 1 + 8 + 8

// rankOrder is what an experiment's trials rank by: the objective, its
// direction and the strategy that chooses a trial's value of it.
type rankOrder struct {
	Objective string           `json:"objective"`
	Maximize  bool             `json:"maximize,omitempty"`
	Strategy  metrics.Strategy `json:"strategy"`
}

// orderOf returns the order spec e ranks trials by, as
// [experiment.BestTrial] does.
func orderOf(e *experiment.Experiment) rankOrder {
	o := rankOrder{Maximize: e.Goal() == suggest.Maximize, Strategy: metrics.Latest}
	if obj := e.Spec.Objective; obj != nil {
		o.Objective = obj.ObjectiveMetricName
	}
	if st, ok := e.Strategies()[o.Objective]; ok {
		o.Strategy = st
	}
	return o
}

// key returns t's key in the best bucket: trials that Succeeded with a
// number for the objective first, by that number in the goal's direction,
// then every other trial, each group in seq order. Cursor order is then
// the order of [experiment.BestTrial] and results.Table.Ranked.
func (o *rankOrder) key(t *trial.Trial) []byte {
	k := make([]byte, rankKeyLen)
	binary.BigEndian.PutUint64(k[9:], uint64(t.Seq))
	v, ok := math.NaN(), false
	if t.State == trial.Succeeded {
		v, ok = t.Metrics[o.Objective].Value(o.Strategy)
	}
	if !ok || math.IsNaN(v) {
		k[0] = 1
		return k
	}
	if v == 0 {
		v = 0 // -0 ties with 0, as it compares equal
	}
	b := math.Float64bits(v)
	if b>>63 == 1 {
		b = ^b // negative: larger magnitudes sort first
	} else {
		b |= 1 << 63
	}
	if o.Maximize {
		b = ^b
	}
	binary.BigEndian.PutUint64(k[1:9], b)
	return k
}

// counts reports whether rank key k is of a trial that counts for ranking.
func counts(k []byte) bool { return len(k) == rankKeyLen && k[0] == 0 }

// rankIndex is an experiment's ranking index in a transaction.
type rankIndex struct {
	exp              string
	order            rankOrder
	best, seqs, text *bolt.Bucket
}

// openIndex returns the ranking index of experiment bucket eb, or nil when
// it has none. A malformed index is damage.
func openIndex(exp string, eb *bolt.Bucket) (*rankIndex, error) {
	rb := eb.Bucket([]byte(bucketRank))
	if rb == nil {
		return nil, nil
	}
	part := fmt.Sprintf("experiment %q: rank index", exp)
	ix := &rankIndex{exp: exp, best: rb.Bucket([]byte(bucketBest)), seqs: rb.Bucket([]byte(bucketSeqs)), text: rb.Bucket([]byte(bucketText))}
	if ix.best == nil || ix.seqs == nil || ix.text == nil {
		return nil, damagef(part, "missing a bucket")
	}
	// New trials' seqs come last: fill pages instead of splitting them
	// half empty.
	ix.seqs.FillPercent = 1
	v := rb.Get([]byte(keyRankOrder))
	if v == nil {
		return nil, damagef(part, "no order")
	}
	if err := decodeValue(func() string { return part + ": order" }, v, &ix.order, []byte(bucketRank), []byte(keyRankOrder)); err != nil {
		return nil, err
	}
	return ix, nil
}

// put records t in the index, replacing what it said of t before. It
// writes nothing when that has not changed (a running trial's log flush),
// so that such a write costs no more pages than without the index.
func (ix *rankIndex) put(t *trial.Trial) error {
	seq, key := seqKey(uint64(t.Seq)), ix.order.key(t)
	if old := ix.seqs.Get(seq); !bytes.Equal(old, key) {
		if old != nil {
			if err := ix.best.Delete(old); err != nil {
				return fmt.Errorf("trial %q: index: %w", t.Name, err)
			}
		}
		if err := ix.best.Put(key, []byte{}); err != nil {
			return fmt.Errorf("trial %q: index: %w", t.Name, err)
		}
		if err := ix.seqs.Put(seq, key); err != nil {
			return fmt.Errorf("trial %q: index: %w", t.Name, err)
		}
	}
	_, text := experiment.ObjectiveText(t, ix.order.Objective)
	if was := ix.text.Get(seq) != nil; text != was {
		var err error
		if text {
			err = ix.text.Put(seq, []byte{})
		} else {
			err = ix.text.Delete(seq)
		}
		if err != nil {
			return fmt.Errorf("trial %q: index: %w", t.Name, err)
		}
	}
	return nil
}

// indexTrial records trial t, just written to experiment bucket eb of
// experiment exp, in the experiment's ranking index. An experiment without
// an index (written by a tune before schema 3) gets one built from its
// record and every trial, t included; when a trial cannot be read it is
// left without one (readers then read every trial, and report the damage).
func indexTrial(exp string, eb *bolt.Bucket, t *trial.Trial) error {
	ix, err := openIndex(exp, eb)
	if err != nil {
		return err
	}
	if ix != nil {
		return ix.put(t)
	}
	rec, err := decodeRecord(exp, eb)
	if err == nil {
		err = buildIndex(exp, eb, &rec.Spec)
	}
	if errors.Is(err, ErrDamaged) {
		return nil
	}
	return err
}

// reindex gives experiment bucket eb, whose spec is now spec, a ranking
// index built from every trial when it has none or its index ranks by
// another order; a trial that cannot be read leaves it without one.
func reindex(exp string, eb *bolt.Bucket, spec *experiment.Experiment) error {
	ix, err := openIndex(exp, eb)
	if err == nil && ix != nil && ix.order == orderOf(spec) {
		return nil
	}
	if err := buildIndex(exp, eb, spec); err != nil && !errors.Is(err, ErrDamaged) {
		return err
	}
	return nil
}

// buildIndex replaces the ranking index of experiment bucket eb by one of
// its trials under spec's order. On an error wrapping ErrDamaged (a trial
// that cannot be read) the experiment is left without an index.
func buildIndex(exp string, eb *bolt.Bucket, spec *experiment.Experiment) error {
	if eb.Bucket([]byte(bucketRank)) != nil {
		if err := eb.DeleteBucket([]byte(bucketRank)); err != nil {
			return fmt.Errorf("experiment %q: index: %w", exp, err)
		}
	}
	tb := eb.Bucket([]byte(bucketTrials))
	if tb == nil {
		return fmt.Errorf("experiment %q: corrupt: missing trials bucket", exp)
	}
	// Read every trial first: a damaged one leaves no index behind.
	order := orderOf(spec)
	type entry struct {
		seq, key []byte
		text     bool
	}
	var entries []entry
	var keys keyOrder
	part := partf("experiment %q: trials", exp)
	err := tb.ForEach(func(k, v []byte) error {
		if err := keys.next(part, k); err != nil {
			return err
		}
		t, err := decodeTrial(exp, k, v)
		if err != nil {
			return err
		}
		_, text := experiment.ObjectiveText(t, order.Objective)
		entries = append(entries, entry{seq: slices.Clone(k), key: order.key(t), text: text})
		return nil
	})
	if err != nil {
		return err
	}
	ix, err := createIndex(exp, eb, order)
	if err != nil {
		return err
	}
	// Appending in key order fills pages instead of splitting them.
	ix.seqs.FillPercent = 1
	for _, e := range entries {
		if err := ix.seqs.Put(e.seq, e.key); err != nil {
			return fmt.Errorf("experiment %q: index: %w", exp, err)
		}
		if e.text {
			if err := ix.text.Put(e.seq, []byte{}); err != nil {
				return fmt.Errorf("experiment %q: index: %w", exp, err)
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	ix.best.FillPercent = 1
	for _, e := range entries {
		if err := ix.best.Put(e.key, []byte{}); err != nil {
			return fmt.Errorf("experiment %q: index: %w", exp, err)
		}
	}
	return nil
}

// createIndex creates the empty ranking index of experiment bucket eb,
// which has none, under order.
func createIndex(exp string, eb *bolt.Bucket, order rankOrder) (*rankIndex, error) {
	rb, err := eb.CreateBucket([]byte(bucketRank))
	if err != nil {
		return nil, fmt.Errorf("experiment %q: create index: %w", exp, err)
	}
	v, err := encodeValue(order, []byte(bucketRank), []byte(keyRankOrder))
	if err != nil {
		return nil, fmt.Errorf("experiment %q: encode index order: %w", exp, err)
	}
	if err := rb.Put([]byte(keyRankOrder), v); err != nil {
		return nil, fmt.Errorf("experiment %q: create index: %w", exp, err)
	}
	ix := &rankIndex{exp: exp, order: order}
	for _, b := range []struct {
		name string
		to   **bolt.Bucket
	}{{bucketBest, &ix.best}, {bucketSeqs, &ix.seqs}, {bucketText, &ix.text}} {
		if *b.to, err = rb.CreateBucket([]byte(b.name)); err != nil {
			return nil, fmt.Errorf("experiment %q: create index: %w", exp, err)
		}
	}
	return ix, nil
}

// Top returns experiment exp and the trials that rank it, read in one
// transaction through its ranking index without decoding the others: its
// first n trials by the rule of [experiment.BestTrial] (the Succeeded
// trials with a number for the objective, by that number in the goal's
// direction, the earliest first on ties, then every other trial in
// creation order) and, when no trial has such a number, the last trial
// that Succeeded with the objective only as text. The trials come in
// creation order, each once; n < 1 means every trial.
//
// ok is false, with no record or trials, when the experiment has no index
// that ranks by its spec's order (it was written by a tune before schema
// 3 and not since): [Store.Trials] then has them. Errors are those of
// [Store.Trials]; one wrapping [ErrDamaged] also when the index names a
// trial that does not rank as it says.
func (s *Store) Top(ctx context.Context, exp string, n int) (rec *experiment.Record, trials []trial.Trial, ok bool, err error) {
	err = s.view(ctx, fmt.Sprintf("experiment %q: trials", exp), func(tx *bolt.Tx) error {
		eb, err := experimentBucket(tx, exp)
		if err != nil {
			return err
		}
		r, err := decodeRecord(exp, eb)
		if err != nil {
			return err
		}
		tb, _, err := trialBuckets(exp, eb)
		if err != nil {
			return err
		}
		ix, err := openIndex(exp, eb)
		if err != nil || ix == nil || ix.order != orderOf(&r.Spec) {
			return err
		}
		read := func(k []byte, seq uint64) (*trial.Trial, error) {
			part := fmt.Sprintf("experiment %q: rank index", exp)
			sk := seqKey(seq)
			v := tb.Get(sk)
			if v == nil {
				return nil, damagef(part, "names trial %d, which is not stored", seq)
			}
			t, err := decodeTrial(exp, sk, v)
			if err != nil {
				return nil, err
			}
			if k != nil && !bytes.Equal(ix.order.key(t), k) {
				return nil, damagef(part, "entry %x: trial %q ranks as %x", k, t.Name, ix.order.key(t))
			}
			return t, nil
		}
		var top []trial.Trial
		c := ix.best.Cursor()
		numbers := false
		for k, _ := c.First(); k != nil && (n < 1 || len(top) < n); k, _ = c.Next() {
			if len(k) != rankKeyLen {
				return damagef(fmt.Sprintf("experiment %q: rank index", exp), "key %x is %d bytes, not %d", k, len(k), rankKeyLen)
			}
			t, err := read(k, binary.BigEndian.Uint64(k[9:]))
			if err != nil {
				return err
			}
			numbers = numbers || counts(k)
			top = append(top, *t)
		}
		if !numbers {
			if k, _ := ix.text.Cursor().Last(); k != nil {
				if len(k) != 8 {
					return damagef(fmt.Sprintf("experiment %q: rank index", exp), "text key %x is %d bytes, not 8", k, len(k))
				}
				t, err := read(nil, binary.BigEndian.Uint64(k))
				if err != nil {
					return err
				}
				if _, isText := experiment.ObjectiveText(t, ix.order.Objective); !isText {
					return damagef(fmt.Sprintf("experiment %q: rank index", exp), "trial %q has no text objective", t.Name)
				}
				if !slices.ContainsFunc(top, func(u trial.Trial) bool { return u.Seq == t.Seq }) {
					top = append(top, *t)
				}
			}
		}
		slices.SortFunc(top, func(a, b trial.Trial) int { return a.Seq - b.Seq })
		if top == nil {
			top = []trial.Trial{}
		}
		rec, trials, ok = r, top, true
		return nil
	})
	if err != nil {
		return nil, nil, false, emptyNotFound(err, exp)
	}
	return rec, trials, ok, nil
}

// checkIndex compares the ranking index of experiment bucket eb, if it has
// one, with trials, the trials of it that could be read, under spec's
// order; entries of trials that could not be read are not compared. The
// error wraps ErrDamaged and says what differs.
func checkIndex(exp string, eb *bolt.Bucket, spec *experiment.Experiment, trials []trial.Trial) error {
	ix, err := openIndex(exp, eb)
	if err != nil || ix == nil {
		return err
	}
	part := fmt.Sprintf("experiment %q: rank index", exp)
	if want := orderOf(spec); ix.order != want {
		return damagef(part, "ranks by %+v, the spec by %+v", ix.order, want)
	}
	read := make(map[uint64]*trial.Trial, len(trials))
	for i := range trials {
		read[uint64(trials[i].Seq)] = &trials[i]
	}
	unread := func(seq uint64) bool {
		_, ok := read[seq]
		return !ok && eb.Bucket([]byte(bucketTrials)).Get(seqKey(seq)) != nil
	}
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// Each bucket against the trials: what it has that it should not, then
	// what it lacks.
	seen := map[uint64]bool{}
	ix.best.ForEach(func(k, _ []byte) error {
		if len(k) != rankKeyLen {
			add("best: key %x is %d bytes", k, len(k))
			return nil
		}
		seq := binary.BigEndian.Uint64(k[9:])
		t, ok := read[seq]
		switch {
		case !ok && !unread(seq):
			add("best: names trial %d, which is not stored", seq)
		case ok && !bytes.Equal(k, ix.order.key(t)):
			add("best: trial %q under %x, not %x", t.Name, k, ix.order.key(t))
		case ok:
			seen[seq] = true
		}
		return nil
	})
	ix.seqs.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			add("seqs: key %x is %d bytes", k, len(k))
			return nil
		}
		seq := binary.BigEndian.Uint64(k)
		if t, ok := read[seq]; ok && !bytes.Equal(v, ix.order.key(t)) {
			add("seqs: trial %q maps to %x, not %x", t.Name, v, ix.order.key(t))
		} else if !ok && !unread(seq) {
			add("seqs: names trial %d, which is not stored", seq)
		}
		return nil
	})
	texts := map[uint64]bool{}
	ix.text.ForEach(func(k, _ []byte) error {
		if len(k) != 8 {
			add("text: key %x is %d bytes", k, len(k))
			return nil
		}
		seq := binary.BigEndian.Uint64(k)
		texts[seq] = true
		if t, ok := read[seq]; ok {
			if _, isText := experiment.ObjectiveText(t, ix.order.Objective); !isText {
				add("text: trial %q has no text objective", t.Name)
			}
		} else if !unread(seq) {
			add("text: names trial %d, which is not stored", seq)
		}
		return nil
	})
	for i := range trials {
		t := &trials[i]
		seq := uint64(t.Seq)
		if !seen[seq] {
			add("best: trial %q missing", t.Name)
		}
		if ix.seqs.Get(seqKey(seq)) == nil {
			add("seqs: trial %q missing", t.Name)
		}
		if _, isText := experiment.ObjectiveText(t, ix.order.Objective); isText && !texts[seq] {
			add("text: trial %q missing", t.Name)
		}
	}
	if len(problems) > 0 {
		return damagef(part, "%s (tune store recover rebuilds it)", strings.Join(problems, "; "))
	}
	return nil
}
