//go:build k8se2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// kfpV1Experiment is an experiment whose trials are a Kubeflow Pipelines
// v1 compiled pipeline of the usual shape: prepare passes x on as an
// output parameter and writes its visualization
// (mlpipeline-ui-metadata), evaluate writes its metrics file
// (mlpipeline-metrics, loss = (x−1)² + (y+2)²) and its visualization;
// both files are declared output artifacts, as the KFP v1 compiler
// declares them, and no artifact passes between the steps. With Katib's
// conditions for Argo, tune judges the Workflow by its phase (Failed or
// Error fails the trial).
func kfpV1Experiment(name, step string, retain bool) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %[1]s, namespace: argo}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "11"}]
  parallelTrialCount: 2
  maxTrialCount: 2
  maxFailedTrialCount: 2
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    retain: %[3]t
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      metadata:
        annotations: {pipelines.kubeflow.org/kfp_sdk_version: 1.8.22}
      spec:
        entrypoint: kfp-v1
        arguments:
          parameters:
            - {name: x, value: "${trialParameters.x}"}
            - {name: "y", value: "${trialParameters.y}"}
        templates:
          - name: kfp-v1
            inputs:
              parameters: [{name: x}, {name: "y"}]
            dag:
              tasks:
                - name: prepare
                  template: prepare
                  arguments:
                    parameters: [{name: x, value: "{{inputs.parameters.x}}"}]
                - name: evaluate
                  template: evaluate
                  dependencies: [prepare]
                  arguments:
                    parameters:
                      - {name: prepare-x, value: "{{tasks.prepare.outputs.parameters.prepare-x}}"}
                      - {name: "y", value: "{{inputs.parameters.y}}"}
          - name: prepare
            inputs:
              parameters: [{name: x}]
            container:
              image: example.invalid/kfp-component:1
              command: [%[2]s, kfp]
              args: [--x, "{{inputs.parameters.x}}", --to, /tmp/outputs/x/data, --ui-metadata, /mlpipeline-ui-metadata.json]
            outputs:
              parameters:
                - {name: prepare-x, valueFrom: {path: /tmp/outputs/x/data}}
              artifacts:
                - {name: mlpipeline-ui-metadata, path: /mlpipeline-ui-metadata.json}
          - name: evaluate
            inputs:
              parameters: [{name: prepare-x}, {name: "y"}]
            container:
              image: example.invalid/kfp-component:1
              command: [%[2]s, kfp]
              args: [--x, "{{inputs.parameters.prepare-x}}", --y, "{{inputs.parameters.y}}", --metrics-json, /mlpipeline-metrics.json, --ui-metadata, /mlpipeline-ui-metadata.json]
            outputs:
              artifacts:
                - {name: mlpipeline-ui-metadata, path: /mlpipeline-ui-metadata.json}
                - {name: mlpipeline-metrics, path: /mlpipeline-metrics.json}
