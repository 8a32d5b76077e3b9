//go:build k8se2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/internal/testutil"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// argoNamespace is the namespace the stack's workflow-controller watches.
const argoNamespace = "argo"

var workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// TestKatibArgoExampleStdOut runs the shape of Katib's own Argo example
// (katib-examples/argo-workflow.yaml): two sequential steps, the second
// labelled katib.kubeflow.org/model-training, primaryPodLabels selecting
// it and the StdOut collector. The steps are real processes (the step
// runner): the first writes the epochs output parameter, the second gets
// it as an argument and prints its losses. The metrics come from the
// training step's log only; the first step's log holds a decoy. The same
// file run with the local executor gives the same trials.
func TestKatibArgoExampleStdOut(t *testing.T) {
	c := newCluster(t)
	c.runSteps(t, argoNamespace)
	step := pipestep(t)
	name := fmt.Sprintf("katib-argo-%d", time.Now().Unix()%100000)
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  objective: {type: minimize, goal: 0.001, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "3"}]
  parallelTrialCount: 3
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
            container:
              image: example.invalid/prep:1
              command: [%[3]s, katib-prep]
              args: [--epochs-out, /tmp/epochs]
            outputs:
              parameters:
                - {name: epochs, valueFrom: {path: /tmp/epochs}}
          - name: model-training
            metadata:
              labels:
                katib.kubeflow.org/model-training: "true"
            inputs:
              parameters:
                - name: epochs
            container:
              image: example.invalid/train:1
              command: [%[3]s, katib-train]
              args: ["--lr=${trialParameters.learningRate}", "--epochs={{inputs.parameters.epochs}}"]
