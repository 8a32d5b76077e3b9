package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tune-hpo/tune/earlystop"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// maxWarningsPerTrial bounds the invalid-metric warnings reported per trial.
const maxWarningsPerTrial = 5

// stderrTailLines is how many lines of a trial's stderr end up in messages.
const stderrTailLines = 20

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

	// unmatched notes what the trial printed that looked like metrics but
	// was not taken, until objectiveSeen (nil when its output is not read
	// for metrics).
	unmatched     *metrics.Unmatched
	objectiveSeen atomic.Bool
	thinWarned    bool
	// reported is the time of the latest value flushed; zero before one.
	reported time.Time

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
	if l.Metric == at.objective && !at.objectiveSeen.Load() {
		at.objectiveSeen.Store(true)
	}
	if at.rule != nil && l.Metric == at.objective && l.Text == "" && !math.IsNaN(l.Value) && !math.IsInf(l.Value, 0) {
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

// launchable is a trial readied to start: in s.trials, its directory made,
// not yet stored.
type launchable struct {
	t    *trial.Trial
	spec *trial.Spec
}

// startAll creates trials for assignments and launches their workloads.
// The trials readied in a row are stored Running in one transaction before
// any of them starts; a trial that cannot be readied is recorded on its
// own, after those before it started.
func (s *state) startAll(ctx, storeCtx context.Context, assignments []suggest.Assignment) error {
	var ready []launchable
	for _, a := range assignments {
		l, fail := s.ready(storeCtx, a)
		if fail == nil {
			ready = append(ready, l)
			continue
		}
		if err := s.startReady(ctx, storeCtx, ready); err != nil {
			return err
		}
		ready = ready[:0]
		if err := fail(); err != nil {
			return err
		}
	}
	return s.startReady(ctx, storeCtx, ready)
}

// ready creates the trial of assignment a and readies it to start. When it
// cannot start, fail records it so and returns the error that ends the
// run, if any.
func (s *state) ready(storeCtx context.Context, a suggest.Assignment) (l launchable, fail func() error) {
	r := s.r
	seq := len(s.trials) + 1
	name := TrialName(s.name, seq)
	t := &trial.Trial{Name: name, Seq: seq, Parameters: a, State: trial.Pending, Created: r.now()}
	s.trials = append(s.trials, t)
	s.account(t)
	dir, err := filepath.Abs(filepath.Join(r.TrialRoot, s.name, name))
	if err != nil {
		return l, func() error { return s.failInfra(storeCtx, t, fmt.Errorf("trial directory: %w", err)) }
	}
	t.Dir = dir
	spec, err := s.trialSpec(t)
	if err != nil {
		// The experiment validated, so this is a suggester bug or an
		// assignment missing a parameter: fail the trial, not the run.
		return l, func() error { return s.failEarly(storeCtx, t, trial.Failed, "RenderError", err.Error()) }
	}
	stale, err := emptyDir(dir, r.now())
	if err != nil {
		return l, func() error { return s.failInfra(storeCtx, t, fmt.Errorf("create trial directory: %w", err)) }
	}
	if stale != "" {
		r.emit(Event{Kind: Warning, Trial: copyTrial(t), Message: fmt.Sprintf("trial %s: its directory %s was not empty (left by an earlier run or a deleted experiment); it was renamed to %s so that nothing in it is read as this trial's", name, dir, stale)})
	}
	warnings, err := s.prepareCheckpoint(t, spec)
	for _, w := range warnings {
		r.emit(Event{Kind: Warning, Trial: copyTrial(t), Message: fmt.Sprintf("trial %s: %s", name, w)})
	}
	if err != nil {
		return l, func() error { return s.failInfra(storeCtx, t, err) }
	}
	return launchable{t, spec}, nil
}

// startReady stores the readied trials Running, in one transaction, and starts
// their workloads. When they cannot be stored none starts, and they are
// forgotten: the final status counts only the trials the store holds.
func (s *state) startReady(ctx, storeCtx context.Context, ready []launchable) error {
	if len(ready) == 0 {
		return nil
	}
	writes := make([]TrialWrite, len(ready))
	for i, l := range ready {
		l.t.State, l.t.Started = trial.Running, s.r.now()
		s.account(l.t)
		writes[i] = TrialWrite{Trial: l.t}
	}
	if err := s.commit(storeCtx, writes, true); err != nil {
		s.dropNewest(len(ready))
		return err
	}
	for _, l := range ready {
		s.follow(ctx, l.t, l.spec, s.r.Executor.Run)
	}
	return nil
}

// follow makes t active and runs its workload with run (the executor's Run,
// or its Attach for a trial picked up on resume) on a goroutine of its own,
// which reports the outcome on s.results.
func (s *state) follow(ctx context.Context, t *trial.Trial, spec *trial.Spec, run runFunc) {
	r := s.r
	trialCtx, cancel := context.WithCancelCause(ctx)
	at := &activeTrial{t: t, cancel: cancel, recorder: metrics.NewRecorder(s.strategies, r.maxObservations()), warnings: make(chan string, maxWarningsPerTrial)}
	at.objective = s.objective
	if s.stopper != nil {
		at.rule, at.name = s.stopper, t.Name
	}
	s.active[t.Seq] = at
	r.emit(Event{Kind: TrialStarted, Trial: copyTrial(t)})
	spec.OnStatus = at.setCondition
	spec.OnRetry = func(attempt int) {
		at.recorder.Reset()
		at.objectiveSeen.Store(false)
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
	spec.Collector = needs.Pod
	var parser *metrics.TextParser
	if s.exp.CollectorKind().ReadsOutput() {
		parser = s.parser
		at.unmatched = metrics.NewUnmatched(s.exp.MetricNames())
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
		Checkpoint:       e.checkpoint(name, a),
	}, nil
}

// failEarly records trial t, which could not be launched at all, as ended
// in state with reason and message. When even that cannot be stored, t is
// forgotten (the store never held it) and the store's error returned.
func (s *state) failEarly(storeCtx context.Context, t *trial.Trial, state trial.State, reason, message string) error {
	t.State, t.Reason, t.Message, t.Finished = state, reason, message, s.r.now()
	s.account(t)
	if err := s.commit(storeCtx, []TrialWrite{{Trial: t}}, true); err != nil {
		s.dropNewest(1) // never stored
		return err
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
		if at.unmatched != nil && !at.objectiveSeen.Load() {
			at.unmatched.Line(line)
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

// ended is a finished trial settled in memory whose store write waits for
// the next commit.
type ended struct {
	at        *activeTrial
	committed trial.Trial // as the store holds it
	err       error       // the workload's error
	write     TrialWrite
}

// complete settles finished trials in memory; their write goes with the
// next commit, with the trials launched in their place (one transaction
// per loop step), and they are reported once it is committed. When one
// of them ended by a fault of tune's environment, they are committed at
// once and that fault returned, so that no trial is launched after it.
func (s *state) complete(storeCtx context.Context, results ...trialResult) error {
	infra := false
	for _, res := range results {
		at := s.active[res.seq]
		delete(s.active, res.seq)
		at.cancel(nil)
		e := ended{at: at, committed: *at.t, err: res.err}
		s.drainWarnings(at)
		s.settle(at, res)
		s.account(at.t)
		logs, replace := at.recorder.DrainFinal()
		e.write = s.trialWrite(at, logs, replace)
		s.ended = append(s.ended, e)
		infra = infra || at.t.Reason == TrialReasonInfrastructure
	}
	if infra {
		return s.commit(storeCtx, nil, false)
	}
	return nil
}

// commit writes the ended trials complete settled, then writes (each
// trial's change), then the status when any trial ended or withStatus
// is set, all in one transaction, and reports the ended trials. When the
// write fails, the ended trials are left in memory as the store holds them
// (as they were before), so that the counts and the best trial reported
// stay those the store has; the caller undoes what writes changed. It
// returns an infraError when an ended trial ended by a fault of tune's
// environment.
func (s *state) commit(storeCtx context.Context, writes []TrialWrite, withStatus bool) error {
	done := s.ended
	s.ended = nil
	all := make([]TrialWrite, 0, len(done)+len(writes))
	for _, e := range done {
		all = append(all, e.write)
	}
	all = append(all, writes...)
	var st *Status
	if withStatus || len(done) > 0 {
		st = s.refreshStatus()
	} else if len(all) == 0 {
		return nil
	}
	if err := s.r.Store.SaveTrials(storeCtx, s.name, all, st); err != nil {
		for _, e := range done {
			*e.at.t = e.committed
			s.account(e.at.t)
			if s.stopper != nil {
				s.stopper.Complete(e.at.t.Name, false)
			}
		}
		if len(all) == 0 {
			return fmt.Errorf("save status of %s: %w", s.name, &storeError{err})
		}
		return fmt.Errorf("save trial %s: %w", trialNames(all), &storeError{err})
	}
	var infra error
	for _, e := range done {
		t := e.at.t
		if s.stopper != nil {
			s.stopper.Complete(t.Name, t.State == trial.Succeeded)
		}
		s.r.emit(Event{Kind: TrialFinished, Trial: copyTrial(t), Best: s.best()})
		s.release(t)
		if t.Reason == TrialReasonInfrastructure && infra == nil {
			infra = &infraError{e.err} // the error names the trial
		}
	}
	return infra
}

// settle sets the final state, reason, message and metrics of active
// trial at from its workload's result.
func (s *state) settle(at *activeTrial, res trialResult) {
	t := at.t
	t.Finished = s.r.now()
	t.Metrics = at.recorder.Summaries()
	t.ExitCode = res.result.ExitCode
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
		if at.recorder.Reported(s.objective) { // a number, or text as Katib accepts
			t.State, t.Reason, t.Message = trial.Succeeded, "TrialSucceeded", "trial succeeded"
		} else {
			t.State, t.Reason = trial.MetricsUnavailable, "MetricsUnavailable"
			formats := s.exp.MetricsFormats()
			custom := len(formats) != 1 || formats[0] != metrics.DefaultFilter
			t.Message = metricsUnavailableMessage(s.objective, at.unmatched, custom)
		}
	case res.result.State == trial.Killed:
		t.State, t.Reason, t.Message = trial.Killed, res.result.Reason, res.result.Message
	default:
		t.State, t.Reason, t.Message = trial.Failed, res.result.Reason, failureSummary(res.result.Message)
		if t.Reason == "" {
			t.Reason = "TrialFailed"
		}
	}
}

// trialNames names the trials of writes for an error: the first, and how
// many more.
func trialNames(writes []TrialWrite) string {
	if len(writes) == 1 {
		return writes[0].Trial.Name
	}
	return fmt.Sprintf("%s and %d more", writes[0].Trial.Name, len(writes)-1)
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

// trialWrite is the store write of active trial at with the logs its
// recorder drained: appended to its observation log, or replacing it when
// the recorder has thinned it (reported once per trial).
func (s *state) trialWrite(at *activeTrial, logs []metrics.Log, replace bool) TrialWrite {
	if replace && !at.thinWarned {
		at.thinWarned = true
		n := s.r.maxObservations()
		s.r.emit(Event{Kind: Warning, Trial: copyTrial(at.t), Message: fmt.Sprintf(
			"trial %s reported %s more than %d times: its observation log keeps %d values per metric, evenly spaced, with the smallest, largest and latest (--max-observations); the trial's value uses every value",
			at.t.Name, strings.Join(at.recorder.Thinned(), ", "), n, n)})
	}
	return TrialWrite{Trial: at.t, Logs: logs, ReplaceLogs: replace}
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
