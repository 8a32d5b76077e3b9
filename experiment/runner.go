package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tune-hpo/tune/earlystop"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// EventKind says what an [Event] reports.
type EventKind int

// The events a [Runner] reports.
const (
	// TrialStarted: Event.Trial was created and its workload launched.
	TrialStarted EventKind = iota
	// TrialFinished: Event.Trial reached a final state; Event.Best is the
	// best trial so far.
	TrialFinished
	// Warning: Event.Message says something the user should know that does
	// not stop the experiment (for example a metric value that is not a
	// number). Event.Trial names the trial concerned, if any.
	Warning
	// ExperimentFinished: Event.Status is the final status.
	ExperimentFinished
	// ExperimentResumed: [Runner.Start] is resuming a stored experiment;
	// Event.Status is its stored status and Event.Trials the number of
	// trials it has so far.
	ExperimentResumed
)

// Event is a progress report from a [Runner]. Its pointers refer to copies
// the receiver may keep.
type Event struct {
	Kind    EventKind
	Trial   *trial.Trial
	Best    *OptimalTrial
	Status  *Status
	Message string
	Trials  int
}

// Runner drives one experiment: suggest, execute, collect, store, keeping at
// most parallelTrialCount trials active, until Katib's completion rules end
// it or its context is cancelled.
//
// The Runner is the only writer of the experiment while Run is going; all
// store writes happen on the goroutine that called Run, trials report to it
// over a channel. The Runner never prints: progress goes to OnEvent.
type Runner struct {
	// Store keeps the experiment, its trials and their observation logs.
	Store Store
	// Suggester proposes assignments.
	Suggester suggest.Suggester
	// Executor runs each trial's workload.
	Executor trial.Executor
	// TrialRoot is the directory under which each trial gets its own
	// directory, TrialRoot/<experiment>/<trial>, for files and logs. A
	// trial starts in an empty directory: a non-empty one already there is
	// first renamed to <trial>.stale-<UTC time>, with a Warning event.
	TrialRoot string
	// Owner identifies Store to executors that record what they start
	// (see [trial.Spec.Owner]); "" means unknown.
	Owner string
	// OnEvent receives progress events on the Run goroutine; nil ignores them.
	// It must not block for long.
	OnEvent func(Event)
	// FlushInterval is how often metric values reported by running trials
	// are written to the store; zero means one second.
	FlushInterval time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxLogBytes caps each of a trial's stdout.log and stderr.log; output
	// beyond it is still parsed for metrics but not written, and the file
	// ends with a line saying so. Zero means DefaultMaxLogBytes; negative
	// means no cap.
	MaxLogBytes int64
	// MaxObservations caps the observation log stored per trial and metric:
	// beyond it the metric's values are thinned to evenly spaced ones plus
	// the smallest, largest and latest, as [metrics.Recorder] describes,
	// and a warning says so once per trial. The trial's metrics (and so
	// its value and early stopping) still use every value. Zero means
	// DefaultMaxObservations; negative means no cap; 1 to
	// metrics.MinMaxLogs mean metrics.MinMaxLogs.
	MaxObservations int
	// PushAddress is where the Push collector's endpoint listens, as
	// push.Listen takes it: "" for a Unix socket in a new directory only
	// this user may enter (local trials reach it), a TCP host:port such as
	// "127.0.0.1:0" for trials that cannot reach this machine's files
	// (containers), or "unix:/path".
	PushAddress string

	// openLog opens a trial's log file for writing; nil means os.OpenFile
	// (truncating). Tests replace it to make the disk look full.
	openLog func(path string) (io.WriteCloser, error)
}

// DefaultMaxObservations is the default of [Runner.MaxObservations]: far
// more points than a learning curve needs, few enough that a trial
// printing metrics in a tight loop leaves about a megabyte per metric in
// the store.
const DefaultMaxObservations = 10000

// DefaultMaxLogBytes is the default cap of each trial log file: far more
// than a training script prints, small enough that a runaway trial (a
// progress bar without newlines, a debug dump) cannot fill the disk that
// also holds the store.
const DefaultMaxLogBytes = 256 << 20

// ErrUnsupported marks an experiment that is valid Katib but that this
// runner or executor cannot run (for example a collector kind not yet
// implemented). Nothing is written to the store when Run returns it.
var ErrUnsupported = errors.New("not supported")

// maxWarningsPerTrial bounds the invalid-metric warnings reported per trial.
const maxWarningsPerTrial = 5

// stderrTailLines is how many lines of a trial's stderr end up in messages.
const stderrTailLines = 20

// TrialName is the name of trial number seq (from 1) of the experiment
// named experiment: the experiment's name, a dash and seq in at least four
// digits (mnist-0001).
func TrialName(experiment string, seq int) string {
	return fmt.Sprintf("%s-%04d", experiment, seq)
}

// maxStartlessRounds is how many rounds in a row of trials that all fail
// before they start (RenderError) end an experiment with no budget.
const maxStartlessRounds = 10