`, name, argoNamespace, step)
	check := func(where string, ts []jsonTrial) {
		if len(ts) != 3 {
			t.Fatalf("%s: %d trials, want 3", where, len(ts))
		}
		for _, tr := range ts {
			lr, _ := strconv.ParseFloat(tr.Parameters["lr"], 64)
			if tr.Status != "Succeeded" || tr.Metrics["loss"] != lr {
				t.Errorf("%s %s: %s (%s), loss %v; want Succeeded with loss %v from the training step's log", where, tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], lr)
			}
		}
	}
	cluster := runPipelineExperiment(t, "cluster", name, y)
	check("cluster", cluster)
	local := runPipelineExperiment(t, "local", name, y)
	check("local", local)
	sameTrials(t, local, cluster)
}

// TestKubeflowPipelineExample runs examples/kfp-pipeline/experiment.yaml, a
// Kubeflow Pipelines v1 compiled pipeline (prepare-data → train →
// evaluate with go run ./examples/mlp, directory and file artifacts) as
// the trial template, through the real workflow-controller, its steps run
// by the step runner, and with the local executor. The evaluate step
// writes KFP's metrics file, which reaches tune on the cluster only
// through the mlpipeline-metrics output parameter tune's compile declares
// for it (the step runner, like Argo's executor, reports declared outputs
// only). Both runs give the same trials with the same metrics, and those
// are what the three commands give when run by hand with each trial's
// parameters. The test changes only the namespace, the budget and the
// seed (the example has none).
func TestKubeflowPipelineExample(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	if _, err := c.kube.CoreV1().ServiceAccounts(argoNamespace).Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "pipeline-runner"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	name := fmt.Sprintf("kfp-%d", time.Now().Unix()%100000)
	y := exampleExperiment(t, "kfp-pipeline", map[string]string{
		"  name: kfp-train\n": fmt.Sprintf("  name: %s\n  namespace: %s\n", name, argoNamespace),
		"    algorithmName: random\n  parallelTrialCount: 3\n  maxTrialCount: 12\n  maxFailedTrialCount: 3\n": "    algorithmName: random\n    algorithmSettings: [{name: random_state, value: \"2\"}]\n  parallelTrialCount: 2\n  maxTrialCount: 2\n  maxFailedTrialCount: 1\n",
	})

	cluster := runPipelineExperiment(t, "cluster", name, y)
	if len(cluster) != 2 {
		t.Fatalf("%d trials on the cluster, want 2", len(cluster))
	}
	for _, tr := range cluster {
		want := mlpByHand(t,
			[]string{"--export-split", "@/data", "--count-out", "@/test-rows"},
			[]string{"--data", "@/data/train.csv", "--lr", tr.Parameters["lr"], "--epochs", tr.Parameters["epochs"], "--save-model", "@/model"},
			[]string{"--evaluate", "@/model", "--data", "@/data/test.csv", "--expect-rows", "@ROWS", "--metrics-json", "@/metrics.json"})
		if tr.Status != "Succeeded" || !maps.Equal(tr.Metrics, want) {
			t.Errorf("cluster %s: %s (%s), metrics %v; want Succeeded with %v from mlpipeline-metrics, as the commands give by hand", tr.Name, tr.Status, tr.Message, tr.Metrics, want)
		}
	}
	if n := len(steps.ran()); n != 6 {
		t.Errorf("the step runner ran %d steps, want 6 (2 trials × 3 steps)", n)
	}

	local := runPipelineExperiment(t, "local", name, y)
	sameTrials(t, local, cluster)
}

// pipelineExperiment is a Katib experiment whose trials are a three-step
// Argo DAG run by the step program step (testdata/pipestep): prepare
// writes the data file artifact and the epochs output parameter; train,
// the primary step (its log carries the loss), reads both and writes the
// model artifact, or fails with exit code 3 when x > failAbove; evaluate
// reads the model and writes the score output parameter. The same file
// runs locally and, in namespace argo, on the test cluster.
func pipelineExperiment(name, step string, failAbove float64) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %[1]s, namespace: argo}
spec:
  objective: {type: minimize, objectiveMetricName: loss, additionalMetricNames: [score]}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "5"}]
  parallelTrialCount: 4
  maxTrialCount: 4
  maxFailedTrialCount: 4
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryPodLabels: {tune.test/step: train}
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: pipeline
        arguments:
          parameters:
            - {name: x, value: "${trialParameters.x}"}
            - {name: "y", value: "${trialParameters.y}"}
        templates:
          - name: pipeline
            dag:
              tasks:
                - name: prepare
                  template: prepare
                - name: train
                  template: train
                  dependencies: [prepare]
                  arguments:
                    parameters:
                      - {name: epochs, value: "{{tasks.prepare.outputs.parameters.epochs}}"}
                    artifacts:
                      - {name: data, from: "{{tasks.prepare.outputs.artifacts.data}}"}
                - name: evaluate
                  template: evaluate
                  dependencies: [train]
                  arguments:
                    artifacts:
                      - {name: model, from: "{{tasks.train.outputs.artifacts.model}}"}
          - name: prepare
            container:
              image: example.invalid/pipestep:1
              command: [%[2]s, prepare]
              args: [--x, "{{workflow.parameters.x}}", --y, "{{workflow.parameters.y}}", --data-out, /tmp/outputs/data.txt, --epochs-out, /tmp/outputs/epochs]
            outputs:
              parameters:
                - {name: epochs, valueFrom: {path: /tmp/outputs/epochs}}
              artifacts:
                - {name: data, path: /tmp/outputs/data.txt}
          - name: train
            metadata:
              labels: {tune.test/step: train}
            inputs:
              parameters:
                - name: epochs
              artifacts:
                - {name: data, path: /tmp/inputs/data.txt}
            container:
              image: example.invalid/pipestep:1
              command: [%[2]s, train]
              args: [--data, /tmp/inputs/data.txt, --epochs, "{{inputs.parameters.epochs}}", --fail-above, "%[3]s", --model-out, /tmp/outputs/model]
            outputs:
              artifacts:
                - {name: model, path: /tmp/outputs/model}
          - name: evaluate
            inputs:
              artifacts:
                - {name: model, path: /tmp/inputs/model}
            container:
              image: example.invalid/pipestep:1
              command: [%[2]s, evaluate]
              args: [--model, /tmp/inputs/model, --score-out, /tmp/outputs/score]
            outputs:
              parameters:
                - {name: score, valueFrom: {path: /tmp/outputs/score}}
`, name, step, strconv.FormatFloat(failAbove, 'g', -1, 64))
}

