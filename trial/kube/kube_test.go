package kube

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
)

var wantLabels = map[string]string{
	LabelExperiment: "mnist",
	LabelTrial:      "mnist-0001",
	LabelManagedBy:  ManagedBy,
}

func TestCompileJob(t *testing.T) {
	spec := newSpec(t, jobYAML)
	objs, err := Compile(spec, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	job := objs[0].(*batchv1.Job)
	if job.Name != "mnist-0001" || job.Namespace != testNS {
		t.Errorf("object %s/%s, want %s/mnist-0001", job.Namespace, job.Name, testNS)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Errorf("TypeMeta = %+v", job.TypeMeta)
	}
	want := map[string]string{"team": "vision"}
	for k, v := range wantLabels {
		want[k] = v
	}
	if diff := cmp.Diff(want, job.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	want = map[string]string{"role": "train"}
	for k, v := range wantLabels {
		want[k] = v
	}
	if diff := cmp.Diff(want, job.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	// Placement is kept exactly.
	var orig batchv1.Job
	if err := manifest.Decode(mustJSON(t, spec.Object), &orig); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig.Spec.Template.Spec, job.Spec.Template.Spec); diff != "" {
		t.Errorf("pod spec changed (-want +got):\n%s", diff)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
		t.Errorf("gpu limit = %s", q.String())
	}
	if job.Spec.Template.Spec.NodeSelector["gpu"] != "h100" || len(job.Spec.Template.Spec.Tolerations) != 1 || job.Spec.Template.Spec.Affinity == nil {
		t.Errorf("placement lost: %+v", job.Spec.Template.Spec)
	}

	// Without a namespace in the spec, the given one, then "default".
	spec.Namespace = ""
	if objs, _ := Compile(spec, "ops"); objs[0].(*batchv1.Job).Namespace != "ops" {
		t.Errorf("namespace = %s, want ops", objs[0].(*batchv1.Job).Namespace)
	}
	if objs, _ := Compile(spec, ""); objs[0].(*batchv1.Job).Namespace != trial.DefaultNamespace {
		t.Errorf("namespace = %s, want default", objs[0].(*batchv1.Job).Namespace)
	}
}

func TestCompileWorkflow(t *testing.T) {
	objs, err := Compile(newSpec(t, workflowYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	wf := objs[0].(*wfv1.Workflow)
	if wf.Name != "mnist-0001" || wf.Namespace != testNS || wf.Kind != "Workflow" {
		t.Errorf("workflow %s/%s kind %s", wf.Namespace, wf.Name, wf.Kind)
	}
	if diff := cmp.Diff(wantLabels, wf.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, wf.Spec.PodMetadata.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
}

func TestCheckErrors(t *testing.T) {
	tests := map[string]struct {
		manifest string
		edit     func(*trial.Spec)
		noArgo   bool
		want     string
	}{
		"unknown job field": {
			manifest: strings.Replace(jobYAML, "image: python:3.12", "imagee: python:3.12", 1),
			want:     `unknown field "spec.template.spec.containers[0].imagee"`,
		},
		"wrong case": {
			manifest: strings.Replace(jobYAML, "backoffLimit", "BackoffLimit", 1),
			want:     "spec.BackoffLimit",
		},
		"wrong type": {
			manifest: strings.Replace(jobYAML, "backoffLimit: 2", "backoffLimit: two", 1),
			want:     "backoffLimit",
		},
		"unknown field listed before a wrong type": {
			manifest: strings.Replace(strings.Replace(jobYAML, "backoffLimit: 2", "backoffLimit: two", 1), "image: python:3.12", "imagee: python:3.12", 1),
			want:     `trialSpec is not a valid batch/v1 Job: unknown field "spec.template.spec.containers[0].imagee"`,
		},
		"unknown workflow field": {
			manifest: strings.Replace(workflowYAML, "entrypoint", "entryPoint", 1),
			want:     `unknown field "spec.entryPoint"`,
		},
		"other kind without conditions": {
			manifest: "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec: {}\n",
			want:     `a kubeflow.org/v1 PyTorchJob trial needs successCondition and failureCondition`,
		},
		"other namespace": {
			manifest: strings.Replace(jobYAML, "metadata:\n  labels:", "metadata:\n  namespace: prod\n  labels:", 1),
			want:     `metadata.namespace "prod" differs from the experiment's namespace "team"`,
		},
		"bad name": {
			manifest: jobYAML,
			edit:     func(s *trial.Spec) { s.Name = "Bad_Name" },
			want:     "not a valid object name",
		},
		"primary container missing": {
			manifest: jobYAML,
			edit:     func(s *trial.Spec) { s.PrimaryContainer = "trainer" },
			want:     `primaryContainerName "trainer" is not a container of the Job's pod (it has training-container)`,
		},
		"workflow without argo client": {
			manifest: workflowYAML,
			noArgo:   true,
			want:     "has no Argo client",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := newSpec(t, tc.manifest)
			if tc.edit != nil {
				tc.edit(spec)
			}
			opts := Options{Kubernetes: newFakes().kube}
			if !tc.noArgo {
				opts.Argo = newFakes().argo
			}
			e, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Check(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, tc.want)
			}
			// Run refuses it too, submitting nothing.
			if _, err := e.Run(t.Context(), spec, io.Discard, io.Discard); err == nil {
				t.Fatal("Run() succeeded")
			}
		})
	}
}

// pod returns a pod of the trial's Job.
func pod(name string, phase corev1.PodPhase) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNS, UID: types.UID(name),
			Labels: map[string]string{batchv1.JobNameLabel: "mnist-0001", LabelTrial: "mnist-0001"},
		},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "training-container"}, {Name: "sidecar"}}},
		Status: corev1.PodStatus{Phase: phase},
	}
	if phase == corev1.PodRunning {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "training-container", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}
	}
	return p
}