// Run runs the experiment described by rec, which must be valid and
// defaulted, from creation to completion. It creates the experiment in the
// store (failing with an error wrapping ErrExists if the name is taken) and
// returns its final status.
//
// When ctx is cancelled, running trials are stopped and marked Killed, and
// the experiment is left Stopped with reason ExperimentInterrupted; Run then
// returns that status and a nil error. A non-nil error means the runner
// itself could not go on (store, suggester or executor failure); the
// experiment's status in the store says so where it could be written. A
// trial that tune's own environment kept from running (see
// [ReasonInfrastructureError]) is recorded Killed with reason
// [TrialReasonInfrastructure], not charged to maxFailedTrialCount, and
// leaves the experiment Stopped with that reason and the cause as error.
func (r *Runner) Run(ctx context.Context, rec *Record) (*Status, error) {
	st, err := r.prepare(&rec.Spec, rec.Name)
	if err != nil {
		return nil, err
	}
	now := r.now()
	rec.Status = Status{Phase: Created, Reason: ReasonCreated, Message: "experiment created", Created: now}
	rec.Status.Conditions = []Condition{{Phase: Created, Reason: ReasonCreated, Message: rec.Status.Message, Time: now}}
	storeCtx := context.WithoutCancel(ctx)
	if err := r.Store.CreateExperiment(storeCtx, rec); err != nil {
		return nil, fmt.Errorf("create experiment %s: %w", rec.Name, err)
	}
	st.status = rec.Status
	return st.loop(ctx, storeCtx, ReasonRunning, "experiment is running")
}

// Check reports whether the runner can run e (valid and defaulted) at all:
// its collector, early-stopping and template are supported, and the Executor
// accepts a rendered sample trial. It writes nothing; Run performs the same
// check before creating the experiment. Errors wrap ErrUnsupported or
// ErrInvalid.
func (r *Runner) Check(e *Experiment) error {
	_, err := r.prepare(e, e.Metadata.Name)
	return err
}

func (r *Runner) prepare(e *Experiment, name string) (*state, error) {
	if err := checkRunnable(e); err != nil {
		return nil, err
	}
	st := &state{r: r, exp: e, name: name}
	if err := st.init(); err != nil {
		return nil, err
	}
	if err := st.checkExecutor(); err != nil {
		return nil, err
	}
	return st, nil
}

// checkRunnable rejects what the runner cannot do yet, before anything
// is written.
func checkRunnable(e *Experiment) error {
	if es := e.Spec.EarlyStopping; es != nil && es.AlgorithmName != "" && !slices.Contains(earlystop.Names(), es.AlgorithmName) {
		return fmt.Errorf("spec.earlyStopping %q: %w yet (supported: %s)", es.AlgorithmName, ErrUnsupported, strings.Join(earlystop.Names(), ", "))
	}
	if e.Spec.NasConfig != nil {
		return fmt.Errorf("spec.nasConfig: neural architecture search is %w", ErrUnsupported)
	}
	if e.Spec.TrialTemplate == nil || e.Spec.TrialTemplate.TrialSpec == nil {
		return fmt.Errorf("spec.trialTemplate.configMap: trial templates from ConfigMaps are %w locally (inline trialSpec only)", ErrUnsupported)
	}
	return nil
}

// state is one Run's working state, owned by the Run goroutine.
type state struct {
	r          *Runner
	exp        *Experiment
	name       string
	status     Status
	trials     []*trial.Trial
	active     map[int]*activeTrial // by Seq
	results    chan trialResult
	request    suggest.Request // the suggester's, but for History and N
	goal       suggest.Goal
	strategies map[string]metrics.Strategy
	objective  string
	parser     *metrics.TextParser // safe for concurrent use by trials
	collectors *collect.Collectors // builds each trial's collector
	stopper    earlystop.Rule      // spec.earlyStopping's rule; nil without one
	exhausted  bool
}

type activeTrial struct {
	t        *trial.Trial
	cancel   context.CancelCauseFunc
	recorder *metrics.Recorder
	warnings chan string

	// rule is the early-stopping rule (nil without one): add feeds it
	// every value of objective, as reported by the trial named name,
	// before the recorder thins the observation log. stoppedEarly says why
	// the rule stopped the trial ("" while it has not); it belongs to the
	// runner's goroutine, as does thinWarned, set once the trial's
	// thinning has been reported.
	rule         earlystop.Rule
	name         string
	objective    string
	stoppedEarly string
	thinWarned   bool

	// condition is the latest reason and message the executor reported
	// through Spec.OnStatus, written by the trial's goroutine and stored
	// by the next flush.
	mu        sync.Mutex
	condition [2]string
	changed   bool
}

// setCondition records the executor's report of a running trial's
// condition.
func (at *activeTrial) setCondition(reason, message string) {
	at.mu.Lock()
	defer at.mu.Unlock()
	if at.condition != [2]string{reason, message} {
		at.condition, at.changed = [2]string{reason, message}, true
	}
}

// takeCondition returns the condition reported since the last call, and
// whether there was one.
func (at *activeTrial) takeCondition() (reason, message string, changed bool) {
	at.mu.Lock()
	defer at.mu.Unlock()
	changed, at.changed = at.changed, false
	return at.condition[0], at.condition[1], changed
}

// add records a value the trial reported: in the early-stopping rule,
// when there is one, and in the recorder. It is called from the trial's
// goroutines.
func (at *activeTrial) add(l metrics.Log) {
	if at.rule != nil && l.Metric == at.objective && !math.IsNaN(l.Value) && !math.IsInf(l.Value, 0) {
		at.rule.Observe(at.name, l)
	}
	at.recorder.Add(l)
}

// runFunc is the signature of [trial.Executor.Run] and [trial.Attacher.Attach].
type runFunc func(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error)

type trialResult struct {
	seq    int
	result trial.Result
	err    error
}