// checkPipelineTrials checks the trials of pipelineExperiment run where
// (local or cluster) against values computed here from each trial's
// parameters: x > failAbove Failed, the message naming the train step
// and its exit code 3 (locally from tune's engine, on the cluster from the
// Workflow's failed node); the others Succeeded with loss (x−1)² + (y+2)² from the train
// step's log and score 1/(1+loss) from evaluate's output parameter. It
// wants at least one trial of each kind.
func checkPipelineTrials(t *testing.T, where string, ts []jsonTrial, failAbove float64) {
	t.Helper()
	failed, succeeded := 0, 0
	for _, tr := range ts {
		x, errX := strconv.ParseFloat(tr.Parameters["x"], 64)
		y, errY := strconv.ParseFloat(tr.Parameters["y"], 64)
		if errX != nil || errY != nil {
			t.Errorf("%s %s: parameters %v", where, tr.Name, tr.Parameters)
			continue
		}
		if x > failAbove {
			failed++
			if tr.Status != "Failed" || !strings.Contains(tr.Message, "step train (template train) failed") || !strings.Contains(tr.Message, "exit code 3") {
				t.Errorf("%s %s (x=%v): %s (%s: %s), want Failed by its train step with exit code 3", where, tr.Name, x, tr.Status, tr.Reason, tr.Message)
			}
			continue
		}
		succeeded++
		loss := (x-1)*(x-1) + (y+2)*(y+2)
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != loss || tr.Metrics["score"] != 1/(1+loss) {
			t.Errorf("%s %s: %s (%s), metrics %v; want Succeeded with loss %v and score %v", where, tr.Name, tr.Status, tr.Message, tr.Metrics, loss, 1/(1+loss))
		}
	}
	if failed == 0 || succeeded == 0 {
		t.Errorf("%s: %d trials failed and %d succeeded; the test wants both kinds (change random_state or the threshold)", where, failed, succeeded)
	}
}

// TestPipelineSameLocallyAndOnCluster runs one experiment file, a
// three-step pipeline passing a parameter and file artifacts whose train
// step fails for some parameters, with tune's local executor and on the
// test cluster through the real workflow-controller (steps run by the
// step runner): both give the same trials, with the same parameters and
// the same metric values, each checked against the value computed from the
// parameters.
func TestPipelineSameLocallyAndOnCluster(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	name := fmt.Sprintf("pipe-%d", time.Now().Unix()%100000)
	const failAbove = 2.5
	y := pipelineExperiment(name, pipestep(t), failAbove)
	cluster := runPipelineExperiment(t, "cluster", name, y)
	checkPipelineTrials(t, "cluster", cluster, failAbove)
	ran := map[string]int{}
	for _, s := range steps.ran() {
		ran[s.Template]++
	}
	succeeded := 0
	for _, tr := range cluster {
		if tr.Status == "Succeeded" {
			succeeded++
		}
	}
	// Every trial ran prepare and train; only those whose train succeeded
	// ran evaluate.
	if want := map[string]int{"prepare": len(cluster), "train": len(cluster), "evaluate": succeeded}; !maps.Equal(ran, want) {
		t.Errorf("the step runner ran %v, want %v", ran, want)
	}

	local := runPipelineExperiment(t, "local", name, y)
	checkPipelineTrials(t, "local", local, failAbove)
	sameTrials(t, local, cluster)
}

