package experiment

import (
	"context"
	"errors"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// ErrNotFound is returned by a [Store] for an experiment or trial it does not hold.
var ErrNotFound = errors.New("not found")

// ErrExists is returned by [Store.CreateExperiment] for a name already taken.
var ErrExists = errors.New("already exists")

// Phase is an experiment's overall condition, with Katib's condition types,
// plus Stopped for an experiment interrupted by the user.
type Phase string

// The experiment phases. Succeeded and Failed are final; a Stopped experiment
// can be resumed.
const (
	Created   Phase = "Created"
	Running   Phase = "Running"
	Succeeded Phase = "Succeeded"
	Failed    Phase = "Failed"
	Stopped   Phase = "Stopped"
)

// Katib's experiment condition reasons, and tune's for an interrupted run.
const (
	ReasonCreated             = "ExperimentCreated"
	ReasonRunning             = "ExperimentRunning"
	ReasonGoalReached         = "ExperimentGoalReached"
	ReasonMaxTrialsReached    = "ExperimentMaxTrialsReached"
	ReasonSuggestionEnd       = "ExperimentSuggestionEndReached"
	ReasonMaxFailedReached    = "ExperimentMaxFailedTrialsReached"
	ReasonInterrupted         = "ExperimentInterrupted"
	ReasonDetached            = "ExperimentDetached"
	ReasonResumed             = "ExperimentResumed"
	ReasonStoreError          = "ExperimentStoreError"
	ReasonSuggestionFailed    = "ExperimentSuggestionFailed"
	ReasonTrialExecutionError = "ExperimentTrialExecutorError"
	// ReasonInfrastructureError: tune's own environment failed a trial
	// (its directory or log files could not be created, the process could
	// not be started for lack of file descriptors, memory or disk); the
	// experiment is Stopped, resumable once the cause is fixed.
	ReasonInfrastructureError = "ExperimentInfrastructureError"
)

// Reasons the runner gives trials it stops.
const (
	// TrialReasonInterrupted: the trial was stopped because the experiment
	// stopped before the trial finished (interrupted, goal reached, a store
	// failure).
	TrialReasonInterrupted = "TrialInterrupted"
	// TrialReasonLost: the runner died while the trial ran; the trial was
	// found unfinished when the experiment was resumed.
	TrialReasonLost = "TrialLost"
	// TrialReasonInfrastructure: tune's own environment kept the trial
	// from running (see ReasonInfrastructureError); it does not count
	// towards maxFailedTrialCount.
	TrialReasonInfrastructure = "TrialInfrastructureError"
)

// ReasonTrialEarlyStopped is the reason of a trial stopped by the
// experiment's early-stopping rule.
const ReasonTrialEarlyStopped = "TrialEarlyStopped"

// Abandoned reports whether t was stopped by the runner rather than by its
// own outcome: Killed with reason TrialReasonInterrupted, TrialReasonLost or
// TrialReasonInfrastructure.
// An abandoned trial does not count towards maxTrialCount and tells the
// search algorithm nothing ([suggest.Abandoned]); a resumed experiment
// runs another trial in its place.
func Abandoned(t *trial.Trial) bool {
	return t.State == trial.Killed && (t.Reason == TrialReasonInterrupted || t.Reason == TrialReasonLost || t.Reason == TrialReasonInfrastructure)
}

// Record is an experiment as the store keeps it.
type Record struct {
	// Name is metadata.name, the experiment's key in the store.
	Name string `json:"name"`
	// Source is the experiment file exactly as submitted.
	Source []byte `json:"source,omitempty"`
	// SourcePath is the file's path when it was submitted, for messages.
	SourcePath string `json:"sourcePath,omitempty"`
	// Spec is the experiment with defaults applied.
	Spec Experiment `json:"spec"`
	// Status is the experiment's progress.
	Status Status `json:"status"`
}

// Status is an experiment's progress, after Katib's ExperimentStatus.
type Status struct {
	Phase   Phase  `json:"phase"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Conditions lists every phase change, oldest first.
	Conditions []Condition `json:"conditions,omitempty"`
	// Created, Started and Completed are UTC timestamps; zero when not reached.
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	// Algorithm is, for algorithmName auto, the algorithm auto chose when
	// the experiment was created ([Runner.Algorithm]); a resume keeps it.
	// Empty for any other algorithmName. tune's addition.
	Algorithm string `json:"algorithm,omitempty"`
	// CurrentOptimalTrial is the best trial so far; nil before any trial
	// reported its objective.
	CurrentOptimalTrial *OptimalTrial `json:"currentOptimalTrial,omitempty"`
	// Trial counts by state.
	Trials             int `json:"trials"`
	TrialsPending      int `json:"trialsPending,omitempty"`
	TrialsRunning      int `json:"trialsRunning,omitempty"`
	TrialsSucceeded    int `json:"trialsSucceeded,omitempty"`
	TrialsFailed       int `json:"trialsFailed,omitempty"`
	TrialsKilled       int `json:"trialsKilled,omitempty"`
	TrialsMetricsUnav  int `json:"trialsMetricsUnavailable,omitempty"`
	TrialsEarlyStopped int `json:"trialsEarlyStopped,omitempty"`
}

// SetCounts sets st's trial counts (Trials and the count per state) to
// those of n trials, the i-th in state(i).
func (st *Status) SetCounts(n int, state func(i int) trial.State) {
	st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded = n, 0, 0, 0
	st.TrialsFailed, st.TrialsKilled, st.TrialsMetricsUnav, st.TrialsEarlyStopped = 0, 0, 0, 0
	for i := range n {
		switch state(i) {
		case trial.Pending:
			st.TrialsPending++
		case trial.Running:
			st.TrialsRunning++
		case trial.Succeeded:
			st.TrialsSucceeded++
		case trial.Failed:
			st.TrialsFailed++
		case trial.Killed:
			st.TrialsKilled++
		case trial.MetricsUnavailable:
			st.TrialsMetricsUnav++
		case trial.EarlyStopped:
			st.TrialsEarlyStopped++
		}
	}
}

// Condition is one entry of an experiment's condition history.
type Condition struct {
	Phase   Phase     `json:"phase"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// OptimalTrial names the best trial and its values, as Katib's
// status.currentOptimalTrial does.
type OptimalTrial struct {
	BestTrialName        string             `json:"bestTrialName"`
	ParameterAssignments map[string]string  `json:"parameterAssignments"`
	Metrics              map[string]float64 `json:"metrics"`
	// Texts are the metrics reported only as text, such as DARTS's
	// Best-Genotype ([TrialTexts]).
	Texts map[string]string `json:"texts,omitempty"`
}

// TrialWrite is one trial's change in a [Store.SaveTrials] call.
type TrialWrite struct {
	Trial *trial.Trial
	// Logs are the observation-log entries the trial reported since its
	// last write.
	Logs []metrics.Log
	// ReplaceLogs makes Logs replace the trial's observation log instead of
	// being appended to it (the recorder thinned it).
	ReplaceLogs bool
}

// Store persists experiments, trials and observation logs. The [Runner] is
// its only consumer; package store provides the bbolt implementation.
//
// Each method is one atomic write or one consistent read.
type Store interface {
	// CreateExperiment stores a new experiment; ErrExists if the name is taken.
	CreateExperiment(ctx context.Context, rec *Record) error
	// Experiment returns the named experiment; ErrNotFound if absent.
	Experiment(ctx context.Context, name string) (*Record, error)
	// UpdateStatus replaces the status of the named experiment.
	UpdateStatus(ctx context.Context, name string, st Status) error
	// UpdateExperiment replaces the record (spec, source) and status of an
	// existing experiment, leaving its trials; ErrNotFound if absent.
	UpdateExperiment(ctx context.Context, rec *Record) error
	// SaveTrials applies writes in order, each creating or replacing its
	// trial (keyed by Trial.Seq) and appending its logs to the trial's
	// observation log (replacing it with ReplaceLogs), then, when st is
	// not nil, replaces the experiment's status, all in one transaction.
	SaveTrials(ctx context.Context, exp string, writes []TrialWrite, st *Status) error
	// ClearTrialLogs empties the observation log of trial seq of
	// experiment exp.
	ClearTrialLogs(ctx context.Context, exp string, seq int) error
	// Trials returns the experiment's trials in creation order.
	Trials(ctx context.Context, exp string) ([]trial.Trial, error)
}
