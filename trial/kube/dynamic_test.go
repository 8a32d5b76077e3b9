package kube

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

const tfjobYAML = `
apiVersion: kubeflow.org/v1
kind: TFJob
metadata:
  labels:
    team: vision
spec:
  tfReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        metadata:
          labels:
            role: master
        spec:
          containers:
          - name: tensorflow
            image: tf:2
            command: [python, train.py, --lr=0.01]
    Worker:
      replicas: 2
      template:
        spec:
          containers:
          - name: tensorflow
            image: tf:2
`

// A custom resource with no pod template.
const widgetYAML = `
apiVersion: example.com/v1
kind: Widget
spec:
  size: 3
`

const trainjobYAML = `
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
spec:
  runtimeRef:
    name: torch-distributed
  trainer:
    numNodes: 2
`

// Katib's defaults for Kubeflow training jobs.
const (
	kubeflowSuccess = `status.conditions.#(type=="Succeeded")#|#(status=="True")#`
	kubeflowFailure = `status.conditions.#(type=="Failed")#|#(status=="True")#`
)

// tfjobSpec returns a TFJob trial spec as the runner makes it, defaults
// applied.
func tfjobSpec(t *testing.T) *trial.Spec {
	spec := newSpec(t, tfjobYAML)
	spec.PrimaryContainer = "tensorflow"
	spec.PrimaryPodLabels = map[string]string{"training.kubeflow.org/job-role": "master"}
	spec.SuccessCondition, spec.FailureCondition = kubeflowSuccess, kubeflowFailure
	return spec
}

func TestKatibDefaultsMatch(t *testing.T) {
	for _, c := range [][2]string{
		{katibJobSuccessCondition, experiment.DefaultJobSuccessCondition},
		{katibJobFailureCondition, experiment.DefaultJobFailureCondition},
		{kubeflowSuccess, experiment.DefaultKubeflowJobSuccessCondition},
		{kubeflowFailure, experiment.DefaultKubeflowJobFailureCondition},
	} {
		if got, want := c[0], c[1]; got != want {
			t.Errorf("condition %q, experiment's default %q", got, want)
		}
	}
}