func (s *state) init() error {
	s.request = s.exp.SuggestRequest()
	s.goal = s.request.Goal
	s.strategies = s.exp.Strategies()
	s.objective = s.exp.Spec.Objective.ObjectiveMetricName
	s.active = make(map[int]*activeTrial)
	s.results = make(chan trialResult)
	parser, err := metrics.NewTextParser(s.exp.MetricsFormats(), s.exp.MetricNames())
	if err != nil {
		return fmt.Errorf("spec.metricsCollectorSpec.source.filter: %w: %w", ErrInvalid, err)
	}
	s.parser = parser
	s.collectors = collect.New(s.collectConfig())
	if es := s.exp.Spec.EarlyStopping; es != nil && es.AlgorithmName != "" {
		settings := make(map[string]string, len(es.AlgorithmSettings))
		for _, st := range es.AlgorithmSettings {
			settings[st.Name] = st.Value
		}
		if s.stopper, err = earlystop.New(es.AlgorithmName, settings, s.goal); err != nil {
			return fmt.Errorf("%w: spec.earlyStopping %w", ErrInvalid, err)
		}
	}
	return nil
}

// checkExecutor renders a sample trial and asks the executor, when it can
// tell, whether it could run it.
func (s *state) checkExecutor() error {
	if err := checkCollector(s.exp, s.r.Executor); err != nil {
		return err
	}
	checker, ok := s.r.Executor.(trial.Checker)
	if !ok {
		return nil
	}
	sample := make(suggest.Assignment, len(s.request.Space))
	for _, p := range s.request.Space {
		switch p.Type {
		case suggest.Int:
			sample[p.Name] = suggest.FormatInt(int64(p.Min))
		case suggest.Double:
			sample[p.Name] = suggest.FormatFloat(p.Min)
		default:
			sample[p.Name] = p.Values[0]
		}
	}
	spec, err := s.trialSpec(&trial.Trial{Name: s.name + "-0000", Parameters: sample})
	if err != nil {
		return fmt.Errorf("spec.trialTemplate: %w", err)
	}
	if err := checker.Check(spec); err != nil {
		return fmt.Errorf("spec.trialTemplate.trialSpec: %w: %w", ErrUnsupported, err)
	}
	return nil
}

// maxObservations returns the recorder's bound: 0 for none.
func (r *Runner) maxObservations() int {
	switch {
	case r.MaxObservations == 0:
		return DefaultMaxObservations
	case r.MaxObservations < 0:
		return 0
	}
	return r.MaxObservations
}

func (r *Runner) maxLogBytes() int64 {
	if r.MaxLogBytes == 0 {
		return DefaultMaxLogBytes
	}
	return r.MaxLogBytes
}

// cappedWriter writes to w until max bytes have been written, then notes
// the truncation once and discards the rest, always reporting success so
// that the other writers of a MultiWriter keep receiving the output.
type cappedWriter struct {
	w         io.Writer
	left, max int64
	noted     bool
}

// capWriter returns w capped at max bytes; max < 0 returns w itself.
func capWriter(w io.Writer, max int64) io.Writer {
	if max < 0 {
		return w
	}
	return &cappedWriter{w: w, left: max, max: max}
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	n := len(p)
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	if len(p) > 0 {
		if _, err := c.w.Write(p); err != nil {
			return 0, err
		}
		c.left -= int64(len(p))
	}
	if c.left == 0 && n > len(p) && !c.noted {
		c.noted = true
		fmt.Fprintf(c.w, "\n[tune: log truncated at %d bytes; the rest was parsed for metrics but not kept]\n", c.max)
	}
	return n, nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) emit(ev Event) {
	if r.OnEvent != nil {
		r.OnEvent(ev)
	}
}

// loop is the scheduling loop: Katib's ReconcileTrials arithmetic plus its
// completion rules, in order.
func (s *state) loop(ctx, storeCtx context.Context, reason, msg string) (*Status, error) {
	r := s.r
	if s.status.Started.IsZero() {
		s.status.Started = r.now()
	}
	s.status.Completed = time.Time{}
	if err := s.setPhase(storeCtx, Running, reason, msg); err != nil {
		return nil, err
	}
	flush := r.FlushInterval
	if flush <= 0 {
		flush = time.Second
	}
	ticker := time.NewTicker(flush)
	defer ticker.Stop()
	// Bounded; the trials have ended by then.
	defer func() { _ = s.collectors.Close() }()
	startless := 0 // rounds in a row whose new trials all failed before starting

	for {
		if ctx.Err() != nil {
			return s.finish(storeCtx, Stopped, ReasonInterrupted, "interrupted: running trials were stopped", nil)
		}
		if phase, reason, msg, done := s.completion(); done {
			return s.finish(storeCtx, phase, reason, msg, nil)
		}
		created := len(s.trials)
		if err := s.launch(ctx, storeCtx); err != nil {
			phase, reason := Failed, ReasonSuggestionFailed
			switch {
			case errors.As(err, new(*storeError)):
				reason = ReasonStoreError
			case errors.As(err, new(*infraError)):
				phase, reason = Stopped, ReasonInfrastructureError
			}
			return s.finish(storeCtx, phase, reason, err.Error(), err)
		}
		if len(s.active) == 0 && len(s.trials) > created {
			// The new trials all failed before they could start (see
			// failEarly): the completion rules decide whether to go on.
			// Without a budget to end it, a suggester whose every
			// assignment fails would add failed trials for ever: give up
			// after maxStartlessRounds such rounds in a row.
			startless++
			if spec := s.exp.Spec; spec.MaxFailedTrialCount == nil && spec.MaxTrialCount == nil && startless >= maxStartlessRounds {
				last := s.trials[len(s.trials)-1]
				err := fmt.Errorf("the last %d rounds of trials all failed before they could start (%s %s: %s), and no maxTrialCount or maxFailedTrialCount would end the experiment", startless, last.Name, last.Reason, last.Message)
				return s.finish(storeCtx, Failed, ReasonSuggestionFailed, err.Error(), err)
			}
			continue
		}
		startless = 0
		if len(s.active) == 0 {
			// Nothing running and nothing could be launched: only an
			// exhausted search space gets here, and completion ends it.
			if phase, reason, msg, done := s.completion(); done {
				return s.finish(storeCtx, phase, reason, msg, nil)
			}
			err := errors.New("suggester returned no trials")
			return s.finish(storeCtx, Failed, ReasonSuggestionFailed, err.Error(), err)
		}
		select {
		case <-ctx.Done():
		case res := <-s.results:
			if err := s.complete(storeCtx, res); errors.As(err, new(*infraError)) {
				return s.finish(storeCtx, Stopped, ReasonInfrastructureError, err.Error(), err)
			} else if err != nil {
				return s.finish(storeCtx, Failed, ReasonStoreError, err.Error(), err)
			}
		case <-ticker.C:
			if err := s.flushAll(storeCtx); err != nil {
				return s.finish(storeCtx, Failed, ReasonStoreError, err.Error(), err)
			}
		}
	}
}