// setJobCondition sets a final condition on the trial's Job.
func setJobCondition(t *testing.T, f *fakes, typ batchv1.JobConditionType, reason, msg string) {
	t.Helper()
	jobs := f.kube.BatchV1().Jobs(testNS)
	job, err := jobs.Get(context.Background(), "mnist-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
		Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
	})
	if _, err := jobs.UpdateStatus(context.Background(), job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestRunJobSucceeded(t *testing.T) {
	for _, retain := range []bool{false, true} {
		t.Run(map[bool]string{false: "deleted", true: "retained"}[retain], func(t *testing.T) {
			f := newFakes(pod("mnist-0001-abcde", corev1.PodRunning))
			e := f.executor(t, Options{})
			spec := newSpec(t, jobYAML)
			spec.Retain = retain
			r := start(t.Context(), spec, e.Run)
			f.waitWatch(t, "pods")

			// Created with labels and placement.
			job, err := f.kube.BatchV1().Jobs(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if job.Labels[LabelTrial] != "mnist-0001" || job.Spec.Template.Labels[LabelExperiment] != "mnist" {
				t.Errorf("labels missing: %v %v", job.Labels, job.Spec.Template.Labels)
			}
			if q := job.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
				t.Errorf("gpu limit = %s", q.String())
			}

			setJobCondition(t, f, batchv1.JobComplete, "", "")
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if res.State != trial.Succeeded {
				t.Errorf("result = %+v, want Succeeded", res)
			}
			// The primary container's log was followed.
			if got := r.stdout.String(); got != "fake logs" {
				t.Errorf("stdout = %q, want the pod's log", got)
			}
			var logOpts []*corev1.PodLogOptions
			for _, a := range f.kube.Actions() {
				if ga, ok := a.(k8stesting.GenericAction); ok && a.GetSubresource() == "log" {
					logOpts = append(logOpts, ga.GetValue().(*corev1.PodLogOptions))
				}
			}
			// The first request follows from the start; any later one (the
			// final read once the container ended) starts where it left off.
			if len(logOpts) == 0 {
				t.Fatal("no log request")
			}
			if diff := cmp.Diff(&corev1.PodLogOptions{Container: "training-container", Follow: true, Timestamps: true}, logOpts[0]); diff != "" {
				t.Errorf("first log request (-want +got):\n%s", diff)
			}

			dels := actions(f.kube, "delete", "jobs")
			_, err = f.kube.BatchV1().Jobs(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{})
			if retain {
				if len(dels) != 0 || err != nil {
					t.Errorf("retained Job deleted: %d deletes, get: %v", len(dels), err)
				}
				return
			}
			if len(dels) != 1 || !apierrors.IsNotFound(err) {
				t.Fatalf("Job not deleted: %d deletes, get: %v", len(dels), err)
			}
			checkForeground(t, dels[0])
		})
	}
}

// checkForeground checks that a delete action used foreground propagation.
func checkForeground(t *testing.T, a k8stesting.Action) {
	t.Helper()
	opts := a.(k8stesting.DeleteActionImpl).DeleteOptions
	if opts.PropagationPolicy == nil || *opts.PropagationPolicy != metav1.DeletePropagationForeground {
		t.Errorf("delete propagation = %v, want Foreground", opts.PropagationPolicy)
	}
}

func TestRunJobFailed(t *testing.T) {
	terminated := pod("mnist-0001-abcde", corev1.PodFailed)
	terminated.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "training-container", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}},
	}}
	f := newFakes(terminated)
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	setJobCondition(t, f, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	code := 3
	want := trial.Result{State: trial.Failed, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", ExitCode: &code}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if n := len(actions(f.kube, "delete", "jobs")); n != 1 {
		t.Errorf("%d deletes, want 1", n)
	}
}

