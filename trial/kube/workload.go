package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
)

// workload is the kind-specific part of following a trial's object.
type workload interface {
	kind() string
	namespace() string
	create(ctx context.Context) (metav1.Object, error)
	get(ctx context.Context) (metav1.Object, error)
	watch(ctx context.Context, resourceVersion string) (watch.Interface, error)
	delete(ctx context.Context) error
	// ended reports whether obj (of the workload's type) is finished, and
	// how.
	ended(obj runtime.Object) (bool, trial.Result)
	// podSelector selects the workload's pods.
	podSelector() string
	// podsLabelled reports whether the workload's pods carry the trial
	// label (the primary pod must then have it).
	podsLabelled() bool
	// streamLogs reports whether the primary pod's log carries the metrics.
	streamLogs() bool
	// podsAreAttempts reports whether a second primary pod is a retry of
	// the first (a Job's), whose metrics replace the first's, rather than
	// another step of the workload (a Workflow's).
	podsAreAttempts() bool
	// collect writes the metrics a finished obj holds to w.
	collect(obj runtime.Object, w io.Writer) error
	// retries reports whether the workload may still run another pod
	// after pod failed (or lost its node), the failed-th of the trial's
	// pods to: Kubernetes or an operator then decides, and ends the
	// workload when it will not. obj is the latest state of the object
	// (nil when unknown).
	retries(obj runtime.Object, pod *corev1.Pod, failed int) bool
}

// workload compiles spec and returns its workload.
func (e *Executor) workload(spec *trial.Spec) (workload, error) {
	obj, err := compile(e.withCollectorImage(spec), e.opts.Namespace)
	if err != nil {
		return nil, err
	}
	switch o := obj.(type) {
	case *batchv1.Job:
		return &jobWorkload{e: e, obj: o, cond: userConditions(spec, "Job", katibJobSuccessCondition, katibJobFailureCondition)}, nil
	case *wfv1.Workflow:
		if e.opts.Argo == nil {
			return nil, fmt.Errorf("kube: trial %s is an Argo Workflow but the executor has no Argo client", spec.Name)
		}
		repo, certain := e.artifactRepository(o.Namespace)
		if err := applyArtifactRepository(o, repo, certain, spec.Name); err != nil {
			return nil, err
		}
		return &workflowWorkload{e: e, obj: o, spec: spec, cond: userConditions(spec, "Workflow", katibWorkflowSuccessCondition, katibWorkflowFailureCondition)}, nil
	case *unstructured.Unstructured:
		return e.dynamicWorkload(spec, o)
	}
	return nil, fmt.Errorf("kube: trial %s: unexpected compiled object %T", spec.Name, obj)
}

// userConditions returns the conditions of spec, a trial of a kind with
// typed logic, when the experiment sets its own: not empty and not Katib's
// defaults for the kind (success and failure). Otherwise it returns nil
// and the typed logic judges the object.
func userConditions(spec *trial.Spec, kind, success, failure string) *manifest.Conditions {
	if spec.SuccessCondition == "" && spec.FailureCondition == "" ||
		spec.SuccessCondition == success && spec.FailureCondition == failure {
		return nil
	}
	return &manifest.Conditions{Kind: kind, Success: spec.SuccessCondition, Failure: spec.FailureCondition}
}

// evalTyped judges a typed object by c.
func evalTyped(c *manifest.Conditions, obj runtime.Object) (bool, trial.Result) {
	data, err := json.Marshal(obj)
	if err != nil {
		return false, trial.Result{}
	}
	return c.Eval(data)
}

var foreground = metav1.DeletePropagationForeground

// deleteOptions delete an object with its pods before it.
var deleteOptions = metav1.DeleteOptions{PropagationPolicy: &foreground}

