package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// StepDirEnv names the variable that holds a pipeline step's own
// directory (see [pipeline.Step.Dir]).
const StepDirEnv = "TUNE_STEP_DIR"

// isWorkflow reports whether spec's workload is an Argo Workflow, or a
// Kubeflow Pipelines v2 PipelineJob, which runs as the Workflow it
// compiles to.
func isWorkflow(spec *trial.Spec) bool {
	return spec != nil && spec.Object != nil && (manifest.IsKind(spec.Object, manifest.WorkflowGVK) || kfp.IsKind(spec.Object))
}

// decodeWorkflow decodes spec's Workflow strictly with [manifest.Decode],
// or its PipelineJob with [kfp.Decode] and compiles it with [kfp.Compile],
// as the Kubernetes executor does.
func decodeWorkflow(spec *trial.Spec) (*wfv1.Workflow, error) {
	obj := spec.Object
	if kfp.IsKind(obj) {
		job, err := kfp.Decode(obj)
		if err != nil {
			return nil, err
		}
		return kfp.Compile(job, spec.Name)
	}
	var wf wfv1.Workflow
	if err := manifest.DecodeObject(obj, &wf); err != nil {
		return nil, fmt.Errorf("decode argoproj.io/v1alpha1 Workflow: %w", err)
	}
	return &wf, nil
}

// checkWorkflow is Check for a Workflow trial: the pipeline subset
// ([pipeline.Check]), then what each step's container needs here: a
// command, env that resolves here, no more GPUs than e has. Every problem
// is listed.
func (e *Executor) checkWorkflow(spec *trial.Spec) (*wfv1.Workflow, error) {
	wf, err := decodeWorkflow(spec)
	if err != nil {
		return nil, err
	}
	var errs []error
	if err := pipeline.Check(wf); err != nil {
		errs = append(errs, err)
	}
	for _, t := range wf.Spec.Templates {
		c := t.Container
		if t.Script != nil {
			c = &t.Script.Container
		}
		if c == nil {
			continue
		}
		if err := e.checkStepContainer(spec, wf, t.Script != nil, c); err != nil {
			errs = append(errs, fmt.Errorf("template %q: %w", t.Name, err))
		}
	}
	if err := checkMounts(spec.Mounts); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return wf, nil
}