func TestRunJobRetryStreams(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	logs := map[string]string{"pod-1": "loss=0.9\n", "pod-2": "loss=0.5\naccuracy=0.8\n"}
	e.logs = func(_ context.Context, ns, pod, container string, _ *metav1.Time) (io.ReadCloser, error) {
		if ns != testNS || container != "training-container" {
			t.Errorf("log of %s/%s container %s", ns, pod, container)
		}
		return readCloser(logs[pod]), nil
	}
	spec := newSpec(t, jobYAML)
	var mu sync.Mutex
	var retries []int
	spec.OnRetry = func(attempt int) { mu.Lock(); retries = append(retries, attempt); mu.Unlock() }
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	pods := f.kube.CoreV1().Pods(testNS)
	if _, err := pods.Create(t.Context(), pod("pod-1", corev1.PodRunning), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(r.stdout.String(), "loss=0.9") })
	if _, err := pods.Create(t.Context(), pod("pod-2", corev1.PodRunning), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(r.stdout.String(), "accuracy") })
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if got, want := r.stdout.String(), "loss=0.9\nloss=0.5\naccuracy=0.8\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{2}, retries); diff != "" {
		t.Errorf("OnRetry calls (-want +got):\n%s", diff)
	}
}

// waitFor waits for cond to hold.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met")
}

func TestRunWorkflowOutputs(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, workflowYAML), e.Run)
	f.waitWatch(t, "pods")
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	wf, err := wfs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if wf.Spec.PodMetadata.Labels[LabelTrial] != "mnist-0001" {
		t.Errorf("pod labels = %v", wf.Spec.PodMetadata.Labels)
	}
	val := func(s string) *wfv1.AnyString { a := wfv1.AnyString(s); return &a }
	wf.Status.Phase = wfv1.WorkflowSucceeded
	wf.Status.Outputs = &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "loss", Value: val("0.25")}}}
	wf.Status.Nodes = wfv1.Nodes{
		"n2": {Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{
			{Name: pipeline.MetricsParameter, Value: val(`{"metrics": [{"name": "accuracy", "numberValue": 0.9, "format": "RAW"}, {"name": "f1", "numberValue": 0.75}]}`)},
		}}},
		"n1": {Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{
			{Name: "model", Value: val("s3://bucket/model")},
			{Name: "epochs", Value: val(" 12\n")},
		}}},
	}
	if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if got, want := r.stdout.String(), "loss=0.25\nepochs=12\naccuracy=0.9\nf1=0.75\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	// Argo's fake clientset drops DeleteOptions (NewDeleteAction), so the
	// propagation policy is checked on Jobs only; both use deleteOptions.
	if dels := actions(f.argo, "delete", "workflows"); len(dels) != 1 {
		t.Errorf("%d deletes, want 1", len(dels))
	}
}

func TestRunWorkflowFailed(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, workflowYAML), e.Run)
	f.waitWatch(t, "pods")
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	wf, err := wfs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wf.Status.Phase = wfv1.WorkflowError
	wf.Status.Message = "pod deleted"
	if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	want := trial.Result{State: trial.Failed, Reason: "WorkflowError", Message: "pod deleted"}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