// nameSelector is the watch option selecting one object.
func nameOptions(name, rv string) metav1.ListOptions {
	return metav1.ListOptions{
		FieldSelector:       fields.OneTermEqualSelector("metadata.name", name).String(),
		ResourceVersion:     rv,
		AllowWatchBookmarks: true,
	}
}

// jobWorkload is a batch/v1 Job.
type jobWorkload struct {
	e   *Executor
	obj *batchv1.Job
	// cond, when not nil, are the experiment's own conditions, which
	// replace the typed logic.
	cond *manifest.Conditions
}

func (w *jobWorkload) kind() string      { return "Job" }
func (w *jobWorkload) namespace() string { return w.obj.Namespace }

func (w *jobWorkload) client() interface {
	Create(context.Context, *batchv1.Job, metav1.CreateOptions) (*batchv1.Job, error)
	Get(context.Context, string, metav1.GetOptions) (*batchv1.Job, error)
	Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
} {
	return w.e.opts.Kubernetes.BatchV1().Jobs(w.obj.Namespace)
}

func (w *jobWorkload) create(ctx context.Context) (metav1.Object, error) {
	return w.client().Create(ctx, w.obj.DeepCopy(), metav1.CreateOptions{})
}

func (w *jobWorkload) get(ctx context.Context) (metav1.Object, error) {
	return w.client().Get(ctx, w.obj.Name, metav1.GetOptions{})
}

func (w *jobWorkload) watch(ctx context.Context, rv string) (watch.Interface, error) {
	return w.client().Watch(ctx, nameOptions(w.obj.Name, rv))
}

func (w *jobWorkload) delete(ctx context.Context) error {
	return w.client().Delete(ctx, w.obj.Name, deleteOptions)
}

func (w *jobWorkload) ended(obj runtime.Object) (bool, trial.Result) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return false, trial.Result{}
	}
	if w.cond != nil {
		return evalTyped(w.cond, job)
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, trial.Result{State: trial.Succeeded, Reason: "JobSucceeded", Message: c.Message}
		case batchv1.JobFailed:
			reason := c.Reason
			if reason == "" {
				reason = "JobFailed"
			}
			return true, trial.Result{State: trial.Failed, Reason: reason, Message: c.Message}
		}
	}
	return false, trial.Result{}
}

func (w *jobWorkload) podSelector() string {
	return labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: w.obj.Name}).String()
}

func (w *jobWorkload) podsLabelled() bool    { return true }
func (w *jobWorkload) streamLogs() bool      { return true }
func (w *jobWorkload) podsAreAttempts() bool { return true }

func (w *jobWorkload) collect(runtime.Object, io.Writer) error { return nil }

// retries: the Job controller runs another pod while the failures stay
// within backoffLimit (6 by default). With a podFailurePolicy or
// backoffLimitPerIndex, its rules decide, and the Job controller fails
// the Job at once when they say so.
func (w *jobWorkload) retries(obj runtime.Object, _ *corev1.Pod, failed int) bool {
	spec := w.obj.Spec
	if spec.PodFailurePolicy != nil || spec.BackoffLimitPerIndex != nil {
		return true
	}
	if job, ok := obj.(*batchv1.Job); ok {
		failed = max(failed, int(job.Status.Failed))
	}
	limit := 6
	if spec.BackoffLimit != nil {
		limit = int(*spec.BackoffLimit)
	}
	return failed <= limit
}

// workflowWorkload is an argoproj.io/v1alpha1 Workflow.
type workflowWorkload struct {
	e    *Executor
	obj  *wfv1.Workflow
	spec *trial.Spec
	// cond, when not nil, are the experiment's own conditions, which
	// replace the typed logic.
	cond *manifest.Conditions
}

func (w *workflowWorkload) kind() string      { return "Workflow" }
func (w *workflowWorkload) namespace() string { return w.obj.Namespace }