// counts returns the number of trials in each group the completion rules use.
func (s *state) counts() (finished, failed int) {
	for _, t := range s.trials {
		if t.State.Final() && !Abandoned(t) {
			finished++
		}
		if t.State == trial.Failed || t.State == trial.MetricsUnavailable {
			failed++
		}
	}
	return finished, failed
}

// completion applies Katib's rules in order: goal reached, too many failures,
// budget spent (or grid exhausted).
func (s *state) completion() (Phase, string, string, bool) {
	spec := s.exp.Spec
	if best := s.best(); best != nil && spec.Objective.Goal != nil {
		v := best.Metrics[s.objective]
		g := *spec.Objective.Goal
		if (s.goal == suggest.Maximize && v >= g) || (s.goal == suggest.Minimize && v <= g) {
			return Succeeded, ReasonGoalReached, fmt.Sprintf("objective %s reached the goal %v in trial %s (%s=%v)", s.objective, g, best.BestTrialName, s.objective, v), true
		}
	}
	finished, failed := s.counts()
	if spec.MaxFailedTrialCount != nil && failed > 0 && failed >= int(*spec.MaxFailedTrialCount) {
		return Failed, ReasonMaxFailedReached, fmt.Sprintf("%d trials failed, maxFailedTrialCount is %d", failed, *spec.MaxFailedTrialCount), true
	}
	if spec.MaxTrialCount != nil && finished >= int(*spec.MaxTrialCount) {
		return Succeeded, ReasonMaxTrialsReached, fmt.Sprintf("%d trials finished, maxTrialCount is %d", finished, *spec.MaxTrialCount), true
	}
	if s.exhausted && len(s.active) == 0 {
		return Succeeded, ReasonSuggestionEnd, fmt.Sprintf("search space exhausted after %d trials", len(s.trials)), true
	}
	return "", "", "", false
}

// MaxSuggestionBatch is the most assignments the runner asks its suggester
// for at once. Katib's formula can ask for up to parallelTrialCount (any
// int32), and suggesters take memory in proportion to the request and,
// for Bayesian optimisation, time growing faster than it (1.2 s for 100,
// over 90 s for 1000); the rest of a larger batch is asked for at the next
// scheduling step (a trial finishing, or the next flush).
const MaxSuggestionBatch = 100

// launch asks for and starts as many trials as Katib's formula allows,
// min(parallel, max − finished) − active, at most MaxSuggestionBatch.
func (s *state) launch(ctx, storeCtx context.Context) error {
	if s.exhausted {
		return nil
	}
	spec := s.exp.Spec
	want := int(*spec.ParallelTrialCount)
	if spec.MaxTrialCount != nil {
		finished, _ := s.counts()
		want = min(want, int(*spec.MaxTrialCount)-finished)
	}
	want = min(want-len(s.active), MaxSuggestionBatch)
	if want <= 0 {
		return nil
	}
	req := s.request
	req.History, req.N = s.history(), want
	assignments, err := s.r.Suggester.Suggest(ctx, req)
	wait := errors.Is(err, suggest.ErrWait)
	switch {
	case errors.Is(err, suggest.ErrExhausted):
		s.exhausted = true
		return nil
	case ctx.Err() != nil:
		return nil // interrupted while suggesting; the loop stops
	case err != nil && !wait:
		return fmt.Errorf("suggest: %w", err)
	}
	if len(assignments) < want && !wait {
		// A suggester returns fewer than asked only when it has no more
		// (or, with ErrWait, none until a running trial finishes: the
		// loop asks again after the next one).
		s.exhausted = true
	}
	for _, a := range assignments {
		if err := s.start(ctx, storeCtx, a); err != nil {
			return err
		}
	}
	return nil
}

func (s *state) history() []suggest.Observation {
	h := make([]suggest.Observation, len(s.trials))
	for i, t := range s.trials {
		h[i] = suggest.Observation{Assignment: t.Parameters, Status: suggest.Pending, Value: math.NaN()}
		switch {
		case t.State == trial.Succeeded || t.State == trial.EarlyStopped:
			// An early-stopped trial's value is what it reached: worse
			// than most, which is what the algorithm should learn.
			v, ok := t.Metrics[s.objective].Value(s.strategies[s.objective])
			if !ok {
				h[i].Status = suggest.Failed
				break
			}
			h[i].Status, h[i].Value = suggest.Completed, v
		case Abandoned(t):
			h[i].Status = suggest.Abandoned
		case t.State.Final():
			h[i].Status = suggest.Failed
		}
	}
	return h
}