func TestConditionsEval(t *testing.T) {
	c := manifest.Conditions{Kind: "TFJob", Success: kubeflowSuccess, Failure: kubeflowFailure}
	tests := map[string]struct {
		status string
		want   trial.Result
		done   bool
	}{
		"running": {
			status: `{"conditions":[{"type":"Created","status":"True"},{"type":"Running","status":"True"}]}`,
		},
		"no status": {status: `null`},
		"succeeded": {
			status: `{"conditions":[{"type":"Running","status":"False"},{"type":"Succeeded","status":"True","reason":"TFJobSucceeded","message":"TFJob t successfully completed."}]}`,
			want:   trial.Result{State: trial.Succeeded, Reason: "TFJobSucceeded", Message: "TFJob t successfully completed."},
			done:   true,
		},
		"succeeded false": {
			status: `{"conditions":[{"type":"Succeeded","status":"False"}]}`,
		},
		"failure wins": {
			status: `{"conditions":[{"type":"Succeeded","status":"True"},{"type":"Failed","status":"True","reason":"TFJobFailed","message":"replica Master failed"}]}`,
			want:   trial.Result{State: trial.Failed, Reason: "TFJobFailed", Message: "replica Master failed"},
			done:   true,
		},
		"default reason": {
			status: `{"conditions":[{"type":"Failed","status":"True"}]}`,
			want:   trial.Result{State: trial.Failed, Reason: "TFJobFailed"},
			done:   true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			done, res := c.Eval([]byte(`{"kind":"TFJob","status":` + tc.status + `}`))
			if done != tc.done {
				t.Fatalf("eval() done = %v, want %v", done, tc.done)
			}
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}

	// An object result holds (Katib's Argo example), and its own fields
	// give the message; a scalar never holds.
	wf := manifest.Conditions{Kind: "Workflow", Success: `status.[@this].#(phase=="Succeeded")#`, Failure: `status.phase`}
	done, res := wf.Eval([]byte(`{"status":{"phase":"Succeeded","message":"all good"}}`))
	if want := (trial.Result{State: trial.Succeeded, Reason: "WorkflowSucceeded", Message: "all good"}); !done || res != want {
		t.Errorf("array-of-object condition: %v %+v, want %+v", done, res, want)
	}
	obj := manifest.Conditions{Kind: "Widget", Success: `status`, Failure: `status.broken`}
	if done, res := obj.Eval([]byte(`{"status":{"broken":"yes","reason":"Shiny"}}`)); !done || res.State != trial.Succeeded || res.Reason != "Shiny" {
		t.Errorf("object condition with a scalar failure: %v %+v, want Succeeded/Shiny", done, res)
	}
}

func TestCompileTFJob(t *testing.T) {
	spec := tfjobSpec(t)
	objs, err := Compile(spec, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	u, ok := objs[0].(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("Compile() = %T, want *unstructured.Unstructured", objs[0])
	}
	if u.GetName() != "mnist-0001" || u.GetNamespace() != testNS || u.GetKind() != "TFJob" || u.GetAPIVersion() != "kubeflow.org/v1" {
		t.Errorf("object %s %s %s/%s", u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
	}
	want := map[string]string{"team": "vision"}
	for k, v := range wantLabels {
		want[k] = v
	}
	if diff := cmp.Diff(want, u.GetLabels()); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	for role, extra := range map[string]map[string]string{"Master": {"role": "master"}, "Worker": nil} {
		got, _, err := unstructured.NestedStringMap(u.Object, "spec", "tfReplicaSpecs", role, "template", "metadata", "labels")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for k, v := range extra {
			want[k] = v
		}
		for k, v := range wantLabels {
			want[k] = v
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s pod labels (-want +got):\n%s", role, diff)
		}
	}
	// The rest is kept, and the spec's own object is not changed.
	if n, _, _ := unstructured.NestedInt64(u.Object, "spec", "tfReplicaSpecs", "Worker", "replicas"); n != 2 {
		t.Errorf("Worker replicas = %d, want 2", n)
	}
	if _, found, _ := unstructured.NestedMap(spec.Object, "spec", "tfReplicaSpecs", "Worker", "template", "metadata"); found {
		t.Error("Compile changed the spec's object")
	}
}

func TestCheckDynamicErrors(t *testing.T) {
	tests := map[string]struct {
		manifest string
		edit     func(*trial.Spec)
		noDyn    bool
		want     string
	}{
		"unserved kind": {
			manifest: "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec: {}\n",
			want:     "the cluster does not serve kind PyTorchJob of apiVersion kubeflow.org/v1: the CRD (or the operator that installs it) is not installed",
		},
		"no conditions": {
			manifest: widgetYAML,
			edit:     func(s *trial.Spec) { s.SuccessCondition, s.FailureCondition = "", "" },
			want:     "a example.com/v1 Widget trial needs successCondition and failureCondition",
		},
		"no dynamic client": {
			manifest: tfjobYAML,
			noDyn:    true,
			want:     "has no dynamic client",
		},
		"primary container missing": {
			manifest: tfjobYAML,
			edit:     func(s *trial.Spec) { s.PrimaryContainer = "pytorch" },
			want:     `primaryContainerName "pytorch" is not a container of any pod template of the TFJob (they have tensorflow)`,
		},
		"other namespace": {
			manifest: strings.Replace(tfjobYAML, "metadata:\n  labels:", "metadata:\n  namespace: prod\n  labels:", 1),
			want:     `metadata.namespace "prod" differs`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := tfjobSpec(t)
			spec.Object = object(t, tc.manifest)
			if tc.edit != nil {
				tc.edit(spec)
			}
			f := newFakes()
			e := f.executor(t, Options{})
			if tc.noDyn {
				e.opts.Dynamic = nil
			}
			err := e.Check(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, tc.want)
			}
			if _, err := e.Run(t.Context(), spec, io.Discard, io.Discard); err == nil {
				t.Fatal("Run() succeeded")
			}
			if n := len(f.dyn.Actions()); n != 0 {
				t.Errorf("%d dynamic client calls, want none", n)
			}
		})
	}
}

// tfPod returns a pod of the trial's TFJob with role master or worker.
func tfPod(name, role string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNS, UID: types.UID(name),
			Labels: map[string]string{
				LabelTrial:                       "mnist-0001",
				"training.kubeflow.org/job-name": "mnist-0001",
				"training.kubeflow.org/job-role": role,
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "tensorflow"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "tensorflow", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}},
	}
}