// TestRunWorkflowFailedStep: Argo leaves a failed DAG's message empty; the
// trial's message names the step that failed and its exit code, as the
// local executor's does.
func TestRunWorkflowFailedStep(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, workflowYAML), e.Run)
	f.waitWatch(t, "pods")
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	wf, err := wfs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code := "3"
	at := func(s int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 2, 10, 0, s, 0, time.UTC)) }
	wf.Status.Phase = wfv1.WorkflowFailed
	wf.Status.Nodes = wfv1.Nodes{
		"mnist-0001":   {ID: "mnist-0001", Name: "mnist-0001", Type: wfv1.NodeTypeDAG, Phase: wfv1.NodeFailed},
		"mnist-0001-1": {ID: "mnist-0001-1", Name: "mnist-0001.prepare", TemplateName: "prepare", Type: wfv1.NodeTypePod, Phase: wfv1.NodeSucceeded, FinishedAt: at(1)},
		"mnist-0001-2": {ID: "mnist-0001-2", Name: "mnist-0001.train", DisplayName: "train", TemplateName: "train", Type: wfv1.NodeTypePod, Phase: wfv1.NodeFailed,
			Message: "main: Error (exit code 3)", FinishedAt: at(2), Outputs: &wfv1.Outputs{ExitCode: &code}},
	}
	if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	three := 3
	want := trial.Result{State: trial.Failed, Reason: "WorkflowFailed", Message: "step train (template train) failed: main: Error (exit code 3)", ExitCode: &three}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

func TestRunUnschedulable(t *testing.T) {
	p := pod("mnist-0001-abcde", corev1.PodPending)
	msg := "0/4 nodes are available: 4 Insufficient nvidia.com/gpu"
	p.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg,
	}}
	f := newFakes(p)
	e := f.executor(t, Options{UnschedulableTimeout: 100 * time.Millisecond})
	spec := newSpec(t, jobYAML)
	var mu sync.Mutex
	var statuses []string
	spec.OnStatus = func(reason, message string) {
		mu.Lock()
		statuses = append(statuses, reason+": "+message)
		mu.Unlock()
	}
	res, err := e.Run(t.Context(), spec, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := trial.Result{State: trial.Failed, Reason: "Unschedulable", Message: msg}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	mu.Lock()
	if len(statuses) == 0 || statuses[0] != "Unschedulable: "+msg {
		t.Errorf("OnStatus calls = %q", statuses)
	}
	mu.Unlock()
	if _, err := f.kube.BatchV1().Jobs(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Job left behind: %v", err)
	}
}