// start creates trial a in the store and launches its workload.
func (s *state) start(ctx, storeCtx context.Context, a suggest.Assignment) error {
	r := s.r
	seq := len(s.trials) + 1
	name := TrialName(s.name, seq)
	dir, err := filepath.Abs(filepath.Join(r.TrialRoot, s.name, name))
	if err != nil {
		return fmt.Errorf("trial %s: %w", name, err)
	}
	t := &trial.Trial{Name: name, Seq: seq, Parameters: a, State: trial.Pending, Dir: dir, Created: r.now()}
	s.trials = append(s.trials, t)
	spec, err := s.trialSpec(t)
	if err != nil {
		// The experiment validated, so this is a suggester bug or an
		// assignment missing a parameter: fail the trial, not the run.
		return s.failEarly(storeCtx, t, trial.Failed, "RenderError", err.Error())
	}
	stale, err := emptyDir(dir, r.now())
	if err != nil {
		return s.failInfra(storeCtx, t, fmt.Errorf("create trial directory: %w", err))
	}
	if stale != "" {
		r.emit(Event{Kind: Warning, Trial: copyTrial(t), Message: fmt.Sprintf("trial %s: its directory %s was not empty (left by an earlier run or a deleted experiment); it was renamed to %s so that nothing in it is read as this trial's", name, dir, stale)})
	}
	t.State, t.Started = trial.Running, r.now()
	if err := r.Store.SaveTrial(storeCtx, s.name, t, nil, s.refreshStatus()); err != nil {
		// Not stored, not started: forget it so the final status counts
		// only the trials the store holds.
		s.trials = s.trials[:len(s.trials)-1]
		return fmt.Errorf("save trial %s: %w", name, &storeError{err})
	}
	s.follow(ctx, t, spec, r.Executor.Run)
	return nil
}

// follow makes t active and runs its workload with run (the executor's Run,
// or its Attach for a trial picked up on resume) on a goroutine of its own,
// which reports the outcome on s.results.
func (s *state) follow(ctx context.Context, t *trial.Trial, spec *trial.Spec, run runFunc) {
	r := s.r
	trialCtx, cancel := context.WithCancelCause(ctx)
	at := &activeTrial{t: t, cancel: cancel, recorder: metrics.NewRecorder(s.strategies, r.maxObservations()), warnings: make(chan string, maxWarningsPerTrial)}
	if s.stopper != nil {
		at.rule, at.name, at.objective = s.stopper, t.Name, s.objective
	}
	s.active[t.Seq] = at
	r.emit(Event{Kind: TrialStarted, Trial: copyTrial(t)})
	spec.OnStatus = at.setCondition
	spec.OnRetry = func(attempt int) {
		at.recorder.Reset()
		select {
		case at.warnings <- fmt.Sprintf("trial %s failed; retrying (attempt %d), its metrics so far discarded", t.Name, attempt):
		default:
		}
	}
	col, needs, err := s.collectors.ForTrial(collect.Trial{Name: t.Name, Dir: spec.Dir, Emit: at.add, Warn: func(w string) { at.warn("trial " + t.Name + ": " + w) }})
	if err != nil {
		at.warn(fmt.Sprintf("trial %s: its metrics cannot be collected: %v", t.Name, err))
	}
	spec.Env = append(spec.Env, needs.Env...)
	spec.Mounts = append(spec.Mounts, needs.Mounts...)
	var parser *metrics.TextParser
	if s.exp.CollectorKind().ReadsOutput() {
		parser = s.parser
	}
	seq := t.Seq
	go func() {
		res, err := runTrial(trialCtx, run, spec, parser, col, at, r.now, r.maxLogBytes(), r.openLog)
		s.results <- trialResult{seq: seq, result: res, err: err}
	}()
}

// trialSpec renders the executor's spec of trial t from its assignment.
func (s *state) trialSpec(t *trial.Trial) (*trial.Spec, error) {
	spec, err := s.exp.TrialSpec(t.Name, t.Parameters, t.Dir)
	if err != nil {
		return nil, err
	}
	spec.Owner = s.r.Owner
	return spec, nil
}

// TrialSpec returns what an executor is given to run the trial named name
// with assignment a: the rendered trial template and the template's
// settings. dir is the trial's directory for local executors ("" when
// there is none).
func (e *Experiment) TrialSpec(name string, a suggest.Assignment, dir string) (*trial.Spec, error) {
	obj, err := e.Render(name, a)
	if err != nil {
		return nil, err
	}
	tt := e.Spec.TrialTemplate
	return &trial.Spec{
		Experiment:       e.Metadata.Name,
		Name:             name,
		Object:           obj,
		PrimaryContainer: tt.PrimaryContainerName,
		PrimaryPodLabels: tt.PrimaryPodLabels,
		SuccessCondition: tt.SuccessCondition,
		FailureCondition: tt.FailureCondition,
		Retain:           tt.Retain,
		Namespace:        e.Metadata.Namespace,
		Dir:              dir,
		Env:              []string{"TUNE_EXPERIMENT=" + e.Metadata.Name, "TUNE_TRIAL=" + name, "TUNE_TRIAL_DIR=" + dir},
	}, nil
}

// storeError marks an error of a store write, so that the experiment ends
// with ReasonStoreError whichever step made the write.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// failEarly records trial t, which could not be launched at all, as ended
// in state with reason and message. When even that cannot be stored, t is
// forgotten (the store never held it) and the store's error returned.
func (s *state) failEarly(storeCtx context.Context, t *trial.Trial, state trial.State, reason, message string) error {
	t.State, t.Reason, t.Message, t.Finished = state, reason, message, s.r.now()
	if err := s.r.Store.SaveTrial(storeCtx, s.name, t, nil, s.refreshStatus()); err != nil {
		s.trials = s.trials[:len(s.trials)-1] // the newest; never stored
		return fmt.Errorf("save trial %s: %w", t.Name, &storeError{err})
	}
	s.r.emit(Event{Kind: TrialFinished, Trial: copyTrial(t), Best: s.best()})
	return nil
}