// runPipelineExperiment runs the experiment file y (experiment name)
// on the test cluster (--executor kubernetes) or with the local executor,
// into a store of its own, from the repository root, and returns its
// trials by name. The run may end
// with exit code 0 or 1 (an experiment that failed).
func runPipelineExperiment(t *testing.T, where, name, y string) []jsonTrial {
	t.Helper()
	dir := t.TempDir()
	args := []string{"run", writeExperiment(t, dir, y)}
	if where == "cluster" {
		args = append(args, "--executor", "kubernetes")
	}
	// From the repository root, as the examples are run (go run
	// ./examples/mlp); the step runner's default working directory too.
	cmd := exec.Command(tuneBin, append([]string{"--store", filepath.Join(dir, "tune.db")}, args...)...)
	cmd.Dir = filepath.Join("..", "..", "..")
	start := time.Now()
	code, out, errOut := testutil.Run(t, cmd)
	t.Logf("%s run in %s: exit %d\n%s%s", where, time.Since(start).Round(time.Millisecond), code, out, errOut)
	if where == "local" && code == 2 && strings.Contains(errOut, "needs --executor kubernetes") {
		t.Fatalf("the local executor does not run this trial template yet (issue 14, local pipeline runs), so the local half of this comparison cannot run: %s", strings.TrimSpace(errOut))
	}
	if code > 1 {
		t.Fatalf("%s: tune run: exit %d", where, code)
	}
	ts := trials(t, dir, name)
	slices.SortFunc(ts, func(a, b jsonTrial) int { return strings.Compare(a.Name, b.Name) })
	return ts
}

// sameTrials checks that local and cluster hold the same trials: names,
// parameters, states and metric values.
func sameTrials(t *testing.T, local, cluster []jsonTrial) {
	t.Helper()
	if len(local) != len(cluster) {
		t.Fatalf("%d trials locally, %d on the cluster", len(local), len(cluster))
	}
	for i := range local {
		l, k := local[i], cluster[i]
		if l.Name != k.Name || !maps.Equal(l.Parameters, k.Parameters) || l.Status != k.Status || !maps.Equal(l.Metrics, k.Metrics) {
			t.Errorf("trial %d differs:\n local   %s %s %v %v\n cluster %s %s %v %v", i, l.Name, l.Status, l.Parameters, l.Metrics, k.Name, k.Status, k.Parameters, k.Metrics)
		}
	}
}

// TestPipelineExampleLocallyAndOnCluster runs examples/pipeline (prepare →
// train → evaluate with go run ./examples/mlp, passing a parameter and
// directory and file artifacts; the metrics from evaluate's KFP metrics
// file) on the test cluster, its steps run by the step runner, and with
// the local executor: both give the same trials with the same metrics,
// and those are the metrics the three commands give when run by hand with
// each trial's parameters. The test changes only what the fake cluster
// needs: the namespace and a smaller budget.
func TestPipelineExampleLocallyAndOnCluster(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	name := fmt.Sprintf("mlp-%d", time.Now().Unix()%100000)
	y := exampleExperiment(t, "pipeline", map[string]string{
		"  name: pipeline-mlp\n":                                                           fmt.Sprintf("  name: %s\n  namespace: %s\n", name, argoNamespace),
		"  maxTrialCount: 8\n  maxFailedTrialCount: 3\n":                                   "  maxTrialCount: 2\n  maxFailedTrialCount: 1\n",
		"            - {name: epochs, value: \"12\"}\n":                                    "            - {name: epochs, value: \"12\"}\n", // the oracle's
		"    objectiveMetricName: test-accuracy\n    additionalMetricNames: [test-loss]\n": "    objectiveMetricName: test-accuracy\n    additionalMetricNames: [test-loss]\n",
	})

	cluster := runPipelineExperiment(t, "cluster", name, y)
	if len(cluster) != 2 {
		t.Fatalf("%d trials on the cluster, want 2", len(cluster))
	}
	for _, tr := range cluster {
		want := mlpByHand(t,
			[]string{"--export-split", "@/data", "--count-out", "@/test-rows"},
			[]string{"--data=@/data/train.csv", "--lr=" + tr.Parameters["lr"], "--momentum=" + tr.Parameters["momentum"], "--hidden=" + tr.Parameters["hidden"], "--epochs=12", "--save-model=@/model.json"},
			[]string{"--evaluate=@/model.json", "--data=@/data/test.csv", "--expect-rows=@ROWS", "--metrics-json=@/metrics.json"})
		if tr.Status != "Succeeded" || !maps.Equal(tr.Metrics, want) {
			t.Errorf("cluster %s: %s (%s), metrics %v; want Succeeded with %v, as the commands give by hand", tr.Name, tr.Status, tr.Message, tr.Metrics, want)
		}
	}
	if n := len(steps.ran()); n != 6 {
		t.Errorf("the step runner ran %d steps, want 6 (2 trials × 3 steps)", n)
	}

	local := runPipelineExperiment(t, "local", name, y)
	sameTrials(t, local, cluster)
}