func TestRunUnschedulableThenPlaced(t *testing.T) {
	p := pod("mnist-0001-abcde", corev1.PodPending)
	p.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "no gpu",
	}}
	f := newFakes(p)
	e := f.executor(t, Options{UnschedulableTimeout: -1})
	spec := newSpec(t, jobYAML)
	statuses := make(chan string, 10)
	spec.OnStatus = func(reason, message string) { statuses <- reason + ":" + message }
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	if got := <-statuses; got != "Unschedulable:no gpu" {
		t.Errorf("status = %q", got)
	}
	p.Status.Conditions[0].Status = corev1.ConditionTrue
	p.Status.Conditions[0].Reason = ""
	if _, err := f.kube.CoreV1().Pods(testNS).UpdateStatus(t.Context(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := <-statuses; got != ":" {
		t.Errorf("status = %q, want it cleared", got)
	}
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
}

func TestRunCancel(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	r := start(ctx, newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	cancel()
	res, err := r.wait(t)
	if err != nil || res.State != trial.Killed {
		t.Fatalf("Run() = %+v, %v; want Killed", res, err)
	}
	dels := actions(f.kube, "delete", "jobs")
	if len(dels) != 1 {
		t.Fatalf("%d deletes, want 1", len(dels))
	}
	checkForeground(t, dels[0])
	if _, err := f.kube.BatchV1().Jobs(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Job left behind: %v", err)
	}
}

func TestRunDeletedExternally(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	if err := f.kube.BatchV1().Jobs(testNS).Delete(t.Context(), "mnist-0001", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	if err != nil || res.State != trial.Failed || res.Reason != "Deleted" || !strings.Contains(res.Message, "deleted by someone else") {
		t.Fatalf("Run() = %+v, %v; want Failed/Deleted", res, err)
	}
}

func TestRunAdoptsAndRefusesForeign(t *testing.T) {
	objs, err := Compile(newSpec(t, jobYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	job := objs[0].(*batchv1.Job)
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}

	f := newFakes(job.DeepCopy())
	e := f.executor(t, Options{})
	res, err := e.Run(t.Context(), newSpec(t, jobYAML), io.Discard, io.Discard)
	if err != nil || res.State != trial.Succeeded {
		t.Errorf("Run() on an existing trial Job = %+v, %v; want it adopted and Succeeded", res, err)
	}

	job.Labels = map[string]string{"owner": "someone"}
	f = newFakes(job)
	e = f.executor(t, Options{})
	res, err = e.Run(t.Context(), newSpec(t, jobYAML), io.Discard, io.Discard)
	if err != nil || res.State != trial.Failed || res.Reason != "AlreadyExists" {
		t.Errorf("Run() on a foreign Job = %+v, %v; want Failed/AlreadyExists", res, err)
	}
	if n := len(actions(f.kube, "delete", "jobs")); n != 0 {
		t.Errorf("foreign Job deleted")
	}
}

func TestAttach(t *testing.T) {
	objs, err := Compile(newSpec(t, jobYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(objs[0])
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobYAML), e.Attach)
	f.waitWatch(t, "pods")
	setJobCondition(t, f, batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline")
	res, err := r.wait(t)
	if err != nil || res.State != trial.Failed || res.Reason != "DeadlineExceeded" {
		t.Fatalf("Attach() = %+v, %v", res, err)
	}
	if n := len(actions(f.kube, "create", "jobs")); n != 0 {
		t.Errorf("Attach created %d Jobs", n)
	}
}

func TestAttachNotFound(t *testing.T) {
	foreign := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "mnist-0001", Namespace: testNS}}
	for name, objs := range map[string][]runtime.Object{"missing": nil, "foreign": {foreign}} {
		t.Run(name, func(t *testing.T) {
			f := newFakes(objs...)
			e := f.executor(t, Options{})
			_, err := e.Attach(t.Context(), newSpec(t, jobYAML), io.Discard, io.Discard)
			if !errors.Is(err, trial.ErrNotFound) {
				t.Fatalf("Attach() error = %v, want ErrNotFound", err)
			}
			if len(actions(f.kube, "watch", "jobs"))+len(actions(f.kube, "create", "jobs")) != 0 {
				t.Error("Attach watched or created")
			}
		})
	}
}

func TestWatchResumed(t *testing.T) {
	for _, how := range []string{"closed", "error"} {
		t.Run(how, func(t *testing.T) {
			f := newFakes()
			fw := watch.NewFake()
			var once sync.Once
			f.kube.PrependWatchReactor("jobs", func(k8stesting.Action) (bool, watch.Interface, error) {
				handled := false
				once.Do(func() { handled = true })
				if handled {
					return true, fw, nil
				}
				return false, nil, nil
			})
			e := f.executor(t, Options{})
			r := start(t.Context(), newSpec(t, jobYAML), e.Run)
			f.waitWatch(t, "pods")
			if how == "closed" {
				fw.Stop()
			} else {
				fw.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired})
			}
			f.waitWatch(t, "jobs") // the resumed one (the first bypassed the recorder)
			setJobCondition(t, f, batchv1.JobComplete, "", "")
			if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
				t.Fatalf("Run() = %+v, %v", res, err)
			}
			if n := len(actions(f.kube, "get", "jobs")); n < 2 {
				t.Errorf("%d gets of the Job, want a fresh one after the watch ended", n)
			}
		})
	}
}

