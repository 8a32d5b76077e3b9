package kube

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/pipeline"
)

// TestKubeflowPipelineTrial runs the example whose trial is a Kubeflow
// Pipelines v1 compiled pipeline: it compiles to the Workflow with the
// trial's values as pipeline arguments and the metrics artifact also
// declared as an output parameter, and the train step's metrics file,
// recorded by Argo in the node's outputs, becomes the trial's metrics.
// (The evaluate step writes the metrics file.)
func TestKubeflowPipelineTrial(t *testing.T) {
	exp, _, err := experiment.Load(filepath.Join("..", "..", "examples", "kfp-pipeline", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exp.Metadata.Namespace = testNS // as tune run does from -n
	spec, err := exp.TrialSpec("kfp-train-0001", suggest.Assignment{"lr": "0.02", "epochs": "3"}, "")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Compile(spec, testNS)
	if err != nil {
		t.Fatal(err)
	}
	wf := objs[0].(*wfv1.Workflow)
	if wf.Name != "kfp-train-0001" || wf.GenerateName != "" {
		t.Errorf("name %q, generateName %q; want the trial's name only", wf.Name, wf.GenerateName)
	}
	args := map[string]string{}
	for _, p := range wf.Spec.Arguments.Parameters {
		args[p.Name] = p.Value.String()
	}
	if args["lr"] != "0.02" || args["epochs"] != "3" {
		t.Errorf("pipeline arguments %v, want the trial's lr and epochs", args)
	}
	for _, tmpl := range wf.Spec.Templates {
		var metricsParams []wfv1.Parameter
		for _, p := range tmpl.Outputs.Parameters {
			if p.Name == pipeline.MetricsParameter {
				metricsParams = append(metricsParams, p)
			}
		}
		switch tmpl.Name {
		case "evaluate":
			if len(metricsParams) != 1 || metricsParams[0].ValueFrom == nil || metricsParams[0].ValueFrom.Path != "/mlpipeline-metrics.json" ||
				metricsParams[0].ValueFrom.Default == nil || metricsParams[0].ValueFrom.Default.String() != "" {
				t.Errorf("evaluate outputs %+v; want an mlpipeline-metrics parameter read from /mlpipeline-metrics.json, default empty", tmpl.Outputs.Parameters)
			}
			if len(tmpl.Outputs.Artifacts) != 1 {
				t.Errorf("evaluate artifacts %+v; want the metrics artifact kept", tmpl.Outputs.Artifacts)
			}
		default:
			if len(metricsParams) != 0 {
				t.Errorf("template %s without the metrics artifact got parameter %+v", tmpl.Name, metricsParams)
			}
		}
	}

	f := newFakes()
	e := f.executor(t, Options{Namespace: testNS})
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	got, err := wfs.Get(t.Context(), "kfp-train-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What Argo records once the steps ran: prepare-data's own output,
	// and evaluate's metrics file as the declared parameter.
	val := func(s string) *wfv1.AnyString { a := wfv1.AnyString(s); return &a }
	got.Status.Phase = wfv1.WorkflowSucceeded
	got.Status.Nodes = wfv1.Nodes{
		"kfp-train-0001-1": {Name: "kfp-train-0001.prepare-data", Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "prepare-data-test_rows", Value: val("359")}}}},
		"kfp-train-0001-2": {Name: "kfp-train-0001.evaluate", Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: pipeline.MetricsParameter,
			Value: val(`{"metrics": [{"name": "accuracy", "numberValue": 0.931, "format": "PERCENTAGE"}, {"name": "loss", "numberValue": 0.21, "format": "RAW"}]}`)}}}},
	}
	if _, err := wfs.Update(t.Context(), got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if out, want := r.stdout.String(), "prepare-data-test_rows=359\naccuracy=0.931\nloss=0.21\n"; out != want {
		t.Errorf("metrics written %q, want %q", out, want)
	}
}