// mlpByHand runs go run ./examples/mlp once for each of steps, in order,
// in a directory of its own, without tune, and returns the metrics in the
// last step's metrics file: @/NAME in an argument is the file NAME in that
// directory, @ROWS the content of @/test-rows (the test split's row count,
// the prepare step's output). The metrics file is metrics.json, in Kubeflow
// Pipelines v1's form or v2's flat one.
func mlpByHand(t *testing.T, steps ...[]string) map[string]float64 {
	t.Helper()
	dir := t.TempDir()
	for _, args := range steps {
		args = slices.Clone(args)
		for i, a := range args {
			a = strings.ReplaceAll(a, "@/", dir+"/")
			if strings.Contains(a, "@ROWS") {
				rows, err := os.ReadFile(filepath.Join(dir, "test-rows"))
				if err != nil {
					t.Fatal(err)
				}
				a = strings.ReplaceAll(a, "@ROWS", strings.TrimSpace(string(rows)))
			}
			args[i] = a
		}
		cmd := exec.Command("go", append([]string{"run", "./examples/mlp"}, args...)...)
		cmd.Dir = filepath.Join("..", "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go run ./examples/mlp %q: %v\n%s", args, err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	var v1 struct {
		Metrics []struct {
			Name        string  `json:"name"`
			NumberValue float64 `json:"numberValue"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(b, &v1); err == nil && len(v1.Metrics) > 0 {
		for _, x := range v1.Metrics {
			m[x.Name] = x.NumberValue
		}
		return m
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics.json: %v: %s", err, b)
	}
	return m
}

// TestKFPv2PipelineLocallyAndOnCluster runs examples/kfp-v2-pipeline, a
// Kubeflow Pipelines v2 pipeline spec (prepare → train → evaluate with go
// run ./examples/mlp; a parameter, a dataset directory and a model file on
// the run's volume, a system.Metrics artifact) compiled by tune to a plain
// Workflow, on the test cluster (the workflow volume a claim bound by the
// PV controller, the steps run by the step runner) and with the local
// executor: both give the same trials with the same metrics, and those are
// the metrics the three commands give when run by hand with each trial's
// parameters. The test changes only the namespace, the budget and the
// seed (the example has none).
func TestKFPv2PipelineLocallyAndOnCluster(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	name := fmt.Sprintf("kfp2-%d", time.Now().Unix()%100000)
	y := exampleExperiment(t, "kfp-v2-pipeline", map[string]string{
		"  name: kfp-v2-train\n":                         fmt.Sprintf("  name: %s\n  namespace: %s\n", name, argoNamespace),
		"  maxTrialCount: 8\n  maxFailedTrialCount: 2\n": "  maxTrialCount: 2\n  maxFailedTrialCount: 1\n",
		"    algorithmName: random\n":                    "    algorithmName: random\n    algorithmSettings: [{name: random_state, value: \"4\"}]\n",
	})

	cluster := runPipelineExperiment(t, "cluster", name, y)
	if len(cluster) != 2 {
		t.Fatalf("%d trials on the cluster, want 2", len(cluster))
	}
	for _, tr := range cluster {
		want := mlpByHand(t,
			[]string{"--export-split=@/data", "--count-out=@/test-rows"},
			[]string{"--data=@/data/train.csv", "--lr=" + tr.Parameters["lr"], "--epochs=" + tr.Parameters["epochs"], "--save-model=@/model"},
			[]string{"--evaluate=@/model", "--data=@/data/test.csv", "--expect-rows=@ROWS", "--metrics-artifact=@/metrics.json"})
		if tr.Status != "Succeeded" || !maps.Equal(tr.Metrics, want) {
			t.Errorf("cluster %s: %s (%s), metrics %v; want Succeeded with %v, as the commands give by hand", tr.Name, tr.Status, tr.Message, tr.Metrics, want)
		}
	}
	if n := len(steps.ran()); n != 6 {
		t.Errorf("the step runner ran %d steps, want 6 (2 trials × 3 steps)", n)
	}

	local := runPipelineExperiment(t, "local", name, y)
	sameTrials(t, local, cluster)
}

// TestInterruptStopsWorkflowSteps presses Ctrl-C while two Workflow
// trials' steps run: tune deletes the Workflows, the trials are Killed,
// and the deletion reaches the steps' processes (the step runner, as the
// kubelet, sends SIGTERM to a deleted pod's process): none is left.
func TestInterruptStopsWorkflowSteps(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	name := fmt.Sprintf("wfstop-%d", time.Now().Unix()%100000)
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %s, namespace: %s}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 4
  maxFailedTrialCount: 1
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
  trialTemplate:
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters:
      - {name: x, reference: x}
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: main
        templates:
          - name: main
            dag:
              tasks:
                - {name: sleep, template: sleep}
          - name: sleep
            container:
              image: example.invalid/pipestep:1
              command: [%s, sleep]
              args: ["--x=${trialParameters.x}"]
`, name, argoNamespace, pipestep(t))
	dir := t.TempDir()
	cmd, out := startTune(t, dir, "run", "--executor", "kubernetes", writeExperiment(t, dir, y))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// "sleeping" is printed once the step handles SIGTERM; before, the
	// signal would kill it without its "terminated".
	for deadline := time.Now().Add(90 * time.Second); steps.printed("sleeping") < 2; {
		select {
		case err := <-exited:
			t.Fatalf("tune run ended before its steps ran: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d step processes running after 90 s, %d of them sleeping, want 2\n%s", steps.running(), steps.printed("sleeping"), out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after Ctrl-C: %v, want exit 130\n%s", err, out)
	}
	ts := trials(t, dir, name)
	if len(ts) != 2 {
		t.Errorf("%d trials, want the 2 that were running", len(ts))
	}
	for _, tr := range ts {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s (%s), want Killed", tr.Name, tr.Status, tr.Message)
		}
	}
	// The garbage collector deletes the pods of the deleted Workflows.
	for deadline := time.Now().Add(90 * time.Second); steps.running() > 0 || len(steps.ran()) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: %d step processes still running, %d ended", steps.running(), len(steps.ran()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range steps.ran() {
		if !s.Deleted || s.ExitCode != 143 || !strings.Contains(s.Stdout, "terminated") {
			t.Errorf("step %s: deleted %v, exit code %d, stdout %q; want stopped by SIGTERM when its pod was deleted", s.Pod, s.Deleted, s.ExitCode, s.Stdout)
		}
	}
}

// exampleExperiment returns examples/<example>/experiment.yaml with each
// of edits' keys replaced by its value, failing the test when the example
// no longer contains one (so that an edit cannot silently stop applying).
func exampleExperiment(t *testing.T, example string, edits map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", example, "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(src)
	for old, repl := range edits {
		if !strings.Contains(y, old) {
			t.Fatalf("the example no longer contains %q", old)
		}
		y = strings.ReplaceAll(y, old, repl)
	}
	return y
}