// infraError marks a failure of tune's own environment (see
// [ReasonInfrastructureError]) that kept a trial from running: the
// experiment stops without charging the trial to maxFailedTrialCount.
type infraError struct{ err error }

func (e *infraError) Error() string { return e.err.Error() }
func (e *infraError) Unwrap() error { return e.err }

// infrastructureFault reports whether err, a trial's error, comes from
// tune's environment rather than the trial: marked as such by runTrial,
// or carrying an errno of exhausted resources (file descriptors, memory,
// processes, disk).
func infrastructureFault(err error) bool {
	if errors.As(err, new(*infraError)) {
		return true
	}
	for _, errno := range infrastructureErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// failInfra records a trial that tune's environment kept from being
// launched as Killed with TrialReasonInfrastructure, and returns cause
// marked as an infraError (or the store's error).
func (s *state) failInfra(storeCtx context.Context, t *trial.Trial, cause error) error {
	if err := s.failEarly(storeCtx, t, trial.Killed, TrialReasonInfrastructure, infraMessage(cause)); err != nil {
		return err
	}
	return fmt.Errorf("trial %s: %w", t.Name, &infraError{cause})
}

// infraMessage is the message of a trial that cause, a fault of tune's
// environment, kept from running.
func infraMessage(cause error) string { return "tune could not run the trial: " + cause.Error() }

// logWriter writes a trial's log file. Its first failed write (a full
// disk) is reported through warn and the rest of the output is dropped,
// always reporting success: the trial's pipe keeps being drained and its
// output parsed, which a failed write must not stop.
type logWriter struct {
	w      io.Writer
	name   string
	warn   func(name string, err error)
	failed bool
}

func (l *logWriter) Write(p []byte) (int, error) {
	if !l.failed {
		if _, err := l.w.Write(p); err != nil {
			l.failed = true
			l.warn(l.name, err)
		}
	}
	return len(p), nil
}

// runTrial runs one trial's workload with its logs kept in its directory and
// parsed for metrics as they stream. It runs on its own goroutine and
// touches only at's recorder and warnings, which are safe for that.
//
// run is the executor's Run, or its Attach for a trial picked up on resume.
//
// parser, when not nil, reads the metrics in the trial's output; col, when
// not nil, collects them from elsewhere while the workload runs.
//
// A log file that cannot be opened is an infraError; one that cannot be
// written is warned about once and the output still parsed.
func runTrial(ctx context.Context, run runFunc, spec *trial.Spec, parser *metrics.TextParser, col metrics.Collector, at *activeTrial, now func() time.Time, maxLog int64, openLog func(string) (io.WriteCloser, error)) (trial.Result, error) {
	if openLog == nil {
		openLog = func(path string) (io.WriteCloser, error) {
			// An attached workload's output is read again from its
			// start, so the log files are rewritten in both cases.
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		}
	}
	stdoutFile, err := openLog(filepath.Join(spec.Dir, "stdout.log"))
	if err != nil {
		return trial.Result{}, fmt.Errorf("trial %s: open its log: %w", spec.Name, &infraError{err})
	}
	defer stdoutFile.Close()
	stderrFile, err := openLog(filepath.Join(spec.Dir, "stderr.log"))
	if err != nil {
		return trial.Result{}, fmt.Errorf("trial %s: open its log: %w", spec.Name, &infraError{err})
	}
	defer stderrFile.Close()
	var warnOnce sync.Once
	logFailed := func(name string, err error) {
		warnOnce.Do(func() {
			at.warn(fmt.Sprintf("trial %s: cannot write its %s (%v): its output is still parsed for metrics but no longer kept", spec.Name, name, err))
		})
	}
	stdoutLog := &logWriter{w: stdoutFile, name: "stdout.log", warn: logFailed}
	stderrLog := &logWriter{w: stderrFile, name: "stderr.log", warn: logFailed}

	// Katib's StdOut collector reads the container log, which holds both
	// streams; so does tune, with one line splitter per stream.
	parse := func(line []byte) {
		if parser == nil {
			return
		}
		logs, invalid := parser.ParseLine(line, now())
		for _, l := range logs {
			at.add(l)
		}
		for _, bad := range invalid {
			at.warn(fmt.Sprintf("trial %s: metric value %s is not a finite number; ignored", spec.Name, bad))
		}
	}
	collected := make(chan struct{})
	colCtx, stopCollector := context.WithCancel(context.WithoutCancel(ctx))
	if col != nil {
		go func() {
			defer close(collected)
			col.Collect(colCtx)
		}()
	} else {
		close(collected)
	}
	outLines := metrics.NewLineWriter(0, parse)
	errLines := metrics.NewLineWriter(0, parse)
	res, runErr := run(ctx, spec, io.MultiWriter(capWriter(stdoutLog, maxLog), outLines), io.MultiWriter(capWriter(stderrLog, maxLog), errLines))
	outLines.Close()
	errLines.Close()
	stopCollector() // a last read, then the collector returns
	<-collected
	if runErr != nil {
		return res, fmt.Errorf("trial %s: %w", spec.Name, runErr)
	}
	return res, nil
}

// warn queues a warning about the trial for the runner to report; when
// the queue is full, further warnings are dropped.
func (at *activeTrial) warn(msg string) {
	select {
	case at.warnings <- msg:
	default:
	}
}

// complete records a finished trial. When the store write fails, the
// trial is left in memory as the store holds it (as it was before), so that
// the counts and the best trial reported stay those the store has.
func (s *state) complete(storeCtx context.Context, res trialResult) error {
	at := s.active[res.seq]
	delete(s.active, res.seq)
	at.cancel(nil)
	t := at.t
	committed := *t
	s.drainWarnings(at)
	t.Finished = s.r.now()
	t.Metrics = at.recorder.Summaries()
	t.ExitCode = res.result.ExitCode
	logs, replace := at.recorder.DrainFinal()
	switch {
	case at.stoppedEarly != "" && res.result.State != trial.Succeeded:
		// Stopped by the rule: its metrics so far stand, and it counts
		// towards maxTrialCount, as in Katib.
		t.State, t.Reason, t.Message = trial.EarlyStopped, ReasonTrialEarlyStopped, at.stoppedEarly
	case errors.Is(res.err, trial.ErrNotFound):
		// A trial the previous runner left, whose workload is gone.
		t.State, t.Reason = trial.Killed, TrialReasonLost
		t.Message = "the runner stopped before the trial finished and its workload no longer exists; another trial runs in its place"
	case res.err != nil && infrastructureFault(res.err):
		t.State, t.Reason, t.Message = trial.Killed, TrialReasonInfrastructure, infraMessage(res.err)
	case res.err != nil:
		t.State, t.Reason, t.Message = trial.Failed, "ExecutorError", res.err.Error()
	case res.result.State == trial.Succeeded:
		if _, ok := at.recorder.Value(s.objective); ok {
			t.State, t.Reason, t.Message = trial.Succeeded, "TrialSucceeded", "trial succeeded"
		} else {
			t.State, t.Reason = trial.MetricsUnavailable, "MetricsUnavailable"
			t.Message = fmt.Sprintf("trial exited 0 but did not report the objective metric %q", s.objective)
		}
	case res.result.State == trial.Killed:
		t.State, t.Reason, t.Message = trial.Killed, res.result.Reason, res.result.Message
	default:
		t.State, t.Reason, t.Message = trial.Failed, res.result.Reason, res.result.Message
		if t.Reason == "" {
			t.Reason = "TrialFailed"
		}
	}
	if err := s.saveTrial(storeCtx, at, logs, replace, s.refreshStatus()); err != nil {
		*t = committed
		s.refreshStatus()
		if s.stopper != nil {
			s.stopper.Complete(t.Name, false)
		}
		return fmt.Errorf("save trial %s: %w", t.Name, &storeError{err})
	}
	if s.stopper != nil {
		s.stopper.Complete(t.Name, t.State == trial.Succeeded)
	}
	s.r.emit(Event{Kind: TrialFinished, Trial: copyTrial(t), Best: s.best()})
	if t.Reason == TrialReasonInfrastructure {
		return &infraError{res.err} // res.err names the trial
	}
	return nil
}

func (s *state) drainWarnings(at *activeTrial) {
	for {
		select {
		case w := <-at.warnings:
			s.r.emit(Event{Kind: Warning, Trial: copyTrial(at.t), Message: w})
		default:
			return
		}
	}
}

// flushAll writes the metric values running trials reported since the last
// flush, so readers see progress and a crash loses at most one interval.
func (s *state) flushAll(storeCtx context.Context) error {
	for _, at := range s.active {
		s.drainWarnings(at)
		logs, replace := at.recorder.Drain()
		s.observe(at)
		reason, message, changed := at.takeCondition()
		if changed {
			at.t.Reason, at.t.Message = reason, message
		}
		if len(logs) == 0 && !replace && !changed {
			continue
		}
		at.t.Metrics = at.recorder.Summaries()
		if err := s.saveTrial(storeCtx, at, logs, replace, nil); err != nil {
			return fmt.Errorf("save trial %s: %w", at.t.Name, err)
		}
	}
	return nil
}

// saveTrial stores active trial at with the logs its recorder drained:
// appended to its observation log, or replacing it when the recorder has
// thinned it (reported once per trial). st is as for Store.SaveTrial.
func (s *state) saveTrial(storeCtx context.Context, at *activeTrial, logs []metrics.Log, replace bool, st *Status) error {
	if !replace {
		return s.r.Store.SaveTrial(storeCtx, s.name, at.t, logs, st)
	}
	if !at.thinWarned {
		at.thinWarned = true
		n := s.r.maxObservations()
		s.r.emit(Event{Kind: Warning, Trial: copyTrial(at.t), Message: fmt.Sprintf(
			"trial %s reported %s more than %d times: its observation log keeps %d values per metric, evenly spaced, with the smallest, largest and latest (--max-observations); the trial's value uses every value",
			at.t.Name, strings.Join(at.recorder.Thinned(), ", "), n, n)})
	}
	return s.r.Store.ReplaceTrialLogs(storeCtx, s.name, at.t, logs, st)
}

// errEarlyStopped is the cause a trial's context is cancelled with when the
// early-stopping rule stops it.
var errEarlyStopped = errors.New("stopped early by the median stopping rule")

// observe applies the early-stopping rule to a running trial and stops the
// trial when the rule says so.
func (s *state) observe(at *activeTrial) {
	if s.stopper == nil || at.stoppedEarly != "" {
		return
	}
	stop, msg := s.stopper.Check(at.t.Name)
	if stop {
		at.stoppedEarly = msg
		at.cancel(errEarlyStopped)
	}
}

// finish stops whatever still runs, waits for it, records the final status
// and reports it. cause, when non-nil, is returned as Run's error.
//
// A store write that fails on the way (a trial's end, the final status)
// turns the end into Failed with ReasonStoreError, whatever phase was
// asked for: the status returned and reported never claims more than the
// store holds. When even that status cannot be written, the returned one
// says so in its message.
func (s *state) finish(storeCtx context.Context, phase Phase, reason, msg string, cause error) (*Status, error) {
	stopReason := fmt.Errorf("experiment %s: %s", phase, msg)
	for _, at := range s.active {
		at.cancel(stopReason)
	}
	var errs []error
	if cause != nil {
		errs = append(errs, cause)
	}
	for len(s.active) > 0 {
		res := <-s.results
		if res.err == nil && res.result.State == trial.Killed {
			res.result.Reason = TrialReasonInterrupted
			res.result.Message = "stopped: " + stopReason.Error()
		}
		if err := s.complete(storeCtx, res); err != nil && !errors.As(err, new(*infraError)) {
			if reason != ReasonStoreError {
				phase, reason, msg = Failed, ReasonStoreError, err.Error()
			}
			if cause == nil {
				errs = append(errs, err)
			}
		}
	}
	s.status.Completed = s.r.now()
	if err := s.setPhase(storeCtx, phase, reason, msg); err != nil {
		errs = append(errs, err)
		if reason != ReasonStoreError {
			// Once more, as the failure it is: a lock held for a while
			// or a transient error may let this one through.
			s.status.Conditions = s.status.Conditions[:len(s.status.Conditions)-1]
			phase, reason, msg = Failed, ReasonStoreError, err.Error()
			err = s.setPhase(storeCtx, phase, reason, msg)
		}
		if err != nil {
			s.status.Message = msg + " (this final status could not be written either: the store still holds the previous one)"
		}
	}
	st := s.status
	s.r.emit(Event{Kind: ExperimentFinished, Status: &st, Best: s.best()})
	return &st, errors.Join(errs...)
}

func (s *state) setPhase(storeCtx context.Context, phase Phase, reason, msg string) error {
	s.status.Phase, s.status.Reason, s.status.Message = phase, reason, msg
	s.status.Conditions = append(s.status.Conditions, Condition{Phase: phase, Reason: reason, Message: msg, Time: s.r.now()})
	return s.saveStatus(storeCtx)
}

// saveStatus recomputes the counts and the optimal trial and stores them.
func (s *state) saveStatus(storeCtx context.Context) error {
	if err := s.r.Store.UpdateStatus(storeCtx, s.name, *s.refreshStatus()); err != nil {
		return fmt.Errorf("save status of %s: %w", s.name, err)
	}
	return nil
}

// refreshStatus recomputes the counts and the optimal trial from the trials
// and returns a copy of the status, to be stored with a trial's change.
func (s *state) refreshStatus() *Status {
	st := &s.status
	st.SetCounts(len(s.trials), func(i int) trial.State { return s.trials[i].State })
	st.CurrentOptimalTrial = s.best()
	c := *st
	c.Conditions = slices.Clone(st.Conditions)
	return &c
}

// best returns the succeeded trial with the best objective value, the
// earliest on ties, or nil.
func (s *state) best() *OptimalTrial {
	return BestTrial(s.trials, s.objective, s.goal, s.strategies)
}

// BestTrial returns the Succeeded trial of trials with the best value of
// objective under goal (the earliest on ties) as Katib's currentOptimalTrial,
// with every metric's value chosen by strategies; nil when no trial
// succeeded.
func BestTrial(trials []*trial.Trial, objective string, goal suggest.Goal, strategies map[string]metrics.Strategy) *OptimalTrial {
	var best *trial.Trial
	bestValue := math.NaN()
	for _, t := range trials {
		if v := rankValue(t, objective, strategies); goal.Better(v, bestValue) {
			best, bestValue = t, v
		}
	}
	if best == nil {
		return nil
	}
	return &OptimalTrial{BestTrialName: best.Name, ParameterAssignments: best.Parameters, Metrics: TrialMetrics(best, strategies)}
}

// RankTrials sorts trials best first, by the rule of [BestTrial]: the
// Succeeded trials by their value of objective under goal, the earlier
// (in the order given) first on ties, then every other trial in the order
// given. Its first trial is BestTrial's when any trial succeeded.
func RankTrials(trials []trial.Trial, objective string, goal suggest.Goal, strategies map[string]metrics.Strategy) {
	slices.SortStableFunc(trials, func(a, b trial.Trial) int {
		va, vb := rankValue(&a, objective, strategies), rankValue(&b, objective, strategies)
		switch {
		case goal.Better(va, vb):
			return -1
		case goal.Better(vb, va):
			return 1
		}
		return 0
	})
}

// rankValue is t's value of objective when t Succeeded and reported it;
// NaN, which ranks last, otherwise.
func rankValue(t *trial.Trial, objective string, strategies map[string]metrics.Strategy) float64 {
	if t.State != trial.Succeeded {
		return math.NaN()
	}
	if v, ok := t.Metrics[objective].Value(strategyFor(strategies, objective)); ok {
		return v
	}
	return math.NaN()
}

// TrialMetrics returns each metric's value of t chosen by its strategy
// (latest when none is configured).
func TrialMetrics(t *trial.Trial, strategies map[string]metrics.Strategy) map[string]float64 {
	out := make(map[string]float64, len(t.Metrics))
	for name, sum := range t.Metrics {
		if v, ok := sum.Value(strategyFor(strategies, name)); ok {
			out[name] = v
		}
	}
	return out
}

func strategyFor(strategies map[string]metrics.Strategy, name string) metrics.Strategy {
	if st, ok := strategies[name]; ok {
		return st
	}
	return metrics.Latest
}

func copyTrial(t *trial.Trial) *trial.Trial {
	c := *t
	return &c
}