// TestWorkflowPrimaryPodLogs: with primaryPodLabels, as Katib's Argo
// example sets them, the log of every step pod carrying them is streamed
// (each a step, not a retry), and other steps' logs are not.
func TestWorkflowPrimaryPodLogs(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	logs := map[string]string{"train-a": "loss=0.5\n", "train-b": "loss=0.25\n", "prep": "loss=99\n"}
	e.logs = func(_ context.Context, _, pod, container string, _ *metav1.Time) (io.ReadCloser, error) {
		if container != "main" {
			t.Errorf("log of container %s of %s, want main", container, pod)
		}
		return readCloser(logs[pod]), nil
	}
	spec := newSpec(t, workflowYAML)
	spec.PrimaryContainer = "main"
	spec.PrimaryPodLabels = map[string]string{"katib.kubeflow.org/model-training": "true"}
	retries := 0
	spec.OnRetry = func(int) { retries++ }
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	step := func(name string, primary bool) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: types.UID(name), Labels: map[string]string{LabelTrial: "mnist-0001"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "wait"}, {Name: "main"}}},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{
				Name: "main", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}},
			}}},
		}
		if primary {
			p.Labels["katib.kubeflow.org/model-training"] = "true"
		}
		return p
	}
	for _, p := range []*corev1.Pod{step("prep", false), step("train-a", true), step("train-b", true)} {
		if _, err := f.kube.CoreV1().Pods(testNS).Create(t.Context(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return strings.Count(r.stdout.String(), "loss=") == 2 })
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	wf, err := wfs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wf.Status.Phase = wfv1.WorkflowSucceeded
	if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	out := r.stdout.String()
	if !strings.Contains(out, "loss=0.5\n") || !strings.Contains(out, "loss=0.25\n") || strings.Contains(out, "loss=99") {
		t.Errorf("stdout = %q, want both training steps' logs and not the other step's", out)
	}
	if retries != 0 {
		t.Errorf("OnRetry called %d times for a Workflow's steps, want 0", retries)
	}
}

// TestKubeflowPipelineV2Trial runs the example whose trial is a Kubeflow
// Pipelines v2 PipelineJob: it is submitted as the Workflow kfp compiles,
// named, labelled and namespaced as any Workflow trial, with the trial's
// values converted to the pipeline inputs' types; the numeric output
// parameters Argo records become the trial's metrics.
func TestKubeflowPipelineV2Trial(t *testing.T) {
	exp, _, err := experiment.Load(filepath.Join("..", "..", "examples", "kfp-v2-pipeline", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exp.Metadata.Namespace = testNS
	spec, err := exp.TrialSpec("kfp-v2-train-0001", suggest.Assignment{"lr": "0.05", "epochs": "3"}, "")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Compile(spec, testNS)
	if err != nil {
		t.Fatal(err)
	}
	wf := objs[0].(*wfv1.Workflow)
	if wf.Name != "kfp-v2-train-0001" || wf.Namespace != testNS || wf.Labels[LabelTrial] != "kfp-v2-train-0001" || wf.Spec.PodMetadata.Labels[LabelExperiment] != "kfp-v2-train" {
		t.Errorf("metadata %+v, pod labels %v", wf.ObjectMeta, wf.Spec.PodMetadata.Labels)
	}
	args := map[string]string{}
	for _, p := range wf.Spec.Arguments.Parameters {
		args[p.Name] = p.Value.String()
	}
	if args["lr"] != "0.05" || args["epochs"] != "3" || wf.Spec.Entrypoint != "root" {
		t.Errorf("entrypoint %q, pipeline arguments %v", wf.Spec.Entrypoint, args)
	}
	metricsOn := ""
	for _, tmpl := range wf.Spec.Templates {
		for _, p := range tmpl.Outputs.Parameters {
			if p.Name == pipeline.MetricsParameter {
				metricsOn += tmpl.Name
			}
		}
	}
	if metricsOn != "evaluate" {
		t.Errorf("templates with %s: %q, want evaluate once", pipeline.MetricsParameter, metricsOn)
	}
	if len(wf.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("volumeClaimTemplates %+v", wf.Spec.VolumeClaimTemplates)
	}

	f := newFakes()
	e := f.executor(t, Options{Namespace: testNS})
	if err := e.Check(spec); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
	got, err := wfs.Get(t.Context(), "kfp-v2-train-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	val := func(s string) *wfv1.AnyString { a := wfv1.AnyString(s); return &a }
	got.Status.Phase = wfv1.WorkflowSucceeded
	got.Status.Nodes = wfv1.Nodes{
		// The outputs the compiled templates declare: prepare's test_rows,
		// evaluate's Metrics artifact read as mlpipeline-metrics.
		"kfp-v2-train-0001-1": {Name: "kfp-v2-train-0001.prepare", Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "test_rows", Value: val("359")}}}},
		"kfp-v2-train-0001-2": {Name: "kfp-v2-train-0001.train(0)", Outputs: &wfv1.Outputs{}},
		"kfp-v2-train-0001-3": {Name: "kfp-v2-train-0001.evaluate", Outputs: &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: pipeline.MetricsParameter,
			Value: val(`{"test-accuracy": 0.818182, "test-loss": 0.181818}`)}}}},
	}
	if _, err := wfs.Update(t.Context(), got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	// The output parameters, then the flat v2 metrics object, in node order.
	if out, want := r.stdout.String(), "test_rows=359\ntest-accuracy=0.818182\ntest-loss=0.181818\n"; out != want {
		t.Errorf("metrics written %q, want %q", out, want)
	}
}
