package metrics

import (
	"maps"
	"math"
	"sync"
)

// Recorder accumulates one trial's metric logs: it keeps each metric's
// running [Summary] and the logs not yet drained. It is safe for concurrent
// use.
//
// The summaries take constant memory per metric. The pending logs grow with
// every Add until Drain is called, so the memory they take is bounded only
// by how often the caller drains them (typically after each batch it
// persists).
type Recorder struct {
	strategies map[string]Strategy

	mu        sync.Mutex
	summaries map[string]Summary
	pending   []Log
}

// NewRecorder returns an empty Recorder whose Value uses strategies, keyed
// by metric name; metrics without a strategy use [Latest]. The map is
// copied.
func NewRecorder(strategies map[string]Strategy) *Recorder {
	return &Recorder{
		strategies: maps.Clone(strategies),
		summaries:  make(map[string]Summary),
	}
}

// Add updates l.Metric's summary with l.Value and appends l to the pending
// logs. Logs whose value is NaN or ±Inf break [Log]'s contract and are
// ignored.
func (r *Recorder) Add(l Log) {
	if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.summaries[l.Metric]
	s.Add(l.Value)
	r.summaries[l.Metric] = s
	r.pending = append(r.pending, l)
}

// Drain returns the logs added since the last Drain, in the order they were
// added, and forgets them; it returns nil when there are none. The caller
// owns the returned slice.
func (r *Recorder) Drain() []Log {
	r.mu.Lock()
	defer r.mu.Unlock()
	logs := r.pending
	r.pending = nil
	return logs
}

// Summaries returns a copy of every reported metric's summary, keyed by
// metric name.
func (r *Recorder) Summaries() map[string]Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.summaries)
}

// Value returns the named metric's value under its strategy, and false
// (with NaN) when the metric has not been reported.
func (r *Recorder) Value(name string) (float64, bool) {
	st, ok := r.strategies[name]
	if !ok {
		st = Latest
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summaries[name].Value(st)
}

// Reset forgets every summary, as when a trial's workload is started again
// after a failed attempt: the values the failed attempt reported no longer
// count towards the trial's result. Logs not yet drained are kept, since
// the observation log records everything that was reported.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.summaries)
}
