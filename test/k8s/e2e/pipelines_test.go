//go:build k8se2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// argoNamespace is the namespace the stack's workflow-controller watches.
const argoNamespace = "argo"

// completeStep plays the kubelet and Argo's executor for a held Workflow
// step pod: it serves the log log (a CRI-format file through a kwok Logs
// object, waiting until pods/log returns it), records outputs as the
// step's WorkflowTaskResult (parameters by name, and artifacts by name as
// raw artifacts holding the given data, standing in for files uploaded to
// an artifact repository), and releases the pod.
func (c *cluster) completeStep(ctx context.Context, pod *corev1.Pod, log string, outputs, artifacts map[string]string) error {
	if log != "" {
		first, _, _ := strings.Cut(log, "\n")
		if err := c.serveLog(ctx, pod, "main", log, first); err != nil {
			return err
		}
	}
	wfName := pod.Labels["workflows.argoproj.io/workflow"]
	wf, err := c.dyn.Resource(workflowGVR).Namespace(pod.Namespace).Get(ctx, wfName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get workflow %s: %w", wfName, err)
	}
	params := []any{}
	for name, value := range outputs {
		params = append(params, map[string]any{"name": name, "value": value})
	}
	arts := []any{}
	for name, data := range artifacts {
		arts = append(arts, map[string]any{"name": name, "raw": map[string]any{"data": data}})
	}
	result := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTaskResult",
		"metadata": map[string]any{
			"name":      pod.Annotations["workflows.argoproj.io/node-id"],
			"namespace": pod.Namespace,
			"labels": map[string]any{
				"workflows.argoproj.io/workflow":                 wfName,
				"workflows.argoproj.io/report-outputs-completed": "true",
			},
			"ownerReferences": []any{map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": wfName, "uid": string(wf.GetUID())}},
		},
		"outputs": map[string]any{"parameters": params, "artifacts": arts},
	}}
	if _, err := c.dyn.Resource(taskResultGVR).Namespace(pod.Namespace).Create(ctx, result, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create WorkflowTaskResult: %w", err)
	}
	return c.release(ctx, pod)
}

// argValue returns the value following flag in the args of pod's main
// container.
func argValue(pod *corev1.Pod, flag string) string {
	for _, ct := range pod.Spec.Containers {
		if ct.Name != "main" {
			continue
		}
		for i, a := range ct.Args {
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				return v
			}
			if a == flag && i+1 < len(ct.Args) {
				return ct.Args[i+1]
			}
		}
	}
	return ""
}

// TestKatibArgoExampleStdOut runs the shape of Katib's own Argo example
// (katib-examples/argo-workflow.yaml): two sequential steps, the second
// labelled katib.kubeflow.org/model-training, primaryPodLabels selecting
// it and the StdOut collector. The metrics come from that step's log only;
// the first step's log holds a decoy.
func TestKatibArgoExampleStdOut(t *testing.T) {
	c := newCluster(t)
	c.onHeldPods(t, argoNamespace, "katib.kubeflow.org/experiment,katib.kubeflow.org/model-training=true", true, "training step", func(ctx context.Context, pod *corev1.Pod) error {
		lr, _ := strconv.ParseFloat(argValue(pod, "--lr"), 64)
		return c.completeStep(ctx, pod, fmt.Sprintf("epoch 1: loss=%g\nepoch 2: loss=%g\n", lr*10, lr), nil, nil)
	})
	c.onHeldPods(t, argoNamespace, "katib.kubeflow.org/experiment,!katib.kubeflow.org/model-training", true, "preprocessing step", func(ctx context.Context, pod *corev1.Pod) error {
		return c.completeStep(ctx, pod, "loss=1000\n", map[string]string{"epochs": "4"}, nil)
	})
	name := fmt.Sprintf("katib-argo-%d", time.Now().Unix()%100000)
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %s, namespace: %s}
spec:
  objective: {type: minimize, goal: 0.001, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "3"}]
  parallelTrialCount: 2
  maxTrialCount: 3
  maxFailedTrialCount: 1
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.03"}}
  trialTemplate:
    primaryPodLabels:
      katib.kubeflow.org/model-training: "true"
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters:
      - {name: learningRate, reference: lr}
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: hp-workflow
        templates:
          - name: hp-workflow
            steps:
              - - name: data-preprocessing
                  template: gen-epochs
              - - name: model-training
                  template: model-training
                  arguments:
                    parameters:
                      - name: epochs
                        value: "{{steps.data-preprocessing.outputs.parameters.epochs}}"
          - name: gen-epochs
            metadata:
              annotations: {tune.test/hold: "true"}
            container:
              image: example.invalid/prep:1
              command: [prep]
            outputs:
              parameters:
                - {name: epochs, valueFrom: {path: /tmp/epochs}}
          - name: model-training
            metadata:
              labels:
                katib.kubeflow.org/model-training: "true"
              annotations: {tune.test/hold: "true"}
            inputs:
              parameters:
                - name: epochs
            container:
              image: example.invalid/train:1
              command: [python3, /opt/pytorch-mnist/mnist.py]
              args: ["--lr=${trialParameters.learningRate}", "--epochs={{inputs.parameters.epochs}}"]