// setStatus sets the status of the trial's object of resource (a dynamic
// kind) through its status subresource.
func setStatus(t *testing.T, f *fakes, resource string, status map[string]any) {
	t.Helper()
	for gvr := range dynamicListKinds {
		if gvr.Resource != resource {
			continue
		}
		r := f.dyn.Resource(gvr).Namespace(testNS)
		u, err := r.Get(context.Background(), "mnist-0001", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u.Object["status"] = status
		if _, err := r.UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no resource %s", resource)
}

// condition returns a status condition as JSON would hold it.
func condition(typ, reason, msg string) any {
	return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg}
}

func TestRunTFJob(t *testing.T) {
	tests := map[string]struct {
		conditions []any
		want       trial.Result
	}{
		"succeeded": {
			conditions: []any{condition("Created", "TFJobCreated", ""), condition("Succeeded", "TFJobSucceeded", "TFJob team/mnist-0001 successfully completed.")},
			want:       trial.Result{State: trial.Succeeded, Reason: "TFJobSucceeded", Message: "TFJob team/mnist-0001 successfully completed."},
		},
		"failure wins": {
			conditions: []any{condition("Succeeded", "TFJobSucceeded", "done"), condition("Failed", "TFJobFailed", "TFJob team/mnist-0001 has failed because 1 Master replica(s) failed.")},
			want:       trial.Result{State: trial.Failed, Reason: "TFJobFailed", Message: "TFJob team/mnist-0001 has failed because 1 Master replica(s) failed."},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakes(tfPod("mnist-0001-master-0", "master"), tfPod("mnist-0001-worker-0", "worker"))
			e := f.executor(t, Options{})
			logs := map[string]string{"mnist-0001-master-0": "loss=0.25\naccuracy=0.9\n", "mnist-0001-worker-0": "loss=7\n"}
			e.logs = func(_ context.Context, ns, pod, container string, _ *metav1.Time) (io.ReadCloser, error) {
				if ns != testNS || container != "tensorflow" {
					t.Errorf("log of %s/%s container %s", ns, pod, container)
				}
				return readCloser(logs[pod]), nil
			}
			r := start(t.Context(), tfjobSpec(t), e.Run)
			f.waitWatch(t, "pods")

			// Created through the dynamic client, labelled.
			u, err := f.dyn.Resource(tfjobGVR()).Namespace(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if lbl, _, _ := unstructured.NestedString(u.Object, "spec", "tfReplicaSpecs", "Master", "template", "metadata", "labels", LabelTrial); lbl != "mnist-0001" {
				t.Errorf("Master template trial label = %q", lbl)
			}
			waitFor(t, func() bool { return strings.Contains(r.stdout.String(), "accuracy") })
			setStatus(t, f, "tfjobs", map[string]any{"conditions": tc.conditions})
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			// Only the master's log is the trial's output.
			if got, want := r.stdout.String(), "loss=0.25\naccuracy=0.9\n"; got != want {
				t.Errorf("stdout = %q, want %q", got, want)
			}
			dels := actions(f.dyn, "delete", "tfjobs")
			if len(dels) != 1 {
				t.Fatalf("%d deletes, want 1", len(dels))
			}
			checkForeground(t, dels[0])
		})
	}
}

// tfjobGVR is the resource of TFJobs.
func tfjobGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "tfjobs"}
}

func TestRunCustomKind(t *testing.T) {
	// A pod its operator labelled with the trial label: watched, but its
	// log is not the trial's output (the kind has no pod template).
	f := newFakes(pod("mnist-0001-widget", corev1.PodRunning))
	e := f.executor(t, Options{})
	spec := newSpec(t, widgetYAML)
	spec.SuccessCondition = `status.[@this].#(state=="Done")#`
	spec.FailureCondition = `status.[@this].#(state=="Broken")#`
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	setStatus(t, f, "widgets", map[string]any{"state": "Polishing"})
	setStatus(t, f, "widgets", map[string]any{"state": "Done", "message": "3 widgets made"})
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := (trial.Result{State: trial.Succeeded, Reason: "WidgetSucceeded", Message: "3 widgets made"}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	// No pod template: pods are watched by the trial label, no log is read.
	if got := r.stdout.String(); got != "" {
		t.Errorf("stdout = %q, want nothing", got)
	}
	if len(actions(f.kube, "list", "pods")) == 0 {
		t.Error("the trial's pods were not listed")
	}
	if n := len(actions(f.dyn, "delete", "widgets")); n != 1 {
		t.Errorf("%d deletes, want 1", n)
	}
}

func TestRunTrainJobPodsByJobSet(t *testing.T) {
	pod := func(name, index string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: testNS, UID: types.UID(name),
				Labels: map[string]string{
					"jobset.sigs.k8s.io/jobset-name":           "mnist-0001",
					"jobset.sigs.k8s.io/replicatedjob-name":    "node",
					"batch.kubernetes.io/job-completion-index": index,
				},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "node"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
				Name: "node", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}}},
		}
	}
	f := newFakes(pod("mnist-0001-node-0-0", "0"), pod("mnist-0001-node-0-1", "1"))
	e := f.executor(t, Options{})
	e.logs = func(_ context.Context, _, pod, _ string, _ *metav1.Time) (io.ReadCloser, error) {
		return readCloser("loss=" + pod[len(pod)-1:] + "\n"), nil
	}
	spec := newSpec(t, trainjobYAML)
	spec.PrimaryContainer = "node"
	spec.PrimaryPodLabels = map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"}
	spec.SuccessCondition = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	spec.FailureCondition = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	waitFor(t, func() bool { return r.stdout.String() != "" })
	setStatus(t, f, "trainjobs", map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}})
	res, err := r.wait(t)
	if err != nil || res.State != trial.Succeeded || res.Reason != "TrainJobSucceeded" {
		t.Fatalf("Run() = %+v, %v; want Succeeded/TrainJobSucceeded", res, err)
	}
	if got := r.stdout.String(); got != "loss=0\n" {
		t.Errorf("stdout = %q, want node 0's log only", got)
	}
}

