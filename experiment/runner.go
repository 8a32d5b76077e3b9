package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tune-hpo/tune/earlystop"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	suggestalgorithms "github.com/tune-hpo/tune/suggest/algorithms"
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
	// TrialProgress: Event.Trial is running; its Metrics are the summaries
	// of every value it has reported so far, and Event.Reported is when the
	// latest of them was reported (zero before the first). It comes for
	// each running trial, in creation order, once every
	// [Runner.FlushInterval], after the running trials' values are stored.
	TrialProgress
	// TrialStatus: the executor reported a change in a running trial's
	// condition through [trial.Spec.OnStatus] (its pod cannot be
	// scheduled, its image cannot be pulled, its container crash-loops,
	// its node is not ready, ...): Event.Trial's Reason and Message are the
	// new condition, both empty when it cleared. It comes at the first
	// flush after the change (see [Runner.FlushInterval]), once the
	// condition is stored, before that flush's TrialProgress events;
	// conditions that came and went between two flushes are not reported.
	TrialStatus
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
	// Reported is the time of a TrialProgress event's latest value.
	Reported time.Time
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
	// Algorithm is the algorithm the Suggester runs when
	// spec.algorithm.algorithmName is auto (the one
	// [suggestalgorithms.Choose] chose); Run records it in the status
	// (Status.Algorithm), and Resume where the status has none. Empty for
	// any other algorithmName.
	Algorithm string
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
	rec.Status = Status{Phase: Created, Reason: ReasonCreated, Message: "experiment created", Created: now, Algorithm: r.Algorithm}
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
	if err := CheckRunnable(e); err != nil {
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

// CheckRunnable rejects a valid experiment that no Runner can run,
// whatever its executor: an algorithm Katib knows that tune does not
// implement (none today: every algorithm Katib ships runs), an
// early-stopping rule other than medianstop, a trial template still in a
// ConfigMap (not read by [LoadWith] or [ParseWith]; checked last, its
// error also wraps [ErrTemplateNotRead]). A nasConfig runs with any
// algorithm that searches one. Errors wrap ErrUnsupported; [Runner.Check]
// and Run make the same check first.
func CheckRunnable(e *Experiment) error {
	if name := e.Spec.Algorithm.AlgorithmName; name != "" {
		if a, ok := suggestalgorithms.Lookup(name); ok && a.New == nil {
			return fmt.Errorf("spec.algorithm.algorithmName %q: %w yet (supported: %s)", name, ErrUnsupported, strings.Join(suggestalgorithms.Implemented(), ", "))
		}
	}
	if es := e.Spec.EarlyStopping; es != nil && es.AlgorithmName != "" && !slices.Contains(earlystop.Names(), es.AlgorithmName) {
		return fmt.Errorf("spec.earlyStopping %q: %w yet (supported: %s)", es.AlgorithmName, ErrUnsupported, strings.Join(earlystop.Names(), ", "))
	}
	if tt := e.Spec.TrialTemplate; tt == nil || tt.TrialSpec == nil {
		var src ConfigMapSource
		if tt != nil && tt.ConfigMap != nil {
			src = *tt.ConfigMap
		}
		return fmt.Errorf("spec.trialTemplate.configMap: the trial template in ConfigMap %s/%s (key %q) %w: a template from a ConfigMap is %w until it is (LoadWith, ParseWith)",
			src.ConfigMapNamespace, src.ConfigMapName, src.TemplatePath, ErrTemplateNotRead, ErrUnsupported)
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
	tally      tally   // kept by account and retally
	ended      []ended // settled by complete, written by the next commit
	// lengthOnly says that the suggester looks at the history only for
	// its length ([suggest.LengthOnly]): observations hold no assignment.
	lengthOnly bool
}

func (s *state) init() error {
	s.request = s.exp.SuggestRequest()
	s.goal = s.request.Goal
	s.strategies = s.exp.Strategies()
	s.objective = s.exp.Spec.Objective.ObjectiveMetricName
	s.active = make(map[int]*activeTrial)
	if lo, ok := s.r.Suggester.(suggest.LengthOnly); ok {
		s.lengthOnly = lo.HistoryLengthOnly()
	}
	s.retally()
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
	spec, err := s.trialSpec(&trial.Trial{Name: s.name + "-0000", Parameters: s.exp.SampleAssignment()})
	if err != nil {
		return fmt.Errorf("spec.trialTemplate: %w", err)
	}
	if collectorInPod(s.r.Executor) {
		if spec.Collector, err = s.exp.PodCollector(); err != nil {
			return fmt.Errorf("spec.metricsCollectorSpec: %w: %w", ErrUnsupported, err)
		}
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