`, name, argoNamespace)
	dir := t.TempDir()
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", writeExperiment(t, dir, y))
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	ts := trials(t, dir, name)
	if len(ts) != 3 {
		t.Fatalf("%d trials, want 3", len(ts))
	}
	for _, tr := range ts {
		lr, _ := strconv.ParseFloat(tr.Parameters["lr"], 64)
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != lr {
			t.Errorf("%s: %s (%s), loss %v; want Succeeded with loss %v from the training step's log", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], lr)
		}
	}
}

// TestKubeflowPipelineExample runs examples/kfp-pipeline/experiment.yaml, a
// Kubeflow Pipelines v1 compiled pipeline as the trial template, through
// the real workflow-controller: the train step's metrics file reaches tune
// as the mlpipeline-metrics output parameter tune declares for it. The
// test only adds what the fake cluster needs: the hold annotations, the
// namespace, and a smaller budget.
func TestKubeflowPipelineExample(t *testing.T) {
	c := newCluster(t)
	c.onHeldPods(t, argoNamespace, "katib.kubeflow.org/experiment", true, "pipeline step", func(ctx context.Context, pod *corev1.Pod) error {
		if lr := argValue(pod, "--lr"); lr != "" {
			v, _ := strconv.ParseFloat(lr, 64)
			doc := fmt.Sprintf(`{"metrics": [{"name": "accuracy", "numberValue": %g, "format": "PERCENTAGE"}, {"name": "loss", "numberValue": %g}]}`, 1-v, v)
			// Argo's executor reads the file for both the artifact KFP
			// declares and the parameter tune adds.
			return c.completeStep(ctx, pod, "", map[string]string{"mlpipeline-metrics": doc}, map[string]string{"mlpipeline-metrics": doc})
		}
		return c.completeStep(ctx, pod, "", map[string]string{"prepare-data-batches": "120"}, map[string]string{"prepare-data-batches": "120"})
	})
	if _, err := c.kube.CoreV1().ServiceAccounts(argoNamespace).Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "pipeline-runner"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "kfp-pipeline", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("kfp-%d", time.Now().Unix()%100000)
	y := string(src)
	for old, repl := range map[string]string{
		"  name: kfp-train\n":                            fmt.Sprintf("  name: %s\n  namespace: %s\n", name, argoNamespace),
		"  maxTrialCount: 12\n":                          "  maxTrialCount: 3\n",
		"  parallelTrialCount: 3":                        "  parallelTrialCount: 2",
		"            metadata:\n              labels:\n": "            metadata:\n              annotations: {tune.test/hold: \"true\"}\n              labels:\n",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("the example no longer contains %q", old)
		}
		y = strings.ReplaceAll(y, old, repl)
	}
	dir := t.TempDir()
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", writeExperiment(t, dir, y))
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	ts := trials(t, dir, name)
	if len(ts) != 3 {
		t.Fatalf("%d trials, want 3", len(ts))
	}
	for _, tr := range ts {
		lr, _ := strconv.ParseFloat(tr.Parameters["lr"], 64)
		if tr.Status != "Succeeded" || tr.Metrics["accuracy"] != 1-lr || tr.Metrics["loss"] != lr {
			t.Errorf("%s: %s (%s), metrics %v; want Succeeded with accuracy %v and loss %v from mlpipeline-metrics", tr.Name, tr.Status, tr.Message, tr.Metrics, 1-lr, lr)
		}
	}
}

var workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