// checkStepContainer checks what the local executor needs of a step's
// container.
func (e *Executor) checkStepContainer(spec *trial.Spec, wf *wfv1.Workflow, script bool, c *corev1.Container) error {
	if len(c.Command) == 0 {
		what := "container"
		if script {
			what = "script"
		}
		return fmt.Errorf("%s has no command: the local executor cannot run an image's entrypoint, so set command (and args)", what)
	}
	if len(c.EnvFrom) > 0 {
		return errors.New("envFrom is not supported by the local executor")
	}
	gpus, err := gpuCount(c)
	if err != nil {
		return err
	}
	switch {
	case gpus > 0 && len(e.gpuIDs) == 0:
		return fmt.Errorf("requests %d %s but the local executor has no GPUs configured", gpus, gpuResource)
	case gpus > len(e.gpuIDs):
		return fmt.Errorf("requests %d %s but the local executor has only %d", gpus, gpuResource, len(e.gpuIDs))
	}
	for _, ev := range c.Env {
		if ev.ValueFrom != nil {
			if _, err := valueFrom(stepJob(spec, wf), spec, c, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// stepJob stands for the workflow where env's valueFrom.fieldRef reads
// the object's name and namespace.
func stepJob(spec *trial.Spec, wf *wfv1.Workflow) *batchv1.Job {
	name := wf.Name
	if name == "" {
		name = spec.Name
	}
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: wf.Namespace}}
}

// runWorkflow is Run for a Workflow trial: the pipeline engine with a
// launcher that starts each step as Job trials' processes are started.
func (e *Executor) runWorkflow(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	wf, err := e.checkWorkflow(spec)
	if err != nil {
		return trial.Result{}, err
	}
	if ctx.Err() != nil {
		return killed("stopped before start", context.Cause(ctx), nil), nil
	}
	if spec.Dir == "" {
		return trial.Result{}, errors.New("a Workflow trial needs a trial directory for its steps")
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var mu sync.Mutex
	out := &lockedWriter{mu: &mu, w: stdout}
	errOut := &lockedWriter{mu: &mu, w: stderr}
	// KFP v1 steps write their metrics to a file declared as the
	// mlpipeline-metrics artifact: read it as a parameter, as on a cluster.
	pipeline.DeclareMetricsParameters(wf)
	name := spec.Name
	if name == "" {
		name = wf.Name
	}
	l := &stepLauncher{e: e, spec: spec, wf: wf}
	done, err := pipeline.Run(ctx, wf, pipeline.Options{
		Launcher: l,
		Dir:      spec.Dir,
		Name:     name,
		// On the host, a step's declared paths are re-rooted under its
		// directory; in a container they are mounted at their paths.
		RerootPaths:      !e.runtime.container(),
		PrimaryPodLabels: spec.PrimaryPodLabels,
		PrimaryContainer: spec.PrimaryContainer,
		Stdout:           out,
		Stderr:           errOut,
		Second:           e.second,
	})
	if err != nil {
		return trial.Result{}, err
	}
	if err := writeStatus(filepath.Join(spec.Dir, WorkflowStatusFile), done); err != nil {
		return trial.Result{}, err
	}
	if ctx.Err() != nil {
		return killed("stopped", context.Cause(ctx), pipeline.FailedStep(done).ExitCode), nil
	}
	res := judgeWorkflow(spec, done)
	if res.State == trial.Succeeded {
		if err := pipeline.WriteOutputs(done, out); err != nil {
			return trial.Result{}, err
		}
	}
	return res, nil
}

// WorkflowStatusFile is the file, in a Workflow trial's directory, that
// holds the finished run: the Workflow with its status as Argo's
// controller would fill it (nodes, phases, outputs), in JSON, as
// `argo get -o json` prints it.
const WorkflowStatusFile = "workflow.json"

// writeStatus writes the finished run wf to name.
func writeStatus(name string, wf *wfv1.Workflow) error {
	data, err := json.MarshalIndent(wf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the finished workflow: %w", err)
	}
	if err := os.WriteFile(name, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the finished workflow: %w", err)
	}
	return nil
}

// judgeWorkflow judges a finished run by the trial's own conditions, as
// the Kubernetes executor does, and otherwise by its phase.
func judgeWorkflow(spec *trial.Spec, wf *wfv1.Workflow) trial.Result {
	own := !(spec.SuccessCondition == "" && spec.FailureCondition == "" ||
		spec.SuccessCondition == manifest.WorkflowSuccessCondition && spec.FailureCondition == manifest.WorkflowFailureCondition)
	var res trial.Result
	decided := false
	if own {
		if data, err := json.Marshal(wf); err == nil {
			decided, res = manifest.Conditions{Kind: "Workflow", Success: spec.SuccessCondition, Failure: spec.FailureCondition}.Eval(data)
		}
	}
	if !decided {
		switch wf.Status.Phase {
		case wfv1.WorkflowSucceeded:
			res = trial.Result{State: trial.Succeeded, Reason: "WorkflowSucceeded"}
		default:
			res = trial.Result{State: trial.Failed, Reason: "Workflow" + string(wf.Status.Phase)}
		}
		if own {
			res.Message = fmt.Sprintf("the run ended %s and neither the success nor the failure condition holds", wf.Status.Phase)
		}
	}
	if res.State == trial.Failed {
		if res.Message == "" {
			res.Message = wf.Status.Message
		}
		res.ExitCode = pipeline.FailedStep(wf).ExitCode
	}
	return res
}

// stepLauncher starts a Workflow trial's steps as processes.
type stepLauncher struct {
	e    *Executor
	spec *trial.Spec
	wf   *wfv1.Workflow
}

// Launch runs one step as a Job trial's attempt: its own process group,
// recorded in the step's directory for Recover, the GPUs it asks for
// taken from the executor's pool for its duration.
func (l *stepLauncher) Launch(ctx context.Context, s *pipeline.Step, stdout, stderr io.Writer) (trial.Result, error) {
	p, err := l.e.stepPlan(l.spec, l.wf, s)
	if err != nil {
		return startError(err), nil
	}
	env := p.env
	if l.e.gpus != nil {
		ids, err := l.e.gpus.acquire(ctx, p.gpus)
		if err != nil {
			return killed("stopped while waiting for a GPU", err, nil), nil
		}
		defer l.e.gpus.release(ids)
		env = setEnv(env, "CUDA_VISIBLE_DEVICES", strings.Join(ids, ","))
	}
	tail := newTailBuffer(l.e.stderrTail, tailMaxBytes)
	return l.e.attempt(ctx, 1, p, env, stdout, io.MultiWriter(stderr, tail), tail)
}

// stepPlan works out the process of a step, as plan does for a Job.
func (e *Executor) stepPlan(spec *trial.Spec, wf *wfv1.Workflow, s *pipeline.Step) (*plan, error) {
	c := s.Container
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("step %s has no command", s.Name)
	}
	gpus, err := gpuCount(c)
	if err != nil {
		return nil, err
	}
	stepSpec := *spec
	stepSpec.Env = append(slices.Clone(spec.Env), StepDirEnv+"="+s.Dir)
	env, vars, err := e.environ(stepJob(spec, wf), c, &stepSpec)
	if err != nil {
		return nil, err
	}
	argv, dir := e.argvAndDir(c, vars)
	p := &plan{
		argv: argv, dir: dir, env: env, gpus: gpus,
		recordDir: s.Dir, owner: spec.Owner,
		mounts: slices.Concat(spec.Mounts, s.Mounts),
		name:   s.Name,
	}
	if err := e.planImage(p, c); err != nil {
		return nil, fmt.Errorf("step %s: %w", s.Name, err)
	}
	return p, nil
}