func TestRunJobUserConditions(t *testing.T) {
	for name, own := range map[string]bool{"own": true, "defaults": false} {
		t.Run(name, func(t *testing.T) {
			f := newFakes()
			e := f.executor(t, Options{})
			spec := newSpec(t, jobYAML)
			if own {
				// Succeeded pods count, though the Job has no Complete
				// condition yet.
				spec.SuccessCondition = `status.[@this].#(succeeded>=1)#`
				spec.FailureCondition = `status.[@this].#(failed>=3)#`
			} else {
				spec.SuccessCondition, spec.FailureCondition = katibJobSuccessCondition, katibJobFailureCondition
			}
			r := start(t.Context(), spec, e.Run)
			f.waitWatch(t, "pods")
			jobs := f.kube.BatchV1().Jobs(testNS)
			job, err := jobs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			job.Status.Succeeded = 1
			if _, err := jobs.UpdateStatus(t.Context(), job, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if !own {
				// Katib's defaults leave the typed logic, which waits for
				// Complete.
				select {
				case <-r.done:
					t.Fatalf("Run() = %+v before the Job completed", r.res)
				case <-time.After(300 * time.Millisecond):
				}
				setJobCondition(t, f, batchv1.JobComplete, "", "")
			}
			res, err := r.wait(t)
			if want := (trial.Result{State: trial.Succeeded, Reason: "JobSucceeded"}); err != nil || res != want {
				t.Errorf("Run() = %+v, %v; want %+v", res, err, want)
			}
		})
	}
}

func TestRunDynamicCancel(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	r := start(ctx, tfjobSpec(t), e.Run)
	f.waitWatch(t, "pods")
	cancel()
	res, err := r.wait(t)
	if err != nil || res.State != trial.Killed {
		t.Fatalf("Run() = %+v, %v; want Killed", res, err)
	}
	dels := actions(f.dyn, "delete", "tfjobs")
	if len(dels) != 1 {
		t.Fatalf("%d deletes, want 1", len(dels))
	}
	checkForeground(t, dels[0])
	if _, err := f.dyn.Resource(tfjobGVR()).Namespace(testNS).Get(t.Context(), "mnist-0001", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("TFJob left behind: %v", err)
	}
}

func TestAttachDynamic(t *testing.T) {
	objs, err := Compile(tfjobSpec(t), "")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(objs[0], tfPod("mnist-0001-master-0", "master"))
	e := f.executor(t, Options{})
	e.logs = func(context.Context, string, string, string, *metav1.Time) (io.ReadCloser, error) {
		return readCloser("loss=0.5\n"), nil
	}
	r := start(t.Context(), tfjobSpec(t), e.Attach)
	f.waitWatch(t, "pods")
	setStatus(t, f, "tfjobs", map[string]any{"conditions": []any{condition("Failed", "", "OOMKilled")}})
	res, err := r.wait(t)
	if err != nil || res.State != trial.Failed || res.Reason != "TFJobFailed" || res.Message != "OOMKilled" {
		t.Fatalf("Attach() = %+v, %v; want Failed/TFJobFailed/OOMKilled", res, err)
	}
	if got := r.stdout.String(); got != "loss=0.5\n" {
		t.Errorf("stdout = %q", got)
	}
	if n := len(actions(f.dyn, "create", "tfjobs")); n != 0 {
		t.Errorf("Attach created %d TFJobs", n)
	}

	// Nothing to attach to.
	f = newFakes()
	e = f.executor(t, Options{})
	if _, err := e.Attach(t.Context(), tfjobSpec(t), io.Discard, io.Discard); !errors.Is(err, trial.ErrNotFound) {
		t.Errorf("Attach() without the TFJob: %v, want ErrNotFound", err)
	}
}
