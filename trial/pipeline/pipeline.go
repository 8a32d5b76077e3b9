package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/trial"
)

// Step is one container of a run, ready to start: a pod node of the
// Workflow.
type Step struct {
	// Name is the step's node name (train-pipeline.train,
	// wf[0].fan(1:b), wf.train(2)) and Template its template's name.
	Name, Template string
	// Container is the template's container after {{...}} substitution
	// and, with [Options.RerootPaths], path rewriting; for a script
	// template, its container with the source file's path appended to args,
	// as Argo does.
	Container *corev1.Container
	// Dir is the step's own directory on this machine:
	// Options.Dir/steps/<node name sanitised>.
	Dir string
	// Mounts make the step's declared container paths (artifacts, output
	// parameter files, volume mounts, the script source) appear at their
	// container paths, host Source to container Target; only when
	// Options.RerootPaths is false. A Source is a directory, except for a
	// file declared directly under "/", whose Source is a file.
	Mounts []trial.Mount
	// Primary reports whether the step's output carries the trial's
	// metrics: its template's metadata.labels hold all of
	// Options.PrimaryPodLabels and its container is
	// Options.PrimaryContainer.
	Primary bool
}

// Launcher runs one step's container to its end.
type Launcher interface {
	// Launch runs s, copying its standard output and error to stdout and
	// stderr as they are produced, and returns how it ended: Succeeded,
	// Failed (with its exit code; Reason "StartError" when it could not
	// be started) or Killed when ctx is done. The error is reserved for
	// failures of the machine rather than of the step (Run then stops the
	// whole run).
	Launch(ctx context.Context, s *Step, stdout, stderr io.Writer) (trial.Result, error)
}

// Options configures [Run].
type Options struct {
	// Launcher starts the steps. Required.
	Launcher Launcher
	// Dir is the trial's directory: step directories go under
	// Dir/steps/<node name>/, the run's shared volumes
	// (spec.volumeClaimTemplates, emptyDir volumes) under
	// Dir/volumes/<name>/. Required.
	Dir string
	// Name is {{workflow.name}} and the root node's name; "" means the
	// Workflow's metadata.name, or else "workflow".
	Name string
	// RerootPaths, for steps that run on this machine's file system,
	// places every declared container path under the step's directory
	// (or the run's volume directory) and rewrites it in the container's
	// command, args, env values, working directory and script source.
	// When false the paths are left alone and given as [Step.Mounts].
	RerootPaths bool
	// PrimaryPodLabels and PrimaryContainer pick the primary steps (see
	// [Step.Primary]). With no PrimaryPodLabels no step is primary. ""
	// PrimaryContainer means "main", Argo's name for a step's container.
	PrimaryPodLabels map[string]string
	PrimaryContainer string
	// Stdout and Stderr receive the primary steps' output, whole lines at
	// a time, as it is produced; nil means discard.
	Stdout, Stderr io.Writer
	// Second is how long one second of activeDeadlineSeconds and retry
	// backoff lasts; 0 means a second (tests shorten it).
	Second time.Duration
}

// Run runs wf, which must pass [Check], to its end and returns a copy of
// it with its status filled as Argo's workflow controller would: Phase,
// Message, StartedAt, FinishedAt and one node per DAG, steps group, task
// group, retry and pod (Name, DisplayName, TemplateName, Type, Phase,
// Message, BoundaryID, Children, Outputs with parameters, artifacts,
// result and exit code, StartedAt, FinishedAt). A failed run's Message
// names the step that failed it: "step train (template train) failed: exit
// code 3: <stderr tail>". When ctx is done, running steps are stopped and
// the run ends Failed with the message "stopped: <cause>". The error is for
// a workflow Run cannot run at all (Check's problems, missing options) or a
// Launcher error.
func Run(ctx context.Context, wf *wfv1.Workflow, opts Options) (*wfv1.Workflow, error) {
	if wf == nil {
		return nil, errors.New("pipeline: no workflow")
	}
	if opts.Launcher == nil {
		return nil, errors.New("pipeline: no launcher")
	}
	if opts.Dir == "" {
		return nil, errors.New("pipeline: no run directory")
	}
	if err := Check(wf); err != nil {
		return nil, err
	}
	r, err := newRunner(wf.DeepCopy(), opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// deadlineError is the cause of a step or run stopped by its deadline.
type deadlineError struct {
	seconds int64
	what    string
}

func (d *deadlineError) Error() string {
	return fmt.Sprintf("%s exceeded activeDeadlineSeconds=%d", d.what, d.seconds)
}
