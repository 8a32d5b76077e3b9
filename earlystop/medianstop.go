package earlystop

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// The medianstop settings and their defaults (Katib's).
const (
	// DefaultMedianStopMinTrials is min_trials_required: how many completed
	// trials the rule needs before it stops anything.
	DefaultMedianStopMinTrials = 3
	// DefaultMedianStopStartStep is start_step: the first step at which a
	// trial may be stopped.
	DefaultMedianStopStartStep = 4
)

// maxCurvePoints bounds the steps a curve keeps, so that a trial reporting
// millions of steps costs a bounded amount of memory (24 bytes a step).
const maxCurvePoints = 10000

// curve is a trial's objective as reported, step by step: steps ascending,
// with the running sum and count of the values up to each.
//
// Up to maxCurvePoints distinct steps every step is kept. Beyond, of the
// distinct steps numbered 0, 1, 2, … in the order reported, those numbered
// 0, stride, 2·stride, … are kept, with stride the smallest power of two
// that leaves at most maxCurvePoints, and always the last one; the running
// sums and counts stay exact at every step kept.
type curve struct {
	steps    []int64
	sums     []float64
	counts   []int64
	best     float64
	n        int64 // reports so far: the step of a report without one
	distinct int64 // distinct steps so far
	stride   int64 // 0 means 1
}

// add appends an objective report. A report without a step (Step < 0) is at
// step "number of reports so far"; a report at or before the last step
// counts at the last step.
func (c *curve) add(l metrics.Log, goal suggest.Goal) {
	c.n++
	step := l.Step
	if step < 0 {
		step = c.n
	}
	if c.stride == 0 {
		c.stride = 1
	}
	if k := len(c.steps); k > 0 && step <= c.steps[k-1] {
		c.sums[k-1] += l.Value
		c.counts[k-1]++
	} else {
		sum, count := l.Value, int64(1)
		if k > 0 {
			sum, count = sum+c.sums[k-1], count+c.counts[k-1]
		}
		if k > 0 && (c.distinct-1)%c.stride != 0 {
			// The last step was kept only as the last: the new one
			// takes its place.
			c.steps[k-1], c.sums[k-1], c.counts[k-1] = step, sum, count
		} else {
			c.steps, c.sums, c.counts = append(c.steps, step), append(c.sums, sum), append(c.counts, count)
		}
		c.distinct++
		if len(c.steps) > maxCurvePoints {
			c.thin()
		}
	}
	if c.n == 1 || goal.Better(l.Value, c.best) {
		c.best = l.Value
	}
}

// thin keeps the steps numbered 0, 2·stride, 4·stride, … and the last, and
// doubles the stride.
func (c *curve) thin() {
	last, j := len(c.steps)-1, 0
	for k := range c.steps {
		if k%2 == 0 || k == last {
			c.steps[j], c.sums[j], c.counts[j] = c.steps[k], c.sums[k], c.counts[k]
			j++
		}
	}
	c.steps, c.sums, c.counts = c.steps[:j], c.sums[:j], c.counts[:j]
	c.stride *= 2
}

// last is the step the curve has reached (0 when empty).
func (c *curve) last() int64 {
	if len(c.steps) == 0 {
		return 0
	}
	return c.steps[len(c.steps)-1]
}

// averageUpTo returns the mean of the values reported at steps ≤ step: up
// to the last step kept at or before step (the same, unless the curve has
// more than maxCurvePoints steps).
func (c *curve) averageUpTo(step int64) (float64, bool) {
	i, found := slices.BinarySearch(c.steps, step)
	if !found {
		i-- // the last step before
	}
	if i < 0 {
		return 0, false
	}
	return c.sums[i] / float64(c.counts[i]), true
}

// medianStop is the median stopping rule (Golovin et al., Google Vizier,
// 2017), with Katib's medianstop settings: a running trial that has reached
// step s ≥ startStep is stopped when its best objective value so far is
// strictly worse than the median of the running averages, up to step s, of
// the completed trials that reached s, once at least minTrials of those
// exist. Katib compares with the mean of the completed trials' averages
// over their first start_step values instead (docs/early-stopping.md).
type medianStop struct {
	goal      suggest.Goal
	minTrials int
	startStep int64

	mu        sync.Mutex
	running   map[string]*curve // by trial
	completed []*curve
}

// newMedianStop reads Katib's medianstop settings.
func newMedianStop(settings map[string]string, goal suggest.Goal) (*medianStop, error) {
	m := &medianStop{goal: goal, minTrials: DefaultMedianStopMinTrials, startStep: DefaultMedianStopStartStep, running: map[string]*curve{}}
	if v, ok := settings["min_trials_required"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("min_trials_required %q: want an integer ≥ 1", v)
		}
		m.minTrials = n
	}
	if v, ok := settings["start_step"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("start_step %q: want an integer ≥ 1", v)
		}
		m.startStep = n
	}
	return m, nil
}

// Observe adds l to the trial's curve.
func (m *medianStop) Observe(trial string, l metrics.Log) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.running[trial]
	if c == nil {
		c = &curve{}
		m.running[trial] = c
	}
	c.add(l, m.goal)
}

// Complete forgets the trial as running and, when it succeeded, compares
// later trials with its curve.
func (m *medianStop) Complete(trial string, succeeded bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.running[trial]
	delete(m.running, trial)
	if succeeded {
		m.complete(c)
	}
}

// Check applies the rule to the running trial's curve.
func (m *medianStop) Check(trial string) (stop bool, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.running[trial]
	if c == nil {
		return false, ""
	}
	return m.check(c)
}

// complete adds a finished trial's curve to those the rule compares with.
func (m *medianStop) complete(c *curve) {
	if c != nil && len(c.steps) > 0 {
		m.completed = append(m.completed, c)
	}
}

// check applies the rule to a running trial's curve. When it says stop, it
// also returns a message saying why.
func (m *medianStop) check(c *curve) (stop bool, msg string) {
	s := c.last()
	if s < m.startStep || len(m.completed) < m.minTrials {
		return false, ""
	}
	avgs := make([]float64, 0, len(m.completed))
	for _, done := range m.completed {
		if done.last() < s {
			continue
		}
		if a, ok := done.averageUpTo(s); ok {
			avgs = append(avgs, a)
		}
	}
	if len(avgs) < m.minTrials {
		return false, ""
	}
	median := medianOf(avgs)
	if !m.goal.Better(median, c.best) {
		return false, ""
	}
	return true, fmt.Sprintf("stopped early at step %d: its best objective value so far, %g, is worse than %g, the median of %d completed trials' running averages up to that step", s, c.best, median, len(avgs))
}

// medianOf returns the median of xs, which it reorders.
func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