func (w *workflowWorkload) client() interface {
	Create(context.Context, *wfv1.Workflow, metav1.CreateOptions) (*wfv1.Workflow, error)
	Get(context.Context, string, metav1.GetOptions) (*wfv1.Workflow, error)
	Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
} {
	return w.e.opts.Argo.ArgoprojV1alpha1().Workflows(w.obj.Namespace)
}

func (w *workflowWorkload) create(ctx context.Context) (metav1.Object, error) {
	return w.client().Create(ctx, w.obj.DeepCopy(), metav1.CreateOptions{})
}

func (w *workflowWorkload) get(ctx context.Context) (metav1.Object, error) {
	return w.client().Get(ctx, w.obj.Name, metav1.GetOptions{})
}

func (w *workflowWorkload) watch(ctx context.Context, rv string) (watch.Interface, error) {
	return w.client().Watch(ctx, nameOptions(w.obj.Name, rv))
}

func (w *workflowWorkload) delete(ctx context.Context) error {
	return w.client().Delete(ctx, w.obj.Name, deleteOptions)
}

func (w *workflowWorkload) ended(obj runtime.Object) (bool, trial.Result) {
	wf, ok := obj.(*wfv1.Workflow)
	if !ok {
		return false, trial.Result{}
	}
	if w.cond != nil {
		return evalTyped(w.cond, wf)
	}
	switch wf.Status.Phase {
	case wfv1.WorkflowSucceeded:
		return true, trial.Result{State: trial.Succeeded, Reason: "WorkflowSucceeded", Message: wf.Status.Message}
	case wfv1.WorkflowFailed, wfv1.WorkflowError:
		// Argo often leaves a failed DAG's message empty; the step that
		// failed says what happened ("main: Error (exit code 3)").
		f := pipeline.FailedStep(wf)
		msg := wf.Status.Message
		if msg == "" {
			msg = f.String()
		}
		return true, trial.Result{State: trial.Failed, Reason: "Workflow" + string(wf.Status.Phase), Message: msg, ExitCode: f.ExitCode}
	}
	return false, trial.Result{}
}

func (w *workflowWorkload) podSelector() string {
	return labels.SelectorFromSet(labels.Set{LabelTrial: w.obj.Name}).String()
}

func (w *workflowWorkload) podsLabelled() bool { return true }

// streamLogs: a Workflow's steps are pods; the log read is that of the
// steps whose pods carry primaryPodLabels (Katib's Argo example labels its
// training step so), and none without them.
func (w *workflowWorkload) streamLogs() bool      { return len(w.spec.PrimaryPodLabels) > 0 }
func (w *workflowWorkload) podsAreAttempts() bool { return false }

// retries: Argo runs a failed step again when its template (or the
// workflow) has a retryStrategy; the step's node is then the child of a
// Retry node, and Argo fails the workflow once the retries are spent.
func (w *workflowWorkload) retries(obj runtime.Object, pod *corev1.Pod, _ int) bool {
	wf, ok := obj.(*wfv1.Workflow)
	if !ok {
		wf = w.obj
	}
	if id := pod.Annotations[argoNodeID]; id != "" {
		for _, n := range wf.Status.Nodes {
			if n.Type == wfv1.NodeTypeRetry && slices.Contains(n.Children, id) {
				return true
			}
		}
		if _, known := wf.Status.Nodes[id]; known {
			return false
		}
	}
	// The status does not know the pod yet: a retryStrategy anywhere may
	// apply to it.
	if wf.Spec.RetryStrategy != nil {
		return true
	}
	return slices.ContainsFunc(wf.Spec.Templates, func(t wfv1.Template) bool { return t.RetryStrategy != nil })
}

// argoNodeID is the annotation of a Workflow's pod naming its node.
const argoNodeID = "workflows.argoproj.io/node-id"

func (w *workflowWorkload) collect(obj runtime.Object, out io.Writer) error {
	wf, ok := obj.(*wfv1.Workflow)
	if !ok {
		return nil
	}
	return pipeline.WriteOutputs(wf, out)
}
