package metrics

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"sync"
)

// MinMaxLogs is the smallest per-metric bound a [Recorder] applies: room
// for a few evenly spaced values besides the smallest, largest and latest.
const MinMaxLogs = 8

// extremes is how many logs of a thinned metric are kept besides the evenly
// spaced ones: those of its smallest, largest and latest values.
const extremes = 3

// Recorder accumulates one trial's metric logs: it keeps each metric's
// running [Summary] and the observation log to persist, bounded per
// metric. It is safe for concurrent use.
//
// The summaries cover every value added. The observation log keeps every
// log of a metric until maxLogs of them have been added (see
// [NewRecorder]); beyond that the metric's logs are thinned: of its values,
// numbered 0, 1, 2, … in the order added, only those numbered 0, s, 2s, …
// are kept, with s the smallest power of two that leaves at most
// maxLogs − 3 of them, plus the logs of its smallest (first reached),
// largest (first reached) and latest values, so that at most maxLogs logs
// of it are kept in all. Memory is bounded accordingly: about twice maxLogs
// logs per metric.
type Recorder struct {
	strategies map[string]Strategy
	maxLogs    int // per metric; 0 keeps every log

	mu        sync.Mutex
	summaries map[string]Summary
	series    map[string]*series // by metric; unused when maxLogs is 0
	added     uint64             // logs added, all metrics together
	pending   []entry            // kept logs not yet drained, in order
	replace   bool               // a metric was thinned since the last drain
}

// entry is a log and its position among all the logs added.
type entry struct {
	seq uint64
	log Log
}

// series is the kept part of one metric's observation log.
type series struct {
	n      uint64  // values added
	stride uint64  // the values kept are those numbered 0, stride, 2·stride, …
	kept   []entry // in order
	// The logs of the smallest and largest values (first reached) and of
	// the latest one.
	min, max, latest entry
}

// NewRecorder returns an empty Recorder whose Value uses strategies, keyed
// by metric name; metrics without a strategy use [Latest]. The map is
// copied. The observation log keeps at most maxLogs logs per metric, as
// described at [Recorder]; maxLogs ≤ 0 keeps every log, and a maxLogs
// between 1 and MinMaxLogs means MinMaxLogs.
func NewRecorder(strategies map[string]Strategy, maxLogs int) *Recorder {
	if maxLogs > 0 {
		maxLogs = max(maxLogs, MinMaxLogs)
	} else {
		maxLogs = 0
	}
	return &Recorder{
		strategies: maps.Clone(strategies),
		maxLogs:    maxLogs,
		summaries:  make(map[string]Summary),
		series:     make(map[string]*series),
	}
}

// Add updates l.Metric's summary with l.Value and adds l to the
// observation log, thinning it when l.Metric's logs exceed the bound. Logs
// whose value is NaN or ±Inf break [Log]'s contract and are ignored.
func (r *Recorder) Add(l Log) {
	if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.summaries[l.Metric]
	if l.Text != "" {
		l.Value = 0
		s.Text = l.Text
	} else {
		s.Add(l.Value)
	}
	r.summaries[l.Metric] = s
	r.added++
	e := entry{seq: r.added, log: l}
	if r.maxLogs == 0 {
		r.pending = append(r.pending, e)
		return
	}
	sr := r.series[l.Metric]
	if sr == nil {
		sr = &series{stride: 1}
		r.series[l.Metric] = sr
	}
	i := sr.n
	sr.n++
	if l.Text == "" && (sr.min.seq == 0 || l.Value < sr.min.log.Value) {
		sr.min = e
	}
	if l.Text == "" && (sr.max.seq == 0 || l.Value > sr.max.log.Value) {
		sr.max = e
	}
	sr.latest = e
	if i%sr.stride != 0 {
		return
	}
	sr.kept = append(sr.kept, e)
	limit := r.maxLogs
	if sr.stride > 1 {
		limit -= extremes
	}
	if len(sr.kept) <= limit {
		if !r.replace {
			r.pending = append(r.pending, e)
		}
		return
	}
	for len(sr.kept) > r.maxLogs-extremes {
		sr.thin()
	}
	r.replace, r.pending = true, nil
}

// thin keeps every other kept value, those numbered 0, 2·stride, 4·stride,
// …, and doubles the stride.
func (sr *series) thin() {
	j := 0
	for k := 0; k < len(sr.kept); k += 2 {
		sr.kept[j] = sr.kept[k]
		j++
	}
	clear(sr.kept[j:])
	sr.kept = sr.kept[:j]
	sr.stride *= 2
}

// Drain returns the observation log to persist since the last drain, in
// the order the logs were added, and forgets it; it returns nil when there
// is nothing new. When replace is false the logs are to be appended to
// what earlier drains returned. When a metric has been thinned since the
// last drain, replace is true and logs is the whole observation log as
// now kept (without the smallest, largest and latest values of thinned
// metrics, which only [Recorder.DrainFinal] adds), to replace what earlier
// drains returned. The caller owns the returned slice.
func (r *Recorder) Drain() (logs []Log, replace bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replace {
		r.replace, r.pending = false, nil
		return r.kept(false), true
	}
	return r.takePending(), false
}

// DrainFinal is Drain for when no more logs will be added: when a metric
// has been thinned, it returns the whole observation log as kept, with the
// logs of each thinned metric's smallest, largest and latest values, and
// replace true; otherwise it returns what Drain would.
func (r *Recorder) DrainFinal() (logs []Log, replace bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.thinned()) == 0 {
		return r.takePending(), false
	}
	r.replace, r.pending = false, nil
	return r.kept(true), true
}

// Thinned returns the sorted names of the metrics whose logs are thinned:
// those added more than maxLogs times.
func (r *Recorder) Thinned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.thinned()
}

func (r *Recorder) thinned() []string {
	var names []string
	for name, sr := range r.series {
		if sr.stride > 1 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func (r *Recorder) takePending() []Log {
	if len(r.pending) == 0 {
		r.pending = nil
		return nil
	}
	logs := make([]Log, len(r.pending))
	for i, e := range r.pending {
		logs[i] = e.log
	}
	r.pending = nil
	return logs
}

// kept returns every metric's kept logs in the order added, with the
// extremes of thinned metrics when withExtremes is set.
func (r *Recorder) kept(withExtremes bool) []Log {
	var es []entry
	for _, sr := range r.series {
		es = append(es, sr.kept...)
		if withExtremes && sr.stride > 1 {
			for _, x := range []entry{sr.min, sr.max, sr.latest} {
				if x.seq != 0 { // 0: no number reported
					es = append(es, x)
				}
			}
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	es = slices.CompactFunc(es, func(a, b entry) bool { return a.seq == b.seq })
	logs := make([]Log, len(es))
	for i, e := range es {
		logs[i] = e.log
	}
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

// Reported reports whether the named metric has a value, number or text
// ([Summary.Reported]).
func (r *Recorder) Reported(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summaries[name].Reported()
}

// Reset forgets every summary, as when a trial's workload is started again
// after a failed attempt: the values the failed attempt reported no longer
// count towards the trial's result. The observation log is kept, since it
// records everything that was reported.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.summaries)
}