func TestAPIErrorsRetried(t *testing.T) {
	f := newFakes()
	fails := 2
	var mu sync.Mutex
	f.kube.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return true, nil, apierrors.NewServiceUnavailable("etcd is sad")
		}
		return false, nil, nil
	})
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if n := len(actions(f.kube, "create", "jobs")); n != 3 {
		t.Errorf("%d creates, want 3", n)
	}

	// An error that will not pass fails the trial at once.
	f = newFakes()
	f.kube.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(batchv1.Resource("jobs"), "mnist-0001", errors.New("no RBAC"))
	})
	e = f.executor(t, Options{})
	res, err := e.Run(t.Context(), newSpec(t, jobYAML), io.Discard, io.Discard)
	if err != nil || res.State != trial.Failed || res.Reason != "CreateFailed" || !strings.Contains(res.Message, "no RBAC") {
		t.Fatalf("Run() = %+v, %v; want Failed/CreateFailed", res, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunKilledWhileUnschedulable(t *testing.T) {
	p := pod("mnist-0001-abcde", corev1.PodPending)
	p.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "no gpu",
	}}
	f := newFakes(p)
	e := f.executor(t, Options{UnschedulableTimeout: -1}) // wait forever
	ctx, cancel := context.WithCancel(t.Context())
	r := start(ctx, newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	time.Sleep(50 * time.Millisecond) // still waiting, not failed
	cancel()
	res, err := r.wait(t)
	if err != nil || res.State != trial.Killed || !strings.Contains(res.Message, "unschedulable: no gpu") {
		t.Fatalf("Run() = %+v, %v; want Killed with the scheduling reason", res, err)
	}
}

// TestLogStreamFailureLogged: a log that cannot be opened is retried, and
// the first failure reaches the Logger at Warn, naming the trial and pod;
// the metrics still arrive once the stream opens.
func TestLogStreamFailureLogged(t *testing.T) {
	f := newFakes()
	var logged syncBuffer
	e := f.executor(t, Options{Logger: slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	var mu sync.Mutex
	opens := 0
	e.logs = func(context.Context, string, string, string, *metav1.Time) (io.ReadCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		if opens++; opens <= 2 {
			return nil, apierrors.NewServiceUnavailable("kubelet restarting")
		}
		return readCloser("loss=0.5\n"), nil
	}
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	if _, err := f.kube.CoreV1().Pods(testNS).Create(t.Context(), pod("pod-1", corev1.PodRunning), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(r.stdout.String(), "loss=0.5") })
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	type record struct {
		Level, Msg, Trial, Pod, Err string
		Failures                    int
	}
	var warns, infos []record
	for line := range strings.Lines(logged.String()) {
		var rec record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log record %q: %v", line, err)
		}
		switch rec.Level {
		case "WARN":
			warns = append(warns, rec)
		case "INFO":
			infos = append(infos, rec)
		}
	}
	if len(warns) != 1 || warns[0].Trial != "mnist-0001" || warns[0].Pod != "pod-1" || !strings.Contains(warns[0].Err, "kubelet restarting") {
		t.Errorf("warnings = %+v, want one for pod-1 of trial mnist-0001 with the error", warns)
	}
	if len(infos) != 1 || infos[0].Failures != 2 {
		t.Errorf("infos = %+v, want one saying the stream opened after 2 failures", infos)
	}
}

// TestRunDetached: a trial whose context ends with trial.ErrDetached (tune
// leaving its trials to the cluster) is returned Running and its Job is
// not deleted; with any other cause it is deleted and Killed.
func TestRunDetached(t *testing.T) {
	for _, detach := range []bool{true, false} {
		f := newFakes(pod("mnist-0001-abcde", corev1.PodRunning))
		e := f.executor(t, Options{})
		ctx, cancel := context.WithCancelCause(t.Context())
		r := start(ctx, newSpec(t, jobYAML), e.Run)
		f.waitWatch(t, "pods")
		if detach {
			cancel(trial.ErrDetached)
		} else {
			cancel(errors.New("interrupted"))
		}
		res, err := r.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		dels := len(actions(f.kube, "delete", "jobs"))
		switch {
		case detach && (res.State != trial.Running || dels != 0):
			t.Errorf("detached: %+v with %d deletes, want Running and the Job left", res, dels)
		case !detach && (res.State != trial.Killed || dels != 1):
			t.Errorf("interrupted: %+v with %d deletes, want Killed and the Job deleted", res, dels)
		}
	}
}

// TestRunWatchesCreatedJob checks that the watches of a trial's Job and
// of its pods start from the resource version the Job's create returned,
// with no get of the Job and no list of its pods before them: the API
// requests a trial costs.
func TestRunWatchesCreatedJob(t *testing.T) {
	f := newFakes()
	gvr := batchv1.SchemeGroupVersion.WithResource("jobs")
	f.kube.PrependReactor("create", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		job := a.(k8stesting.CreateAction).GetObject().(*batchv1.Job).DeepCopy()
		if err := f.kube.Tracker().Create(gvr, job, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		job.ResourceVersion = "42" // what the API server would have said
		return true, job, nil
	})
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	if _, err := f.kube.CoreV1().Pods(testNS).Create(t.Context(), pod("mnist-0001-abcde", corev1.PodRunning), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	res, err := r.wait(t)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v; want Succeeded", res, err)
	}
	if got := r.stdout.String(); got != "fake logs" {
		t.Errorf("stdout = %q, want the pod's log", got)
	}
	// Every request up to the first watch of each resource.
	firstWatch := map[string]string{}
	for _, a := range f.kube.Actions() {
		res := a.GetResource().Resource
		if _, done := firstWatch[res]; done || a.GetSubresource() != "" {
			continue
		}
		switch a.GetVerb() {
		case "watch":
			firstWatch[res] = a.(k8stesting.WatchAction).GetWatchRestrictions().ResourceVersion
		case "get", "list":
			t.Errorf("%s %s before its first watch", a.GetVerb(), res)
		}
	}
	for _, res := range []string{"jobs", "pods"} {
		if rv, ok := firstWatch[res]; !ok || rv != "42" {
			t.Errorf("first watch of %s from resource version %q (watched: %v), want the created Job's 42", res, rv, ok)
		}
	}
}
