package trial

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// State is a trial's status, with Katib's words.
type State string

// The trial states. Succeeded, Failed, Killed, MetricsUnavailable and
// EarlyStopped are final.
const (
	Pending            State = "Pending"
	Running            State = "Running"
	Succeeded          State = "Succeeded"
	Failed             State = "Failed"
	Killed             State = "Killed"
	MetricsUnavailable State = "MetricsUnavailable"
	EarlyStopped       State = "EarlyStopped"
)

// Final reports whether s is a state a trial never leaves.
func (s State) Final() bool {
	switch s {
	case Succeeded, Failed, Killed, MetricsUnavailable, EarlyStopped:
		return true
	}
	return false
}

// Trial is the record of one trial: what was tried and how it went.
type Trial struct {
	// Name is unique within the experiment: "<experiment>-<seq>".
	Name string `json:"name"`
	// Seq numbers trials of an experiment from 1 in creation order.
	Seq int `json:"seq"`
	// Parameters is the assignment the trial ran with.
	Parameters suggest.Assignment `json:"parameters"`
	// State is the trial's status; Reason is a CamelCase word saying why
	// (Katib's condition reasons) and Message the human explanation.
	State   State  `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// ExitCode is the primary process's exit status, when it exited.
	ExitCode *int `json:"exitCode,omitempty"`
	// Metrics summarises the values reported for each metric of interest.
	Metrics map[string]metrics.Summary `json:"metrics,omitempty"`
	// Dir is the trial's working directory for files and logs (local
	// executor), relative paths being relative to the store's directory.
	Dir string `json:"dir,omitempty"`
	// Created, Started and Finished are UTC timestamps; zero when not
	// reached.
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
}

// DefaultNamespace is Kubernetes' namespace for an object that names
// none: where a trial runs when neither the experiment's
// metadata.namespace nor the executor's options name one.
const DefaultNamespace = "default"

// Spec is what an [Executor] needs to run one trial.
type Spec struct {
	// Experiment and Name identify the trial.
	Experiment string
	Name       string
	// Object is the trial's workload (the rendered trialSpec: a batch/v1 Job,
	// an Argo Workflow, ...) after parameter substitution, as decoded JSON.
	Object map[string]any
	// PrimaryContainer is trialTemplate.primaryContainerName.
	PrimaryContainer string
	// PrimaryPodLabels is trialTemplate.primaryPodLabels: the labels of the
	// pod whose primary container reports the metrics, for workloads with
	// several pods (executors that run pods).
	PrimaryPodLabels map[string]string
	// SuccessCondition and FailureCondition are trialTemplate's gjson
	// conditions on the workload object, with Katib's defaults for the
	// kind applied (executors that run Kubernetes objects).
	SuccessCondition, FailureCondition string
	// Retain is trialTemplate.retain: keep the workload object after the
	// trial ends (executors that run Kubernetes objects).
	Retain bool
	// Namespace is the experiment's metadata.namespace, where Kubernetes
	// executors create the workload unless told otherwise.
	Namespace string
	// Dir is an existing directory the trial owns for its files and logs.
	Dir string
	// Owner identifies the store the trial belongs to (the CLI uses the
	// store file's resolved path). An executor that leaves records of what
	// it started (the local executor's process record in Dir) writes Owner
	// into them, and its Recover leaves alone a record whose non-empty
	// owner differs from a non-empty Owner. "" means unknown.
	Owner string
	// Env holds extra environment variables for the trial (TUNE_EXPERIMENT,
	// TUNE_TRIAL, TUNE_TRIAL_DIR, ...), as KEY=VALUE.
	Env []string
	// Mounts ask a local executor to make directories of this machine
	// appear at other paths inside the trial (a File collector's
	// /var/log/katib re-rooted under Dir appearing at /var/log/katib),
	// where the platform lets an unprivileged process do so. Executors that
	// cannot ignore them: the trial gets the re-rooted paths in Env too.
	Mounts []Mount
	// OnRetry, when not nil, is called by an executor that retries a failed
	// workload (a Job's backoffLimit) just before attempt number attempt
	// (2, 3, ...) starts, so that the caller can discard what the failed
	// attempt reported. It is called on the goroutine running Run.
	OnRetry func(attempt int)
	// Collector, when not nil, asks an executor that implements
	// [PodCollectors] to run tune's collector in the trial's primary
	// container.
	Collector *PodCollector
	// Checkpoint, when not nil, asks an executor whose trials run
	// elsewhere (trial/kube) to give the trial its checkpoint directory
	// on the volume its template mounts, as Katib's population-based
	// training does; local executors are given Mounts instead.
	Checkpoint *Checkpoint
	// OnStatus, when not nil, is called by an executor when a running
	// trial's condition changes in a way the user should see before it
	// ends, with a CamelCase reason and a message: the scheduler cannot
	// place its pod ("Unschedulable", "0/4 nodes are available: 4
	// Insufficient nvidia.com/gpu"), its image is being pulled, it was
	// placed. An empty reason clears the condition. It may be called from
	// any goroutine and must not block.
	OnStatus func(reason, message string)
}

// Result is how a trial's workload ended.
type Result struct {
	// State is Succeeded, Failed or Killed. Succeeded means the workload
	// itself succeeded; the runner then checks its metrics.
	State State
	// Reason and Message explain a Failed or Killed state.
	Reason  string
	Message string
	// ExitCode is the primary process's exit code when known.
	ExitCode *int
}

// Executor runs trial workloads.
//
// Run starts the workload described by spec, copies the primary process's
// standard output and standard error to stdout and stderr as they are
// produced, and blocks until the workload ends or ctx is done. When ctx is
// done Run stops the workload, waits for it to end and returns a Killed
// result. The returned error is reserved for specs the executor cannot run
// at all (wrong kind, no command, malformed fields), which [Checker] can
// detect in advance. A workload that fails, including one whose program
// cannot be started, is a Failed result with a nil error: like a container
// that cannot start on Kubernetes, it is the trial's failure and counts
// towards maxFailedTrialCount.
//
// Run is safe for concurrent use with distinct specs.
type Executor interface {
	Run(ctx context.Context, spec *Spec, stdout, stderr io.Writer) (Result, error)
}

// Checker is an optional interface of an [Executor] that can tell, before an
// experiment starts, whether it can run a trial spec at all (the right kind
// of workload, a runnable container). The runner calls it once with a
// rendered sample trial so that an unrunnable experiment fails before
// anything is written. Executors without it are assumed able to run any spec.
type Checker interface {
	Check(spec *Spec) error
}

// Recoverer is an optional interface of an [Executor] that can deal with
// what is left of a trial's workload after the runner that started it died
// (a crash, a kill -9, a reboot). When an experiment is resumed, the runner
// calls Recover for every trial the store still shows as running, with the
// spec the trial was started with. Recover stops whatever of the workload
// is still alive, or re-attaches to it where the executor can, and returns
// a sentence for the trial's message saying what it found and what it did
// ("process group 4242 was still running and was stopped", "the process
// had already exited"). An error means the leftovers could not be dealt
// with; the runner reports it and does not start the trial again.
type Recoverer interface {
	Recover(ctx context.Context, spec *Spec) (string, error)
}

// Attacher is an optional interface of an [Executor] whose workloads outlive
// the runner (Kubernetes objects), so that a resumed experiment can pick up
// a trial that is still running instead of starting it again. When an
// experiment is resumed, the runner calls Attach for every trial the store
// still shows as running, before it would call [Recoverer.Recover]. Attach
// behaves as [Executor.Run] for the workload that spec's trial already
// has: it streams what the workload has printed from its start (as much of
// it as is still kept), then what it prints next, and blocks until it ends
// or ctx is done. The runner discards the output and metrics it recorded
// of the trial before, so nothing is counted twice.
// It returns ErrNotFound, without blocking, when the workload no longer
// exists; the runner then treats the trial as lost.
//
// When ctx of Run or Attach is done with cause [ErrDetached]
// (context.Cause), an Attacher leaves the workload running and returns at
// once a result whose State is Running, so that a later Attach picks it
// up.
type Attacher interface {
	Attach(ctx context.Context, spec *Spec, stdout, stderr io.Writer) (Result, error)
}

// ErrNotFound is returned by [Attacher.Attach] when a trial's workload no
// longer exists.
var ErrNotFound = errors.New("trial workload not found")

// ErrDetached is the cause of a context cancelled to make tune stop
// following its trials without stopping them (tune's pod terminated, its
// trials left to the cluster); see [Attacher].
var ErrDetached = errors.New("tune detached from its running trials")

// Mount makes the directory Source appear at the absolute path Target
// inside a trial; see [Spec.Mounts].
type Mount struct {
	Source, Target string
}

// Checkpoint is a trial's checkpoint directory on a volume its template
// mounts at Path in the primary container: the trial sees the volume's
// subdirectory Dir there (Katib's layout, <experiment>/<trial>), which
// starts as a copy of the volume's subdirectory Parent when Parent is
// not "". Dir and Parent are relative, slash-separated, without "..".
type Checkpoint struct {
	Path, Dir, Parent string
}

// OnHost is an optional interface of an [Executor] whose trials run as
// processes on the machine running tune, so that what a trial writes to
// files, serves on a loopback address or sends to one reaches the runner.
// The collectors other than StdOut need it, or [PodCollectors].
type OnHost interface {
	// OnHost is a marker; it does nothing.
	OnHost()
}

// PodCollectors is an optional interface of an [Executor] whose trials run
// in pods elsewhere but which can run tune's metrics collector inside
// each trial's primary container ([Spec.Collector]), so that the
// collectors other than StdOut work for its trials too.
type PodCollectors interface {
	// PodCollectors is a marker; it does nothing.
	PodCollectors()
}

// PodCollector is tune's metrics collector run inside a trial's primary
// container: an init container copies tune from Image into an emptyDir
// volume mounted at InstallDir, the container's command is prefixed with
// Command (tune then runs the original command as its child, follows the
// metrics it writes or serves, and writes them to the container's standard
// output after Prefix), and each directory of Dirs gets an emptyDir
// volume unless one of the container's volume mounts already holds it.
type PodCollector struct {
	// Image holds the tune binary on its PATH; "" is the executor's
	// default.
	Image string
	// Install is the init container's command, InstallDir where it
	// installs tune.
	Install    []string
	InstallDir string
	// Command goes before the primary container's command.
	Command []string
	// Dirs are absolute directories inside the container where the
	// trial writes its metrics.
	Dirs []string
	// Prefix starts the lines of the primary container's log that the
	// collector wrote. Line is called with each such line, without the
	// prefix and the newline, instead of its being copied to the trial's
	// output; it is called from the goroutine that reads the log.
	Prefix string
	Line   func(line []byte)
}