`, name, step, retain)
}

// kfpLoss is the loss the kfp step computes from a trial's parameters.
func kfpLoss(t *testing.T, tr jsonTrial) float64 {
	t.Helper()
	x, errX := strconv.ParseFloat(tr.Parameters["x"], 64)
	y, errY := strconv.ParseFloat(tr.Parameters["y"], 64)
	if errX != nil || errY != nil {
		t.Fatalf("%s: parameters %v", tr.Name, tr.Parameters)
	}
	return (x-1)*(x-1) + (y+2)*(y+2)
}

// TestKFPv1OnPlainArgo runs a KFP v1 compiled pipeline through the real
// workflow-controller on Argo as installed, without an artifact repository
// (the stack's configuration has none), the step runner failing a step
// whose output artifact has nowhere to go as Argo's executor does:
//
//   - tune run (--artifact-repository auto) finds no repository in the
//     workflow-controller-configmap and drops the mlpipeline-* artifacts'
//     upload: every trial Succeeds with the loss computed here from its
//     parameters, which reached tune through the mlpipeline-metrics
//     output parameter;
//   - the same file with --artifact-repository configured (the Workflow
//     as compiled, what tune submitted before) fails every trial in
//     Argo's wait container with Argo's "You need to configure artifact
//     storage" error: the harness does not pass without tune's change;
//   - with a repository configured in the namespace (its
//     artifact-repositories ConfigMap), auto keeps the artifacts: the
//     retained Workflows' evaluate nodes hold mlpipeline-metrics with
//     the metrics file, and the trials Succeed with the same losses.
func TestKFPv1OnPlainArgo(t *testing.T) {
	c := newCluster(t)
	ns := argoNamespace
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Get(t.Context(), "artifact-repositories", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace %s has an artifact-repositories ConfigMap (%v): the test wants Argo as installed", ns, err)
	}
	steps := c.runStepsPlainArgo(t, ns)
	stamp := time.Now().Unix() % 100000

	run := func(name string, retain bool, flags ...string) ([]jsonTrial, int, string) {
		t.Helper()
		dir := t.TempDir()
		file := writeExperiment(t, dir, kfpV1Experiment(name, pipestep(t), retain))
		start := time.Now()
		code, out, errOut := runTune(t, dir, append([]string{"run", "--executor", "kubernetes", file}, flags...)...)
		t.Logf("%s %v: exit %d in %s\n%s%s", name, flags, code, time.Since(start).Round(time.Millisecond), out, errOut)
		ts := trials(t, dir, name)
		if len(ts) != 2 {
			t.Fatalf("%s: %d trials, want 2", name, len(ts))
		}
		return ts, code, errOut
	}

	// Auto, no repository anywhere: the artifacts' upload is dropped.
	ts, code, _ := run(fmt.Sprintf("kfp-plain-%d", stamp), false)
	if code != 0 {
		t.Errorf("auto without a repository: exit %d, want 0", code)
	}
	for _, tr := range ts {
		if want := kfpLoss(t, tr); tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
			t.Errorf("auto without a repository, %s: %s (%s), loss %v; want Succeeded with loss %v from mlpipeline-metrics", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], want)
		}
	}
	if n := len(steps.ran()); n != 4 {
		t.Errorf("the step runner ran %d steps, want 4 (2 trials × 2 steps)", n)
	}

	// As compiled: Argo's executor cannot upload the artifacts.
	ts, code, _ = run(fmt.Sprintf("kfp-kept-%d", stamp), false, "--artifact-repository", "configured")
	if code != 1 {
		t.Errorf("configured without a repository: exit %d, want 1 (the experiment Failed)", code)
	}
	for _, tr := range ts {
		if tr.Status != "Failed" || !strings.Contains(tr.Message, "You need to configure artifact storage") {
			t.Errorf("configured without a repository, %s: %s (%s); want Failed with Argo's executor's error", tr.Name, tr.Status, tr.Message)
		}
	}

	// A repository in the namespace: auto keeps the artifacts.
	c.configureArtifactRepository(t, ns)
	name := fmt.Sprintf("kfp-repo-%d", stamp)
	t.Cleanup(func() {
		_ = c.dyn.Resource(workflowGVR).Namespace(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "katib.kubeflow.org/experiment=" + name})
	})
	ts, code, _ = run(name, true)
	if code != 0 {
		t.Errorf("auto with a repository: exit %d, want 0", code)
	}
	for _, tr := range ts {
		want := kfpLoss(t, tr)
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
			t.Errorf("auto with a repository, %s: %s (%s), loss %v; want Succeeded with loss %v", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], want)
		}
		u, err := c.dyn.Resource(workflowGVR).Namespace(ns).Get(t.Context(), tr.Name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("retained Workflow %s: %v", tr.Name, err)
			continue
		}
		var wf wfv1.Workflow
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &wf); err != nil {
			t.Fatal(err)
		}
		var arts []string
		metrics := ""
		for _, n := range wf.Status.Nodes {
			if n.DisplayName != "evaluate" || n.Outputs == nil {
				continue
			}
			for _, a := range n.Outputs.Artifacts {
				arts = append(arts, a.Name)
				if a.Name == "mlpipeline-metrics" && a.Raw != nil {
					metrics = a.Raw.Data
				}
			}
		}
		slices.Sort(arts)
		if !slices.Equal(arts, []string{"mlpipeline-metrics", "mlpipeline-ui-metadata"}) || !strings.Contains(metrics, `"numberValue": `+strconv.FormatFloat(want, 'g', -1, 64)) {
			t.Errorf("auto with a repository, %s: evaluate's artifacts %v, metrics %q; want both kept, the metrics file's loss %v", tr.Name, arts, metrics, want)
		}
	}
}
